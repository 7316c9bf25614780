# syntax=docker/dockerfile:1
# Galley: multi-stage build. Build with `docker build -t galley .`;
# run with `docker run -p 8090:8090 -v galley_data:/data galley` (see README "Docker").

# ---- build: compile TypeScript and the better-sqlite3 native addon -------------------------------
FROM node:20-bookworm-slim AS build
# better-sqlite3 falls back to node-gyp when no prebuilt binary matches: needs python3, make, g++.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# `npm ci` runs the `prepare` script (`npm run build` = `tsc -p src` + the admin panel's `vite build`),
# so the sources and the tsconfig files must be present before it, and devDependencies (typescript,
# vite) must be installed:
# NODE_ENV stays unset here. Install scripts (better-sqlite3, esbuild) run; npm 11 would limit
# them to the `allowScripts` list in package.json, which names exactly those two.
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY admin ./admin
RUN npm ci --no-audit --no-fund
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: production dependencies, compiled output, the example collections ------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    GALLEY_LOG_PRETTY=false
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# The admin panel's static files, served at /_/ (dist/http resolves ../../admin/dist).
COPY --from=build --chown=root:root /app/admin/dist ./admin/dist
# `--collections` defaults to ./collections, i.e. /app/collections; mount your own over it.
COPY --chown=root:root collections ./collections
# The data folder (SQLite file, uploads) is the only place the server writes.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 8090
# No curl in the slim image: Node's own fetch asks /api/health.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8090/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The CLI is the entrypoint: `docker run galley migrate --plan --data /data` works too.
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve", "--http", "0.0.0.0:8090", "--data", "/data"]

import { fileURLToPath } from 'node:url';
import { defineConfig, loadEnv } from 'vite';
import preact from '@preact/preset-vite';
import { precompress, referenceAssets } from './build-assets';

/**
 * The admin panel (served by Galley at /_/). Works from any working directory:
 *   vite build --config admin/vite.config.ts   → admin/dist
 *   vite --config admin/vite.config.ts         → dev server; /api is proxied to GALLEY_ADMIN_API
 *                                                (default http://127.0.0.1:8090, `npm run dev`)
 */
const adminDir = fileURLToPath(new URL('.', import.meta.url));
const outDir = fileURLToPath(new URL('./dist', import.meta.url));

export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, adminDir, 'GALLEY_ADMIN_');
  const api = env['GALLEY_ADMIN_API'] || 'http://127.0.0.1:8090';
  return {
    root: adminDir,
    base: '/_/',
    envDir: adminDir,
    publicDir: false,
    plugins: [preact({ devToolsEnabled: false, prefreshEnabled: true }), referenceAssets(outDir), precompress(outDir)],
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: false,
      assetsInlineLimit: 0,
      reportCompressedSize: true,
    },
    server: {
      port: 5173,
      strictPort: false,
      proxy: { '/api': { target: api, changeOrigin: true } },
    },
    preview: {
      proxy: { '/api': { target: api, changeOrigin: true } },
    },
  };
});

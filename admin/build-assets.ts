import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'vite';

/**
 * Build steps for the browser assets Galley serves beside the admin panel:
 * - `referenceAssets`: the API reference page's renderer (Redoc's standalone bundle, an npm
 *   devDependency) copied to `<outDir>/reference/`, so `/api/docs` needs nothing at run time.
 * - `precompress`: a `.br` and a `.gz` next to every text asset of 1 KB or more, at the highest
 *   levels (done once here, never per request); Galley serves them by `Accept-Encoding`.
 */
export function referenceAssets(outDir: string): Plugin {
  return {
    name: 'galley-reference-assets',
    apply: 'build',
    async closeBundle() {
      const require = createRequire(import.meta.url);
      const bundle = join(dirname(require.resolve('redoc/package.json')), 'bundles', 'redoc.standalone.js');
      await mkdir(join(outDir, 'reference'), { recursive: true });
      await copyFile(bundle, join(outDir, 'reference', 'redoc.standalone.js'));
    },
  };
}

const COMPRESSIBLE = new Set(['.js', '.css', '.html', '.svg', '.json', '.txt', '.map']);
const MIN_BYTES = 1024;
const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

export function precompress(outDir: string): Plugin {
  return {
    name: 'galley-precompress',
    apply: 'build',
    // After referenceAssets (plugins run in order), so the reference bundle is compressed too.
    async closeBundle() {
      for (const file of await listFiles(outDir)) {
        if (!COMPRESSIBLE.has(extname(file)) || (await stat(file)).size < MIN_BYTES) continue;
        const data = await readFile(file);
        const [br, gzipped] = await Promise.all([
          brotli(data, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }),
          gz(data, { level: 9 }),
        ]);
        // A variant that saves nothing is left out; the server then sends the original.
        if (br.length < data.length) await writeFile(`${file}.br`, br);
        if (gzipped.length < data.length) await writeFile(`${file}.gz`, gzipped);
      }
    },
  };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]))));
  return nested.flat();
}

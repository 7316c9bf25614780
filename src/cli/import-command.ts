import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadConfig, type ConfigFlags } from '../config/index.js';
import { collectionFileText, convertPocketBaseExport } from '../schema/import-pocketbase.js';
import { buildSchema } from '../schema/index.js';
import { EXIT_OK, UsageError } from './exit.js';

export interface ImportFlags extends ConfigFlags {
  force?: boolean;
}

/** `galley import-pocketbase FILE [--force]`: one collection file per collection of a PocketBase export. */
export async function importCommand(file: string, flags: ImportFlags, out: NodeJS.WritableStream): Promise<number> {
  const config = loadConfig(flags);
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON (${(err as Error).message})`}`);
  }
  let result;
  try {
    result = convertPocketBaseExport(data);
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
  const files = result.collections.map((c) => ({ file: join(config.collectionsDir, `${String(c['name'])}.json`), text: collectionFileText(c) }));
  // Validate before writing anything: a bad import leaves the folder untouched.
  buildSchema(files.map((f) => ({ file: relative(process.cwd(), f.file), text: f.text })));
  const existing = (await Promise.all(files.map(async (f) => ((await exists(f.file)) ? f.file : null))))
    .filter((f): f is string => f !== null)
    .sort();
  if (existing.length > 0 && !flags.force) {
    throw new UsageError(`Refusing to overwrite existing files (use --force):\n${existing.map((f) => `  ${relative(process.cwd(), f)}`).join('\n')}`);
  }
  await mkdir(config.collectionsDir, { recursive: true });
  for (const f of files) await writeFile(f.file, f.text);
  for (const note of result.notes) out.write(`note: ${note}\n`);
  out.write(`Wrote ${files.length} collection file(s) to ${relative(process.cwd(), config.collectionsDir) || '.'}\n`);
  return EXIT_OK;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { loadSchema } from '../app.js';
import { loadConfig, type ConfigFlags } from '../config/index.js';
import type { Schema } from '../schema/index.js';
import { generateTypes } from '../types-gen/index.js';
import { EXIT_OK } from './exit.js';

export interface TypesFlags extends ConfigFlags {
  out?: string;
}

/** `galley types [--out FILE]`: TypeScript types of every collection, to the file or to stdout. No database needed. */
export async function typesCommand(flags: TypesFlags, out: NodeJS.WritableStream): Promise<number> {
  const config = loadConfig(flags);
  const schema = await loadSchema(config);
  if (!flags.out) {
    out.write(generateTypes(schema));
    return EXIT_OK;
  }
  const written = await writeTypes(flags.out, schema);
  out.write(`${written ? 'Wrote' : 'Unchanged:'} ${flags.out} (${schema.collections.length} collections).\n`);
  return EXIT_OK;
}

/**
 * Writes the types of `schema` to `file` when they differ from what is there (so a watcher, or a
 * types file kept inside the collections folder, is not woken for nothing), through a temporary
 * file and a rename (a reader never sees half a file). Resolves to whether it wrote.
 */
export async function writeTypes(file: string, schema: Schema): Promise<boolean> {
  const text = generateTypes(schema);
  const current = await readFile(file, 'utf8').catch(() => null);
  if (current === text) return false;
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, file);
  return true;
}

import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Schema } from '../schema/index.js';
import type { HooksModule } from './public.js';
import { HookRegistrationError, HookRegistry } from './registry.js';

const HOOKS_FILE = /\.hooks\.(ts|mts|mjs|js)$/;
const TYPESCRIPT = /\.(ts|mts)$/;

/** A hooks file that does not load or throws while registering: the start stops (exit 2) with one line naming it. */
export class HooksLoadError extends Error {}

export interface LoadOptions {
  /** Accept 6-field (seconds) cron schedules: GALLEY_CRON_SECONDS, for tests and demos. */
  cronSeconds?: boolean;
}

let generation = 0;

/** The hooks files of a folder, in file-name order. */
export async function hooksFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => HOOKS_FILE.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/**
 * Loads every `*.hooks.{ts,mts,mjs,js}` of the collections folder in file-name order and runs its
 * default export against a fresh registry. TypeScript goes through tsx's loader (no build step),
 * loaded only when a TypeScript hooks file exists. Each load imports fresh module copies, so a
 * `--dev` reload sees edited files and the old registrations are simply dropped with the old
 * registry.
 */
export async function loadHooks(dir: string, schema: Schema, options: LoadOptions = {}): Promise<HookRegistry> {
  const registry = new HookRegistry(schema, { cronSeconds: options.cronSeconds ?? false });
  const files = await hooksFiles(dir);
  const load = ++generation;
  for (const file of files) {
    const shown = displayName(file);
    let mod: { default?: unknown };
    try {
      mod = (await importFresh(file, load)) as { default?: unknown };
    } catch (err) {
      throw new HooksLoadError(`${shown}: failed to load: ${oneLine(err)}`, { cause: err });
    }
    const register = defaultExport(mod);
    if (!register) throw new HooksLoadError(`${shown}: the default export must be a function (app: Hooks) => void`);
    try {
      await register(registry.api(shown));
    } catch (err) {
      const what = err instanceof HookRegistrationError ? err.message : `threw while registering: ${oneLine(err)}`;
      throw new HooksLoadError(`${shown}: ${what}`, { cause: err });
    }
  }
  return registry;
}

/**
 * The default export. A TypeScript file in a project without `"type": "module"` is compiled as
 * CommonJS, so its `export default` arrives one level down (`module.exports.default`).
 */
function defaultExport(mod: { default?: unknown }): HooksModule | null {
  const value = mod.default;
  if (typeof value === 'function') return value as HooksModule;
  const inner = (value as { default?: unknown } | undefined)?.default;
  return typeof inner === 'function' ? (inner as HooksModule) : null;
}

/**
 * A fresh copy of the file's module. A `.ts` file goes through tsx's require hook in a namespace
 * of its own (fresh copies of the file and what it imports; esbuild compiles it to CommonJS, as
 * Node would treat it without `"type": "module"`). tsx's ESM loader, needed for `.mts` only,
 * starts a loader thread that every later import of the process goes through: measured at start,
 * ~0.7 s CPU and ~25 MB RSS more than the require hook for the example app's one hooks file.
 */
async function importFresh(file: string, load: number): Promise<unknown> {
  const url = `${pathToFileURL(file).href}?galley=${load}`;
  if (!TYPESCRIPT.test(file)) return import(url);
  if (file.endsWith('.ts')) {
    const { register } = await import('tsx/cjs/api');
    return register({ namespace: `galley-hooks-${load}` }).require(file, import.meta.url) as unknown;
  }
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(url, import.meta.url);
}

function displayName(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

/** The line that says what went wrong (esbuild's `file:line:col: ERROR: …` for a syntax error). */
function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.find((l) => l.includes('ERROR:')) ?? lines[0] ?? message;
}

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidCollectionsError, type FileProblem } from '../errors/index.js';
import { canonicalJson, sha256 } from './checksum.js';
import { crossCheck, type Located } from './cross-check.js';
import { describeJsonError } from './json-position.js';
import { normalizeCollection } from './normalize.js';
import { BUILT_IN_FILE, pocketBaseSystemCollections, superusersCollection } from './system-fields.js';
import type { Collection, Schema } from './types.js';

export interface SourceFile {
  /** Path as shown in messages, e.g. `collections/posts.json`. */
  file: string;
  text: string;
}

/** Reads every `*.json` in `dir` (sorted) and builds the schema; throws InvalidCollectionsError listing every problem. */
export async function loadCollections(dir: string): Promise<Schema> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    throw new InvalidCollectionsError([{ file: dir, pointer: '', message: `cannot read the collections folder (${(err as NodeJS.ErrnoException).code ?? String(err)})` }]);
  }
  const files = await Promise.all(names.map(async (name) => ({ file: join(dir, name), text: await readFile(join(dir, name), 'utf8') })));
  return buildSchema(files);
}

/** Parses, validates and normalizes collection files; the built-in `_superusers`, `_mfas`, `_otps`, `_externalAuths` and `_authOrigins` are added. */
export function buildSchema(files: SourceFile[]): Schema {
  const problems: FileProblem[] = [];
  const located: Located[] = [];
  for (const raw of [superusersCollection(), ...pocketBaseSystemCollections()]) {
    const builtIn = normalizeCollection(`${BUILT_IN_FILE}/${String(raw['name'])}.json`, raw);
    located.push({ file: BUILT_IN_FILE, collection: builtIn.collection! });
  }
  for (const { file, text } of files) {
    let raw: unknown;
    try {
      // Editors on Windows may save a byte order mark; JSON.parse rejects it.
      raw = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (err) {
      problems.push({ file, pointer: '', message: describeJsonError(text, err as Error) });
      continue;
    }
    const { collection, problems: own } = normalizeCollection(file, raw);
    problems.push(...own);
    if (collection && own.length === 0) located.push({ file, collection });
  }
  problems.push(...crossCheck(located));
  if (problems.length > 0) throw new InvalidCollectionsError(problems);
  return assemble(located);
}

function assemble(located: Located[]): Schema {
  const collections = located.map((l) => l.collection);
  return {
    collections,
    byName: new Map(collections.map((c) => [c.name.toLowerCase(), c])),
    byId: new Map(collections.map((c) => [c.id, c])),
    sources: new Map(located.map((l) => [l.collection.id, { file: l.file }])),
    warnings: located.flatMap((l) => warningsFor(l.file, l.collection)),
    checksum: sha256(canonicalJson(collections)),
  };
}

/** Keys PocketBase knows and Galley accepts but does not act on yet. */
function warningsFor(file: string, c: Collection): string[] {
  const warnings: string[] = [];
  if ((c['oauth2'] as { enabled?: boolean } | undefined)?.enabled) warnings.push(`${file}: /oauth2: OAuth2 sign-in is not implemented yet; ignored`);
  return warnings;
}

/** Finds a collection by name (case-insensitive) or id (exact), as the API matches them. */
export function findCollection(schema: Schema, nameOrId: string): Collection | undefined {
  return schema.byId.get(nameOrId) ?? schema.byName.get(nameOrId.toLowerCase());
}

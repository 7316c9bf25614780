import type { FileProblem } from '../errors/index.js';
import { parseFilter } from '../filter/index.js';
import { fieldType } from './fields/index.js';
import { parseIndex, type IndexDef } from './index-sql.js';
import { BUILT_IN_COLLECTIONS, BUILT_IN_FILE, RESERVED_FIELD_NAMES } from './system-fields.js';
import type { Collection, Field } from './types.js';
import { RULE_KEYS } from './types.js';
import { inspectViewQuery, parseableViewQuery, viewQueryTables } from './view-query.js';
import { sourceIndexOf } from './normalize.js';

export interface Located {
  file: string;
  collection: Collection;
}

/** Checks that need the whole set: names, relations, rules, indexes, view queries. */
export function crossCheck(all: Located[]): FileProblem[] {
  const byName = new Map<string, Located>();
  const byId = new Map<string, Located>();
  const problems: FileProblem[] = [];
  // A file redefining a built-in collection gets one clear line, not a cascade of duplicates.
  const builtInClash = (l: Located) => l.file !== BUILT_IN_FILE && [...BUILT_IN_COLLECTIONS].some((name) => name.toLowerCase() === l.collection.name.toLowerCase());
  for (const { file, collection } of all.filter(builtInClash)) problems.push({ file, pointer: '/name', message: `"${collection.name}" is built into Galley` });
  all = all.filter((l) => !builtInClash(l));
  for (const entry of all) {
    const { file, collection } = entry;
    const lower = collection.name.toLowerCase();
    const clash = byName.get(lower);
    if (clash) problems.push({ file, pointer: '/name', message: `duplicate collection name "${collection.name}" (also in ${clash.file})` });
    else byName.set(lower, entry);
    const idClash = byId.get(collection.id);
    if (idClash && !clash) problems.push({ file, pointer: '/id', message: `duplicate collection id "${collection.id}" (also in ${idClash.file})` });
    else if (!idClash) byId.set(collection.id, entry);
  }
  const resolveCollection = (ref: string) => (byId.get(ref) ?? byName.get(ref.toLowerCase()))?.collection;
  const indexNames = new Map<string, { file: string; pointer: string }>();
  for (const { file, collection } of all) {
    problems.push(...checkNames(file, collection));
    problems.push(...checkFields(file, collection, resolveCollection));
    problems.push(...checkRules(file, collection));
    problems.push(...checkIndexes(file, collection, indexNames));
    if (collection.type === 'view') problems.push(...checkViewQuery(file, collection, resolveCollection));
  }
  problems.push(...checkViewCycles(all, resolveCollection));
  return problems;
}

function checkNames(file: string, c: Collection): FileProblem[] {
  const problems: FileProblem[] = [];
  const expected = file.replace(/^.*[\\/]/, '').replace(/\.json$/, '');
  if (expected !== c.name && file !== BUILT_IN_FILE) problems.push({ file, pointer: '/name', message: `must match the file name ("${expected}")` });
  if (c.name.includes('_via_')) problems.push({ file, pointer: '/name', message: 'must not contain "_via_"' });
  if (/^_galley_/i.test(c.name)) problems.push({ file, pointer: '/name', message: 'the "_galley_" prefix is reserved for Galley\'s own tables' });
  return problems;
}

function checkFields(file: string, c: Collection, resolveCollection: (ref: string) => Collection | undefined): FileProblem[] {
  const problems: FileProblem[] = [];
  const seen = new Map<string, Field>();
  c.fields.forEach((field, i) => {
    // Point at the field as written in the file; implicit fields are listed after the written ones.
    const at = `/fields/${sourceIndexOf(field) ?? i}`;
    const label = ` (${field.type} "${field.name}")`;
    const lower = field.name.toLowerCase();
    const first = seen.get(lower);
    if (first) {
      const firstIndex = sourceIndexOf(first);
      problems.push({
        file,
        pointer: `${at}/name`,
        message: firstIndex === undefined
          ? `clashes with the system field "${first.name}", which is ${first.type}${label}`
          : `duplicate field name, also /fields/${firstIndex} (names are case-insensitive)${label}`,
      });
    } else {
      seen.set(lower, field);
    }
    if (RESERVED_FIELD_NAMES.has(lower)) problems.push({ file, pointer: `${at}/name`, message: `is a reserved name${label}` });
    if (field.name.includes('_via_')) problems.push({ file, pointer: `${at}/name`, message: `must not contain "_via_"${label}` });
    const type = fieldType(field.type);
    for (const p of type.check?.(field, { collection: c, resolveCollection }) ?? []) {
      problems.push({ file, pointer: at + p.path, message: p.message + label });
    }
    if (field.type === 'relation') {
      // Galley lets a relation name its target; store the id, as PocketBase does.
      const target = resolveCollection(String(field['collectionId'] ?? field['collection']));
      if (target) field['collectionId'] = target.id;
      delete field['collection'];
    }
  });
  return problems;
}

function checkRules(file: string, c: Collection): FileProblem[] {
  const keys = [...RULE_KEYS, 'authRule', 'manageRule'] as const;
  const problems: FileProblem[] = [];
  for (const key of keys) {
    const rule = c[key];
    if (typeof rule !== 'string' || rule.trim() === '') continue;
    try {
      parseFilter(rule);
    } catch (err) {
      problems.push({ file, pointer: `/${key}`, message: `does not parse: ${(err as Error).message}` });
    }
  }
  return problems;
}

function checkIndexes(file: string, c: Collection, names: Map<string, { file: string; pointer: string }>): FileProblem[] {
  const problems: FileProblem[] = [];
  const fields = new Set(c.fields.map((f) => f.name.toLowerCase()));
  c.indexes.forEach((sql, i) => {
    const at = `/indexes/${i}`;
    let index: IndexDef;
    try {
      index = parseIndex(sql);
    } catch (err) {
      problems.push({ file, pointer: at, message: `does not parse: ${(err as Error).message}` });
      return;
    }
    if (index.table.toLowerCase() !== c.name.toLowerCase()) problems.push({ file, pointer: at, message: `is on table "${index.table}"; an index must be on its own collection ("${c.name}")` });
    for (const col of index.columns) {
      if (!fields.has(col.name.toLowerCase())) problems.push({ file, pointer: at, message: `unknown column "${col.name}" (not a field of "${c.name}")` });
    }
    const owner = names.get(index.name.toLowerCase());
    if (owner) problems.push({ file, pointer: at, message: `duplicate index name "${index.name}" (also ${owner.file === file ? '' : `in ${owner.file} `}at ${owner.pointer})` });
    else names.set(index.name.toLowerCase(), { file, pointer: at });
  });
  return problems;
}

function checkViewQuery(file: string, c: Collection, resolveCollection: (ref: string) => Collection | undefined): FileProblem[] {
  try {
    const { tables } = inspectViewQuery(c.viewQuery ?? '');
    return tables.filter((t) => !resolveCollection(t)).map((t) => ({ file, pointer: '/viewQuery', message: `reads unknown collection "${t}"` }));
  } catch (err) {
    // Positions are those of the text the parser read (see parseableViewQuery): same lines, columns may shift a little.
    return [{ file, pointer: '/viewQuery', message: `does not parse: ${describeSqlError(parseableViewQuery(c.viewQuery ?? ''), err as Error)}` }];
  }
}

/**
 * Views may read other views (created in dependency order by the planner), but not themselves,
 * directly or through others: each view on a cycle gets one line naming it.
 */
function checkViewCycles(all: Located[], resolveCollection: (ref: string) => Collection | undefined): FileProblem[] {
  const views = all.filter((l) => l.collection.type === 'view');
  const reads = new Map(
    views.map((l) => [l.collection.id, viewQueryTables(l.collection.viewQuery ?? '').map(resolveCollection).filter((c): c is Collection => c?.type === 'view')]),
  );
  const problems: FileProblem[] = [];
  for (const { file, collection } of views) {
    const path = cycleFrom(collection, reads);
    if (path) problems.push({ file, pointer: '/viewQuery', message: `reads itself through ${path.map((c) => `"${c.name}"`).join(' → ')}` });
  }
  return problems;
}

/** The views from `start` back to itself, or null when no path returns to it. */
function cycleFrom(start: Collection, reads: Map<string, Collection[]>): Collection[] | null {
  const seen = new Set<string>();
  const walk = (view: Collection, path: Collection[]): Collection[] | null => {
    for (const next of reads.get(view.id) ?? []) {
      if (next.id === start.id) return [...path, next];
      if (seen.has(next.id)) continue;
      seen.add(next.id);
      const found = walk(next, [...path, next]);
      if (found) return found;
    }
    return null;
  };
  return walk(start, [start]);
}

/** node-sql-parser lists every token it expected; say where it stopped and what it found instead. */
function describeSqlError(sql: string, err: Error & { location?: { start?: { offset: number; line: number; column: number } } }): string {
  const start = err.location?.start;
  if (!start) return err.message.split('\n')[0]!;
  // The parser saw the trimmed query; map its line/column back onto the text as written.
  const lead = sql.length - sql.trimStart().length;
  const offset = lead + start.offset;
  const before = sql.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  const rest = sql.slice(offset).split('\n')[0]!.trim();
  const near = rest === '' ? 'at the end of the line' : `near "${rest.length > 20 ? `${rest.slice(0, 20)}...` : rest}"`;
  return `syntax error at line ${line}, column ${column} ${near}`;
}

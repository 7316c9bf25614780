import type { FileProblem } from '../errors/index.js';
import { parseFilter } from '../filter/index.js';
import { fieldType } from './fields/index.js';
import { parseIndex } from './index-sql.js';
import { RESERVED_FIELD_NAMES } from './system-fields.js';
import type { Collection } from './types.js';
import { RULE_KEYS } from './types.js';
import { inspectViewQuery } from './view-query.js';

export interface Located {
  file: string;
  collection: Collection;
}

/** Checks that need the whole set: names, relations, rules, indexes, view queries. */
export function crossCheck(all: Located[]): FileProblem[] {
  const byName = new Map<string, Located>();
  const byId = new Map<string, Located>();
  const problems: FileProblem[] = [];
  for (const entry of all) {
    const { file, collection } = entry;
    const lower = collection.name.toLowerCase();
    const clash = byName.get(lower);
    if (clash) problems.push({ file, pointer: '/name', message: `duplicate collection name "${collection.name}" (also in ${clash.file})` });
    else byName.set(lower, entry);
    const idClash = byId.get(collection.id);
    if (idClash) problems.push({ file, pointer: '/id', message: `duplicate collection id "${collection.id}" (also in ${idClash.file})` });
    else byId.set(collection.id, entry);
  }
  const resolveCollection = (ref: string) => (byId.get(ref) ?? byName.get(ref.toLowerCase()))?.collection;
  const indexNames = new Map<string, string>();
  for (const { file, collection } of all) {
    problems.push(...checkNames(file, collection));
    problems.push(...checkFields(file, collection, resolveCollection));
    problems.push(...checkRules(file, collection));
    problems.push(...checkIndexes(file, collection, indexNames));
    if (collection.type === 'view') problems.push(...checkViewQuery(file, collection, resolveCollection));
  }
  return problems;
}

function checkNames(file: string, c: Collection): FileProblem[] {
  const problems: FileProblem[] = [];
  const expected = file.replace(/^.*[\\/]/, '').replace(/\.json$/, '');
  if (expected !== c.name && !c.system) problems.push({ file, pointer: '/name', message: `must match the file name ("${expected}")` });
  if (c.name.includes('_via_')) problems.push({ file, pointer: '/name', message: 'must not contain "_via_"' });
  if (/^_galley_/i.test(c.name)) problems.push({ file, pointer: '/name', message: 'the "_galley_" prefix is reserved for Galley\'s own tables' });
  if (c.name.toLowerCase() === '_superusers' && !c.system) problems.push({ file, pointer: '/name', message: '"_superusers" is built into Galley' });
  return problems;
}

function checkFields(file: string, c: Collection, resolveCollection: (ref: string) => Collection | undefined): FileProblem[] {
  const problems: FileProblem[] = [];
  const seen = new Set<string>();
  c.fields.forEach((field, i) => {
    const at = `/fields/${i}`;
    const label = ` (${field.type} "${field.name}")`;
    const lower = field.name.toLowerCase();
    if (seen.has(lower)) problems.push({ file, pointer: `${at}/name`, message: `duplicate field name${label}` });
    seen.add(lower);
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

function checkIndexes(file: string, c: Collection, names: Map<string, string>): FileProblem[] {
  const problems: FileProblem[] = [];
  const fields = new Set(c.fields.map((f) => f.name.toLowerCase()));
  c.indexes.forEach((sql, i) => {
    const at = `/indexes/${i}`;
    try {
      const index = parseIndex(sql);
      if (index.table.toLowerCase() !== c.name.toLowerCase()) problems.push({ file, pointer: at, message: `indexes table "${index.table}", not this collection` });
      for (const col of index.columns) {
        if (!fields.has(col.name.toLowerCase())) problems.push({ file, pointer: at, message: `unknown column "${col.name}"` });
      }
      const owner = names.get(index.name.toLowerCase());
      if (owner) problems.push({ file, pointer: at, message: `duplicate index name "${index.name}" (also in ${owner})` });
      names.set(index.name.toLowerCase(), file);
    } catch (err) {
      problems.push({ file, pointer: at, message: `does not parse: ${(err as Error).message}` });
    }
  });
  return problems;
}

function checkViewQuery(file: string, c: Collection, resolveCollection: (ref: string) => Collection | undefined): FileProblem[] {
  try {
    const { tables } = inspectViewQuery(c.viewQuery ?? '');
    return tables
      .filter((t) => !resolveCollection(t) || resolveCollection(t)!.type === 'view')
      .map((t) => ({ file, pointer: '/viewQuery', message: resolveCollection(t) ? `reads view "${t}"; views may only read base and auth collections` : `reads unknown collection "${t}"` }));
  } catch (err) {
    return [{ file, pointer: '/viewQuery', message: `does not parse: ${(err as Error).message.split('\n')[0]}` }];
  }
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The benchmarks' large schema (bench:migrate, bench:observability): `count` collections named
 * c000…, every field type Galley stores, single and multiple relations to earlier collections,
 * an auth collection every 20, indexes.
 */
export const name = (i: number) => `c${String(i).padStart(3, '0')}`;

/** A deterministic mix: every field type Galley stores, single and multiple relations to earlier collections, indexes. */
export function collectionFor(i: number): Record<string, unknown> {
  const auth = i % 20 === 5;
  const fields: Record<string, unknown>[] = [
    { name: 'title', type: 'text', required: true, max: 200, presentable: true },
    { name: 'slug', type: 'text', pattern: '^[a-z0-9-]+$' },
    { name: 'body', type: 'editor' },
    { name: 'contact', type: 'email' },
    { name: 'website', type: 'url' },
    { name: 'score', type: 'number', min: 0 },
    { name: 'active', type: 'bool' },
    { name: 'startsAt', type: 'date' },
    { name: 'status', type: 'select', values: ['draft', 'live', 'archived'], maxSelect: 1 },
    { name: 'labels', type: 'select', values: ['a', 'b', 'c', 'd'], maxSelect: 3 },
    { name: 'meta', type: 'json', maxSize: 65536 },
    { name: 'created', type: 'autodate', onCreate: true },
    { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
  ];
  if (auth) fields.unshift({ name: 'password', type: 'password', min: 8 });
  const indexes = [`CREATE INDEX \`idx_${name(i)}_status\` ON \`${name(i)}\` (\`status\`, \`created\`)`];
  if (i % 3 === 0) indexes.push(`CREATE UNIQUE INDEX \`idx_${name(i)}_slug\` ON \`${name(i)}\` (\`slug\`) WHERE \`slug\` != ''`);
  if (i > 0) {
    const parent = name(Math.floor(i / 2));
    fields.push({ name: 'parent', type: 'relation', collection: parent, maxSelect: 1, cascadeDelete: i % 4 === 0, required: i % 4 === 1 });
    indexes.push(`CREATE INDEX \`idx_${name(i)}_parent\` ON \`${name(i)}\` (\`parent\`)`);
  }
  if (i > 1 && i % 2 === 0) {
    // Multiple relations: junction tables; every 6th is required (trigger), every 10th cascades (trigger).
    fields.push({ name: 'links', type: 'relation', collection: name(i - 1), maxSelect: 20, required: i % 6 === 0, cascadeDelete: i % 10 === 0 });
  }
  return {
    name: name(i),
    ...(auth ? { type: 'auth' } : {}),
    listRule: '',
    viewRule: '',
    createRule: '@request.auth.id != ""',
    updateRule: null,
    deleteRule: null,
    fields,
    indexes,
  };
}

export function writeSchema(dir: string, count: number): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `${name(i)}.json`), `${JSON.stringify(collectionFor(i), null, 2)}\n`);
}

/** The same collections as in-memory collection files (for `buildSchema`), without writing them. */
export function schemaFiles(count: number): { file: string; text: string }[] {
  return Array.from({ length: count }, (_, i) => ({ file: `collections/${name(i)}.json`, text: JSON.stringify(collectionFor(i)) }));
}

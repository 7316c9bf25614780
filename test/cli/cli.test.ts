import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatPlan, migrate, type Database, type DialectName } from '../../src/db/index.js';
import { convertPocketBaseExport } from '../../src/schema/import-pocketbase.js';
import { buildSchema } from '../../src/schema/index.js';
import { runCli } from '../helpers/cli.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';

type Json = Record<string, unknown>;

const POSTS: Json = { name: 'posts', type: 'base', fields: [{ name: 'title', type: 'text' }, { name: 'views', type: 'number' }] };
const NOTES: Json = { name: 'notes', type: 'base', fields: [{ name: 'body', type: 'text' }] };
const CORPUS = '/work/shared/corpus/pocketbase-schemas';
/** A corpus export with a view over an aggregate, a `user` column and relations. */
const EXPORT = join(CORPUS, 'osaxon__fragile-scrum__backend_pb_schema.json');
const UNREACHABLE_PG = 'postgres://postgres@127.0.0.1:1/x';

/** Temporary project folders (the child's working directory), removed after the file's tests. */
const folders: string[] = [];
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

interface Project {
  dir: string;
  /** Replaces `collections/` with one `<name>.json` per collection. */
  writeCollections(...collections: Json[]): void;
  /** Runs `galley ARGS…` in the project folder. */
  galley(args: string[], env?: Record<string, string | undefined>): ReturnType<typeof runCli>;
}

function project(): Project {
  const dir = mkdtempSync(join(tmpdir(), 'galley-cli-'));
  folders.push(dir);
  return {
    dir,
    writeCollections(...collections) {
      const folder = join(dir, 'collections');
      rmSync(folder, { recursive: true, force: true });
      mkdirSync(folder, { recursive: true });
      for (const c of collections) writeFileSync(join(folder, `${String(c['name'])}.json`), `${JSON.stringify(c, null, 2)}\n`);
    },
    galley: (args, env = {}) => runCli(args, { cwd: dir, env }),
  };
}

/** The collections the importer makes of EXPORT (PocketBase's system collections are not among them). */
function importedNames(): string[] {
  return convertPocketBaseExport(JSON.parse(readFileSync(EXPORT, 'utf8')))
    .collections.map((c) => String(c['name']))
    .sort();
}

/** Runs `fn` with a fresh database of `dialect`, dropped afterwards. */
async function withDatabase(dialect: DialectName, fn: (t: TestDatabase) => Promise<void>): Promise<void> {
  const t = await freshDatabase(dialect);
  try {
    await fn(t);
  } finally {
    await t.drop();
  }
}

/** Tables and views of the database's current schema (SQLite internals excluded). */
async function relations(db: Database): Promise<string[]> {
  const rows: { name: string }[] =
    db.dialect === 'postgres'
      ? await db.knex('information_schema.tables').select('table_name as name').whereRaw('table_schema = current_schema()')
      : await db.knex('sqlite_master').select('name').whereIn('type', ['table', 'view']).andWhereNot('name', 'like', 'sqlite_%');
  return rows.map((r) => r.name).sort();
}

async function columns(db: Database, table: string): Promise<string[]> {
  return Object.keys(await db.knex(table).columnInfo()).filter((c) => c !== '_galley_version').sort();
}

describe('usage errors exit 2', () => {
  it('unknown command', async () => {
    const { galley } = project();
    const r = await galley(['bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("error: unknown command 'bogus'");
    expect(r.stdout).toBe('');
  });

  it('unknown flag', async () => {
    const { galley } = project();
    const r = await galley(['migrate', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("error: unknown option '--bogus'");
  });

  it('--help exits 0 and lists the commands', async () => {
    const { galley } = project();
    const r = await galley(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: galley/);
    for (const command of ['serve', 'migrate', 'import-pocketbase']) expect(r.stdout).toContain(command);
  });

  it('invalid collection files: one `file: /pointer: message` line per problem, nothing else', async () => {
    const { dir, writeCollections, galley } = project();
    writeCollections(POSTS);
    writeFileSync(join(dir, 'collections/posts.json'), JSON.stringify({ ...POSTS, fields: [{ name: 'title', type: 'text' }, { name: 'tags', type: 'relation', collection: 'posts', maxSelect: 0 }] }));
    writeFileSync(join(dir, 'collections/tags.json'), '{"name": "tags",\n "type": "base",,\n}');
    const r = await galley(['migrate', '--db', `sqlite:${join(dir, 'db.sqlite')}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      [
        'collections/posts.json: /fields/1/maxSelect: must be >= 1 (relation "tags")',
        'collections/tags.json: /: invalid JSON at line 2, column 17: expected a property name in double quotes, found ","',
        '',
      ].join('\n'),
    );
    expect(r.stdout).toBe('');
    expect(existsSync(join(dir, 'db.sqlite'))).toBe(false);
  });

  it('a missing collections folder', async () => {
    const { dir, galley } = project();
    const r = await galley(['migrate', '--plan', '--collections', 'nope', '--db', `sqlite:${join(dir, 'db.sqlite')}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('nope: /: cannot read the collections folder (ENOENT)\n');
  });

  it('an invalid --http address', async () => {
    const { dir, writeCollections, galley } = project();
    writeCollections(POSTS);
    const r = await galley(['serve', '--http', 'localhost:http', '--db', `sqlite:${join(dir, 'db.sqlite')}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('Invalid --http "localhost:http": expected HOST:PORT, e.g. 127.0.0.1:8090\n');
  });
});

describe('runtime failures exit 1', () => {
  it('an unreachable PostgreSQL: promptly, one clear line, no stack trace', async () => {
    const { writeCollections, galley } = project();
    writeCollections(POSTS);
    // "Promptly": no retry loop; runCli kills a CLI that has not exited within its timeout (a
    // bound for hangs on a busy machine, not a speed check).
    const r = await galley(['migrate', '--db', UNREACHABLE_PG]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Cannot connect to the database ${UNREACHABLE_PG}: connect ECONNREFUSED 127.0.0.1:1\n`);
    expect(r.stdout).toBe('');
  });

  it('serve on an unreachable PostgreSQL (URL from DATABASE_URL)', async () => {
    const { writeCollections, galley } = project();
    writeCollections(POSTS);
    const r = await galley(['serve', '--http', '127.0.0.1:0'], { DATABASE_URL: UNREACHABLE_PG });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Cannot connect to the database ${UNREACHABLE_PG}: connect ECONNREFUSED 127.0.0.1:1\n`);
    expect(r.stdout).toBe('');
  });
});

describe('import-pocketbase', () => {
  it('a missing file exits 2', async () => {
    const { dir, galley } = project();
    const r = await galley(['import-pocketbase', 'missing.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('missing.json: no such file\n');
    expect(existsSync(join(dir, 'collections'))).toBe(false);
  });

  it('a file that is not JSON exits 2', async () => {
    const { dir, galley } = project();
    writeFileSync(join(dir, 'bad.json'), '[{"name": ');
    const r = await galley(['import-pocketbase', 'bad.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bad\.json: not valid JSON \(.+\)\n$/);
    expect(existsSync(join(dir, 'collections'))).toBe(false);
  });

  it('JSON that is not an export exits 2', async () => {
    const { dir, galley } = project();
    writeFileSync(join(dir, 'settings.json'), '{"appName": "x"}');
    const r = await galley(['import-pocketbase', 'settings.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('settings.json: not a PocketBase collections export: expected a JSON array of collections (or {"collections": [...]})\n');
    expect(existsSync(join(dir, 'collections'))).toBe(false);
  });

  it('writes one file per collection, and refuses to overwrite without --force', async () => {
    const { dir, galley } = project();
    const first = await galley(['import-pocketbase', EXPORT]);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    const written = readdirSync(join(dir, 'collections')).sort();
    expect(written).toEqual(importedNames().map((n) => `${n}.json`));
    expect(first.stdout.split('\n').filter(Boolean).at(-1)).toBe(`Wrote ${written.length} collection file(s) to collections`);

    const edited = join(dir, 'collections', written[0]!);
    writeFileSync(edited, 'edited by hand');
    const again = await galley(['import-pocketbase', EXPORT]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`Refusing to overwrite existing files (use --force):\n${written.map((f) => `  collections/${f}\n`).join('')}`);
    expect(readFileSync(edited, 'utf8')).toBe('edited by hand');

    const forced = await galley(['import-pocketbase', EXPORT, '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(edited, 'utf8')).not.toBe('edited by hand');
    expect(readdirSync(join(dir, 'collections')).sort()).toEqual(written);
  });

  it('--collections chooses the output folder', async () => {
    const { dir, galley } = project();
    const r = await galley(['import-pocketbase', EXPORT, '--collections', 'schema/pb']);
    expect(r.code).toBe(0);
    expect(readdirSync(join(dir, 'schema/pb')).length).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'collections'))).toBe(false);
  });
});

describe('flags beat the environment', () => {
  it('--db wins over DATABASE_URL', async () => {
    const { dir, writeCollections, galley } = project();
    writeCollections(POSTS);
    const r = await galley(['migrate', '--db', `sqlite:${join(dir, 'flag.db')}`], { DATABASE_URL: UNREACHABLE_PG });
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'flag.db'))).toBe(true);
  });

  it('DATABASE_URL wins over the --data default', async () => {
    const { dir, writeCollections, galley } = project();
    writeCollections(POSTS);
    const r = await galley(['migrate', '--data', 'somewhere'], { DATABASE_URL: `sqlite:${join(dir, 'env.db')}` });
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'env.db'))).toBe(true);
    expect(existsSync(join(dir, 'somewhere'))).toBe(false);
  });

  it('--collections wins over GALLEY_COLLECTIONS; the default database is <data>/data.db', async () => {
    const { dir, writeCollections, galley } = project();
    writeCollections(POSTS);
    const r = await galley(['migrate', '--plan', '--collections', 'collections'], { GALLEY_COLLECTIONS: 'nope' });
    expect(r.code).toBe(0);
    const viaEnv = await galley(['migrate', '--plan'], { GALLEY_COLLECTIONS: 'nope' });
    expect(viaEnv.code).toBe(2);
    expect(viaEnv.stderr).toBe('nope: /: cannot read the collections folder (ENOENT)\n');
    const applied = await galley(['migrate', '--data', 'var']);
    expect(applied.code).toBe(0);
    expect(existsSync(join(dir, 'var/data.db'))).toBe(true);
  });
});

describe.each(DIALECTS)('migrate (%s)', (dialect) => {
  it('--plan prints the plan, exits 0 and changes nothing', async () => {
    const { writeCollections, galley } = project();
    await withDatabase(dialect, async (t) => {
      writeCollections(POSTS, NOTES);
      const r = await galley(['migrate', '--plan', '--db', t.url]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      const lines = r.stdout.split('\n');
      const steps = lines.filter((l) => /^ *\d+\. \[/.test(l));
      expect(lines[0]).toBe(`Migration plan (${steps.length} steps):`);
      expect(steps.length).toBeGreaterThanOrEqual(3);
      expect(steps.every((l) => / \[safe\] /.test(l))).toBe(true);
      expect(steps).toEqual(expect.arrayContaining([expect.stringMatching(/^ +\d+\. \[safe\] create table posts$/), expect.stringMatching(/^ +\d+\. \[safe\] create table notes$/)]));
      // Exactly what the library plans for the same files (read in file-name order).
      const schema = buildSchema([NOTES, POSTS].map((c) => ({ file: `collections/${String(c['name'])}.json`, text: JSON.stringify(c) })));
      const planned = await migrate(t.db, schema, { apply: false, allowDestructive: false });
      expect(r.stdout).toBe(`${formatPlan(planned.plan)}\n`);
      expect(await relations(t.db)).toEqual([]);
    });
  });

  it('applies the plan (exit 0), records it, then has nothing to do', async () => {
    const { writeCollections, galley } = project();
    await withDatabase(dialect, async (t) => {
      writeCollections(POSTS, NOTES);
      const r = await galley(['migrate', '--db', t.url]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      const stepCount = Number(/^Migration plan \((\d+) steps\):/.exec(r.stdout)?.[1]);
      expect(r.stdout.endsWith(`\nApplied ${stepCount} step(s).\n`)).toBe(true);
      expect(await relations(t.db)).toEqual(expect.arrayContaining(['_galley_migrations', '_superusers', 'notes', 'posts']));
      expect(await columns(t.db, 'posts')).toEqual(['id', 'title', 'views']);
      expect(await columns(t.db, 'notes')).toEqual(['body', 'id']);
      expect(await t.db.knex('_galley_migrations').count({ n: '*' })).toEqual([{ n: dialect === 'postgres' ? '1' : 1 }]);

      const again = await galley(['migrate', '--db', t.url]);
      expect(again.code).toBe(0);
      expect(again.stdout).toBe('Nothing to migrate: the database matches the collection files.\n');
      expect(await t.db.knex('_galley_migrations').count({ n: '*' })).toEqual([{ n: dialect === 'postgres' ? '1' : 1 }]);
    });
  });

  it('refuses a destructive plan with exit 2 and what would be lost; --allow-destructive applies it', async () => {
    const { writeCollections, galley } = project();
    await withDatabase(dialect, async (t) => {
      writeCollections(POSTS, NOTES);
      expect((await galley(['migrate', '--db', t.url])).code).toBe(0);
      await t.db.knex('notes').insert([
        { id: 'n00000000000001', body: 'one' },
        { id: 'n00000000000002', body: 'two' },
      ]);
      writeCollections(POSTS);

      const refused = await galley(['migrate', '--db', t.url]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(
        'The migration plan has destructive steps:\n  - drop table notes: would lose 2 rows of notes\nReview them with `galley migrate --plan`, then run `galley migrate --allow-destructive` to apply them.\n',
      );
      expect(await t.db.knex('notes').count({ n: '*' })).toEqual([{ n: dialect === 'postgres' ? '2' : 2 }]);

      const plan = await galley(['migrate', '--plan', '--db', t.url]);
      expect(plan.code).toBe(0);
      expect(plan.stdout.split('\n')[0]).toBe('Migration plan (1 step):');
      expect(plan.stdout.split('\n')[1]).toBe('  1. [destructive] drop table notes — would lose 2 rows of notes');

      const allowed = await galley(['migrate', '--allow-destructive', '--db', t.url]);
      expect(allowed.code).toBe(0);
      expect(allowed.stdout.endsWith('\nApplied 1 step(s).\n')).toBe(true);
      expect(await relations(t.db)).not.toContain('notes');
    });
  });

  it('import-pocketbase output migrates, views included', async () => {
    const { galley } = project();
    await withDatabase(dialect, async (t) => {
      expect((await galley(['import-pocketbase', EXPORT])).code).toBe(0);
      const r = await galley(['migrate', '--db', t.url]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(await relations(t.db)).toEqual(expect.arrayContaining(importedNames()));
      const again = await galley(['migrate', '--plan', '--db', t.url]);
      expect(again.stdout).toBe('Nothing to migrate: the database matches the collection files.\n');
    });
  });
});

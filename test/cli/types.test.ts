import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateTypes } from '../../src/types-gen/index.js';
import { EXAMPLE_COLLECTIONS } from '../helpers/app.js';
import { runCli, startServe, type ServeHandle } from '../helpers/cli.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { eventually } from '../helpers/wait.js';
import { exampleSchema } from '../openapi/fixtures.js';

const POSTS = { name: 'posts', fields: [{ name: 'title', type: 'text' }] };
/** Each run starts tsx and transpiles the CLI: on a busy machine that alone can take half a minute. */
const SLOW = { timeoutMs: 120_000 };
const TEST_TIMEOUT = 300_000;

function collectionsDir(...collections: Record<string, unknown>[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'galley-types-'));
  mkdirSync(join(dir, 'collections'));
  for (const c of collections) writeFileSync(join(dir, 'collections', `${String(c['name'])}.json`), JSON.stringify(c));
  return dir;
}

describe('galley types', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('prints the types of the collections to stdout (no database needed)', async () => {
    const r = await runCli(['types', '--collections', EXAMPLE_COLLECTIONS, '--db', 'postgres://nobody@127.0.0.1:1/none'], SLOW);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(generateTypes(await exampleSchema()));
  }, TEST_TIMEOUT);

  it('--out writes the file (creating its folder), and says when it is unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'galley-types-'));
    dirs.push(dir);
    const out = join(dir, 'src/generated/galley.ts');
    const first = await runCli(['types', '--collections', EXAMPLE_COLLECTIONS, '--out', out], SLOW);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`Wrote ${out} (10 collections).\n`);
    expect(readFileSync(out, 'utf8')).toBe(generateTypes(await exampleSchema()));
    const again = await runCli(['types', '--collections', EXAMPLE_COLLECTIONS, '--out', out], SLOW);
    expect(again.stdout).toBe(`Unchanged: ${out} (10 collections).\n`);
  }, TEST_TIMEOUT);

  it('invalid collection files: exit 2, one line per problem, nothing written', async () => {
    const dir = collectionsDir({ name: 'posts', fields: [{ name: 'title', type: 'txt' }] });
    dirs.push(dir);
    const out = join(dir, 'types.ts');
    const r = await runCli(['types', '--out', out], { cwd: dir, ...SLOW });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('collections/posts.json: /fields/0');
    expect(existsSync(out)).toBe(false);
  }, TEST_TIMEOUT);
});

describe.each(DIALECTS)('galley serve --types (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  let server: ServeHandle | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await server?.stop();
    await t?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    server = t = dir = undefined;
  });

  it('writes the types at start and rewrites them when --dev applies a change; serves the document and the metrics', async () => {
    dir = collectionsDir(POSTS);
    t = await freshDatabase(dialect);
    const out = join(dir, 'types/galley.ts');
    server = await startServe({ cwd: dir, env: { DATABASE_URL: t.url }, args: ['--dev', '--types', out], ...SLOW });
    expect(readFileSync(out, 'utf8')).toMatch(/export interface PostsRecord \{[^}]*title: string;/);
    // The serve path wires the document and the metrics (the tests' app helper builds its own).
    expect(((await (await fetch(`${server.url}/api/openapi.json`)).json()) as { paths: object }).paths).toHaveProperty(['/api/collections/posts/records']);
    expect(await (await fetch(`${server.url}/metrics`)).text()).toContain('galley_http_requests_total{method="GET",route="/api/openapi.json",status="200"} 1');
    writeFileSync(join(dir, 'collections/posts.json'), JSON.stringify({ ...POSTS, fields: [...POSTS.fields, { name: 'subtitle', type: 'text' }] }));
    await eventually(() => readFileSync(out, 'utf8').includes('subtitle: string;'));
    await server.waitForLog((l) => l.msg === `types written to ${out}` && l.time !== undefined);
    // A broken edit leaves the last good types in place.
    writeFileSync(join(dir, 'collections/posts.json'), '{"name": ');
    await server.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('collections not applied:'));
    expect(readFileSync(out, 'utf8')).toContain('subtitle: string;');
  }, TEST_TIMEOUT);
});

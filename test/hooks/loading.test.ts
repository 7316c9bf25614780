/**
 * Loading hooks files (issue 14 item 1): a file that fails to load, throws while registering, names
 * an unknown collection or shadows one of Galley's routes stops the start with exit code 2 and one
 * line naming the file; `serve --dev` swaps edited hooks without a restart. Real processes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HooksLoadError } from '../../src/hooks/index.js';
import { loadHooks } from '../../src/hooks/loader.js';
import { runCli, startServe, type ServeHandle } from '../helpers/cli.js';
import { schemaOf } from '../helpers/schema.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';

const NOTES = { name: 'notes', type: 'base', listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '', fields: [{ name: 'text', type: 'text' }] };

// Loading happens before any record is touched: the messages are checked in process (fast), the
// exit code and the one line on stderr through a real `galley serve`; the reload on both engines.
describe('loading hooks files', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function project(hooks: Record<string, string>): string {
    dir = mkdtempSync(join(tmpdir(), 'galley-hooks-'));
    mkdirSync(join(dir, 'collections'));
    writeFileSync(join(dir, 'collections/notes.json'), JSON.stringify(NOTES));
    for (const [name, text] of Object.entries(hooks)) writeFileSync(join(dir, 'collections', name), text);
    return join(dir, 'collections');
  }

  const failures: [string, string, RegExp][] = [
    ['a syntax error', 'export default (app) => { app.onRecordCreate("notes", async (e) => { await e.next() ;', /bad\.hooks\.ts: failed to load: .*bad\.hooks\.ts:1:\d+: ERROR: /],
    ['a throw while registering', 'export default () => { throw new Error("not today"); };', /bad\.hooks\.ts: threw while registering: not today$/],
    ['an unknown collection', 'export default (app) => { app.onRecordCreate("nopes", (e) => e.next()); };', /bad\.hooks\.ts: onRecordCreate\("nopes"\): there is no collection "nopes"$/],
    ['a route shadowing Galley', 'export default (app) => { app.routerAdd("GET", "/api/collections/notes/records", (e) => e.json(200, {})); };', /bad\.hooks\.ts: routerAdd\(GET, "\/api\/collections\/notes\/records"\): the path is one of Galley's own routes$/],
    ['no default export function', 'export const x = 1;', /bad\.hooks\.ts: the default export must be a function/],
    ['a cron schedule that is not 5 fields', 'export default (app) => { app.cronAdd("j", "every day", () => {}); };', /bad\.hooks\.ts: cronAdd\("j", "every day"\): expected a 5-field cron schedule/],
    ['an invalid cron field', 'export default (app) => { app.cronAdd("j", "61 * * * *", () => {}); };', /bad\.hooks\.ts: cronAdd\("j", "61 \* \* \* \*"\): .*minute/],
  ];
  it.each(failures)('%s: a HooksLoadError naming the file', async (_name, source, line) => {
    const folder = project({ 'bad.hooks.ts': source });
    const error = await loadHooks(folder, schemaOf(NOTES)).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(HooksLoadError);
    expect((error as Error).message.split('\n')).toHaveLength(1);
    expect((error as Error).message).toMatch(line);
  });

  it('galley serve stops with exit code 2 and that one line on stderr', async () => {
    project({ 'bad.hooks.ts': 'export default (app) => { app.onRecordCreate("nopes", (e) => e.next()); };' });
    const result = await runCli(['serve', '--http', '127.0.0.1:0'], { cwd: dir, timeoutMs: 60_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('collections/bad.hooks.ts: onRecordCreate("nopes"): there is no collection "nopes"\n');
  });

  it('loads in file-name order, TypeScript and JavaScript alike', async () => {
    const folder = project({
      'b.hooks.mjs': 'export default () => { globalThis.loadOrder.push("b"); };',
      'a.hooks.ts': 'export default (): void => { (globalThis as any).loadOrder.push("a"); };',
      'c.hooks.js': 'export default () => { globalThis.loadOrder.push("c"); };',
      'notes.json.bak': 'ignored',
    });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    (globalThis as unknown as { loadOrder: string[] }).loadOrder = [];
    await loadHooks(folder, schemaOf(NOTES));
    expect((globalThis as unknown as { loadOrder: string[] }).loadOrder).toEqual(['a', 'b', 'c']);
  });
});

describe.each(DIALECTS)('hooks in galley processes (%s)', (dialect) => {
  let dir = '';
  let db: TestDatabase | undefined;
  let server: ServeHandle | undefined;
  afterEach(async () => {
    await server?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    [server, db] = [undefined, undefined];
  });

  it('swaps edited hooks without a restart (old registrations dropped); a broken edit keeps the old ones', async () => {
    dir = mkdtempSync(join(tmpdir(), 'galley-hooks-'));
    mkdirSync(join(dir, 'collections'));
    writeFileSync(join(dir, 'collections/notes.json'), JSON.stringify(NOTES));
    writeFileSync(join(dir, 'collections/a.hooks.mjs'), 'export default (app) => { app.routerAdd("GET", "/api/version", (e) => e.json(200, { v: 1 })); };');
    db = await freshDatabase(dialect);
    server = await startServe({ cwd: dir, args: ['--dev'], env: { DATABASE_URL: db.url } });
    expect(await (await fetch(`${server.url}/api/version`)).json()).toEqual({ v: 1 });
    const pid = server.child.pid;
    writeFileSync(join(dir, 'collections/a.hooks.mjs'), 'export default (app) => { app.routerAdd("GET", "/api/version2", (e) => e.json(200, { v: 2 })); };');
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await fetch(`${server.url}/api/version2`)).status !== 200) await new Promise((r) => setTimeout(r, 100));
    expect(await (await fetch(`${server.url}/api/version2`)).json()).toEqual({ v: 2 });
    expect((await fetch(`${server.url}/api/version`)).status).toBe(404);
    expect(server.child.pid).toBe(pid);

    writeFileSync(join(dir, 'collections/a.hooks.mjs'), 'export default () => { throw new Error("half-written"); };');
    await server.waitForLog((l) => typeof l.msg === 'string' && l.msg.includes('threw while registering: half-written'), 30_000);
    expect((await fetch(`${server.url}/api/version2`)).status).toBe(200);
  });

  it('galley superuser runs the hooks too (a write path like any other)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'galley-hooks-'));
    mkdirSync(join(dir, 'collections'));
    writeFileSync(join(dir, 'collections/audit.json'), JSON.stringify({ name: 'audit', type: 'base', fields: [{ name: 'what', type: 'text' }] }));
    writeFileSync(
      join(dir, 'collections/audit.hooks.mjs'),
      'export default (app) => { app.onRecordCreate("_superusers", async (e) => { await e.next(); await e.app.records("audit").create({ what: `superuser ${e.record.email}` }); }); };',
    );
    db = await freshDatabase(dialect);
    const result = await runCli(['superuser', 'upsert', 'cli@example.com', 'password123'], { cwd: dir, env: { DATABASE_URL: db.url }, timeoutMs: 60_000 });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(await db.db.runner().all('SELECT "what" FROM "audit"', [])).toEqual([{ what: 'superuser cli@example.com' }]);
  });
});

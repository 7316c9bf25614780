/**
 * Cron jobs (issue 14 item 6): with several nodes on one database each tick runs exactly once in
 * total; a failing run is logged and tried again at the next tick only. Per-second schedules
 * (GALLEY_CRON_SECONDS, for tests) keep the runs short; nothing here asserts a duration.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRON_RUNS_TABLE } from '../../src/db/index.js';
import { CronScheduler } from '../../src/hooks/cron.js';
import type { HookServices } from '../../src/hooks/index.js';
import type { CronHook } from '../../src/hooks/registry.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { startServe, type ServeHandle } from '../helpers/cli.js';
import { DIALECTS, freshDatabase, PG_URL, type TestDatabase } from '../helpers/dialects.js';

type Json = Record<string, unknown>;
const TICKS = { name: 'ticks', type: 'base', listRule: '', viewRule: '', createRule: null, updateRule: null, deleteRule: null, fields: [{ name: 'tick', type: 'text' }, { name: 'node', type: 'text' }] };

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(DIALECTS)('cron claims (%s, three schedulers in one process)', (dialect) => {
  let t: TestApp;
  const schedulers: CronScheduler[] = [];
  beforeAll(async () => {
    t = await createTestApp(dialect, [TICKS]);
  });
  afterAll(async () => {
    await Promise.all(schedulers.map((s) => s.stop()));
    await t?.close();
  });

  it('each tick runs once in total; a failing run is logged and tried again at the next tick', async () => {
    const runs: number[] = [];
    const failures: Json[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => void failures.push(JSON.parse(line) as Json) });
    const services: HookServices = { runtime: () => t.app.records, runner: t.app.db.runner(), log, mail: async () => {} };
    const origin = { file: 'test', hook: 'cronAdd' };
    const jobs: CronHook[] = [
      { origin, name: 'count', schedule: '* * * * * *', run: (e) => void runs.push(e.scheduledAt.getTime()) },
      {
        origin,
        name: 'fail',
        schedule: '* * * * * *',
        run: () => {
          throw new Error('this job always fails');
        },
      },
    ];
    for (let i = 0; i < 3; i++) schedulers.push(new CronScheduler(t.app.db.runner(), services, log));
    for (const s of schedulers) s.schedule(jobs);
    await until(async () => runs.length >= 4 && failures.length >= 2, 'four runs and two failures');
    await Promise.all(schedulers.map((s) => s.stop()));
    expect(new Set(runs).size).toBe(runs.length);
    expect(runs.every((tick) => tick % 1000 === 0)).toBe(true);
    const failedTicks = failures.map((f) => f['tick']);
    expect(new Set(failedTicks).size).toBe(failedTicks.length);
    expect(failures[0]).toMatchObject({ job: 'fail', msg: expect.stringContaining('cron job fail failed') });
    const claims = await t.app.db.runner().all(`SELECT "name", COUNT(*) AS "n" FROM "${CRON_RUNS_TABLE}" GROUP BY "name", "tick" HAVING COUNT(*) > 1`, []);
    expect(claims).toEqual([]);
  });
});

describe.runIf(PG_URL)('cron on three serve processes sharing PostgreSQL', () => {
  let db: TestDatabase;
  let dir = '';
  const nodes: ServeHandle[] = [];
  beforeAll(async () => {
    db = await freshDatabase('postgres');
    dir = mkdtempSync(join(tmpdir(), 'galley-cron-'));
    mkdirSync(join(dir, 'collections'));
    writeFileSync(join(dir, 'collections/ticks.json'), JSON.stringify(TICKS));
    writeFileSync(
      join(dir, 'collections/ticks.hooks.mjs'),
      `export default (app) => {
        app.cronAdd('tick', '* * * * * *', async (e) => {
          await e.app.records('ticks').create({ tick: e.scheduledAt.toISOString(), node: String(process.pid) });
        });
      };\n`,
    );
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every tick on exactly one node', async () => {
    const env = { DATABASE_URL: db.url, GALLEY_CRON_SECONDS: 'true', GALLEY_RATE_LIMIT_AUTH_IP: '0' };
    nodes.push(...(await Promise.all([0, 1, 2].map(() => startServe({ cwd: dir, env, timeoutMs: 120_000 })))));
    const runner = db.db.runner();
    await until(async () => Number((await runner.all('SELECT COUNT(DISTINCT "tick") AS "n" FROM "ticks"', []))[0]!['n']) >= 6, 'six ticks', 120_000);
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
    const rows = await runner.all('SELECT "tick", COUNT(*) AS "n" FROM "ticks" GROUP BY "tick" ORDER BY "tick"', []);
    expect(rows.filter((r) => Number(r['n']) !== 1)).toEqual([]);
  }, 180_000);
});

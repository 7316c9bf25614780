import { randomBytes } from 'node:crypto';
import { Cron } from 'croner';
import { CRON_RUNS_TABLE, type SqlRunner } from '../db/index.js';
import type { Logger } from '../log/index.js';
import { hookApp, type HookServices } from './context.js';
import { describe, guard } from './plugin.js';
import type { CronHook } from './registry.js';

/** Claims older than this are pruned now and then. */
const KEEP_CLAIMS_MS = 24 * 3600 * 1000;

/**
 * Runs the cron jobs of the hooks files, in UTC. Every node schedules every job; at each tick the
 * nodes race to insert the tick's row into `_galley_cron_runs` (primary key: job + tick), and only
 * the one whose insert lands runs it — so with several nodes on one database each tick runs once.
 * Only future ticks are scheduled: a tick missed while every node was down is not replayed, and a
 * failing run is logged and simply tried again at the next tick.
 */
export class CronScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly node = randomBytes(6).toString('hex');
  private stopped = false;
  private running = new Set<Promise<void>>();

  constructor(
    private readonly runner: SqlRunner,
    private readonly services: HookServices,
    private readonly log: Logger,
  ) {}

  /** Replaces the scheduled jobs (at start, and on a --dev reload). */
  schedule(jobs: readonly CronHook[]): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const job of jobs) this.plan(job, new Cron(job.schedule, { timezone: 'UTC', paused: true }), Date.now());
  }

  /** Stops scheduling and waits for runs in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.running);
  }

  private plan(job: CronHook, cron: Cron, after: number): void {
    if (this.stopped) return;
    const next = cron.nextRun(new Date(after));
    if (!next) return;
    const tick = next.getTime();
    const timer = setTimeout(() => {
      const run = this.fire(job, tick).finally(() => this.running.delete(run));
      this.running.add(run);
      // The next tick strictly after this one, even if the timer fired a little early.
      this.plan(job, cron, Math.max(Date.now(), tick));
    }, Math.max(0, tick - Date.now()));
    timer.unref();
    this.timers.set(job.name, timer);
  }

  private async fire(job: CronHook, tick: number): Promise<void> {
    try {
      if (!(await this.claim(job.name, tick))) return;
      await guard(job.origin, () => job.run({ name: job.name, scheduledAt: new Date(tick), app: hookApp(this.services, describe(job.origin), 1) }));
    } catch (err) {
      this.log.error({ err, job: job.name, tick: new Date(tick).toISOString() }, `cron job ${job.name} failed (it runs again at its next tick)`);
    }
  }

  private async claim(name: string, tick: number): Promise<boolean> {
    const pg = this.runner.dialect === 'postgres';
    const insert = `${pg ? 'INSERT INTO' : 'INSERT OR IGNORE INTO'} "${CRON_RUNS_TABLE}" ("name", "tick", "node", "claimed_at") VALUES (?, ?, ?, ?)${pg ? ' ON CONFLICT DO NOTHING' : ''}`;
    const claimed = (await this.runner.run(insert, [name, tick, this.node, Date.now()])) === 1;
    if (claimed && Math.random() < 0.01) await this.runner.run(`DELETE FROM "${CRON_RUNS_TABLE}" WHERE "claimed_at" < ?`, [Date.now() - KEEP_CLAIMS_MS]);
    return claimed;
  }
}

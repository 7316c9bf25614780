import type { SqlRunner } from '../db/index.js';
import type { Logger } from '../log/index.js';
import type { RealtimeMetrics } from '../metrics/index.js';
import type { RecordWrite, WritePlugin } from '../records/plugins.js';
import type { CollectionRuntime, RecordsRuntime } from '../records/runtime.js';
import { deliveriesFor, type Delivery } from './access.js';
import { Hub } from './hub.js';
import { realtimePlugin } from './plugin.js';
import type { SseLimits } from './sse.js';

export interface RealtimeLimits extends SseLimits {
  maxClients: number;
}

export const DEFAULT_REALTIME_LIMITS: RealtimeLimits = {
  idleMs: 5 * 60_000,
  maxAgeMs: 30 * 60_000,
  maxClients: 10_000,
  maxBufferBytes: 4 << 20,
};

export interface RealtimeOptions {
  runtime(): RecordsRuntime;
  /** The pool: events of creates and updates are checked after their commit. */
  runner: SqlRunner;
  log: Logger;
  metrics?: RealtimeMetrics;
  limits?: Partial<RealtimeLimits>;
}

/**
 * The realtime service of one node: its SSE clients (hub), the write-pipeline plugin that turns
 * committed writes into events, and custom topics for server code.
 */
export class Realtime {
  readonly hub: Hub;
  readonly plugin: WritePlugin;
  private readonly pending = new Set<Promise<void>>();
  /** The last queued event per record: events of one record go out in commit order. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly options: RealtimeOptions) {
    this.hub = new Hub({ ...DEFAULT_REALTIME_LIMITS, ...options.limits, log: options.log, ...(options.metrics ? { metrics: options.metrics } : {}) });
    this.plugin = realtimePlugin({
      published: (w) => this.published(w),
      beforeDelete: (w) => this.beforeDelete(w),
      deleted: (w, prepared) => this.deleted(w, prepared),
    });
  }

  /** `e.app.realtime.send(topic, data)`: a custom topic's subscribers on this node. */
  send(topic: string, data: unknown): Promise<void> {
    if (typeof topic !== 'string' || topic === '') return Promise.reject(new TypeError('realtime.send: the topic must be a non-empty string'));
    this.hub.sendCustom(topic, data);
    return Promise.resolve();
  }

  /** Waits for the events being decided (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    await this.settled();
    this.hub.closeAll();
  }

  private published(w: RecordWrite): void {
    const id = String(w.record['id']);
    if (w.action === 'update' && w.rt.collection.type === 'auth') this.hub.authChanged(w.rt.collection.id, id, w.record);
    this.background(w.rt, id, async () => {
      const targets = this.hub.recordTargets(w.rt.collection.name, w.rt.collection.id, id);
      if (targets.length === 0) return;
      const deliveries = await deliveriesFor({ runtime: this.options.runtime(), runner: this.options.runner }, w.rt, id, w.action, targets);
      this.hub.deliver(deliveries, w.action);
    });
  }

  private async beforeDelete(w: RecordWrite): Promise<Delivery[] | null> {
    const id = String(w.record['id']);
    const targets = this.hub.recordTargets(w.rt.collection.name, w.rt.collection.id, id);
    if (targets.length === 0) return null;
    return deliveriesFor({ runtime: this.options.runtime(), runner: w.session.tx }, w.rt, id, 'delete', targets);
  }

  private deleted(w: RecordWrite, prepared: Delivery[] | null): void {
    const id = String(w.record['id']);
    if (w.rt.collection.type === 'auth') this.hub.authChanged(w.rt.collection.id, id, null);
    if (prepared) this.background(w.rt, id, () => Promise.resolve(this.hub.deliver(prepared, 'delete')));
  }

  /** Runs `work` after the previous event of the same record, off the request's path; failures are logged. */
  private background(rt: CollectionRuntime, id: string, work: () => Promise<void>): void {
    const key = `${rt.collection.id}/${id}`;
    const run = (this.chains.get(key) ?? Promise.resolve())
      .then(work)
      .catch((err: unknown) => this.options.log.error({ err, collection: rt.collection.name, id }, 'realtime: event not delivered'));
    this.chains.set(key, run);
    this.pending.add(run);
    void run.finally(() => {
      this.pending.delete(run);
      if (this.chains.get(key) === run) this.chains.delete(key);
    });
  }
}

export { Hub } from './hub.js';
export type { SseClient } from './sse.js';

import type { ServerResponse } from 'node:http';
import type { SqlRunner } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { RealtimeMetrics } from '../metrics/index.js';
import type { RecordWrite, WritePlugin } from '../records/plugins.js';
import type { CollectionRuntime, RecordsRuntime } from '../records/runtime.js';
import type { ApiRecord, AuthIdentity } from '../records/types.js';
import { authKey, deliveriesFor, type Delivery } from './access.js';
import { Hub } from './hub.js';
import type { BusMessage, PgBus } from './pg-bus.js';
import { realtimePlugin } from './plugin.js';
import { eventJson, type SseLimits } from './sse.js';
import { parseSubscription } from './topics.js';

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
  /** PostgreSQL: the database URL, for the LISTEN connection that joins this node to the others. */
  listenUrl?: string;
  /** Publish to the other nodes without listening (one-shot commands: the CLI). */
  publishOnly?: boolean;
}

/**
 * The realtime service of one node: its SSE clients (hub), the write-pipeline plugin that turns
 * committed writes into events, custom topics for server code and, on PostgreSQL, the bus that
 * carries events and subscription changes between nodes.
 */
export class Realtime {
  readonly hub: Hub;
  readonly plugin: WritePlugin;
  bus: PgBus | null = null;
  private readonly pending = new Set<Promise<void>>();
  /** The last queued event per record: events of one record go out in commit order. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly options: RealtimeOptions) {
    this.hub = new Hub({
      ...DEFAULT_REALTIME_LIMITS,
      ...options.limits,
      log: options.log,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      onClose: (c) => this.track(this.bus?.forgetClient(c.id)),
    });
    this.plugin = realtimePlugin({
      published: (w) => this.published(w),
      beforeDelete: (w) => this.beforeDelete(w),
      deleted: (w, prepared) => this.deleted(w, prepared),
    });
  }

  /** Joins the other nodes (PostgreSQL): LISTEN on the schema's channel. */
  async start(): Promise<void> {
    if (!this.options.listenUrl || this.options.runner.dialect !== 'postgres') return;
    const { PgBus } = await import('./pg-bus.js');
    this.bus = await PgBus.start(this.options.listenUrl, this.options.runner, this.options.log, (msg) => this.remote(msg), !this.options.publishOnly);
  }

  /**
   * A new stream (GET /api/realtime): registered, shared with the other nodes when there are
   * (so a POST that reaches any node finds it), then greeted with PB_CONNECT.
   */
  async connect(res: ServerResponse, ip: string): Promise<void> {
    const client = this.hub.connect(res, ip);
    if (this.bus) await this.bus.registerClient(client.id, ip);
    client.send('PB_CONNECT', eventJson({ clientId: client.id }));
  }

  /** `e.app.realtime.send(topic, data)`: a custom topic's subscribers on every node. */
  async send(topic: string, data: unknown): Promise<void> {
    if (typeof topic !== 'string' || topic === '') throw new TypeError('realtime.send: the topic must be a non-empty string');
    this.hub.sendCustom(topic, data);
    await this.bus?.publish({ k: 'custom', topic, data: data ?? null });
  }

  /**
   * POST /api/realtime: replaces a client's subscriptions and auth, on this node or, through the
   * bus, on the node holding its stream. 404 for an unknown client, 400 from another IP, 403 when
   * the client had an auth and this request's differs.
   */
  async subscribe(clientId: string, ip: string, auth: AuthIdentity | null, topics: string[]): Promise<void> {
    const local = this.hub.client(clientId);
    const remote = local ? null : await this.bus?.findClient(clientId);
    if (!local && !remote) throw new AppError('not_found', 'Missing or invalid client id.');
    if ((local?.ip ?? remote?.ip) !== ip) throw new AppError('bad_request', 'Invalid realtime client.');
    const previous = local ? authKey(local.auth) : remote!.auth;
    if (previous !== '' && previous !== authKey(auth)) throw new AppError('forbidden', "The current and the previous request authorization don't match.");
    if (local) this.hub.subscribe(local, auth, topics.map(parseSubscription));
    if (!this.bus) return;
    await this.bus.setClientAuth(clientId, authKey(auth));
    if (!local) await this.bus.publish({ k: 'sub', client: clientId, auth: auth ? { c: auth.collection.id, id: String(auth.record['id']) } : null, subs: topics });
  }

  /** Waits for the events being decided (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    await this.settled();
    this.hub.closeAll();
    await this.settled();
    await this.bus?.close();
  }

  private published(w: RecordWrite): void {
    const id = String(w.record['id']);
    if (w.action === 'update' && w.rt.collection.type === 'auth') this.hub.authChanged(w.rt.collection.id, id, w.record);
    this.decide(w.rt, id, w.action);
    this.track(this.bus?.publish({ k: 'rec', c: w.rt.collection.id, id, a: w.action as 'create' | 'update' }));
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
    this.track(this.bus?.publish({ k: 'del', c: w.rt.collection.id, id, r: w.record }));
  }

  /** Who on this node gets the event of a stored record, decided off the request's path. */
  private decide(rt: CollectionRuntime, id: string, action: 'create' | 'update' | 'delete', deleted?: ApiRecord): void {
    this.background(rt, id, async () => {
      const targets = this.hub.recordTargets(rt.collection.name, rt.collection.id, id);
      if (targets.length === 0) return;
      const deliveries = await deliveriesFor({ runtime: this.options.runtime(), runner: this.options.runner }, rt, id, action, targets, deleted);
      this.hub.deliver(deliveries, action);
    });
  }

  /** A message of another node. */
  private remote(msg: BusMessage): void {
    if (msg.k === 'custom') return this.hub.sendCustom(msg.topic, msg.data);
    if (msg.k === 'sub') return this.track(this.remoteSubscribe(msg));
    const rt = this.options.runtime().byId.get(msg.c);
    if (!rt) return;
    if (msg.k === 'rec') {
      if (msg.a === 'update' && rt.collection.type === 'auth') this.track(this.reloadAuth(rt, msg.id));
      return this.decide(rt, msg.id, msg.a);
    }
    if (rt.collection.type === 'auth') this.hub.authChanged(rt.collection.id, msg.id, null);
    this.decide(rt, msg.id, 'delete', msg.r);
  }

  private async remoteSubscribe(msg: Extract<BusMessage, { k: 'sub' }>): Promise<void> {
    const client = this.hub.client(msg.client);
    if (!client) return;
    let auth: AuthIdentity | null = null;
    if (msg.auth) {
      const rt = this.options.runtime().byId.get(msg.auth.c);
      const record = rt ? await this.loadRecord(rt, msg.auth.id) : null;
      if (!rt || !record) return;
      auth = { collection: rt.collection, record };
    }
    this.hub.subscribe(client, auth, msg.subs.map(parseSubscription));
  }

  private async reloadAuth(rt: CollectionRuntime, id: string): Promise<void> {
    this.hub.authChanged(rt.collection.id, id, await this.loadRecord(rt, id));
  }

  private async loadRecord(rt: CollectionRuntime, id: string): Promise<ApiRecord | null> {
    const rows = await this.options.runner.all(`SELECT ${rt.selectList} FROM ${rt.table} r WHERE r."id" = ?`, [id]);
    return rows[0] ? rt.decode(rows[0]) : null;
  }

  /** Runs `work` after the previous event of the same record, off the request's path; failures are logged. */
  private background(rt: CollectionRuntime, id: string, work: () => Promise<void>): void {
    const key = `${rt.collection.id}/${id}`;
    const run = (this.chains.get(key) ?? Promise.resolve()).then(work);
    this.chains.set(key, run);
    this.track(run, { collection: rt.collection.name, id });
    void run.catch(() => {}).finally(() => {
      if (this.chains.get(key) === run) this.chains.delete(key);
    });
  }

  /** Keeps `settled()` aware of background work and logs its failure. */
  private track(work: Promise<unknown> | undefined, context: Record<string, unknown> = {}): void {
    if (!work) return;
    const done = work.then(
      () => undefined,
      (err: unknown) => this.options.log.error({ err, ...context }, 'realtime: background work failed'),
    );
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }
}

export { Hub } from './hub.js';
export type { SseClient } from './sse.js';

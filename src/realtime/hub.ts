import type { ServerResponse } from 'node:http';
import type { Logger } from '../log/index.js';
import type { RealtimeAction, RealtimeMetrics } from '../metrics/index.js';
import type { ApiRecord, AuthIdentity } from '../records/types.js';
import type { Delivery, Target } from './access.js';
import { eventJson, SseClient, type CloseReason, type SseLimits } from './sse.js';
import { recordTopics, type Subscription } from './topics.js';

export interface HubOptions extends SseLimits {
  /** Streams open at once on this node before a new one gets a 503. */
  maxClients: number;
  log: Logger;
  metrics?: RealtimeMetrics;
  /** A stream closed (the bus forgets which node held it). */
  onClose?(client: SseClient): void;
}

const NO_METRICS: RealtimeMetrics = { connectionOpened() {}, connectionClosed() {}, subscriptionsChanged() {}, eventSent() {} };

/**
 * This node's realtime clients and who subscribes to what. Subscriptions are indexed by topic
 * (without options), so an event looks up its six possible topics instead of scanning clients.
 */
export class Hub {
  private readonly clients = new Map<string, SseClient>();
  private readonly byTopic = new Map<string, Map<SseClient, Set<Subscription>>>();
  private readonly metrics: RealtimeMetrics;

  constructor(private readonly options: HubOptions) {
    this.metrics = options.metrics ?? NO_METRICS;
  }

  get size(): number {
    return this.clients.size;
  }

  get full(): boolean {
    return this.clients.size >= this.options.maxClients;
  }

  /** Registers a new stream (the caller has written the headers); PB_CONNECT is the caller's to send. */
  connect(res: ServerResponse, ip: string): SseClient {
    const client = new SseClient(res, ip, this.options, (c, reason) => this.closed(c, reason));
    this.clients.set(client.id, client);
    this.metrics.connectionOpened();
    return client;
  }

  client(id: string): SseClient | undefined {
    return this.clients.get(id);
  }

  /** Replaces the client's subscription set (POST /api/realtime). */
  subscribe(client: SseClient, auth: AuthIdentity | null, subscriptions: Subscription[]): void {
    client.auth = auth;
    const before = client.subscriptions.size;
    this.unindex(client);
    client.subscriptions = new Map(subscriptions.map((s) => [s.raw, s]));
    for (const sub of client.subscriptions.values()) {
      let subscribers = this.byTopic.get(sub.base);
      if (!subscribers) this.byTopic.set(sub.base, (subscribers = new Map()));
      let subs = subscribers.get(client);
      if (!subs) subscribers.set(client, (subs = new Set()));
      subs.add(sub);
    }
    this.metrics.subscriptionsChanged(client.subscriptions.size - before);
  }

  /** Every subscription an event about record `id` of this collection may go to. */
  recordTargets(name: string, collectionId: string, id: string): Target[] {
    const targets: Target[] = [];
    for (const { base, kind } of recordTopics(name, collectionId, id)) {
      const subscribers = this.byTopic.get(base);
      if (!subscribers) continue;
      for (const [client, subs] of subscribers) for (const sub of subs) targets.push({ client, sub, kind });
    }
    return targets;
  }

  deliver(deliveries: Delivery[], action: RealtimeAction): void {
    for (const d of deliveries) if (d.client.send(d.event, d.data)) this.metrics.eventSent(action);
  }

  /** A custom topic (`e.app.realtime.send`): the same data to every subscriber of the exact topic. */
  sendCustom(topic: string, data: unknown): void {
    const subscribers = this.byTopic.get(topic);
    if (!subscribers) return;
    const json = eventJson(data);
    for (const [client, subs] of subscribers) for (const sub of subs) if (client.send(sub.raw, json)) this.metrics.eventSent('custom');
  }

  /**
   * An auth record changed or went: the clients signed in as it keep the new values for their
   * rule checks; they become guests when it was deleted or its tokenKey changed (its tokens died).
   */
  authChanged(collectionId: string, id: string, record: ApiRecord | null): void {
    for (const client of this.clients.values()) {
      const auth = client.auth;
      if (!auth || auth.collection.id !== collectionId || String(auth.record['id']) !== id) continue;
      if (record === null || ('tokenKey' in record && record['tokenKey'] !== auth.record['tokenKey'])) client.auth = null;
      else client.auth = { ...auth, record: { ...auth.record, ...record } };
    }
  }

  /** Ends every stream (shutdown). */
  closeAll(): void {
    for (const client of [...this.clients.values()]) client.close('shutdown');
  }

  private closed(client: SseClient, reason: CloseReason): void {
    if (this.clients.get(client.id) !== client) return;
    this.clients.delete(client.id);
    this.metrics.subscriptionsChanged(-client.subscriptions.size);
    this.unindex(client);
    this.metrics.connectionClosed();
    this.options.onClose?.(client);
    if (reason === 'buffer') this.options.log.warn({ clientId: client.id, ip: client.ip }, `realtime: dropped client ${client.id}: its unsent output passed ${this.options.maxBufferBytes} bytes (slow or stalled reader)`);
    else this.options.log.debug({ clientId: client.id, reason }, 'realtime: stream closed');
  }

  private unindex(client: SseClient): void {
    for (const sub of client.subscriptions.values()) {
      const subscribers = this.byTopic.get(sub.base);
      subscribers?.delete(client);
      if (subscribers?.size === 0) this.byTopic.delete(sub.base);
    }
  }
}

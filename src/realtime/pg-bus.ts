import { createHash, randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import type { SqlRunner } from '../db/index.js';
import type { Logger } from '../log/index.js';

/** What nodes tell each other. Records travel as references (each node loads what its subscribers need). */
export type BusMessage =
  | { k: 'rec'; c: string; id: string; a: 'create' | 'update' }
  /** A delete: the record as it was (the row is gone), for the other nodes' rule checks. */
  | { k: 'del'; c: string; id: string; r: Record<string, unknown> }
  | { k: 'custom'; topic: string; data: unknown }
  /** A POST /api/realtime that reached another node than the client's stream. */
  | { k: 'sub'; client: string; auth: { c: string; id: string } | null; subs: string[] };

export interface RemoteClient {
  node: string;
  ip: string;
  /** `collectionId/recordId` of its auth, '' for a guest. */
  auth: string;
}

const CLIENTS = '_galley_realtime_clients';
const PAYLOADS = '_galley_realtime_payloads';
/** NOTIFY takes 8000 bytes; bigger messages go through the payloads table and travel as a reference. */
const MAX_INLINE = 7000;
/** Payload rows are read within moments; older ones are swept. */
const PAYLOAD_TTL_MS = 10 * 60_000;
const RECONNECT_MS = [100, 250, 500, 1000, 2000, 5000];

/**
 * Realtime across nodes on one PostgreSQL (no other service): every node LISTENs on a channel of
 * its schema through a dedicated connection (reconnected with back-off when it drops: a
 * PostgreSQL restart, pg_terminate_backend), and publishes with pg_notify through the pool.
 * Which node holds which client (and its IP and auth) is in `_galley_realtime_clients`, so a
 * `POST /api/realtime` answered by any node is checked and forwarded to the stream's node.
 */
export class PgBus {
  readonly node = randomBytes(8).toString('hex');
  private listener: Client | null = null;
  private closed = false;
  private attempts = 0;
  private lastSweep = 0;
  /** Resolves each time the listener is (re)connected: tests and start-up wait for it. */
  connected: Promise<void>;
  private markConnected!: () => void;

  private constructor(
    private readonly url: string,
    private readonly runner: SqlRunner,
    private readonly channel: string,
    private readonly log: Logger,
    private readonly onMessage: (msg: BusMessage) => void,
  ) {
    this.connected = new Promise((r) => (this.markConnected = r));
  }

  /** `listen: false` (one-shot commands such as the CLI): publish only, no LISTEN connection. */
  static async start(url: string, runner: SqlRunner, log: Logger, onMessage: (msg: BusMessage) => void, listen = true): Promise<PgBus> {
    const schema = String((await runner.all('SELECT current_schema() AS "s"', []))[0]?.['s'] ?? 'public');
    const channel = `galley_rt_${createHash('sha1').update(schema).digest('hex').slice(0, 16)}`;
    await runner.transaction(async (tx) => {
      // CREATE TABLE IF NOT EXISTS races with itself across nodes starting together: serialize it.
      await tx.all("SELECT pg_advisory_xact_lock(hashtext('galley_realtime_tables')) AS \"l\"", []);
      await tx.run(`CREATE TABLE IF NOT EXISTS "${CLIENTS}" ("id" TEXT PRIMARY KEY NOT NULL, "node" TEXT NOT NULL, "ip" TEXT NOT NULL, "auth" TEXT NOT NULL DEFAULT '', "created_at" BIGINT NOT NULL)`, []);
      await tx.run(`CREATE TABLE IF NOT EXISTS "${PAYLOADS}" ("id" TEXT PRIMARY KEY NOT NULL, "body" TEXT NOT NULL, "created_at" BIGINT NOT NULL)`, []);
    });
    // Streams of a node that died without cleaning up are past their maximum age (30 minutes) by now.
    await runner.run(`DELETE FROM "${CLIENTS}" WHERE "created_at" < ?`, [Date.now() - 31 * 60_000]);
    const bus = new PgBus(url, runner, channel, log, onMessage);
    if (listen) await bus.connect();
    return bus;
  }

  async publish(msg: BusMessage): Promise<void> {
    const body = JSON.stringify({ n: this.node, ...msg });
    let payload = body;
    if (Buffer.byteLength(body) > MAX_INLINE) {
      const id = randomBytes(12).toString('hex');
      await this.runner.run(`INSERT INTO "${PAYLOADS}" ("id", "body", "created_at") VALUES (?, ?, ?)`, [id, body, Date.now()]);
      payload = JSON.stringify({ n: this.node, ref: id });
      await this.sweep();
    }
    await this.runner.all('SELECT pg_notify(?, ?) AS "n"', [this.channel, payload]);
  }

  async registerClient(id: string, ip: string): Promise<void> {
    await this.runner.run(`INSERT INTO "${CLIENTS}" ("id", "node", "ip", "created_at") VALUES (?, ?, ?, ?)`, [id, this.node, ip, Date.now()]);
  }

  async forgetClient(id: string): Promise<void> {
    await this.runner.run(`DELETE FROM "${CLIENTS}" WHERE "id" = ?`, [id]);
  }

  async setClientAuth(id: string, auth: string): Promise<void> {
    await this.runner.run(`UPDATE "${CLIENTS}" SET "auth" = ? WHERE "id" = ?`, [auth, id]);
  }

  async findClient(id: string): Promise<RemoteClient | null> {
    const rows = await this.runner.all(`SELECT "node", "ip", "auth" FROM "${CLIENTS}" WHERE "id" = ?`, [id]);
    const row = rows[0];
    return row ? { node: String(row['node']), ip: String(row['ip']), auth: String(row['auth']) } : null;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.runner.run(`DELETE FROM "${CLIENTS}" WHERE "node" = ?`, [this.node]).catch(() => 0);
    await this.listener?.end().catch(() => {});
  }

  /** The listening connection's backend pid (tests terminate it to check the reconnect). */
  async listenerPid(): Promise<number | null> {
    const res = await this.listener?.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').catch(() => null);
    return res?.rows[0]?.pid ?? null;
  }

  private async connect(): Promise<void> {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: this.url });
    client.on('error', (err) => this.log.warn({ err }, 'realtime: the LISTEN connection failed'));
    client.on('end', () => this.dropped(client));
    client.on('notification', (n) => {
      if (n.channel === this.channel && n.payload) void this.received(n.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (err) {
      this.log.warn({ err }, 'realtime: cannot LISTEN yet; retrying');
      await client.end().catch(() => {});
      this.dropped(client);
      return;
    }
    this.listener = client;
    if (this.attempts > 0) this.log.info('realtime: LISTEN connection restored');
    this.attempts = 0;
    const mark = this.markConnected;
    mark();
  }

  private dropped(client: Client): void {
    if (this.closed || (this.listener !== null && this.listener !== client)) return;
    if (this.listener === client) {
      this.listener = null;
      this.connected = new Promise((r) => (this.markConnected = r));
      this.log.warn('realtime: LISTEN connection lost; events of other nodes wait for the reconnect');
    }
    const delay = RECONNECT_MS[Math.min(this.attempts++, RECONNECT_MS.length - 1)]!;
    setTimeout(() => void this.connect(), delay).unref();
  }

  private async received(payload: string): Promise<void> {
    try {
      let msg = JSON.parse(payload) as Record<string, unknown>;
      if (msg['n'] === this.node) return;
      if (typeof msg['ref'] === 'string') {
        const rows = await this.runner.all(`SELECT "body" FROM "${PAYLOADS}" WHERE "id" = ?`, [msg['ref']]);
        if (rows.length === 0) return;
        msg = JSON.parse(String(rows[0]!['body'])) as Record<string, unknown>;
      }
      this.onMessage(msg as unknown as BusMessage);
    } catch (err) {
      this.log.error({ err }, 'realtime: a message of another node could not be read');
    }
  }

  private async sweep(): Promise<void> {
    if (Date.now() - this.lastSweep < 60_000) return;
    this.lastSweep = Date.now();
    await this.runner.run(`DELETE FROM "${PAYLOADS}" WHERE "created_at" < ?`, [Date.now() - PAYLOAD_TTL_MS]);
  }
}

import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { SECRETS_TABLE, type SqlRunner } from '../db/index.js';
import type { CollectionRuntime, RecordsRuntime } from '../records/runtime.js';
import type { ApiRecord, AuthIdentity } from '../records/types.js';

/** PocketBase's default auth token lifetimes (seconds). */
const DEFAULT_AUTH_DURATION = 432_000;
const SUPERUSER_AUTH_DURATION = 86_400;

/**
 * Auth tokens (§7.2): HS256 JWTs signed with the record's `tokenKey` plus a
 * per-collection secret kept in `_galley_secrets` (generated on first use, never
 * in collection files). Changing either invalidates the record's tokens.
 */
export class Tokens {
  private readonly secrets = new Map<string, Promise<string>>();

  constructor(
    private readonly runner: SqlRunner,
    private readonly runtime: () => RecordsRuntime,
  ) {}

  async sign(collection: CollectionRuntime, record: ApiRecord, durationSeconds?: number): Promise<string> {
    const c = collection.collection;
    const duration = durationSeconds ?? (c.name === '_superusers' ? SUPERUSER_AUTH_DURATION : ((c['authToken'] as { duration?: number } | undefined)?.duration ?? DEFAULT_AUTH_DURATION));
    const key = String(record['tokenKey'] ?? '') + (await this.secret(c.id));
    const exp = Math.floor(Date.now() / 1000) + duration;
    return jwt.sign({ collectionId: c.id, exp, id: record['id'], refreshable: true, type: 'auth' }, key, { algorithm: 'HS256', noTimestamp: true });
  }

  /** The requester behind an Authorization header (raw token or `Bearer <token>`); null = guest (bad tokens are ignored). */
  async resolve(header: string | undefined): Promise<AuthIdentity | null> {
    if (!header) return null;
    const token = header.replace(/^Bearer\s+/i, '').trim();
    const claims = jwt.decode(token, { json: true });
    if (!claims || claims['type'] !== 'auth' || typeof claims['id'] !== 'string' || typeof claims['collectionId'] !== 'string') return null;
    const rt = this.runtime().byId.get(claims['collectionId']);
    if (!rt || rt.collection.type !== 'auth') return null;
    const rows = await this.runner.all(`SELECT ${rt.selectList} FROM ${rt.table} r WHERE r."id" = ?`, [claims['id']]);
    if (rows.length === 0) return null;
    const record = rt.decode(rows[0]!);
    const key = String(record['tokenKey'] ?? '') + (await this.secret(rt.collection.id));
    try {
      jwt.verify(token, key, { algorithms: ['HS256'] });
    } catch {
      return null;
    }
    return { collection: rt.collection, record };
  }

  private secret(collectionId: string): Promise<string> {
    let secret = this.secrets.get(collectionId);
    if (!secret) {
      secret = this.loadSecret(collectionId);
      this.secrets.set(collectionId, secret);
      secret.catch(() => this.secrets.delete(collectionId));
    }
    return secret;
  }

  private async loadSecret(collectionId: string): Promise<string> {
    const candidate = randomBytes(32).toString('base64url');
    const insert = this.runner.dialect === 'postgres' ? 'INSERT INTO' : 'INSERT OR IGNORE INTO';
    const conflict = this.runner.dialect === 'postgres' ? ' ON CONFLICT ("collection_id") DO NOTHING' : '';
    await this.runner.run(`${insert} "${SECRETS_TABLE}" ("collection_id", "secret") VALUES (?, ?)${conflict}`, [collectionId, candidate]);
    const rows = await this.runner.all(`SELECT "secret" FROM "${SECRETS_TABLE}" WHERE "collection_id" = ?`, [collectionId]);
    return String(rows[0]!['secret']);
  }
}

import { createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { SECRETS_TABLE, type SqlRunner } from '../db/index.js';
import type { CollectionRuntime, RecordsRuntime } from '../records/runtime.js';
import type { ApiRecord, AuthIdentity } from '../records/types.js';

/** Token types (§7.2): each is signed with the record's tokenKey plus its own collection secret. */
export type TokenKind = 'auth' | 'verification' | 'passwordReset' | 'emailChange' | 'file';

/** PocketBase's default lifetimes (seconds) per token type, and the superusers' auth lifetime. */
const DEFAULT_DURATIONS: Record<TokenKind, number> = { auth: 432_000, verification: 86_400, passwordReset: 1800, emailChange: 1800, file: 180 };
const SUPERUSER_AUTH_DURATION = 86_400;
const OPTION_KEYS: Record<TokenKind, string> = {
  auth: 'authToken',
  verification: 'verificationToken',
  passwordReset: 'passwordResetToken',
  emailChange: 'emailChangeToken',
  file: 'fileToken',
};
const INSTALL_KIND = 'install';
const INSTALL_SUBJECT = '__galley_install__';
/** How long the first-start install link stays valid. */
export const INSTALL_TOKEN_SECONDS = 3600;

export type Claims = Record<string, unknown> & { id: string; collectionId: string; type: string; exp: number };

export interface SignOptions {
  /** Seconds; default: the collection's duration for the kind. */
  duration?: number;
  /** Auth tokens only: impersonation tokens are not refreshable. */
  refreshable?: boolean;
  /** Extra claims (`email`, `newEmail`), kept plain ASCII-safe strings. */
  extra?: Record<string, string>;
}

/**
 * HS256 JWTs with PocketBase's claims. The signing key is the record's `tokenKey` + a
 * per-collection, per-kind secret kept in `_galley_secrets` (generated on first use, shared
 * by every node, never in collection files). A new password or email rotates tokenKey and so
 * kills the record's tokens; changing a collection's authRule regenerates its auth secret.
 */
export class Tokens {
  /** Per (collection, kind): the secret for one fingerprint (the authRule it is bound to). */
  private readonly secrets = new Map<string, { fingerprint: string; secret: Promise<string> }>();

  constructor(
    private readonly runner: SqlRunner,
    private readonly runtime: () => RecordsRuntime,
  ) {}

  durationOf(rt: CollectionRuntime, kind: TokenKind): number {
    const configured = (rt.collection[OPTION_KEYS[kind]] as { duration?: number } | undefined)?.duration;
    if (configured) return configured;
    return kind === 'auth' && rt.collection.name === '_superusers' ? SUPERUSER_AUTH_DURATION : DEFAULT_DURATIONS[kind];
  }

  async sign(rt: CollectionRuntime, record: ApiRecord, kind: TokenKind = 'auth', options: SignOptions = {}): Promise<string> {
    const exp = Math.floor(Date.now() / 1000) + (options.duration || this.durationOf(rt, kind));
    const claims: Record<string, unknown> = { collectionId: rt.collection.id, ...options.extra, exp, id: record['id'], type: kind };
    if (kind === 'auth') claims['refreshable'] = options.refreshable ?? true;
    return jwt.sign(sortKeys(claims), await this.keyFor(rt, record, kind), { algorithm: 'HS256', noTimestamp: true });
  }

  /** The requester behind an Authorization header (raw token or `Bearer <token>`); null = guest (bad tokens are ignored). */
  async resolve(header: string | undefined): Promise<AuthIdentity | null> {
    if (!header) return null;
    const token = header.replace(/^Bearer\s+/i, '').trim();
    const verified = await this.verifyAny(token, 'auth');
    return verified ? { collection: verified.rt.collection, record: verified.record, token, refreshable: verified.claims['refreshable'] === true } : null;
  }

  /**
   * Checks a token of `kind` against the auth collection its claims name (as PocketBase's
   * FindAuthRecordByToken does): the caller then decides whether that collection is the one it serves.
   */
  async verifyAny(token: string, kind: TokenKind): Promise<{ rt: CollectionRuntime; record: ApiRecord; claims: Claims } | null> {
    const claims = unverifiedClaims(token);
    if (!claims || claims.type !== kind) return null;
    const rt = this.runtime().byId.get(claims.collectionId);
    if (!rt || rt.collection.type !== 'auth') return null;
    const verified = await this.verify(rt, token, kind);
    return verified ? { rt, ...verified } : null;
  }

  /**
   * Checks a token of `kind` for a record of `rt`: signature (tokenKey + secret), expiry, type
   * and collection. Returns the stored record (hidden fields included) and the claims, or null.
   */
  async verify(rt: CollectionRuntime, token: string, kind: TokenKind): Promise<{ record: ApiRecord; claims: Claims } | null> {
    const claims = unverifiedClaims(token);
    if (!claims || claims.type !== kind || claims.collectionId !== rt.collection.id) return null;
    const rows = await this.runner.all(`SELECT ${rt.selectList} FROM ${rt.table} r WHERE r."id" = ?`, [claims.id]);
    if (rows.length === 0) return null;
    const record = rt.decode(rows[0]!);
    if (this.checks(token, await this.keyFor(rt, record, kind))) return { record, claims };
    // Another node may have replaced the secret (an authRule change rolled out): read it again. A forged
    // token costs one more indexed read than a valid one, never more, so this needs no throttle.
    return (await this.reread(rt.collection.id, kind)) && this.checks(token, await this.keyFor(rt, record, kind)) ? { record, claims } : null;
  }

  private checks(token: string, key: KeyObject): boolean {
    try {
      jwt.verify(token, key, { algorithms: ['HS256'] });
      return true;
    } catch {
      return false;
    }
  }

  /** A link token for creating the first superuser (valid while there is none; see app.ts). */
  async signInstall(superusers: CollectionRuntime): Promise<string> {
    const exp = Math.floor(Date.now() / 1000) + INSTALL_TOKEN_SECONDS;
    const secret = await this.secret(superusers.collection.id, INSTALL_KIND, '');
    return jwt.sign({ collectionId: superusers.collection.id, exp, id: INSTALL_SUBJECT, type: INSTALL_KIND }, hmacKey(secret), { algorithm: 'HS256', noTimestamp: true });
  }

  async verifyInstall(superusers: CollectionRuntime, header: string | undefined): Promise<boolean> {
    const token = (header ?? '').replace(/^Bearer\s+/i, '').trim();
    const claims = unverifiedClaims(token);
    if (!claims || claims.type !== INSTALL_KIND || claims.id !== INSTALL_SUBJECT) return false;
    try {
      jwt.verify(token, hmacKey(await this.secret(superusers.collection.id, INSTALL_KIND, '')), { algorithms: ['HS256'] });
      return true;
    } catch {
      return false;
    }
  }

  private async keyFor(rt: CollectionRuntime, record: ApiRecord, kind: TokenKind): Promise<KeyObject> {
    // The auth secret is bound to the authRule: editing the rule logs everyone out (§5).
    const fingerprint = kind === 'auth' ? fingerprintOf(rt.collection.authRule) : '';
    return hmacKey(String(record['tokenKey'] ?? '') + (await this.secret(rt.collection.id, kind, fingerprint)));
  }

  private secret(collectionId: string, kind: string, fingerprint: string): Promise<string> {
    const cacheKey = `${collectionId}\u0000${kind}`;
    const cached = this.secrets.get(cacheKey);
    if (cached && cached.fingerprint === fingerprint) return cached.secret;
    // First use, or the authRule changed since: load (and rotate if the stored one is for another rule).
    const secret = this.loadSecret(collectionId, kind, fingerprint);
    this.secrets.set(cacheKey, { fingerprint, secret });
    secret.catch(() => this.secrets.delete(cacheKey));
    return secret;
  }

  /**
   * Re-reads a cached secret without ever rotating it: true when the stored secret (for the same
   * fingerprint) differs from the cached one.
   */
  private async reread(collectionId: string, kind: string): Promise<boolean> {
    const cacheKey = `${collectionId}\u0000${kind}`;
    const cached = this.secrets.get(cacheKey);
    if (!cached) return false;
    const rows = await this.runner.all(`SELECT "secret", "fingerprint" FROM "${SECRETS_TABLE}" WHERE "collection_id" = ? AND "kind" = ?`, [collectionId, kind]);
    const row = rows[0];
    if (!row || row['fingerprint'] !== cached.fingerprint || String(row['secret']) === (await cached.secret)) return false;
    this.secrets.set(cacheKey, { ...cached, secret: Promise.resolve(String(row['secret'])) });
    return true;
  }

  /** Reads (or creates, race-free across nodes) the secret; replaces it when its fingerprint changed. */
  private async loadSecret(collectionId: string, kind: string, fingerprint: string): Promise<string> {
    const pg = this.runner.dialect === 'postgres';
    const insert = pg ? 'INSERT INTO' : 'INSERT OR IGNORE INTO';
    const conflict = pg ? ' ON CONFLICT ("collection_id", "kind") DO NOTHING' : '';
    await this.runner.run(
      `${insert} "${SECRETS_TABLE}" ("collection_id", "kind", "secret", "fingerprint") VALUES (?, ?, ?, ?)${conflict}`,
      [collectionId, kind, newSecret(), fingerprint],
    );
    const read = () => this.runner.all(`SELECT "secret", "fingerprint" FROM "${SECRETS_TABLE}" WHERE "collection_id" = ? AND "kind" = ?`, [collectionId, kind]);
    let row = (await read())[0]!;
    if (row['fingerprint'] !== fingerprint) {
      await this.runner.run(
        `UPDATE "${SECRETS_TABLE}" SET "secret" = ?, "fingerprint" = ? WHERE "collection_id" = ? AND "kind" = ? AND "fingerprint" = ?`,
        [newSecret(), fingerprint, collectionId, kind, row['fingerprint']],
      );
      row = (await read())[0]!;
    }
    return String(row['secret']);
  }
}

/** The claims of a well-formed token, before its signature is checked (to find the key). */
export function unverifiedClaims(token: string): Claims | null {
  const claims = decodedPayload(token);
  const { id, collectionId, type, exp } = claims;
  if (typeof id !== 'string' || id === '' || typeof collectionId !== 'string' || collectionId === '' || typeof type !== 'string' || type === '') return null;
  if (typeof exp !== 'number') return null;
  return claims as Claims;
}

/** The payload of a token as it reads, nothing checked: `{}` when it is not a JWT with a JSON object payload. */
export function decodedPayload(token: string): Record<string, unknown> {
  let claims: unknown;
  try {
    claims = jwt.decode(token, { json: true });
  } catch {
    return {}; // a JSON header with a payload that is not JSON
  }
  return claims && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : {};
}

/** A KeyObject: given a string, jsonwebtoken first tries createPublicKey/createPrivateKey on it, which throws (~1 ms). */
function hmacKey(key: string): KeyObject {
  return createSecretKey(Buffer.from(key, 'utf8'));
}

function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

function fingerprintOf(rule: string | null | undefined): string {
  return createHash('sha256').update(rule === null || rule === undefined ? '\u0000null' : rule).digest('base64url');
}

/** PocketBase serializes claims with sorted keys. */
function sortKeys(claims: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(claims).sort().map((k) => [k, claims[k]]));
}

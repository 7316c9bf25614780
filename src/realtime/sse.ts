import { randomInt } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { AuthIdentity } from '../records/types.js';
import type { Subscription } from './topics.js';

export interface SseLimits {
  /** Closed after this long without a message (PocketBase: 5 minutes). */
  idleMs: number;
  /** Closed after this long whatever happens (PocketBase v0.38.2+: 30 minutes). */
  maxAgeMs: number;
  /** A client whose unsent output passes this many bytes is dropped (slow or dead reader). */
  maxBufferBytes: number;
}

export type CloseReason = 'idle' | 'max-age' | 'buffer' | 'gone' | 'shutdown' | 'auth-deleted';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** PocketBase's client id: 40 random characters of [A-Za-z0-9]. */
export function newClientId(): string {
  let id = '';
  for (let i = 0; i < 40; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

/**
 * One open `GET /api/realtime` stream. Messages are written as PocketBase writes them (no space
 * after the colons, `id:` on every message, no heartbeats). The idle timer restarts on every
 * message; the stream also ends at its maximum age, and when its unsent output grows past the
 * limit (the socket is not draining), so a stalled reader costs bounded memory.
 */
export class SseClient {
  readonly id = newClientId();
  /** Set by the last POST /api/realtime; null for a guest. */
  auth: AuthIdentity | null = null;
  /** Subscriptions by their exact topic string. */
  subscriptions = new Map<string, Subscription>();
  private closed = false;
  private readonly idle: NodeJS.Timeout;
  private readonly age: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    /** The address of the stream's client: a POST for this client must come from it. */
    readonly ip: string,
    private readonly limits: SseLimits,
    private readonly onClose: (client: SseClient, reason: CloseReason) => void,
  ) {
    this.idle = setTimeout(() => this.close('idle'), limits.idleMs).unref();
    this.age = setTimeout(() => this.close('max-age'), limits.maxAgeMs).unref();
    res.on('close', () => this.close('gone'));
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Writes one message; false when the client is closed or was just dropped for its backlog. */
  send(event: string, data: string): boolean {
    if (this.closed) return false;
    this.res.write(`id:${this.id}\nevent:${event}\ndata:${data}\n\n`);
    if (this.res.writableLength > this.limits.maxBufferBytes) {
      this.close('buffer');
      return false;
    }
    this.idle.refresh();
    return true;
  }

  /** Ends the stream (once); the hub forgets the client. */
  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idle);
    clearTimeout(this.age);
    // A dropped backlog is never flushed: destroy instead of waiting for the socket to drain.
    if (reason === 'buffer') this.res.destroy();
    else this.res.end();
    this.onClose(this, reason);
  }
}

/** JSON as Go writes it (`<`, `>`, `&` escaped), on one line, as PocketBase sends event data. */
export function eventJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

import { request, type IncomingMessage } from 'node:http';
import { eventually } from './wait.js';

export interface SseMessage {
  id: string;
  event: string;
  data: string;
  /** The message's lines as received (to check the framing). */
  raw: string;
}

/**
 * A raw `GET /api/realtime` client: keeps every message it receives, parsed as the SSE spec
 * says, plus the response's status and headers, so tests can check the wire format itself.
 */
export class SseStream {
  readonly messages: SseMessage[] = [];
  ended = false;
  private buffer = '';

  private constructor(readonly res: IncomingMessage) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.feed(chunk));
    res.on('end', () => (this.ended = true));
    res.on('close', () => (this.ended = true));
    res.on('error', () => (this.ended = true));
  }

  static open(baseUrl: string, headers: Record<string, string> = {}): Promise<SseStream> {
    return new Promise((resolve, reject) => {
      const req = request(`${baseUrl}/api/realtime`, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => resolve(new SseStream(res)));
      req.on('error', reject);
      req.end();
    });
  }

  /** Opens a stream and waits for PB_CONNECT; resolves to the stream and its client id. */
  static async connect(baseUrl: string, headers: Record<string, string> = {}): Promise<SseStream & { clientId: string }> {
    const stream = await SseStream.open(baseUrl, headers);
    const connect = await stream.next((m) => m.event === 'PB_CONNECT');
    return Object.assign(stream, { clientId: connect.id });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  /** Messages of the given event name. */
  events(event: string): SseMessage[] {
    return this.messages.filter((m) => m.event === event);
  }

  /** The first message (from the start) matching, waiting for it. */
  async next(match: (m: SseMessage) => boolean, timeoutMs = 20_000): Promise<SseMessage> {
    await eventually(() => this.messages.some(match) || this.ended, timeoutMs);
    const found = this.messages.find(match);
    if (!found) throw new Error('stream ended before the message arrived');
    return found;
  }

  close(): void {
    this.res.destroy();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const raw = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const msg: SseMessage = { id: '', event: 'message', data: '', raw };
      for (const line of raw.split('\n')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') msg.id = value;
        else if (field === 'event') msg.event = value;
        else if (field === 'data') msg.data = msg.data ? `${msg.data}\n${value}` : value;
      }
      this.messages.push(msg);
    }
  }
}

/** `POST /api/realtime` with a JSON body (a string is sent as is); the parsed answer. */
export async function postSubscriptions(baseUrl: string, body: unknown, token?: string | null): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const res = await fetch(`${baseUrl}/api/realtime`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: token } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

/** `?options=` of a topic, as the SDK writes it. */
export function withOptions(topic: string, options: { query?: Record<string, string>; headers?: Record<string, string> }): string {
  return `${topic}?options=${encodeURIComponent(JSON.stringify(options))}`;
}

/**
 * Subscription topics (pocketbase-api.md §8.2): `COLLECTION/*`, `COLLECTION/ID`, `COLLECTION`
 * (the same as `/*`) or any custom string, each optionally followed by
 * `?options=<url-encoded JSON {"query":{…},"headers":{…}}>`. The exact string is the event name
 * the client receives; the part before `?` is what events are matched on.
 */
export interface Subscription {
  /** The topic as the client sent it: the event name of its messages. */
  readonly raw: string;
  /** The topic without its options: `posts/*`, `posts/ID`, `posts`, `stats`. */
  readonly base: string;
  /** `@request.query.*` of the rule check (values stringified); also `expand`, `fields`, `filter`. */
  readonly query: Readonly<Record<string, string>>;
  /** `@request.headers.*` of the rule check, keys snake-cased as PocketBase does. */
  readonly headers: Readonly<Record<string, string>>;
  /** Identifies the (query, headers) pair: subscribers with the same auth and key share one rule check. */
  readonly optionsKey: string;
}

export const MAX_TOPICS = 1000;
export const MAX_TOPIC_LENGTH = 2500;

export function parseSubscription(raw: string): Subscription {
  const q = raw.indexOf('?');
  const base = q < 0 ? raw : raw.slice(0, q);
  const options = q < 0 ? null : readOptions(raw.slice(q + 1));
  const query = stringValues(options?.['query'], (k) => k);
  const headers = stringValues(options?.['headers'], snakeCase);
  const optionsKey = Object.keys(query).length + Object.keys(headers).length === 0 ? '' : JSON.stringify([query, headers]);
  return { raw, base, query, headers, optionsKey };
}

/** The topics an event of `collection` (name and id) about record `id` is delivered on, with the rule each one needs. */
export function recordTopics(name: string, collectionId: string, id: string): { base: string; kind: 'list' | 'view' }[] {
  const topics: { base: string; kind: 'list' | 'view' }[] = [];
  for (const c of name === collectionId ? [name] : [name, collectionId]) {
    topics.push({ base: `${c}/${id}`, kind: 'view' }, { base: `${c}/*`, kind: 'list' }, { base: c, kind: 'list' });
  }
  return topics;
}

/** A malformed `options` is ignored (the subscription stands, without options), as PocketBase does. */
function readOptions(search: string): Record<string, unknown> | null {
  const text = new URLSearchParams(search).get('options');
  if (!text) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function stringValues(value: unknown, key: (k: string) => string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) return out;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === null || v === undefined) continue;
    out[key(k)] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v as number | boolean);
  }
  return out;
}

/** `X-Token` → `x_token`, `myHeader` → `my_header` (PocketBase's inflector.Snakecase). */
export function snakeCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

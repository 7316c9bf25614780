import type { Request } from 'express';
import { AppError } from '../errors/index.js';
import { formatFloat } from '../records/input.js';
import type { Collection } from '../schema/index.js';
import type { UploadSpool } from '../files/spool.js';
import type { RequestBody } from '../records/types.js';
import { readMultipart } from './multipart.js';

/** PocketBase's default body limit (32 MiB); record routes may pass a larger one. */
export const DEFAULT_BODY_LIMIT = 32 << 20;

/** The `@jsonPayload` multipart part: a JSON object merged into the body (the SDK sends one per non-file object value). */
const JSON_PAYLOAD_KEY = '@jsonPayload';

const INVALID_FORMAT = 'Failed to load the submitted data due to invalid formatting.';
const UNSUPPORTED_TYPE = 'Unsupported Content-Type.';

/**
 * Reads and parses a request body the way PocketBase's `BindBody` does: JSON object, multipart form
 * (with `@jsonPayload` parts and files) or urlencoded form. No body at all (the SDK sends
 * `Content-Type: application/json` without one on GET/DELETE) is `{}`. Every parse problem is a
 * 400, an oversized body a 413; nothing here can become a 500.
 */
export function readRequestBody(req: Request, opts: { limitBytes?: number; spool?: UploadSpool } = {}): Promise<RequestBody> {
  // A stream can be read once: later calls (e.g. rule checks after the handler) get the first result.
  let parsed = parsedBodies.get(req);
  if (!parsed) {
    parsed = parseBody(req, opts.limitBytes ?? DEFAULT_BODY_LIMIT, opts.spool);
    parsedBodies.set(req, parsed);
  }
  return parsed;
}

const parsedBodies = new WeakMap<Request, Promise<RequestBody>>();

/**
 * The body limit of a record create/update: PocketBase raises the default by each field's own
 * maximum (files: maxSize × maxSelect, 5 MiB each by default; editor 5 MiB; json 1 MiB).
 */
export function recordBodyLimit(collection: Collection, base = DEFAULT_BODY_LIMIT): number {
  let limit = base;
  for (const field of collection.fields) {
    const maxSize = typeof field['maxSize'] === 'number' ? field['maxSize'] : 0;
    if (field.type === 'file') limit += (maxSize || 5 << 20) * Math.max(Number(field['maxSelect']) || 1, 1);
    else if (field.type === 'editor') limit += maxSize || 5 << 20;
    else if (field.type === 'json') limit += maxSize || 1 << 20;
  }
  return limit;
}

async function parseBody(req: Request, limit: number, spool: UploadSpool | undefined): Promise<RequestBody> {
  const empty: RequestBody = { data: {}, files: [] };
  if (!hasBody(req)) return empty;
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'multipart/form-data') {
    // Streamed: files go to temp files as they arrive, whatever their size.
    if (Number(req.headers['content-length'] ?? 0) > limit) return refuseOversized(req);
    const { values, files } = await readMultipart(req, limit, spool);
    try {
      return { data: formData(values), files };
    } catch (err) {
      await spool?.discard();
      throw err;
    }
  }
  const raw = await readRaw(req, limit);
  if (raw.length === 0) return empty;
  switch (mediaType) {
    case 'application/json':
      return { data: parseJsonObject(raw.toString('utf8')), files: [] };
    case 'application/x-www-form-urlencoded':
      return { data: parseUrlencoded(raw.toString('utf8')), files: [] };
    default:
      throw new AppError('bad_request', UNSUPPORTED_TYPE);
  }
}

/** Node's own test (as in type-is): a request has a body only when it declares a length or a transfer encoding. */
function hasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && Number(length) > 0;
}

function refuseOversized(req: Request): Promise<never> {
  req.resume(); // discard the upload so the 413 can be delivered on a healthy connection
  return Promise.reject(new AppError('request_too_large'));
}

/** Buffers the body, refusing (413) as soon as it is known to exceed the limit. */
function readRaw(req: Request, limit: number): Promise<Buffer> {
  // A programming error (e.g. a body-parser middleware ran first), not a client one: 'end' would never come.
  if (req.readableEnded) return Promise.reject(new Error('readRequestBody: the request body was already consumed'));
  if (Number(req.headers['content-length'] ?? 0) > limit) return refuseOversized(req);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const fail = (err: AppError) => {
      if (failed) return;
      failed = true;
      chunks.length = 0;
      reject(err);
    };
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) fail(new AppError('request_too_large'));
      else chunks.push(chunk);
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      if (!failed) resolve(Buffer.concat(chunks, size));
    });
    // An aborted upload: nobody will read the answer, but the promise must still settle.
    req.on('error', (err) => fail(new AppError('invalid_body', INVALID_FORMAT, {}, { cause: err })));
    req.on('close', () => {
      if (!ended) fail(new AppError('invalid_body', INVALID_FORMAT));
    });
  });
}

/** Deeper JSON than this is refused: later recursive steps (stringify, validation) would exhaust the stack. */
const MAX_JSON_DEPTH = 512;

/** The deepest array/object nesting of a JSON text, scanned without recursion (strings skipped). */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) max = Math.max(max, ++depth);
    else if (c === 93 || c === 125) depth--;
  }
  return max;
}

function checkDepth(text: string): void {
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw new AppError('invalid_body', `JSON nested deeper than ${MAX_JSON_DEPTH} levels.`);
}

function parseJsonObject(text: string): Record<string, unknown> {
  checkDepth(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new AppError('invalid_body', INVALID_FORMAT, {}, { cause: err });
  }
  if (!isPlainObject(parsed)) throw new AppError('invalid_body', INVALID_FORMAT);
  return parsed;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collected form values: key → raw strings in arrival order (repeated keys become arrays). */
type FormValues = Map<string, string[]>;

function addValue(values: FormValues, key: string, value: string): void {
  const list = values.get(key);
  if (list) list.push(value);
  else values.set(key, [value]);
}

function parseUrlencoded(text: string): Record<string, unknown> {
  const values: FormValues = new Map();
  for (const [key, value] of new URLSearchParams(text)) addValue(values, key, value);
  return formData(values);
}

/**
 * Turns form values into body data (PocketBase's `UnmarshalRequestData`): plain values are inferred,
 * then every `@jsonPayload` is merged in order (later top-level keys overwrite).
 */
function formData(values: FormValues): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [key, list] of values) {
    if (key === JSON_PAYLOAD_KEY) continue;
    data[key] = list.length === 1 ? inferFormValue(list[0]!) : list.map(inferFormValue);
  }
  for (const payload of values.get(JSON_PAYLOAD_KEY) ?? []) mergeJsonPayload(data, payload);
  return data;
}

function mergeJsonPayload(data: Record<string, unknown>, payload: string): void {
  checkDepth(payload);
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch (err) {
    throw new AppError('invalid_body', INVALID_FORMAT, {}, { cause: err });
  }
  // Go's json.Unmarshal of `null` into a map is a no-op; anything else that is not an object fails.
  if (parsed === null) return;
  if (!isPlainObject(parsed)) throw new AppError('invalid_body', INVALID_FORMAT);
  Object.assign(data, parsed);
}

const NUMBER_CHARS = /^[-.\d]+$/;

/**
 * PocketBase's `inferValue` for plain form values: "true"/"false" → bool; a numeric string whose
 * shortest float formatting is the raw string itself ("12", "-1.5"; not "007", "1.0", "1e3") →
 * number; anything else stays a string.
 */
export function inferFormValue(raw: string): unknown {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === '' || !(raw[0] === '-' || (raw[0]! >= '0' && raw[0]! <= '9')) || !NUMBER_CHARS.test(raw)) return raw;
  const value = Number(raw);
  return Number.isFinite(value) && formatFloat(value) === raw ? value : raw;
}

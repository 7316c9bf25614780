import type { Collection } from '../schema/index.js';

/** A record in its API form: field name → API value (dates as PocketBase text, multi fields as arrays). */
export type ApiRecord = Record<string, unknown>;

/** One field's problem, PocketBase style (`params` only when the message has template values). */
export interface FieldError {
  code: string;
  message: string;
  params?: Record<string, unknown>;
}

/** Field name → its error; the `data` of a 400 `Failed to create record.` */
export type FieldErrors = Record<string, FieldError>;

/** An authenticated record and its auth collection (a superuser is one of `_superusers`). */
export interface AuthIdentity {
  collection: Collection;
  record: ApiRecord;
  /** The token it came with, and whether auth-refresh may replace it (impersonation tokens may not). */
  token?: string;
  refreshable?: boolean;
}

/**
 * Who asks, and what they sent: everything `@request.*` can reference.
 * Built once per HTTP request (per sub-request in a batch).
 */
export interface RequestInfo {
  /** null for a guest. */
  auth: AuthIdentity | null;
  /** True when `auth` is a `_superusers` record: every rule is bypassed. */
  superuser: boolean;
  method: string;
  /** `default`, `expand`, `batch`, `realtime`, ... */
  context: string;
  /** First value of each query parameter. */
  query: Record<string, string>;
  /** First value of each header; keys lower-cased, non-word characters → `_`. */
  headers: Record<string, string>;
  /** The submitted body after modifiers are resolved (create/update), else {}. */
  body: Record<string, unknown>;
}

/** An uploaded file part of a multipart body (files are accepted by the parser; storage comes later). */
export interface UploadedFile {
  field: string;
  filename: string;
  mimeType: string;
  size: number;
  data: Buffer;
}

/** A parsed request body: JSON, urlencoded or multipart (with `@jsonPayload` parts merged). */
export interface RequestBody {
  data: Record<string, unknown>;
  files: UploadedFile[];
}

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
  /** How many hooks deep the caller is: absent for a client's request, n for a hook's data API call at depth n. */
  hookDepth?: number;
}

/**
 * An uploaded file part of a multipart body, spooled to a temp file while the body is read
 * (src/files/spool.ts) and stored by the files plugin once the write is valid.
 */
export interface UploadedFile {
  /** The part's name: the field, `field+` (append) or `+field` (prepend). */
  field: string;
  /** The client's file name. */
  filename: string;
  /** Detected from the content, never taken from the client. */
  mimeType: string;
  /** Bytes received (all of them, even past a cut). */
  size: number;
  /** The temp file holding the bytes ('' when the part was only counted). */
  path: string;
  /** The name it is stored under (PocketBase's rules: snake_case base, random part, extension). */
  name: string;
  /** Cut while streaming at the field's maxSize: the write fails with validation_file_size_limit. */
  tooLarge?: boolean;
}

/** A parsed request body: JSON, urlencoded or multipart (with `@jsonPayload` parts merged). */
export interface RequestBody {
  data: Record<string, unknown>;
  files: UploadedFile[];
}

/**
 * The `galley` package's public API for hooks files (`collections/*.hooks.ts`): the registry a
 * hooks file's default export receives, the event types, and ApiError. It imports nothing from
 * the rest of the server, so a project that installs Galley type-checks its hooks against it.
 *
 *   import { ApiError, type Hooks } from 'galley';
 *   export default (app: Hooks) => { app.onRecordCreate('posts', async (e) => { … await e.next(); }); };
 */

const API_ERROR = Symbol.for('galley.ApiError');

/**
 * Thrown from a hook or a route: the request answers `status` with PocketBase's error body
 * (`message`, `data` — e.g. `{ body: { code: 'validation_required', message: 'Cannot be blank.' } }`)
 * and, in a before-hook, the write rolls back. Recognised by a brand, not by class identity, so a
 * hooks file may take it from another copy of the package.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly data: Record<string, unknown>;
  readonly [API_ERROR] = true;

  constructor(status: number, message?: string, data: Record<string, unknown> = {}) {
    super(message ?? defaultMessage(status));
    this.name = 'ApiError';
    this.status = Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
    this.data = data;
  }

  static is(err: unknown): err is ApiError {
    return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[API_ERROR] === true;
  }
}

function defaultMessage(status: number): string {
  if (status === 401) return 'The request requires valid record authorization token.';
  if (status === 403) return "You aren't allowed to perform this request.";
  if (status === 404) return "The requested resource wasn't found.";
  return 'Something went wrong while processing your request.';
}

/** A record in its API form (field name → value; dates as `YYYY-MM-DD HH:MM:SS.mmmZ`). */
export type RecordData = Record<string, unknown>;

export interface CollectionInfo {
  id: string;
  name: string;
  type: 'base' | 'auth' | 'view';
}

/** Logging for hooks: a pino logger carrying the hook's name. */
export interface HookLogger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
}

export interface ListOptions {
  filter?: string;
  sort?: string;
  expand?: string;
  fields?: string;
  skipTotal?: boolean;
}

export interface ListResult {
  items: RecordData[];
  page: number;
  perPage: number;
  totalItems: number;
  totalPages: number;
}

/**
 * One collection's records, through the same validation, rules and hooks as the REST API. As a
 * superuser unless `as` names a requester; inside the current transaction when called from a
 * before-hook (so a hook's writes commit or roll back with the write that triggered it).
 */
export interface RecordsApi {
  getOne(id: string, options?: Pick<ListOptions, 'expand' | 'fields'>): Promise<RecordData>;
  getList(page?: number, perPage?: number, options?: ListOptions): Promise<ListResult>;
  /** The first record matching `filter` (404 ApiError when none). */
  getFirst(filter: string, options?: Omit<ListOptions, 'filter' | 'skipTotal'>): Promise<RecordData>;
  count(filter?: string): Promise<number>;
  create(data: RecordData): Promise<RecordData>;
  update(id: string, data: RecordData): Promise<RecordData>;
  delete(id: string): Promise<void>;
}

export interface MailMessage {
  to: string;
  subject: string;
  html: string;
}

/** What every hook gets as `e.app`. */
export interface HookApp {
  /** `as: null` reads and writes as a guest; `as: e.auth` with the requester's rules. Default: superuser. */
  records(collection: string, options?: { as?: RecordData | null }): RecordsApi;
  /** Sends with the configured mailer (SMTP, or the log in development); onMailSend hooks see it. */
  mail(message: MailMessage): Promise<void>;
  realtime: {
    /** Publishes `data` on a custom topic to its subscribers on every node. */
    send(topic: string, data: unknown): Promise<void>;
  };
  log: HookLogger;
}

/** A record about to be created, updated or deleted (inside the write's transaction). */
export interface RecordEvent {
  collection: CollectionInfo;
  /** The record to save (create, update; change it here) or being deleted. */
  record: RecordData;
  /** The stored record before an update or delete; null on create. */
  original: RecordData | null;
  /** The requester's auth record (null for a guest, a superuser or the CLI… see `superuser`). */
  auth: RecordData | null;
  superuser: boolean;
  app: HookApp;
  /** Continues the write: the next hook, then the row is written. Must be called exactly once. */
  next(): Promise<void>;
}

/** After the commit: the saved (or deleted) record. Errors are logged; the response is unchanged. */
export type RecordAfterEvent = Omit<RecordEvent, 'next'>;

/** A successful sign-in (password, OTP, …), before the token is handed out: throw ApiError to refuse it. */
export interface RecordAuthEvent {
  collection: CollectionInfo;
  record: RecordData;
  method: 'password' | 'otp';
  app: HookApp;
  next(): Promise<void>;
}

/** An email about to be sent: change `message`, or return without calling `next()` to cancel it. */
export interface MailEvent {
  message: MailMessage;
  app: HookApp;
  next(): Promise<void>;
}

export interface RouteRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, string>;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** The parsed body (JSON, urlencoded or multipart fields), read with Galley's limits; {} without one. */
  body: Record<string, unknown>;
}

/** What a route handler returns: made by `e.json`, `e.text` or `e.noContent`. */
export interface RouteResult {
  readonly status: number;
  readonly body?: unknown;
  readonly contentType?: string;
}

export interface RouteEvent {
  request: RouteRequest;
  auth: RecordData | null;
  superuser: boolean;
  app: HookApp;
  json(status: number, body: unknown): RouteResult;
  text(status: number, body: string): RouteResult;
  noContent(): RouteResult;
}

export interface RouteOptions {
  /** `true`: any signed-in record; a collection name (or several): only records of those (401/403 otherwise). */
  auth?: boolean | string | string[];
}

export interface CronEvent {
  name: string;
  /** The tick this run is for (UTC). */
  scheduledAt: Date;
  app: HookApp;
}

type Collections = string | readonly string[];

/** The registry a hooks file's default export receives. `'*'` as the collection means every collection. */
export interface Hooks {
  onRecordCreate(collections: Collections, handler: (e: RecordEvent) => Promise<void> | void): void;
  onRecordUpdate(collections: Collections, handler: (e: RecordEvent) => Promise<void> | void): void;
  onRecordDelete(collections: Collections, handler: (e: RecordEvent) => Promise<void> | void): void;
  onRecordAfterCreate(collections: Collections, handler: (e: RecordAfterEvent) => Promise<void> | void): void;
  onRecordAfterUpdate(collections: Collections, handler: (e: RecordAfterEvent) => Promise<void> | void): void;
  onRecordAfterDelete(collections: Collections, handler: (e: RecordAfterEvent) => Promise<void> | void): void;
  onRecordAuth(collections: Collections, handler: (e: RecordAuthEvent) => Promise<void> | void): void;
  onMailSend(handler: (e: MailEvent) => Promise<void> | void): void;
  /** An Express-style path (`/api/posts/:id/stats`) on the same server; may not shadow Galley's own routes. */
  routerAdd(method: string, path: string, handler: (e: RouteEvent) => Promise<RouteResult> | RouteResult, options?: RouteOptions): void;
  /** A standard 5-field cron schedule in UTC; with several nodes each tick runs on one of them. */
  cronAdd(name: string, schedule: string, handler: (e: CronEvent) => Promise<void> | void): void;
}

/** The default export of a hooks file. */
export type HooksModule = (app: Hooks) => void | Promise<void>;

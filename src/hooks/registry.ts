import { Cron } from 'croner';
import type { Schema } from '../schema/index.js';
import type { CronEvent, Hooks, MailEvent, RecordAfterEvent, RecordAuthEvent, RecordEvent, RouteEvent, RouteOptions, RouteResult } from './public.js';

export type RecordHookKind = 'create' | 'update' | 'delete';

/** Where a registration came from: its file and the registry method, for logs and errors. */
export interface Origin {
  file: string;
  hook: string;
}

export interface BeforeHook {
  origin: Origin;
  run(e: RecordEvent): Promise<void> | void;
}
export interface AfterHook {
  origin: Origin;
  run(e: RecordAfterEvent): Promise<void> | void;
}
export interface RouteHook {
  origin: Origin;
  method: string;
  path: string;
  options: RouteOptions;
  run(e: RouteEvent): Promise<RouteResult> | RouteResult;
}
export interface CronHook {
  origin: Origin;
  name: string;
  schedule: string;
  run(e: CronEvent): Promise<void> | void;
}

/** A registration the server cannot honour: stops the start (exit 2) naming the file. */
export class HookRegistrationError extends Error {}

/** Paths of Galley's own endpoints: a custom route may not shadow them. */
const RESERVED = [/^\/api\/collections(\/|$)/, /^\/api\/realtime(\/|$)/, /^\/api\/batch(\/|$)/, /^\/api\/files(\/|$)/, /^\/api\/health(\/|$)/, /^\/api\/galley(\/|$)/, /^\/api\/openapi\.json$/, /^\/api\/docs(\/|$)/, /^\/metrics(\/|$)/, /^\/_(\/|$)/];
/** The literal roots of RESERVED. */
const GALLEY_ROOTS = ['/api/collections', '/api/realtime', '/api/batch', '/api/files', '/api/health', '/api/galley', '/api/openapi.json', '/api/docs', '/metrics', '/_'];

/**
 * Whether a custom route's path could match one of Galley's own URLs: its literal start (up to the
 * first parameter or wildcard) begins one of Galley's roots, as `/api/:name` could be `/api/health`.
 * Express matches paths case-insensitively, so this compares lower-cased. Routes that cannot are
 * served before Galley's routers (http/routes-custom.ts), the others after them.
 */
export function mayMatchGalleyPath(path: string): boolean {
  const literal = path.split(/[:*{(]/)[0]!.toLowerCase();
  return GALLEY_ROOTS.some((root) => root.startsWith(literal) || literal.startsWith(root));
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const CRON_FIELDS = /^\S+(\s+\S+){4}$/;
const CRON_FIELDS_WITH_SECONDS = /^\S+(\s+\S+){4,5}$/;

/**
 * Everything the hooks files registered, by kind and collection (`*` = all). Built once per
 * load; the write pipeline, the router and the scheduler read it.
 */
export class HookRegistry {
  readonly before: Record<RecordHookKind, Map<string, BeforeHook[]>> = { create: new Map(), update: new Map(), delete: new Map() };
  readonly after: Record<RecordHookKind, Map<string, AfterHook[]>> = { create: new Map(), update: new Map(), delete: new Map() };
  readonly auth = new Map<string, BeforeHookOf<RecordAuthEvent>[]>();
  readonly mail: BeforeHookOf<MailEvent>[] = [];
  readonly routes: RouteHook[] = [];
  readonly crons: CronHook[] = [];

  constructor(
    private readonly schema: Schema,
    private readonly options: { cronSeconds?: boolean } = {},
  ) {}

  /** The registry API for one file: every registration is tagged with it. */
  api(file: string): Hooks {
    const record = (table: Map<string, BeforeHook[] | AfterHook[]>, hook: string) => (collections: string | readonly string[], run: (e: never) => unknown) => {
      this.checkHandler(file, hook, run);
      for (const name of this.collectionNames(file, hook, collections)) {
        const list = (table.get(name) ?? []) as { origin: Origin; run: unknown }[];
        list.push({ origin: { file, hook }, run });
        table.set(name, list as BeforeHook[]);
      }
    };
    return {
      onRecordCreate: record(this.before.create, 'onRecordCreate'),
      onRecordUpdate: record(this.before.update, 'onRecordUpdate'),
      onRecordDelete: record(this.before.delete, 'onRecordDelete'),
      onRecordAfterCreate: record(this.after.create, 'onRecordAfterCreate'),
      onRecordAfterUpdate: record(this.after.update, 'onRecordAfterUpdate'),
      onRecordAfterDelete: record(this.after.delete, 'onRecordAfterDelete'),
      onRecordAuth: (collections, run) => {
        this.checkHandler(file, 'onRecordAuth', run);
        for (const name of this.collectionNames(file, 'onRecordAuth', collections, 'auth')) {
          const list = this.auth.get(name) ?? [];
          list.push({ origin: { file, hook: 'onRecordAuth' }, run });
          this.auth.set(name, list);
        }
      },
      onMailSend: (run) => {
        this.checkHandler(file, 'onMailSend', run);
        this.mail.push({ origin: { file, hook: 'onMailSend' }, run });
      },
      routerAdd: (method, path, run, options = {}) => this.addRoute(file, method, path, run, options),
      cronAdd: (name, schedule, run) => this.addCron(file, name, schedule, run),
    };
  }

  /** The before-hooks of one collection and kind, `*` ones first (they were registered for everything). */
  beforeOf(kind: RecordHookKind, collection: string): BeforeHook[] {
    return [...(this.before[kind].get('*') ?? []), ...(this.before[kind].get(collection) ?? [])];
  }

  afterOf(kind: RecordHookKind, collection: string): AfterHook[] {
    return [...(this.after[kind].get('*') ?? []), ...(this.after[kind].get(collection) ?? [])];
  }

  authOf(collection: string): BeforeHookOf<RecordAuthEvent>[] {
    return [...(this.auth.get('*') ?? []), ...(this.auth.get(collection) ?? [])];
  }

  private collectionNames(file: string, hook: string, collections: string | readonly string[], type?: 'auth'): string[] {
    const names = typeof collections === 'string' ? [collections] : Array.isArray(collections) ? [...collections] : [];
    if (names.length === 0 || names.some((n) => typeof n !== 'string')) throw new HookRegistrationError(`${hook}: the first argument must be a collection name, a list of them, or "*"`);
    for (const name of names) {
      if (name === '*') continue;
      const found = this.schema.collections.find((c) => c.name === name || c.id === name);
      if (!found) throw new HookRegistrationError(`${hook}("${name}"): there is no collection "${name}"`);
      if (type && found.type !== type) throw new HookRegistrationError(`${hook}("${name}"): "${name}" is not an auth collection`);
      if (!type && found.type === 'view' && hook !== 'onRecordAuth') throw new HookRegistrationError(`${hook}("${name}"): "${name}" is a view collection (it is never written)`);
    }
    return names.map((n) => (n === '*' ? '*' : this.schema.collections.find((c) => c.name === n || c.id === n)!.name));
  }

  private checkHandler(_file: string, hook: string, run: unknown): void {
    if (typeof run !== 'function') throw new HookRegistrationError(`${hook}: the handler must be a function`);
  }

  private addRoute(file: string, method: string, path: string, run: RouteHook['run'], options: RouteOptions): void {
    const verb = typeof method === 'string' ? method.toUpperCase() : '';
    if (!METHODS.has(verb)) throw new HookRegistrationError(`routerAdd: unknown method "${String(method)}"`);
    if (typeof path !== 'string' || !path.startsWith('/')) throw new HookRegistrationError(`routerAdd(${verb}, ${JSON.stringify(path)}): the path must start with "/"`);
    this.checkHandler(file, 'routerAdd', run);
    const shadowed = RESERVED.find((re) => re.test(path.split(':')[0]!.replace(/\/$/, '') || '/'));
    if (shadowed) throw new HookRegistrationError(`routerAdd(${verb}, "${path}"): the path is one of Galley's own routes`);
    if (this.routes.some((r) => r.method === verb && r.path === path)) throw new HookRegistrationError(`routerAdd(${verb}, "${path}"): registered twice`);
    const auth = options.auth;
    if (auth !== undefined && typeof auth !== 'boolean') this.collectionNames(file, `routerAdd(${verb}, "${path}") options.auth`, auth, 'auth');
    this.routes.push({ origin: { file, hook: `routerAdd ${verb} ${path}` }, method: verb, path, options, run });
  }

  private addCron(file: string, name: string, schedule: string, run: CronHook['run']): void {
    if (typeof name !== 'string' || name.trim() === '') throw new HookRegistrationError('cronAdd: the job needs a name');
    if (this.crons.some((c) => c.name === name)) throw new HookRegistrationError(`cronAdd("${name}"): a job of that name exists already`);
    const fields = this.options.cronSeconds ? CRON_FIELDS_WITH_SECONDS : CRON_FIELDS;
    if (typeof schedule !== 'string' || !fields.test(schedule.trim())) throw new HookRegistrationError(`cronAdd("${name}", "${String(schedule)}"): expected a 5-field cron schedule (minute hour day month weekday)`);
    try {
      new Cron(schedule.trim(), { paused: true, timezone: 'UTC' }).stop();
    } catch (err) {
      throw new HookRegistrationError(`cronAdd("${name}", "${schedule}"): ${(err as Error).message}`);
    }
    this.checkHandler(file, 'cronAdd', run);
    this.crons.push({ origin: { file, hook: `cronAdd ${name}` }, name, schedule: schedule.trim(), run });
  }
}

export interface BeforeHookOf<E> {
  origin: Origin;
  run(e: E): Promise<void> | void;
}

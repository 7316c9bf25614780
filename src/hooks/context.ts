import { AsyncLocalStorage } from 'node:async_hooks';
import type { SqlRunner } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { RecordsRuntime } from '../records/runtime.js';
import { createRecord, deleteRecord, listRecords, updateRecord, viewRecord, type RecordQuery, type RecordsDeps } from '../records/service.js';
import type { WriteSession } from '../records/session.js';
import type { ApiRecord, RequestInfo } from '../records/types.js';
import { ApiError, type HookApp, type ListOptions, type MailMessage, type RecordData, type RecordsApi } from './public.js';

/** What hooks reach through `e.app`: the records, the mailer, realtime, the log. */
export interface HookServices {
  runtime(): RecordsRuntime;
  runner: SqlRunner;
  log: Logger;
  mail(message: MailMessage): Promise<void>;
  /** Set once realtime is served; `send` fails with a clear error before. */
  realtime?: { send(topic: string, data: unknown): Promise<void> };
}

/** How deep hooks may call into writes that run hooks again before it is a loop. */
export const MAX_HOOK_DEPTH = 16;

/** The hook nesting of the current async call chain (a hook's write runs hooks one level deeper). */
const depth = new AsyncLocalStorage<number>();

/** A chain of hooks that keeps writing records that run the same hooks (a loop in the hooks files). */
export class HookRecursionError extends Error {}

/** Runs a user hook one level deeper, refusing past MAX_HOOK_DEPTH with a message naming the hook. */
export function nested<T>(name: string, fn: () => T): T {
  const level = (depth.getStore() ?? 0) + 1;
  if (level > MAX_HOOK_DEPTH) throw new HookRecursionError(`hooks nested more than ${MAX_HOOK_DEPTH} deep (at ${name}): a hook's write keeps triggering hooks`);
  return depth.run(level, fn);
}

const SUPERUSER: RequestInfo = { auth: null, superuser: true, method: 'POST', context: 'hook', query: {}, headers: {}, body: {} };

/**
 * `e.app` for one hook call. Inside a before-hook `session` is the write's unit of work, so the
 * data API's reads see its uncommitted rows and its writes commit or roll back with it.
 */
export function hookApp(services: HookServices, name: string, session?: WriteSession): HookApp {
  const log = services.log.child({ hook: name });
  return {
    records: (collection, options) => recordsApi(services, collection, requester(services, options), session),
    mail: (message) => services.mail(message),
    realtime: {
      send: async (topic, data) => {
        if (!services.realtime) throw new Error('realtime is not available in this process');
        await services.realtime.send(topic, data);
      },
    },
    log,
  };
}

function requester(services: HookServices, options: { as?: RecordData | null } | undefined): RequestInfo {
  if (!options || !('as' in options) || options.as === undefined) return SUPERUSER;
  if (options.as === null) return { ...SUPERUSER, superuser: false };
  const rt = services.runtime().find(String(options.as['collectionId'] ?? options.as['collectionName'] ?? ''));
  if (!rt || rt.collection.type !== 'auth') throw new ApiError(500, '`as` must be an auth record (with its collectionId), e.g. e.auth');
  return { ...SUPERUSER, superuser: rt.collection.name === '_superusers', auth: { collection: rt.collection, record: options.as as ApiRecord } };
}

function recordsApi(services: HookServices, collection: string, info: RequestInfo, session: WriteSession | undefined): RecordsApi {
  const deps = (): RecordsDeps => (session ? { runtime: services.runtime(), runner: session.tx, session } : { runtime: services.runtime(), runner: services.runner });
  const list = (page: number, perPage: number, o: ListOptions = {}) => listRecords(deps(), collection, listQuery(page, perPage, o), info);
  return {
    getOne: async (id, o = {}) => (await viewRecord(deps(), collection, id, pickQuery(o), info)).record,
    getList: (page = 1, perPage = 30, o) => list(page, perPage, o),
    getFirst: async (filter, o = {}) => {
      const found = (await list(1, 1, { ...o, filter, skipTotal: true })).items[0];
      if (!found) throw new AppError('not_found');
      return found;
    },
    count: async (filter = '') => (await list(1, 1, { filter })).totalItems,
    create: async (data) => (await createRecord(deps(), collection, data, {}, info)).record,
    update: async (id, data) => (await updateRecord(deps(), collection, id, data, {}, info)).record,
    delete: (id) => deleteRecord(deps(), collection, id, info),
  };
}

function listQuery(page: number, perPage: number, o: ListOptions): RecordQuery {
  return { page: String(page), perPage: String(perPage), ...pickQuery(o), ...(o.filter ? { filter: o.filter } : {}), ...(o.sort ? { sort: o.sort } : {}), ...(o.skipTotal ? { skipTotal: 'true' } : {}) };
}

function pickQuery(o: { expand?: string; fields?: string }): RecordQuery {
  return { ...(o.expand ? { expand: o.expand } : {}), ...(o.fields ? { fields: o.fields } : {}) };
}

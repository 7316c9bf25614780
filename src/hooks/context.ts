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
  /** `depth`: the hook depth of the sender (its onMailSend hooks run one level deeper). */
  mail(message: MailMessage, depth?: number): Promise<void>;
  /** Set once realtime is served; `send` fails with a clear error before. */
  realtime?: { send(topic: string, data: unknown): Promise<void> };
}

/** How deep hooks may call into writes that run hooks again before it is a loop. */
export const MAX_HOOK_DEPTH = 16;

/** A chain of hooks that keeps writing records that run the same hooks (a loop in the hooks files). */
export class HookRecursionError extends Error {}

/**
 * The depth of a hook called by work done at `depth` (0 = a client's request; a hook's own writes
 * and mail act at the hook's depth), refusing past MAX_HOOK_DEPTH with a message naming the hook.
 * The depth travels explicitly (RequestInfo.hookDepth, hookApp's argument) rather than in an
 * AsyncLocalStorage: on Node 20 one ALS.run() turns on promise hooks for the whole process, which
 * cost every request ~3% CPU (profile of the hooks bench).
 */
export function deeper(depth: number, name: string): number {
  const level = depth + 1;
  if (level > MAX_HOOK_DEPTH) throw new HookRecursionError(`hooks nested more than ${MAX_HOOK_DEPTH} deep (at ${name}): a hook's write keeps triggering hooks`);
  return level;
}

const SUPERUSER: RequestInfo = { auth: null, superuser: true, method: 'POST', context: 'hook', query: {}, headers: {}, body: {} };

/**
 * `e.app` for one hook call at `depth` (see deeper). Inside a before-hook `session` is the write's
 * unit of work, so the data API's reads see its uncommitted rows and its writes commit or roll
 * back with it. The hook's child logger is made on first use: most hook calls never log.
 */
export function hookApp(services: HookServices, name: string, depth: number, session?: WriteSession): HookApp {
  let log: Logger | undefined;
  return {
    records: (collection, options) => recordsApi(services, collection, { ...requester(services, options), hookDepth: depth }, session),
    mail: (message) => services.mail(message, depth),
    realtime: {
      send: async (topic, data) => {
        if (!services.realtime) throw new Error('realtime is not available in this process');
        await services.realtime.send(topic, data);
      },
    },
    get log() {
      return (log ??= services.log.child({ hook: name }));
    },
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

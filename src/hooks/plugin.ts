import { AppError } from '../errors/index.js';
import type { RecordWrite, StageHandlers, WriteAction, WritePlugin } from '../records/plugins.js';
import type { Collection } from '../schema/index.js';
import { deeper, hookApp, type HookServices } from './context.js';
import { ApiError, type CollectionInfo, type RecordAfterEvent, type RecordData, type RecordEvent } from './public.js';
import type { AfterHook, BeforeHook, HookRegistry, Origin } from './registry.js';

/**
 * Record hooks as a stage of the write pipeline: `onRecordCreate|Update|Delete` are its `before`
 * stage (inside the transaction, after validation and the rule, before the row), the
 * `onRecordAfter…` ones its `committed` stage. The registry is read when the collections are
 * compiled, so a collection without hooks pays nothing per write.
 */
export function hooksPlugin(registry: () => HookRegistry, services: HookServices): WritePlugin {
  return {
    name: 'hooks',
    handlersFor(collection: Collection, action: WriteAction): StageHandlers | null {
      const before = registry().beforeOf(action, collection.name);
      const after = registry().afterOf(action, collection.name);
      if (before.length === 0 && after.length === 0) return null;
      return {
        ...(before.length > 0 ? { before: (w: RecordWrite, next: () => Promise<void>) => runBefore(services, before, w, next) } : {}),
        ...(after.length > 0 ? { committed: (w: RecordWrite) => runAfter(services, after, w) } : {}),
      };
    },
  };
}

/** Runs the before-hooks as a chain: each one's `e.next()` calls the next, the last one the pipeline's. */
async function runBefore(services: HookServices, hooks: BeforeHook[], w: RecordWrite, next: () => Promise<void>): Promise<void> {
  const step = async (i: number): Promise<void> => {
    if (i === hooks.length) return next();
    const hook = hooks[i]!;
    let called = false;
    const event: RecordEvent = {
      ...eventBase(services, hook.origin, w, true),
      next: async () => {
        if (called) throw new Error(`${describe(hook.origin)} called e.next() twice`);
        called = true;
        await step(i + 1);
      },
    };
    await guard(hook.origin, () => hook.run(event));
  };
  await step(0);
}

/** After the commit, every after-hook runs (one failing does not stop the others); errors are logged. */
async function runAfter(services: HookServices, hooks: AfterHook[], w: RecordWrite): Promise<void> {
  for (const hook of hooks) {
    try {
      await hook.run(eventBase(services, hook.origin, w, false));
    } catch (err) {
      services.log.error({ err, hook: describe(hook.origin), collection: w.rt.collection.name, id: w.record['id'] }, `${describe(hook.origin)} failed after the commit (the response is unchanged)`);
    }
  }
}

/** A record hook's event, one hook level deeper than the write that calls it. */
function eventBase(services: HookServices, origin: Origin, w: RecordWrite, inTransaction: boolean): RecordAfterEvent {
  const name = describe(origin);
  return {
    collection: collectionInfo(w.rt.collection),
    record: w.record,
    original: w.original,
    auth: w.info.auth ? withoutSecrets(w.info.auth.record) : null,
    superuser: w.info.superuser,
    app: hookApp(services, name, deeper(w.info.hookDepth ?? 0, name), inTransaction ? w.session : undefined),
  };
}

/**
 * Runs one user hook. An ApiError becomes the response it asks for (and rolls the write back);
 * anything else stays an unexpected error (a 500, logged).
 */
export async function guard(origin: Origin, run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (err) {
    throw apiErrorToAppError(err);
  }
}

export function apiErrorToAppError(err: unknown): unknown {
  if (!ApiError.is(err)) return err;
  return new AppError('hook_error', err.message, err.data, { status: err.status, cause: err });
}

export function collectionInfo(c: Collection): CollectionInfo {
  return { id: c.id, name: c.name, type: c.type as CollectionInfo['type'] };
}

/** The requester as hooks see it: never its password hash or tokenKey. */
export function withoutSecrets(record: RecordData): RecordData {
  const { password: _password, tokenKey: _tokenKey, ...rest } = record;
  return rest;
}

export function describe(origin: Origin): string {
  return `${origin.hook} (${origin.file})`;
}

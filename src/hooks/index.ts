import type { SqlRunner } from '../db/index.js';
import type { Logger } from '../log/index.js';
import type { MailMessage, Mailer } from '../mail/index.js';
import type { WritePlugin } from '../records/plugins.js';
import type { RecordsRuntime } from '../records/runtime.js';
import type { ApiRecord } from '../records/types.js';
import type { Collection, Schema } from '../schema/index.js';
import { deeper, hookApp, type HookServices } from './context.js';
import { CronScheduler } from './cron.js';
import { hooksFiles, loadHooks, type LoadOptions } from './loader.js';
import { collectionInfo, describe, guard, hooksPlugin } from './plugin.js';
import type { MailEvent, RecordAuthEvent } from './public.js';
import type { HookRegistry } from './registry.js';

export { HooksLoadError } from './loader.js';
export { HookRecursionError } from './context.js';
export type { HookServices } from './context.js';
export type { HookRegistry } from './registry.js';

export interface HooksOptions extends LoadOptions {
  /** The collections folder: its `*.hooks.*` files are loaded. */
  dir: string;
  runtime(): RecordsRuntime;
  runner: SqlRunner;
  log: Logger;
}

/**
 * The server-side logic of an app: the hooks files loaded into a registry, and everything that
 * reads it — the write pipeline's plugin, the mail and sign-in hooks, the custom routes (mounted
 * by http/), the cron scheduler. `reload` swaps the registry (serve --dev).
 */
export class AppHooks {
  private current: HookRegistry | null = null;
  readonly services: HookServices;
  readonly plugin: WritePlugin;
  private cron: CronScheduler | null = null;

  constructor(private readonly options: HooksOptions) {
    this.services = {
      runtime: options.runtime,
      runner: options.runner,
      log: options.log,
      mail: () => Promise.reject(new Error('mail is not available in this process')),
    };
    this.plugin = hooksPlugin(() => this.registry() ?? EMPTY, this.services);
  }

  registry(): HookRegistry | null {
    return this.current;
  }

  /** Loads (again) the hooks files against `schema`; a file that fails leaves the previous hooks in place and throws. */
  async load(schema: Schema): Promise<void> {
    const files = await hooksFiles(this.options.dir);
    this.current = files.length === 0 ? null : await loadHooks(this.options.dir, schema, this.options);
    this.cron?.schedule(this.current?.crons ?? []);
    if (files.length > 0) this.options.log.info({ hooks: files.length, routes: this.current?.routes.length ?? 0, crons: this.current?.crons.length ?? 0 }, `hooks loaded: ${files.length} file(s)`);
  }

  /** Starts the cron jobs (serve only: one-shot commands run none). */
  startCron(): void {
    this.cron ??= new CronScheduler(this.options.runner, this.services, this.options.log);
    this.cron.schedule(this.current?.crons ?? []);
  }

  async stop(): Promise<void> {
    await this.cron?.stop();
  }

  /** The mailer as hooks see it: every message passes the onMailSend chain, which may change or cancel it. */
  mailer(inner: Mailer): Mailer {
    const send = (message: MailMessage, depth = 0) => this.sendThroughHooks(inner, message, depth);
    this.services.mail = send;
    return { send, close: () => inner.close() };
  }

  /** onRecordAuth: after a successful sign-in, before the token is handed out; an ApiError refuses it. */
  async onAuth(collection: Collection, record: ApiRecord, method: 'password' | 'otp'): Promise<void> {
    const hooks = this.current?.authOf(collection.name) ?? [];
    const step = async (i: number): Promise<void> => {
      const hook = hooks[i];
      if (!hook) return;
      const event: RecordAuthEvent = { collection: collectionInfo(collection), record, method, app: hookApp(this.services, describe(hook.origin), 1), next: () => step(i + 1) };
      await guard(hook.origin, () => hook.run(event));
    };
    await step(0);
  }

  /** `depth`: the hook depth of the sender; the onMailSend hooks run one deeper (a hook mailing from onMailSend is a loop). */
  private async sendThroughHooks(inner: Mailer, message: MailMessage, depth: number): Promise<void> {
    const hooks = this.current?.mail ?? [];
    if (hooks.length === 0) return inner.send(message);
    // One message for the whole chain: a hook may change its fields or replace it.
    const state = { message: { ...message } };
    const app = hookApp(this.services, 'onMailSend', deeper(depth, 'onMailSend'));
    const step = async (i: number): Promise<void> => {
      const hook = hooks[i];
      if (!hook) return inner.send(state.message);
      const event: MailEvent = {
        get message() {
          return state.message;
        },
        set message(m: MailMessage) {
          state.message = m;
        },
        app,
        next: () => step(i + 1),
      };
      await guard(hook.origin, () => hook.run(event));
    };
    await step(0);
  }
}

const EMPTY = { beforeOf: () => [], afterOf: () => [] } as unknown as HookRegistry;

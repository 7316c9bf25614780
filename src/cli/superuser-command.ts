import { loadConfig, type ConfigFlags } from '../config/index.js';
import { activateSchema, attachHooks, loadSchema, openDatabase, startRealtime, type App } from '../app.js';
import { migrate } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import { createRecord, deleteRecord, updateRecord } from '../records/service.js';
import type { RequestInfo } from '../records/types.js';
import { EXIT_OK, UsageError } from './exit.js';

/** The CLI acts as a superuser: it can create, reset and remove superusers without a token. */
const CLI: RequestInfo = { auth: null, superuser: true, method: 'POST', context: 'cli', query: {}, headers: {}, body: {} };

/**
 * `galley superuser upsert EMAIL PASSWORD` / `galley superuser delete EMAIL`. Migrates (safe
 * steps only, as serve does) so `_superusers` exists, then writes through the records service:
 * the same validation (password length), hashing and tokenKey rotation as the API.
 */
export async function superuserCommand(action: 'upsert' | 'delete', email: string, password: string | undefined, flags: ConfigFlags, out: NodeJS.WritableStream): Promise<number> {
  const config = loadConfig(flags);
  const schema = await loadSchema(config);
  const db = await openDatabase(config.databaseUrl);
  let app: App | null = null;
  try {
    await migrate(db, schema, { apply: true, allowDestructive: false });
    app = { config, log: createLogger({ ...config, logLevel: 'silent' }), db, schema, plugins: [], records: null as unknown as App['records'] };
    // Writes from the CLI run the hooks files too (as every write path does).
    await attachHooks(app, config.collectionsDir);
    // …and publish realtime events on PostgreSQL, where the serving nodes' subscribers get them
    // (streams signed in as a superuser whose password changed here become guests). A SQLite
    // database is served by one process, which cannot hear this one: nothing to publish to.
    if (db.dialect === 'postgres') await startRealtime(app, null, { publishOnly: true });
    else await activateSchema(app);
    const deps = { runtime: app.records, runner: db.runner() };
    const rows = await deps.runner.all('SELECT "id" FROM "_superusers" WHERE lower("email") = lower(?) LIMIT 1', [email]);
    const id = rows[0] ? String(rows[0]['id']) : null;
    if (action === 'delete') {
      if (!id) throw new UsageError(`No superuser with the email "${email}".`);
      await explainRefusal(() => deleteRecord(deps, '_superusers', id, CLI));
      out.write(`Superuser ${email} deleted.\n`);
      return EXIT_OK;
    }
    if (!password) throw new UsageError('A password is required: galley superuser upsert EMAIL PASSWORD');
    const data = { email, password, passwordConfirm: password };
    await explainFieldErrors(() => (id ? updateRecord(deps, '_superusers', id, data, {}, CLI) : createRecord(deps, '_superusers', data, {}, CLI)));
    out.write(`Superuser ${email} ${id ? 'updated' : 'created'}.\n`);
    return EXIT_OK;
  } finally {
    await app?.realtime?.close();
    await db.close();
  }
}

/** A refused delete (the only superuser) is a usage error with the reason. */
async function explainRefusal(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (err) {
    if (err instanceof AppError && err.status === 400) throw new UsageError(err.message);
    throw err;
  }
}

/** A validation failure (short password, bad email) is a usage error naming each field. */
async function explainFieldErrors(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (err) {
    if (err instanceof AppError && Object.keys(err.data).length > 0) {
      const problems = Object.entries(err.data).map(([field, e]) => `${field}: ${(e as { message?: string }).message ?? 'invalid'}`);
      throw new UsageError(`${err.message} ${problems.join('; ')}`);
    }
    throw err;
  }
}

import { activateSchema, attachFiles, loadSchema, openDatabase, type App } from '../app.js';
import { loadConfig, type ConfigFlags } from '../config/index.js';
import { sweepFiles } from '../files/sweep.js';
import { createLogger } from '../log/index.js';
import { EXIT_OK, UsageError } from './exit.js';

export interface FilesFlags extends ConfigFlags {
  sweep?: boolean;
  delete?: boolean;
  minAge?: string;
}

/**
 * `galley files --sweep [--delete] [--min-age MINUTES]`: lists (or with --delete removes) stored
 * files no record references and temp files of interrupted uploads. Reads the database as it is
 * (no migration).
 */
export async function filesCommand(flags: FilesFlags, out: NodeJS.WritableStream): Promise<number> {
  if (!flags.sweep) throw new UsageError('Nothing to do: galley files --sweep [--delete] [--min-age MINUTES]');
  const minutes = flags.minAge === undefined ? 60 : Number(flags.minAge);
  if (!Number.isFinite(minutes) || minutes < 0) throw new UsageError(`Invalid --min-age "${flags.minAge}": expected minutes (0 or more)`);
  const config = loadConfig(flags);
  const schema = await loadSchema(config);
  const db = await openDatabase(config.databaseUrl);
  try {
    const app: App = { config, log: createLogger({ ...config, logLevel: 'silent' }), db, schema, plugins: [], records: null as unknown as App['records'] };
    const files = attachFiles(app, { dataDir: config.dataDir, s3: config.s3 });
    await activateSchema(app);
    const result = await sweepFiles(files, app.records, db.runner(), { apply: Boolean(flags.delete), minAgeMs: minutes * 60_000 });
    for (const key of result.orphans) out.write(`orphan ${key}\n`);
    for (const path of result.staleUploads) out.write(`stale upload ${path}\n`);
    const n = result.orphans.length + result.staleUploads.length;
    out.write(result.deleted ? `Deleted ${n} file(s).\n` : `${n} file(s) to delete (dry run; --delete removes them).\n`);
    return EXIT_OK;
  } finally {
    await db.close();
  }
}

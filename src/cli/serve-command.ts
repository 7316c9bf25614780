import { createApp, loadSchema, migrateForServe, startServer, type App } from '../app.js';
import { loadConfig, type ConfigFlags } from '../config/index.js';
import { createLogger } from '../log/index.js';
import { describeError } from './exit.js';
import { writeTypes } from './types-command.js';

/** `galley serve [--http HOST:PORT] [--dev]`: migrate (safe steps only), then serve until SIGTERM/SIGINT. */
export async function serveCommand(flags: ConfigFlags): Promise<number> {
  const config = loadConfig(flags);
  const log = createLogger(config);
  const app = await createApp(config, log);
  try {
    await migrateForServe(app);
  } catch (err) {
    await app.db.close();
    throw err;
  }
  await refreshTypes(app);
  const running = await startServer(app);
  // The watcher is ready before "listening" is logged, so no edit made after that line is missed.
  const stopWatching = config.dev ? await watchCollections(app) : async () => {};
  log.info({ url: running.url, database: app.db.safeUrl, collections: app.schema.collections.length }, `Galley listening on ${running.url} (API ${running.url}/api, admin ${running.url}/_/)`);
  return new Promise<number>((done) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down: finishing in-flight requests');
      void stopWatching()
        .then(() => running.close())
        .then(() => {
          log.info('stopped');
          done(0);
        });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** `--dev`: re-load the collection files on change and re-plan; destructive plans are refused with the same message as at start. */
async function watchCollections(app: App): Promise<() => Promise<void>> {
  const { watch } = await import('chokidar'); // --dev only
  const watcher = watch(app.config.collectionsDir, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 150 } });
  await new Promise<void>((ready) => watcher.once('ready', () => ready()));
  let queue = Promise.resolve();
  watcher.on('all', () => {
    queue = queue.then(async () => {
      try {
        app.schema = await loadSchema(app.config);
        // Hooks first: a hooks file naming a collection the new files dropped fails before anything changes.
        await app.hooks?.load(app.schema);
        await migrateForServe(app);
        await refreshTypes(app);
      } catch (err) {
        app.log.error(`collections not applied: ${describeError(err)}`);
      }
    });
  });
  return () => watcher.close();
}

/** `--types FILE`: the types of the collections being served, rewritten when they change. */
async function refreshTypes(app: App): Promise<void> {
  const file = app.config.typesFile;
  if (!file) return;
  try {
    if (await writeTypes(file, app.schema)) app.log.info({ file }, `types written to ${file}`);
  } catch (err) {
    app.log.error({ file }, `types not written to ${file}: ${describeError(err)}`);
  }
}

import { Command, CommanderError, Option } from 'commander';
import { describeError, EXIT_USAGE, exitCodeFor } from './exit.js';
import { filesCommand } from './files-command.js';
import { importCommand } from './import-command.js';
import { migrateCommand } from './migrate-command.js';
import { serveCommand } from './serve-command.js';
import { superuserCommand } from './superuser-command.js';
import { typesCommand } from './types-command.js';

/** Builds the `galley` command line; each action resolves to the process exit code. */
export function buildCli(setExit: (code: number) => void): Command {
  const program = new Command('galley')
    .description('Collections as code, a PocketBase-compatible API, SQLite and PostgreSQL.')
    .exitOverride()
    .showHelpAfterError();
  const common = (cmd: Command) =>
    cmd
      .option('--collections <dir>', 'collection files folder (env GALLEY_COLLECTIONS)', undefined)
      .option('--data <dir>', 'data folder: SQLite file, uploads (env GALLEY_DATA)', undefined)
      .option('--db <url>', 'database URL: sqlite:<path> or postgres://… (env DATABASE_URL)', undefined);
  const run = (fn: () => Promise<number>) => fn().then(setExit);

  common(program.command('serve').description('migrate (safe steps only), then serve'))
    .option('--http <host:port>', 'listen address (env GALLEY_HTTP; default 127.0.0.1:8090)')
    .option('--dev', 'watch the collections folder and re-plan on change')
    .option('--types <file>', 'write TypeScript types of the collections to this file (again after each --dev reload)')
    .action((opts) => run(() => serveCommand(opts)));
  common(program.command('migrate').description('apply the migration plan (or print it with --plan)'))
    .option('--plan', 'print the plan without changing anything')
    .addOption(new Option('--allow-destructive', 'also apply steps that lose data'))
    .action((opts) => run(() => migrateCommand(opts, process.stdout)));
  common(program.command('import-pocketbase').description('split a PocketBase "Export collections" file into collection files'))
    .argument('<file>', 'the exported JSON file')
    .option('--force', 'overwrite existing collection files')
    .action((file: string, opts) => run(() => importCommand(file, opts, process.stdout)));
  common(program.command('types').description('TypeScript types of every collection, with a TypedPocketBase for the pocketbase SDK'))
    .option('--out <file>', 'write to this file instead of stdout')
    .action((opts) => run(() => typesCommand(opts, process.stdout)));
  common(program.command('files').description('stored files: --sweep lists (--delete removes) files no record references'))
    .option('--sweep', 'find orphaned files and temp files of interrupted uploads')
    .option('--delete', 'delete what the sweep finds (default: dry run)')
    .option('--min-age <minutes>', 'leave files younger than this alone (default 60: writes may be in flight)')
    .action((opts) => run(() => filesCommand(opts, process.stdout)));
  const superuser = program.command('superuser').description('create, reset or remove superusers (admin panel and API)');
  common(superuser.command('upsert').description('create a superuser, or set the password of an existing one'))
    .argument('<email>')
    .argument('<password>')
    .action((email: string, password: string, opts) => run(() => superuserCommand('upsert', email, password, opts, process.stdout)));
  common(superuser.command('delete').description('remove a superuser'))
    .argument('<email>')
    .action((email: string, opts) => run(() => superuserCommand('delete', email, undefined, opts, process.stdout)));
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildCli((c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    process.stderr.write(`${describeError(err)}\n`);
    return exitCodeFor(err);
  }
}

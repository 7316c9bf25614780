import type { SqlRunner } from '../db/index.js';
import type { CollectionRuntime, RecordsRuntime } from '../records/runtime.js';
import type { Tokens } from './tokens.js';

/**
 * The first superuser. On a start with none, the log prints a one-time link to the admin panel
 * (PocketBase's `/_/#/pbinstal/<token>`); its token lets exactly one kind of request through —
 * creating a `_superusers` record — and only while there is still no superuser, so it is spent
 * by its first use. Any node can check it: the signing secret is in the database.
 */
export interface InstallDeps {
  tokens: Tokens;
  runtime: () => RecordsRuntime;
  runner: SqlRunner;
}

function superusers(deps: InstallDeps): CollectionRuntime | undefined {
  return deps.runtime().find('_superusers');
}

async function hasSuperuser(deps: InstallDeps, rt: CollectionRuntime): Promise<boolean> {
  return (await deps.runner.all(`SELECT 1 AS "one" FROM ${rt.table} LIMIT 1`, [])).length > 0;
}

/** The install link, or null when a superuser exists already. */
export async function installLink(deps: InstallDeps, appUrl: string): Promise<string | null> {
  const rt = superusers(deps);
  if (!rt || (await hasSuperuser(deps, rt))) return null;
  return `${appUrl}/_/#/pbinstal/${await deps.tokens.signInstall(rt)}`;
}

/** Whether the Authorization header carries a valid install token and no superuser exists yet. */
export async function acceptsInstallToken(deps: InstallDeps, header: string | undefined): Promise<boolean> {
  const rt = superusers(deps);
  if (!rt || !header) return false;
  return (await deps.tokens.verifyInstall(rt, header)) && !(await hasSuperuser(deps, rt));
}

import { ConfigError, InvalidCollectionsError } from '../errors/index.js';
import { MigrationRefusedError } from '../db/index.js';
import { HooksLoadError } from '../hooks/index.js';

/** Exit codes of every command: 0 ok, 1 runtime failure, 2 bad usage or invalid collection files. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Usage errors a command reports itself (bad arguments, refused overwrite). */
export class UsageError extends Error {}

export function exitCodeFor(err: unknown): number {
  if (err instanceof InvalidCollectionsError || err instanceof ConfigError || err instanceof MigrationRefusedError || err instanceof UsageError || err instanceof HooksLoadError) return EXIT_USAGE;
  return EXIT_FAILURE;
}

/** What the user sees on stderr: problems one per line, never a stack trace (unless GALLEY_DEBUG). */
export function describeError(err: unknown): string {
  if (err instanceof Error) return process.env['GALLEY_DEBUG'] ? String(err.stack) : err.message;
  return String(err);
}

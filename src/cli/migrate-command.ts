import { loadConfig, type ConfigFlags } from '../config/index.js';
import { loadSchema, openDatabase } from '../app.js';
import { formatPlan, migrate } from '../db/index.js';
import { EXIT_OK } from './exit.js';

export interface MigrateFlags extends ConfigFlags {
  plan?: boolean;
  allowDestructive?: boolean;
}

/** `galley migrate [--plan] [--allow-destructive]`: print the plan, or apply it. */
export async function migrateCommand(flags: MigrateFlags, out: NodeJS.WritableStream): Promise<number> {
  const config = loadConfig(flags);
  const schema = await loadSchema(config);
  const db = await openDatabase(config.databaseUrl);
  try {
    const result = await migrate(db, schema, { apply: !flags.plan, allowDestructive: Boolean(flags.allowDestructive) });
    out.write(`${formatPlan(result.plan)}\n`);
    for (const drift of result.plan.drift) out.write(`drift: ${drift}\n`);
    if (!flags.plan && result.plan.steps.length > 0) out.write(`Applied ${result.plan.steps.length} step(s).\n`);
    return EXIT_OK;
  } finally {
    await db.close();
  }
}

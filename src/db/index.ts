export { connectDatabase, type Database } from './connect.js';
export { dialectFor, type DialectName } from './dialects/index.js';
export type { Executor, Row } from './executor.js';
export { readHistory, HISTORY_TABLE } from './history.js';
export { migrate, MigrationFailedError, MigrationRefusedError, type MigrateOptions, type MigrateResult } from './migrate.js';
export { decodeValue, encodeValue } from './codec.js';
export { buildModel, junctionName, type PhysicalModel } from './model.js';
export { formatPlan, destructiveSteps, type Plan, type PlanStep, type Risk } from './plan-types.js';
export { inMigrationTransaction, knexExecutor } from './transaction.js';

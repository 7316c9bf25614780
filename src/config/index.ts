import { Ajv } from 'ajv';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors/index.js';

/** Everything Galley is configured with; read once at start, validated, frozen. No other module reads process.env. */
export interface Config {
  collectionsDir: string;
  dataDir: string;
  databaseUrl: string;
  http: { host: string; port: number };
  dev: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Pretty logs for humans (default: when stdout is a terminal). */
  prettyLogs: boolean;
  /** Milliseconds to let in-flight requests finish on SIGTERM/SIGINT. */
  shutdownTimeoutMs: number;
}

/** Command-line flags (from commander); each beats its environment variable. */
export interface ConfigFlags {
  collections?: string;
  data?: string;
  db?: string;
  http?: string;
  dev?: boolean;
}

export const ENV_VARS = {
  GALLEY_COLLECTIONS: 'collections folder (flag --collections)',
  GALLEY_DATA: 'data folder (flag --data)',
  DATABASE_URL: 'database URL (flag --db)',
  GALLEY_HTTP: 'listen address HOST:PORT (flag --http)',
  GALLEY_LOG_LEVEL: 'fatal|error|warn|info|debug|trace|silent',
  GALLEY_LOG_PRETTY: 'true|false',
  GALLEY_SHUTDOWN_TIMEOUT_MS: 'grace period for in-flight requests',
} as const;

const schema = {
  type: 'object',
  properties: {
    collectionsDir: { type: 'string', minLength: 1 },
    dataDir: { type: 'string', minLength: 1 },
    databaseUrl: { type: 'string', pattern: '^(sqlite:.+|postgres(ql)?://.+)$' },
    http: {
      type: 'object',
      properties: { host: { type: 'string', minLength: 1 }, port: { type: 'integer', minimum: 0, maximum: 65535 } },
      required: ['host', 'port'],
    },
    dev: { type: 'boolean' },
    logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    prettyLogs: { type: 'boolean' },
    shutdownTimeoutMs: { type: 'integer', minimum: 0 },
  },
  required: ['collectionsDir', 'dataDir', 'databaseUrl', 'http', 'dev', 'logLevel', 'prettyLogs', 'shutdownTimeoutMs'],
};
const validate = new Ajv({ allErrors: true }).compile<Config>(schema);

export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env, isTty = Boolean(process.stdout.isTTY)): Readonly<Config> {
  const dataDir = resolve(flags.data ?? env['GALLEY_DATA'] ?? 'galley_data');
  const config = {
    collectionsDir: resolve(flags.collections ?? env['GALLEY_COLLECTIONS'] ?? 'collections'),
    dataDir,
    databaseUrl: flags.db ?? env['DATABASE_URL'] ?? `sqlite:${join(dataDir, 'data.db')}`,
    http: parseHttp(flags.http ?? env['GALLEY_HTTP'] ?? '127.0.0.1:8090'),
    dev: flags.dev ?? false,
    logLevel: env['GALLEY_LOG_LEVEL'] ?? 'info',
    prettyLogs: parseBool('GALLEY_LOG_PRETTY', env['GALLEY_LOG_PRETTY']) ?? isTty,
    shutdownTimeoutMs: parseInteger('GALLEY_SHUTDOWN_TIMEOUT_MS', env['GALLEY_SHUTDOWN_TIMEOUT_MS'] ?? '10000'),
  };
  if (!validate(config)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath.slice(1).replace(/\//g, '.') || 'config'} ${e.message ?? 'is invalid'}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze({ ...config, http: Object.freeze(config.http) });
}

function parseHttp(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value);
  if (!match) throw new ConfigError(`Invalid --http "${value}": expected HOST:PORT, e.g. 127.0.0.1:8090`);
  return { host: match[1] || match[2] || '127.0.0.1', port: Number(match[3]) };
}

function parseBool(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^(1|true|yes)$/i.test(value)) return true;
  if (/^(0|false|no)$/i.test(value)) return false;
  throw new ConfigError(`Invalid ${name} "${value}": expected true or false`);
}

function parseInteger(name: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(`Invalid ${name} "${value}": expected a whole number`);
  return Number(value);
}

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
  /** Shown in emails ({APP_NAME}) and used for links in them ({APP_URL}); the URL defaults to the listen address. */
  appName: string;
  appUrl: string;
  /** False when appUrl is only derived from --http: the server then uses the address it really listens on (port 0). */
  appUrlSet: boolean;
  mail: MailConfig;
  /** When set, rate-limit counters live in Redis; otherwise in the database (shared by every node either way). */
  redisUrl: string | null;
  rateLimits: RateLimitsConfig;
  /**
   * Express's `trust proxy`: which proxies may set X-Forwarded-For (a hop count, or addresses/subnets
   * such as `loopback` or `10.0.0.0/8`); false = the socket address is the client (no proxy).
   */
  trustProxy: number | string | false;
  /** A query running longer is cut off with a 503 (PostgreSQL statement_timeout; SQLite reader threads); 0 = no limit. */
  queryTimeoutMs: number;
  /** SQLite: threads that run list, count and expand reads off the event loop (0 = on the main connection). */
  sqliteReaders: number;
  /** Requests handled at once before new ones get a fast 503 (health checks and realtime streams excepted); 0 = no limit. */
  maxInFlight: number;
  /** Accept 6-field (seconds) cron schedules in hooks files: for tests and demos only. */
  cronSeconds: boolean;
  /** `GET /metrics` and the request metrics (default on). */
  metrics: boolean;
  /** When set, `GET /metrics` requires `Authorization: Bearer <token>`. */
  metricsToken: string | null;
  /** gzip/brotli of responses over 1 KB (default on; turn off when a proxy compresses). */
  compression: boolean;
  /** `serve --types FILE`: TypeScript types written at start and after each --dev reload. */
  typesFile: string | null;
  /** Realtime (SSE) limits of this node. */
  realtime: RealtimeConfig;
  /** GALLEY_MAX_BODY_BYTES: a request body's limit (record writes add their file fields' maxSize × maxSelect). */
  maxBodyBytes: number;
  /** S3-compatible file storage (GALLEY_S3_*); null = the local `<data>/storage`. */
  s3: S3Config | null;
}

export interface RealtimeConfig {
  /** A stream without a message for this long is closed (PocketBase: 5 minutes); the SDK reconnects. */
  idleMs: number;
  /** Streams open at once on this node; past it `GET /api/realtime` answers 503. */
  maxClients: number;
  /** A client whose unsent output passes this many bytes is dropped (and logged). */
  maxBufferBytes: number;
}

export interface S3Config {
  bucket: string;
  endpoint: string | null;
  region: string;
  accessKey: string | null;
  secret: string | null;
  forcePathStyle: boolean;
}

export interface MailConfig {
  /** `smtp://user:pass@host:587` or `smtps://…`; null = messages are written to the log (development). */
  smtpUrl: string | null;
  /** The From address: `Name <address>` or a bare address. */
  from: string;
}

/** A limit of `max` requests per `windowSeconds`; max 0 = no limit. */
export interface RateLimit {
  max: number;
  windowSeconds: number;
}

export interface RateLimitsConfig {
  /** Every auth endpoint, per client IP. */
  authPerIp: RateLimit;
  /** Failed sign-ins and emails sent, per identity (collection + email/username/otpId). */
  authPerIdentity: RateLimit;
}

/** Command-line flags (from commander); each beats its environment variable. */
export interface ConfigFlags {
  collections?: string;
  data?: string;
  db?: string;
  http?: string;
  dev?: boolean;
  types?: string;
}

export const ENV_VARS = {
  GALLEY_COLLECTIONS: 'collections folder (flag --collections)',
  GALLEY_DATA: 'data folder (flag --data)',
  DATABASE_URL: 'database URL (flag --db)',
  GALLEY_HTTP: 'listen address HOST:PORT (flag --http)',
  GALLEY_LOG_LEVEL: 'fatal|error|warn|info|debug|trace|silent',
  GALLEY_LOG_PRETTY: 'true|false',
  GALLEY_SHUTDOWN_TIMEOUT_MS: 'grace period for in-flight requests',
  GALLEY_APP_NAME: 'application name in emails',
  GALLEY_APP_URL: 'public base URL for links in emails',
  GALLEY_SMTP_URL: 'smtp(s)://user:pass@host:port; unset = emails go to the log',
  GALLEY_MAIL_FROM: 'From address of emails',
  GALLEY_REDIS_URL: 'redis://host:port for shared rate-limit counters; unset = the database',
  GALLEY_TRUST_PROXY: 'proxies trusted for X-Forwarded-For: hop count or addresses/subnets; unset = none',
  GALLEY_RATE_LIMIT_AUTH_IP: 'auth requests per IP: N/SECONDS, 0 = off',
  GALLEY_RATE_LIMIT_AUTH_IDENTITY: 'failed sign-ins and emails per identity: N/SECONDS, 0 = off',
  GALLEY_QUERY_TIMEOUT_MS: 'longest a query may run before a 503, 0 = no limit',
  GALLEY_SQLITE_READERS: 'SQLite reader threads for list, count and expand queries, 0 = main connection',
  GALLEY_MAX_IN_FLIGHT: 'requests handled at once before a fast 503, 0 = no limit',
  GALLEY_CRON_SECONDS: 'true: cron schedules may have a seconds field (tests and demos)',
  GALLEY_METRICS: 'true|false: GET /metrics and request metrics (default true)',
  GALLEY_METRICS_TOKEN: 'bearer token required by GET /metrics; unset = open',
  GALLEY_COMPRESSION: 'true|false: gzip/brotli of responses over 1 KB (default true)',
  GALLEY_REALTIME_IDLE_MS: 'realtime streams without a message for this long are closed (default 300000)',
  GALLEY_REALTIME_MAX_CLIENTS: 'realtime streams per node before a 503 (default 10000)',
  GALLEY_REALTIME_BUFFER_BYTES: 'unsent bytes after which a slow realtime client is dropped (default 4194304)',
  GALLEY_S3_BUCKET: 'store files in this S3-compatible bucket instead of <data>/storage',
  GALLEY_S3_ENDPOINT: 'S3 endpoint URL (MinIO, R2, …); unset = AWS',
  GALLEY_S3_REGION: 'S3 region (default us-east-1)',
  GALLEY_S3_ACCESS_KEY: 'S3 access key id (with GALLEY_S3_SECRET; unset = the AWS default credential chain)',
  GALLEY_S3_SECRET: 'S3 secret access key',
  GALLEY_S3_FORCE_PATH_STYLE: 'true|false: path-style bucket URLs (MinIO and most self-hosted servers need true)',
  GALLEY_MAX_BODY_BYTES: 'request body limit in bytes (default 33554432 = 32 MiB; record writes add their file fields\' sizes)',
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
    appName: { type: 'string', minLength: 1 },
    appUrl: { type: 'string', pattern: '^https?://' },
    mail: {
      type: 'object',
      properties: { smtpUrl: { anyOf: [{ type: 'null' }, { type: 'string', pattern: '^smtps?://' }] }, from: { type: 'string', minLength: 3 } },
      required: ['smtpUrl', 'from'],
    },
    redisUrl: { anyOf: [{ type: 'null' }, { type: 'string', pattern: '^rediss?://' }] },
    metrics: { type: 'boolean' },
    // Visible ASCII without spaces (it travels in a header); 16+ characters so it is not guessable.
    metricsToken: { anyOf: [{ type: 'null' }, { type: 'string', pattern: '^[\\x21-\\x7e]{16,}$' }] },
    compression: { type: 'boolean' },
    typesFile: { anyOf: [{ type: 'null' }, { type: 'string', minLength: 1 }] },
    maxBodyBytes: { type: 'integer', minimum: 1024 },
  },
  required: ['collectionsDir', 'dataDir', 'databaseUrl', 'http', 'dev', 'logLevel', 'prettyLogs', 'shutdownTimeoutMs', 'appName', 'appUrl', 'mail', 'redisUrl', 'rateLimits', 'metrics', 'metricsToken', 'compression', 'typesFile'],
};
// validateSchema: false skips compiling ajv's meta-schema (~60 ms of every start) to check this constant schema.
const validate = new Ajv({ allErrors: true, validateSchema: false }).compile<Config>(schema);

export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env, isTty = Boolean(process.stdout.isTTY)): Readonly<Config> {
  const dataDir = resolve(flags.data ?? env['GALLEY_DATA'] ?? 'galley_data');
  const http = parseHttp(flags.http ?? env['GALLEY_HTTP'] ?? '127.0.0.1:8090');
  const config = {
    collectionsDir: resolve(flags.collections ?? env['GALLEY_COLLECTIONS'] ?? 'collections'),
    dataDir,
    databaseUrl: flags.db ?? env['DATABASE_URL'] ?? `sqlite:${join(dataDir, 'data.db')}`,
    http,
    dev: flags.dev ?? false,
    logLevel: env['GALLEY_LOG_LEVEL'] ?? 'info',
    prettyLogs: parseBool('GALLEY_LOG_PRETTY', env['GALLEY_LOG_PRETTY']) ?? isTty,
    shutdownTimeoutMs: parseInteger('GALLEY_SHUTDOWN_TIMEOUT_MS', env['GALLEY_SHUTDOWN_TIMEOUT_MS'] ?? '10000'),
    appName: env['GALLEY_APP_NAME'] || 'Galley',
    appUrl: (env['GALLEY_APP_URL'] || `http://${http.host.includes(':') ? `[${http.host}]` : http.host}:${http.port}`).replace(/\/+$/, ''),
    appUrlSet: Boolean(env['GALLEY_APP_URL']),
    mail: { smtpUrl: env['GALLEY_SMTP_URL'] || null, from: env['GALLEY_MAIL_FROM'] || 'Galley <no-reply@localhost>' },
    redisUrl: env['GALLEY_REDIS_URL'] || null,
    rateLimits: {
      authPerIp: parseRateLimit('GALLEY_RATE_LIMIT_AUTH_IP', env['GALLEY_RATE_LIMIT_AUTH_IP'] ?? '60/60'),
      authPerIdentity: parseRateLimit('GALLEY_RATE_LIMIT_AUTH_IDENTITY', env['GALLEY_RATE_LIMIT_AUTH_IDENTITY'] ?? '10/900'),
    },
    trustProxy: parseTrustProxy(env['GALLEY_TRUST_PROXY']),
    queryTimeoutMs: parseInteger('GALLEY_QUERY_TIMEOUT_MS', env['GALLEY_QUERY_TIMEOUT_MS'] ?? '5000'),
    sqliteReaders: parseInteger('GALLEY_SQLITE_READERS', env['GALLEY_SQLITE_READERS'] ?? '2'),
    maxInFlight: parseInteger('GALLEY_MAX_IN_FLIGHT', env['GALLEY_MAX_IN_FLIGHT'] ?? '256'),
    cronSeconds: parseBool('GALLEY_CRON_SECONDS', env['GALLEY_CRON_SECONDS']) ?? false,
    metrics: parseBool('GALLEY_METRICS', env['GALLEY_METRICS']) ?? true,
    metricsToken: parseMetricsToken(env['GALLEY_METRICS_TOKEN']),
    compression: parseBool('GALLEY_COMPRESSION', env['GALLEY_COMPRESSION']) ?? true,
    typesFile: flags.types ? resolve(flags.types) : null,
    realtime: {
      idleMs: positive('GALLEY_REALTIME_IDLE_MS', env['GALLEY_REALTIME_IDLE_MS'] ?? '300000'),
      maxClients: positive('GALLEY_REALTIME_MAX_CLIENTS', env['GALLEY_REALTIME_MAX_CLIENTS'] ?? '10000'),
      maxBufferBytes: positive('GALLEY_REALTIME_BUFFER_BYTES', env['GALLEY_REALTIME_BUFFER_BYTES'] ?? String(4 << 20)),
    },
    maxBodyBytes: parseInteger('GALLEY_MAX_BODY_BYTES', env['GALLEY_MAX_BODY_BYTES'] ?? String(32 << 20)),
    s3: parseS3(env),
  };
  if (!validate(config)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath.slice(1).replace(/\//g, '.') || 'config'} ${e.message ?? 'is invalid'}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze({ ...config, http: Object.freeze(config.http), realtime: Object.freeze(config.realtime) });
}

/** GALLEY_S3_*: a bucket turns S3 storage on; the rest must then make sense together. */
function parseS3(env: NodeJS.ProcessEnv): S3Config | null {
  const bucket = env['GALLEY_S3_BUCKET'] || '';
  const others = ['GALLEY_S3_ENDPOINT', 'GALLEY_S3_REGION', 'GALLEY_S3_ACCESS_KEY', 'GALLEY_S3_SECRET', 'GALLEY_S3_FORCE_PATH_STYLE'].filter((k) => env[k]);
  if (!bucket) {
    if (others.length > 0) throw new ConfigError(`${others.join(', ')} set without GALLEY_S3_BUCKET`);
    return null;
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError(`Invalid GALLEY_S3_BUCKET "${bucket}": expected an S3 bucket name (3-63 of a-z 0-9 . -)`);
  const endpoint = env['GALLEY_S3_ENDPOINT'] || null;
  if (endpoint && !/^https?:\/\/[^\s/]+/.test(endpoint)) throw new ConfigError(`Invalid GALLEY_S3_ENDPOINT "${endpoint}": expected http(s)://host[:port]`);
  const accessKey = env['GALLEY_S3_ACCESS_KEY'] || null;
  const secret = env['GALLEY_S3_SECRET'] || null;
  if (Boolean(accessKey) !== Boolean(secret)) throw new ConfigError('GALLEY_S3_ACCESS_KEY and GALLEY_S3_SECRET go together: set both or neither');
  const region = env['GALLEY_S3_REGION'] || 'us-east-1';
  if (!/^[a-z0-9-]+$/.test(region)) throw new ConfigError(`Invalid GALLEY_S3_REGION "${region}"`);
  return { bucket, endpoint, region, accessKey, secret, forcePathStyle: parseBool('GALLEY_S3_FORCE_PATH_STYLE', env['GALLEY_S3_FORCE_PATH_STYLE']) ?? false };
}

/**
 * A hop count (`1`), or a comma list of addresses/subnets/names Express knows (`loopback`,
 * `10.0.0.0/8`). `true` (trust everyone) is refused: any client could then pick its own IP and
 * escape the rate limits.
 */
function parseTrustProxy(value: string | undefined): number | string | false {
  if (value === undefined || value.trim() === '' || /^(false|0)$/i.test(value.trim())) return false;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  if (/^true$/i.test(value.trim())) throw new ConfigError('Invalid GALLEY_TRUST_PROXY "true": name the proxies (hop count, addresses or subnets) so clients cannot forge their IP');
  if (!/^[\w.:/,\s-]+$/.test(value)) throw new ConfigError(`Invalid GALLEY_TRUST_PROXY "${value}": expected a hop count or addresses/subnets`);
  return value.trim();
}

/** A bearer token: visible ASCII, no spaces, 16+ characters. The message never repeats the value (a secret). */
function parseMetricsToken(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (!/^[\x21-\x7e]{16,}$/.test(value)) throw new ConfigError('Invalid GALLEY_METRICS_TOKEN: expected at least 16 visible ASCII characters without spaces');
  return value;
}

/** `N/SECONDS` (e.g. `60/60`), or `0` for no limit. */
function parseRateLimit(name: string, value: string): RateLimit {
  if (/^0+$/.test(value.trim())) return { max: 0, windowSeconds: 1 };
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  if (!m || Number(m[2]) === 0) throw new ConfigError(`Invalid ${name} "${value}": expected N/SECONDS (e.g. 60/60) or 0`);
  return { max: Number(m[1]), windowSeconds: Number(m[2]) };
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

function positive(name: string, value: string): number {
  const n = parseInteger(name, value);
  if (n === 0) throw new ConfigError(`Invalid ${name} "${value}": expected a whole number above 0`);
  return n;
}

function parseInteger(name: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(`Invalid ${name} "${value}": expected a whole number`);
  return Number(value);
}

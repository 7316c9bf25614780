import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type LabelValues, type RegistryContentType } from 'prom-client';

/**
 * Prometheus metrics (prom-client), one registry per app (no module-level registry). Label values
 * are bounded by construction: routes are templates named by the HTTP layer, methods and statuses
 * come from short fixed sets, realtime actions and file directions are enums.
 */
export interface Metrics {
  http: HttpMetrics;
  realtime: RealtimeMetrics;
  files: FileMetrics;
  /** The exposition: OpenMetrics (with exemplars) when `openMetrics`, else Prometheus text 0.0.4. */
  render(openMetrics: boolean): Promise<{ contentType: string; body: string }>;
}

export interface HttpMetrics {
  /** A request started: the in-flight gauge goes up; call the returned function once when it ends. */
  started(): () => void;
  /** A finished request; `requestId` becomes the exemplar of its duration bucket (OpenMetrics). */
  observe(request: { method: string; route: string; status: number; seconds: number; requestId?: string }): void;
}

/** For the realtime module (SSE): it reports what happens; the gauges stay at 0 until it exists. */
export interface RealtimeMetrics {
  connectionOpened(): void;
  connectionClosed(): void;
  /** The subscription count of one connection changed by `delta`. */
  subscriptionsChanged(delta: number): void;
  /** An event written to a client. */
  eventSent(action: RealtimeAction): void;
}
export type RealtimeAction = 'create' | 'update' | 'delete' | 'custom';

/** For the files module: uploads stored and downloads served, with their sizes. */
export interface FileMetrics {
  uploaded(bytes: number): void;
  downloaded(bytes: number): void;
}

export interface MetricsOptions {
  /** Node's default metrics (CPU, memory, event loop, GC); off in tests that build many apps. */
  defaultMetrics?: boolean;
  /** Database pool size right now (PostgreSQL's pg.Pool counts; SQLite's one connection). */
  pool?: () => { total: number; idle: number; waiting: number };
  /** Rows in `_galley_migrations`, read at scrape time. */
  migrationsApplied?: () => Promise<number>;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Seconds: from a cached health check (~0.1 ms) to a slow batch or sign-in (~2 s). */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** An OpenMetrics exemplar's label set is at most 128 characters (`request_id` + its value). */
const MAX_EXEMPLAR_ID = 128 - 'request_id'.length;

export function createMetrics(options: MetricsOptions = {}): Metrics {
  // prom-client accepts exemplars only from metrics created in an OpenMetrics registry; the
  // registry then serves Prometheus text unless a scrape asks for OpenMetrics (createRenderer).
  const registry = new Registry<RegistryContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requests = new Counter({ name: 'galley_http_requests_total', help: 'HTTP requests answered, by method, route template and status.', labelNames: ['method', 'route', 'status'], registers });
  const duration = new Histogram({
    name: 'galley_http_request_duration_seconds',
    help: 'Time from the request to the end of its response, by method, route template and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: DURATION_BUCKETS,
    enableExemplars: true,
    registers,
  });
  const inFlight = new Gauge({ name: 'galley_http_requests_in_flight', help: 'Requests being handled right now.', registers });

  const pool = options.pool;
  const poolGauge = (name: string, help: string, pick: (s: { total: number; idle: number; waiting: number }) => number) =>
    new Gauge({ name, help, registers, collect() { if (pool) this.set(pick(pool())); } });
  poolGauge('galley_db_pool_connections', 'Open database connections (SQLite: 1).', (s) => s.total);
  poolGauge('galley_db_pool_idle', 'Idle database connections.', (s) => s.idle);
  poolGauge('galley_db_pool_waiting', 'Queries waiting for a database connection.', (s) => s.waiting);
  const migrationsApplied = options.migrationsApplied;
  new Gauge({
    name: 'galley_migrations_applied',
    help: 'Migrations applied to this database (rows of _galley_migrations).',
    registers,
    async collect() {
      if (!migrationsApplied) return;
      // A scrape must not fail because the database is busy or gone: the last value stays.
      const count = await migrationsApplied().catch(() => null);
      if (count !== null) this.set(count);
    },
  });

  const connections = new Gauge({ name: 'galley_realtime_connections', help: 'Open realtime (SSE) connections.', registers });
  const subscriptions = new Gauge({ name: 'galley_realtime_subscriptions', help: 'Subscriptions of the open realtime connections.', registers });
  const events = new Counter({ name: 'galley_realtime_events_total', help: 'Realtime events sent to clients, by action.', labelNames: ['action'], registers });
  const fileCount = new Counter({ name: 'galley_files_total', help: 'Files uploaded and downloaded, by direction.', labelNames: ['direction'], registers });
  const fileBytes = new Counter({ name: 'galley_files_bytes_total', help: 'Bytes of files uploaded and downloaded, by direction.', labelNames: ['direction'], registers });
  // Every label pair exists from the start, so a scrape shows 0 rather than nothing.
  for (const action of ['create', 'update', 'delete', 'custom']) events.inc({ action }, 0);
  for (const direction of ['upload', 'download']) {
    fileCount.inc({ direction }, 0);
    fileBytes.inc({ direction }, 0);
  }

  registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
  const render = createRenderer(registry);
  return {
    http: {
      started() {
        inFlight.inc();
        let done = false;
        return () => {
          if (done) return;
          done = true;
          inFlight.dec();
        };
      },
      observe({ method, route, status, seconds, requestId }) {
        const labels = { method: METHODS.has(method) ? method : 'OTHER', route, status: String(status) };
        requests.inc(labels);
        // prom-client types exemplar labels like the metric's own; they are a separate set.
        const exemplarLabels = (requestId && requestId.length <= MAX_EXEMPLAR_ID ? { request_id: requestId } : {}) as LabelValues<string>;
        duration.observe({ labels, value: seconds, exemplarLabels });
      },
    },
    realtime: {
      connectionOpened: () => connections.inc(),
      connectionClosed: () => connections.dec(),
      subscriptionsChanged: (delta) => subscriptions.inc(delta),
      eventSent: (action) => events.inc({ action }),
    },
    files: {
      uploaded(bytes) {
        fileCount.inc({ direction: 'upload' });
        fileBytes.inc({ direction: 'upload' }, bytes);
      },
      downloaded(bytes) {
        fileCount.inc({ direction: 'download' });
        fileBytes.inc({ direction: 'download' }, bytes);
      },
    },
    render,
  };
}

/**
 * prom-client fixes a registry's format, and rendering OpenMetrics renames its counters in place
 * (`galley_http_requests_total` → `galley_http_requests`, then `_total` is added per sample). So
 * the format is switched for one scrape at a time and the names put back afterwards.
 */
function createRenderer(registry: Registry<RegistryContentType>): Metrics['render'] {
  let queue: Promise<unknown> = Promise.resolve();
  const renderOnce = async (openMetrics: boolean) => {
    if (!openMetrics) return { contentType: registry.contentType, body: await registry.metrics() };
    const names = registry.getMetricsAsArray().map((m) => [m, (m as unknown as { name: string }).name] as const);
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    try {
      return { contentType: registry.contentType, body: await registry.metrics() };
    } finally {
      registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
      for (const [metric, name] of names) (metric as unknown as { name: string }).name = name;
    }
  };
  return (openMetrics) => {
    const result = queue.then(() => renderOnce(openMetrics));
    queue = result.catch(() => {});
    return result;
  };
}

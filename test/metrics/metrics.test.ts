import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createHttpApp } from '../../src/http/index.js';
import { createMetrics } from '../../src/metrics/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

/** Prometheus asks for OpenMetrics first (its default scrape_protocols). */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

/** The value of one sample (`name{labels} value`), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Every `galley_http_*` series (name + label set): what a time-series database would store. */
function httpSeries(text: string): Set<string> {
  return new Set(text.split('\n').filter((l) => l.startsWith('galley_http_')).map((l) => l.replace(/ [^ ]+( # .*)?$/, '')));
}

describe.each(DIALECTS)('GET /metrics (%s)', (dialect) => {
  let t: TestApp;
  let su: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    su = await t.superuserToken();
  });
  afterAll(async () => {
    await t?.close();
  });

  const scrape = async (accept = 'text/plain') => {
    const res = await request(t.http).get('/metrics').set('Accept', accept).expect(200);
    return res;
  };

  it('counts and times requests by method, route template and status', async () => {
    const before = sample((await scrape()).text, 'galley_http_requests_total', { method: 'GET', route: '/api/health', status: '200' }) ?? 0;
    for (let i = 0; i < 3; i++) await request(t.http).get('/api/health').expect(200);
    const post = await t.seed('tags', { name: `metrics-${dialect}` });
    await request(t.http).get(`/api/collections/tags/records/${String(post['id'])}`).expect(200);
    await request(t.http).get('/api/collections/tags/records/nosuchrecord00').expect(404);
    const text = (await scrape()).text;
    expect(sample(text, 'galley_http_requests_total', { method: 'GET', route: '/api/health', status: '200' })).toBe(before + 3);
    expect(sample(text, 'galley_http_requests_total', { route: '/api/collections/:collection/records/:id', status: '200' })).toBe(1);
    expect(sample(text, 'galley_http_requests_total', { route: '/api/collections/:collection/records/:id', status: '404' })).toBe(1);
    expect(sample(text, 'galley_http_request_duration_seconds_count', { route: '/api/collections/:collection/records/:id', status: '200' })).toBe(1);
    expect(sample(text, 'galley_http_request_duration_seconds_bucket', { route: '/api/health', le: '+Inf' })).toBe(before + 3);
    expect(sample(text, 'galley_http_requests_in_flight')).toBe(1); // the scrape itself
  });

  it('label cardinality stays fixed after 1,000 requests to distinct ids and paths', async () => {
    const round = async (from: number) => {
      for (let i = from; i < from + 500; i++) {
        await request(t.http).get(`/api/collections/posts/records/id${String(i).padStart(13, '0')}`).expect(404);
        await request(t.http).get(`/no/such/path/${i}?q=${i}`).expect(404);
      }
    };
    await round(0);
    const after500 = httpSeries((await scrape()).text);
    await round(500);
    const text = (await scrape()).text;
    expect(httpSeries(text)).toEqual(after500);
    expect(sample(text, 'galley_http_requests_total', { route: '<unmatched>', status: '404' })).toBe(1000);
    expect(sample(text, 'galley_http_requests_total', { route: '/api/collections/:collection/records/:id', status: '404' })).toBeGreaterThanOrEqual(1000);
    expect(text).not.toMatch(/id0000000000/);
  }, 120_000);

  it('database pool and migrations', async () => {
    const text = (await scrape()).text;
    expect(sample(text, 'galley_migrations_applied')).toBeGreaterThanOrEqual(1);
    const total = sample(text, 'galley_db_pool_connections')!;
    if (dialect === 'sqlite') expect(total).toBe(1);
    else expect(total).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'galley_db_pool_idle')).toBeLessThanOrEqual(total);
    expect(sample(text, 'galley_db_pool_waiting')).toBe(0);
  });

  it('realtime and file metrics exist at 0 and move through their interface', async () => {
    let text = (await scrape()).text;
    expect(sample(text, 'galley_realtime_connections')).toBe(0);
    expect(sample(text, 'galley_realtime_events_total', { action: 'create' })).toBe(0);
    expect(sample(text, 'galley_files_total', { direction: 'upload' })).toBe(0);
    t.metrics.realtime.connectionOpened();
    t.metrics.realtime.subscriptionsChanged(2);
    t.metrics.realtime.eventSent('update');
    t.metrics.files.downloaded(1234);
    text = (await scrape()).text;
    expect(sample(text, 'galley_realtime_connections')).toBe(1);
    expect(sample(text, 'galley_realtime_subscriptions')).toBe(2);
    expect(sample(text, 'galley_realtime_events_total', { action: 'update' })).toBe(1);
    expect(sample(text, 'galley_files_bytes_total', { direction: 'download' })).toBe(1234);
    t.metrics.realtime.connectionClosed();
    t.metrics.realtime.subscriptionsChanged(-2);
  });

  it('OpenMetrics with the request id as an exemplar when the scraper prefers it; Prometheus text otherwise', async () => {
    const res = await request(t.http).get('/api/collections/posts/records').set('X-Request-Id', 'trace-me-123').set('Authorization', su).expect(200);
    expect(res.headers['x-request-id']).toBe('trace-me-123');
    const open = await scrape(PROMETHEUS_ACCEPT);
    expect(open.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(open.text).toMatch(/galley_http_request_duration_seconds_bucket\{[^}]*route="\/api\/collections\/:collection\/records"[^}]*\} \d+ # \{request_id="trace-me-123"\}/);
    expect(open.text.endsWith('# EOF\n')).toBe(true);
    expect(open.text).toMatch(/^# TYPE galley_http_requests counter$/m);
    // The next plain scrape keeps the Prometheus names (`_total` on counters).
    const plain = await scrape('*/*');
    expect(plain.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(plain.text).toMatch(/^# TYPE galley_http_requests_total counter$/m);
    expect(plain.text).not.toContain('# {request_id=');
  });

  it('a request id too long for an exemplar is still counted, without one', async () => {
    const long = 'x'.repeat(125);
    await request(t.http).get('/api/health').set('X-Request-Id', long).expect(200);
    const open = await scrape(PROMETHEUS_ACCEPT);
    expect(open.text).not.toContain(long);
  });
});

describe('GALLEY_METRICS_TOKEN', () => {
  let t: TestApp;
  const token = 'metrics-token-0123456789';
  beforeAll(async () => {
    t = await createTestApp('sqlite', undefined, { metricsToken: token });
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['no Authorization', undefined],
    ['a wrong token', 'Bearer metrics-token-XXXXXXXXXX'],
    ['the token without Bearer', token],
    ['a record token', 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x'],
  ])('%s: 401 in the error shape, with WWW-Authenticate', async (_what, header) => {
    let req = request(t.http).get('/metrics');
    if (header) req = req.set('Authorization', header);
    const res = await req.expect(401);
    expect(res.body).toMatchObject({ status: 401, code: 'unauthorized', data: {} });
    expect(res.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    expect(res.text).not.toContain('galley_http');
  });

  it('the right bearer token (any case of "Bearer") is let in', async () => {
    await request(t.http).get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
    const res = await request(t.http).get('/metrics').set('Authorization', `bearer ${token}`).expect(200);
    expect(res.text).toContain('galley_http_requests_total');
  });
});

describe('metrics off', () => {
  it('without metrics there is no /metrics route and no request metrics', async () => {
    const http = createHttpApp({ log: pino({ level: 'silent' }) });
    const res = await request(http).get('/metrics').expect(404);
    expect(res.body).toMatchObject({ code: 'not_found' });
  });

  it('the in-flight gauge goes down once per request, however often its end is reported', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const end = metrics.http.started();
    metrics.http.started()();
    end();
    end();
    const { body } = await metrics.render(false);
    expect(sample(body, 'galley_http_requests_in_flight')).toBe(0);
  });

  it('Node default metrics are there unless turned off', async () => {
    expect((await createMetrics().render(false)).body).toContain('process_cpu_seconds_total');
    expect((await createMetrics({ defaultMetrics: false }).render(false)).body).not.toContain('process_cpu_seconds_total');
  });
});

/**
 * A client that stops reading cannot make the server buffer without bound: once its unsent output
 * passes the limit (GALLEY_REALTIME_BUFFER_BYTES) the stream is dropped and the log says so,
 * while a client that reads keeps receiving.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { postSubscriptions, SseStream } from '../helpers/sse.js';
import { eventually } from '../helpers/wait.js';

describe.each(DIALECTS)('realtime back-pressure (%s)', (dialect) => {
  let t: TestApp;
  const lines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    t = await createTestApp(dialect, undefined, { log: pino({ level: 'warn' }, sink), realtime: { maxBufferBytes: 1024 * 1024 } });
  });
  afterAll(() => t?.close());

  it('drops a client that stops reading once its backlog passes the limit, and logs it', async () => {
    const url = await t.listen();
    const stalled = await SseStream.connect(url);
    const reader = await SseStream.connect(url);
    for (const s of [stalled, reader]) expect((await postSubscriptions(url, { clientId: s.clientId, subscriptions: ['flood'] })).status).toBe(204);
    stalled.res.pause();
    const chunk = 'x'.repeat(64 * 1024);
    let sent = 0;
    // The kernel's socket buffers take the first megabytes; keep sending (at the pace of the client that
    // reads, whose backlog so stays under the limit) until the server gives up on the stalled one.
    await eventually(async () => {
      for (let i = 0; i < 4; i++) await t.realtime.send('flood', { n: ++sent, chunk });
      await eventually(() => reader.events('flood').length === sent);
      return t.realtime.hub.client(stalled.clientId) === undefined;
    }, 60_000);
    expect(t.realtime.hub.client(reader.clientId)).toBeDefined();
    await eventually(() => reader.events('flood').length === sent);
    expect(lines.some((l) => String(l['msg']).includes(`dropped client ${stalled.clientId}`))).toBe(true);
    stalled.close();
    reader.close();
  }, 90_000);
});

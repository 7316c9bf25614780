import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/http/index.js';

/** The JSON lines a logger wrote. */
function capture(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

/** Polls until the request's log line is written (it is written when the response finishes). */
async function lineOf(lines: Record<string, unknown>[], reqId: string): Promise<Record<string, unknown>> {
  for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((r) => setTimeout(r, 10))) {
    const found = lines.find((l) => l['reqId'] === reqId && l['msg'] === 'request');
    if (found) return found;
  }
  throw new Error(`no log line for ${reqId}`);
}

describe('the request log line', () => {
  it('an error answer: its request id (as in X-Request-Id) and its error code', async () => {
    const { log, lines } = capture();
    const res = await request(createHttpApp({ log })).get('/api/nope').set('X-Request-Id', 'err-trace-1').expect(404);
    expect(res.headers['x-request-id']).toBe('err-trace-1');
    expect(res.body).toMatchObject({ code: 'not_found' });
    expect(await lineOf(lines, 'err-trace-1')).toMatchObject({ status: 404, code: 'not_found', url: '/api/nope' });
  });

  it('a success has no code', async () => {
    const { log, lines } = capture();
    const res = await request(createHttpApp({ log })).get('/api/health').expect(200);
    const line = await lineOf(lines, String(res.headers['x-request-id']));
    expect(line).toMatchObject({ status: 200 });
    expect(line).not.toHaveProperty('code');
  });
});

import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import fc from 'fast-check';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/index.js';
import { DEFAULT_BODY_LIMIT, inferFormValue, readRequestBody, recordBodyLimit } from '../../src/http/body.js';
import { formatFloat } from '../../src/records/input.js';
import { schemaOf } from '../helpers/schema.js';

const LIMIT = 1024;

/** A tiny app echoing the parsed body; without a spool, file parts are only counted (their bytes are not kept). */
function echoApp() {
  const app = express();
  app.all('/echo', async (req, res) => {
    const body = await readRequestBody(req, { limitBytes: LIMIT });
    res.json({
      data: body.data,
      files: body.files.map(({ path: _path, name: _name, ...file }) => file),
    });
  });
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    const e = err instanceof AppError ? err : new AppError('internal');
    res.status(e.status).json({ status: e.status, message: e.message, data: e.data });
  };
  app.use(onError);
  return app;
}

const app = echoApp();
const api = () => supertest(app);

describe('readRequestBody: JSON', () => {
  it('parses a JSON object', async () => {
    const res = await api().post('/echo').send({ title: 'x', n: 1, tags: ['a'] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { title: 'x', n: 1, tags: ['a'] }, files: [] });
  });

  it.each(['GET', 'DELETE'] as const)('treats %s with a JSON content type and no body as {} (what the SDK sends)', async (method) => {
    const res = await api()[method === 'GET' ? 'get' : 'delete']('/echo').set('Content-Type', 'application/json');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({});
  });

  it('treats Content-Length: 0 as no data, whatever the content type', async () => {
    for (const type of ['application/json', 'text/plain', 'multipart/form-data']) {
      const res = await api().post('/echo').set('Content-Type', type).set('Content-Length', '0');
      expect(res.status, type).toBe(200);
      expect(res.body.data).toEqual({});
    }
  });

  it('accepts a charset parameter and upper-case media types', async () => {
    const res = await api().post('/echo').set('Content-Type', 'Application/JSON; charset=utf-8').send('{"a":"é"}');
    expect(res.body.data).toEqual({ a: 'é' });
  });

  it.each([
    ['invalid JSON', '{"a":'],
    ['trailing garbage', '{"a":1} x'],
    ['null', 'null'],
    ['an array', '[1,2]'],
    ['a number', '5'],
    ['a string', '"s"'],
  ])('rejects %s with 400 and data {}', async (_name, text) => {
    const res = await api().post('/echo').set('Content-Type', 'application/json').send(text);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ status: 400, message: 'Failed to load the submitted data due to invalid formatting.', data: {} });
  });
});

describe('readRequestBody: other content types and limits', () => {
  it('returns the same result when called twice on one request (the stream is read once)', async () => {
    const twice = express();
    twice.post('/', async (req, res) => {
      const first = await readRequestBody(req);
      const second = await readRequestBody(req);
      res.json({ same: first === second, data: second.data });
    });
    const res = await supertest(twice).post('/').send({ a: 1 });
    expect(res.body).toEqual({ same: true, data: { a: 1 } });
  });

  it('raises the record body limit by the per-field maximum sizes', () => {
    const schema = schemaOf({
      name: 'posts',
      fields: [
        { name: 'docs', type: 'file', maxSelect: 3, maxSize: 1000 },
        { name: 'cover', type: 'file' },
        { name: 'body', type: 'editor' },
        { name: 'meta', type: 'json', maxSize: 10 },
        { name: 'title', type: 'text' },
      ],
    });
    expect(recordBodyLimit(schema.byName.get('posts')!)).toBe(DEFAULT_BODY_LIMIT + 3000 + (5 << 20) + (5 << 20) + 10);
  });

  it('rejects an unsupported content type that has a body', async () => {
    const res = await api().post('/echo').set('Content-Type', 'text/plain').send('hello');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ status: 400, message: 'Unsupported Content-Type.', data: {} });
  });

  it('rejects a body without a content type', async () => {
    const res = await api().post('/echo').unset('Content-Type').send(Buffer.from('x=1'));
    expect(res.status).toBe(400);
  });

  it('answers 413 when the declared length exceeds the limit', async () => {
    const res = await api().post('/echo').send({ big: 'x'.repeat(LIMIT) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ status: 413, message: 'Request entity too large.', data: {} });
  });

  it('answers 413 for an oversized multipart body', async () => {
    const res = await api().post('/echo').field('big', 'x'.repeat(LIMIT));
    expect(res.status).toBe(413);
  });

  it('accepts a body exactly at the limit', async () => {
    const text = JSON.stringify({ v: 'x'.repeat(LIMIT - 8) });
    expect(Buffer.byteLength(text)).toBe(LIMIT);
    const res = await api().post('/echo').set('Content-Type', 'application/json').send(text);
    expect(res.status).toBe(200);
  });

  describe('chunked bodies (no Content-Length)', () => {
    let server: ReturnType<typeof app.listen>;
    let port: number;
    beforeAll(async () => {
      server = app.listen(0);
      await new Promise((resolve) => server.once('listening', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    const sendChunked = (chunks: string[]) =>
      new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const req = httpRequest({ port, path: '/echo', method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        for (const chunk of chunks) req.write(chunk);
        req.end();
      });

    it('parses a chunked JSON body', async () => {
      const res = await sendChunked(['{"a":', '1}']);
      expect(res).toEqual({ status: 200, body: { data: { a: 1 }, files: [] } });
    });

    it('treats an empty chunked body as {}', async () => {
      const res = await sendChunked([]);
      expect(res.status).toBe(200);
    });

    it('stops at the limit while streaming', async () => {
      const res = await sendChunked(['{"a":"', 'x'.repeat(LIMIT), '"}']);
      expect(res.status).toBe(413);
    });
  });
});

describe('readRequestBody: multipart', () => {
  // One row per inference rule (PocketBase's inferValue).
  const inference: [raw: string, expected: unknown][] = [
    ['true', true],
    ['false', false],
    ['12', 12],
    ['-1.5', -1.5],
    ['0', 0],
    ['0.5', 0.5],
    ['007', '007'],
    ['1.0', '1.0'],
    ['1e3', '1e3'],
    ['.5', '.5'],
    ['1.', '1.'],
    ['-', '-'],
    ['', ''],
    ['True', 'True'],
    ['abc', 'abc'],
    ['12345678901234567890', '12345678901234567890'],
  ];

  it.each(inference)('infers %j as %j', async (raw, expected) => {
    const res = await api().post('/echo').field('v', raw);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ v: expected });
  });

  it('turns repeated keys into arrays of inferred values', async () => {
    const res = await api().post('/echo').field('tags', 'a').field('tags', '2').field('tags', 'true').field('one', 'x');
    expect(res.body.data).toEqual({ tags: ['a', 2, true], one: 'x' });
  });

  it('merges several @jsonPayload parts in order, later keys overwriting earlier ones and plain fields', async () => {
    const res = await api()
      .post('/echo')
      .field('title', 'plain')
      .field('@jsonPayload', JSON.stringify({ meta: { a: 1 }, list: [1, 2], title: 'from json' }))
      .field('@jsonPayload', JSON.stringify({ meta: { b: 2 }, extra: null }))
      .field('@jsonPayload', 'null');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ title: 'from json', meta: { b: 2 }, list: [1, 2], extra: null });
  });

  it.each([
    ['invalid JSON', '{nope'],
    ['an array', '[1]'],
    ['a number', '3'],
  ])('rejects a @jsonPayload that is %s', async (_name, payload) => {
    const res = await api().post('/echo').field('@jsonPayload', payload);
    expect(res.status).toBe(400);
    expect(res.body.data).toEqual({});
  });

  it('collects file parts as uploads', async () => {
    const res = await api()
      .post('/echo')
      .field('title', 'x')
      .attach('docs', Buffer.from('hello'), { filename: 'a.txt', contentType: 'text/plain' })
      .attach('docs+', Buffer.from('{}'), { filename: 'b.json', contentType: 'application/json' });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ title: 'x' });
    expect(res.body.files).toEqual([
      { field: 'docs', filename: 'a.txt', mimeType: 'text/plain', size: 5 },
      { field: 'docs+', filename: 'b.json', mimeType: 'application/json', size: 2 },
    ]);
  });

  it('keeps UTF-8 file names and treats unnamed octet-stream parts as values (as Go does)', async () => {
    const boundary = 'XyZ';
    const body = [
      `--${boundary}`,
      'Content-Disposition: form-data; name="f"; filename="résumé.txt"',
      'Content-Type: text/plain',
      '',
      'cv',
      `--${boundary}`,
      'Content-Disposition: form-data; name="raw"',
      'Content-Type: application/octet-stream',
      '',
      '42',
      `--${boundary}--`,
      '',
    ].join('\r\n');
    const res = await api().post('/echo').set('Content-Type', `multipart/form-data; boundary=${boundary}`).send(body);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ raw: 42 }); // a value like any other, so inferred
    expect(res.body.files).toMatchObject([{ field: 'f', filename: 'résumé.txt', size: 2 }]);
  });

  it.each([
    ['a missing boundary', 'multipart/form-data', '--x\r\n'],
    ['a truncated form', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue'],
  ])('rejects %s with 400', async (_name, type, text) => {
    const res = await api().post('/echo').set('Content-Type', type).send(text);
    expect(res.status).toBe(400);
  });
});

describe('readRequestBody: urlencoded', () => {
  it('applies the same inference, repeated keys and @jsonPayload', async () => {
    const res = await api()
      .post('/echo')
      .type('form')
      .send('a=1&b=true&c=007&a=x&d=&%40jsonPayload=%7B%22j%22%3A%5B1%5D%7D');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ a: [1, 'x'], b: true, c: '007', d: '', j: [1] });
  });
});

describe('inferFormValue', () => {
  it('keeps negative zero as a number', () => {
    expect(Object.is(inferFormValue('-0'), -0)).toBe(true);
  });

  it('never throws, and only yields numbers that format back to the raw text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^-?[0-9.]{1,25}$/)), (raw) => {
        const value = inferFormValue(raw);
        if (typeof value === 'number') expect(formatFloat(value)).toBe(raw);
        else if (typeof value === 'string') expect(value).toBe(raw);
        else expect(raw === 'true' || raw === 'false').toBe(true);
      }),
    );
  });

  it('round-trips every finite double through its Go formatting', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        expect(Object.is(inferFormValue(formatFloat(d)), d)).toBe(true);
      }),
    );
  });

  it.each([
    [1e21, '1000000000000000000000'],
    [1e-7, '0.0000001'],
    [1.5e-7, '0.00000015'],
    [123.456, '123.456'],
    [-2.5e22, '-25000000000000000000000'],
    [5e-324, `0.${'0'.repeat(323)}5`],
  ])('formats %d like Go FormatFloat(v, f, -1)', (value, text) => {
    expect(formatFloat(value)).toBe(text);
  });
});

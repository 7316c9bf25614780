/**
 * The hand-written baseline of the files benchmark: express 5 + busboy streaming each upload to a
 * file on the same disk, and downloads streamed back with a Content-Length. No database, no
 * validation: the floor Galley is measured against. `tsx files-express-busboy.ts PORT DIR`.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import express from 'express';

const [port, dir] = [Number(process.argv[2]), process.argv[3]!];
await mkdir(dir, { recursive: true });
const app = express();
app.post('/upload', (req, res) => {
  const parser = busboy({ headers: req.headers });
  const names: Promise<string>[] = [];
  parser.on('file', (_field, stream) => {
    const name = randomUUID();
    names.push(pipeline(stream, createWriteStream(join(dir, name))).then(() => name));
  });
  parser.on('close', () => void Promise.all(names).then((n) => res.json({ files: n })));
  req.pipe(parser);
});
app.get('/files/:name', async (req, res) => {
  const path = join(dir, req.params.name);
  const s = await stat(path).catch(() => null);
  if (!s) return void res.status(404).end();
  res.setHeader('Content-Length', String(s.size));
  res.setHeader('Content-Type', 'application/octet-stream');
  await pipeline(createReadStream(path), res);
});
app.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));

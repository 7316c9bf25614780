/**
 * The hand-written baselines of the files benchmark: express 5 + busboy streaming each upload to a
 * file on the same disk, downloads streamed back with a Content-Length.
 * `tsx files-express-busboy.ts PORT DIR MODE`, MODE being
 * - `record` (the fair one for "upload a file to a record"): the upload also INSERTs a row holding
 *   the file name (better-sqlite3, Galley's pragmas) and answers the row as JSON; a download first
 *   looks the row up and checks that it holds the name (404 otherwise), as Galley does.
 * - `disk`: no database at all, only the file (the floor; kept to show both figures).
 * Neither validates, checks rules or sniffs types: that is Galley's extra work.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import busboy from 'busboy';
import express, { type Request } from 'express';
import { newId, nowText, SQLITE_PRAGMAS } from './common.js';

const [port, dir, mode] = [Number(process.argv[2]), process.argv[3]!, process.argv[4] ?? 'record'];
await mkdir(dir, { recursive: true });

interface BlobRow {
  id: string;
  f: string;
  created: string;
  updated: string;
}

const db = mode === 'record' ? new Database(join(dir, 'baseline.db')) : null;
for (const pragma of SQLITE_PRAGMAS) db?.pragma(pragma);
db?.exec('CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY NOT NULL, f TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL)');
const insert = db?.prepare<BlobRow, BlobRow>('INSERT INTO blobs (id, f, created, updated) VALUES (@id, @f, @created, @updated) RETURNING id, f, created, updated');
const byId = db?.prepare<[string], { f: string }>('SELECT f FROM blobs WHERE id = ?');

/** Streams every file part to its own file; resolves with their names once the body is read. */
function receive(req: Request): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const parser = busboy({ headers: req.headers });
    const names: Promise<string>[] = [];
    parser.on('file', (_field, stream) => {
      const name = `blob_${newId().slice(0, 10)}.bin`;
      names.push(pipeline(stream, createWriteStream(join(dir, name))).then(() => name));
    });
    parser.on('error', reject);
    parser.on('close', () => void Promise.all(names).then(resolve, reject));
    req.pipe(parser);
  });
}

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.post('/upload', async (req, res) => {
  const names = await receive(req);
  if (!insert) return void res.json({ files: names });
  const now = nowText();
  const row = insert.get({ id: newId(), f: names[0] ?? '', created: now, updated: now })!;
  res.json({ collectionId: 'blobs', collectionName: 'blobs', ...row });
});
app.get(['/files/:name', '/files/:id/:name'], async (req, res) => {
  const { id, name } = req.params as { id?: string; name: string };
  if (byId && byId.get(id ?? '')?.f !== name) return void res.status(404).end();
  const path = join(dir, name);
  const s = await stat(path).catch(() => null);
  if (!s) return void res.status(404).end();
  res.setHeader('Content-Length', String(s.size));
  res.setHeader('Content-Type', 'application/octet-stream');
  await pipeline(createReadStream(path), res);
});
app.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));

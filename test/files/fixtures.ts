import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Response } from 'superagent';
import type { TestApp } from '../helpers/app.js';

/** Collections for the files suites: single, multiple, typed and protected file fields, and a cascade. */
export const FILE_COLLECTIONS: Record<string, unknown>[] = [
  {
    name: 'users',
    type: 'auth',
    listRule: '',
    viewRule: '',
    fields: [{ name: 'name', type: 'text' }],
  },
  {
    name: 'docs',
    listRule: '',
    viewRule: '',
    createRule: 'title != "forbidden"',
    updateRule: 'title != "locked"',
    deleteRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'file', type: 'file', maxSelect: 1 },
      { name: 'attachments', type: 'file', maxSelect: 3, maxSize: 1000 },
      { name: 'image', type: 'file', maxSelect: 1, mimeTypes: ['image/png', 'image/jpeg', 'image/gif', 'image/webp'], thumbs: ['50x40', '50x40t', '50x40b', '50x40f', '0x30', '30x0'] },
    ],
  },
  {
    name: 'notes',
    listRule: '',
    viewRule: '',
    createRule: '',
    fields: [
      { name: 'doc', type: 'relation', collection: 'docs', maxSelect: 1, cascadeDelete: true },
      { name: 'scan', type: 'file', maxSelect: 1 },
    ],
  },
  {
    name: 'vault',
    listRule: 'owner = @request.auth.id',
    viewRule: 'owner = @request.auth.id',
    createRule: '',
    fields: [
      { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1 },
      { name: 'paper', type: 'file', maxSelect: 1, protected: true },
    ],
  },
];

/** A real PNG of the given size (a gradient, so crops differ). */
export function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 90 } } })
    .png()
    .toBuffer();
}

/** Every object key in the app's local storage (uploads_tmp excluded). */
export async function storedKeys(t: TestApp): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of t.files.storage.list()) keys.push(key);
  return keys.sort();
}

/** Temp files of uploads still waiting (should be none once a request is answered). */
export async function spooled(t: TestApp): Promise<string[]> {
  return readdir(join(t.dataDir, 'uploads_tmp')).catch(() => []);
}

/** A supertest parser that keeps a response body as bytes. */
export function binary(res: Response, cb: (err: Error | null, body: unknown) => void): void {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
}

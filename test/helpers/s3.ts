import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { S3Options } from '../../src/files/index.js';

export interface TestS3 {
  options: S3Options;
  close(): Promise<void>;
}

/** A real S3-compatible server (s3rver) on 127.0.0.1, a free port, with a fresh bucket. */
export async function startS3(bucket = 'galley-test'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'galley-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  return {
    // s3rver accepts the S3RVER/S3RVER key pair.
    options: { bucket, endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', accessKey: 'S3RVER', secret: 'S3RVER', forcePathStyle: true },
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

import { createReadStream } from 'node:fs';
import { stat as statFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../../config/index.js';
import { openByStat } from './opened.js';
import type { ByteRange, FileStorage, OpenedObject, StoredObject } from './types.js';

/** The bucket and credentials, as the config validated them at start (GALLEY_S3_*). */
export type S3Options = S3Config;

type Sdk = typeof import('@aws-sdk/client-s3');

/**
 * Files in an S3-compatible bucket, keys as PocketBase's (`collectionId/recordId/name`), so every
 * node of a cluster sees the same files. The AWS SDK loads with the first file operation.
 */
export class S3Storage implements FileStorage {
  readonly kind = 's3' as const;
  private client: Promise<{ sdk: Sdk; s3: S3Client }> | null = null;

  constructor(private readonly options: S3Options) {}

  private connect(): Promise<{ sdk: Sdk; s3: S3Client }> {
    this.client ??= import('@aws-sdk/client-s3').then((sdk) => {
      const o = this.options;
      const s3 = new sdk.S3Client({
        region: o.region,
        forcePathStyle: o.forcePathStyle,
        // Checksums only where S3 requires them: the default (aws-chunked bodies with trailing
        // checksums) is not understood by many S3-compatible servers, which store the framing.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
        ...(o.accessKey && o.secret ? { credentials: { accessKeyId: o.accessKey, secretAccessKey: o.secret } } : {}),
      });
      return { sdk, s3 };
    });
    return this.client;
  }

  async put(key: string, source: string | Buffer, contentType: string): Promise<void> {
    if (Buffer.isBuffer(source)) return this.putBuffer(key, source, contentType);
    const { sdk, s3 } = await this.connect();
    const { size } = await statFile(source);
    // Streamed from the spooled file: memory stays flat whatever the size.
    await s3.send(new sdk.PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: createReadStream(source), ContentLength: size, ContentType: contentType }));
  }

  async putBuffer(key: string, data: Buffer, contentType: string): Promise<void> {
    const { sdk, s3 } = await this.connect();
    await s3.send(new sdk.PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: data, ContentType: contentType }));
  }

  async stat(key: string): Promise<StoredObject | null> {
    const { sdk, s3 } = await this.connect();
    try {
      const head = await s3.send(new sdk.HeadObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return { size: Number(head.ContentLength ?? 0), modified: head.LastModified ?? new Date(0) };
    } catch (err) {
      if (missing(err)) return null;
      throw err;
    }
  }

  open(key: string): Promise<OpenedObject | null> {
    return openByStat(this, key);
  }

  async read(key: string, range?: ByteRange): Promise<Readable | null> {
    const { sdk, s3 } = await this.connect();
    try {
      const got = await s3.send(new sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }));
      return got.Body as Readable;
    } catch (err) {
      if (missing(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const { sdk, s3 } = await this.connect();
    await s3.send(new sdk.DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }));
  }

  async deletePrefix(prefix: string): Promise<void> {
    const keys: string[] = [];
    for await (const { key } of this.listPrefix(prefix)) keys.push(key);
    // One by one: DeleteObjects needs checksums that not every S3-compatible server accepts.
    for (const key of keys) await this.delete(key);
  }

  list(): AsyncIterable<{ key: string; modified: Date }> {
    return this.listPrefix('');
  }

  private async *listPrefix(prefix: string): AsyncIterable<{ key: string; modified: Date }> {
    const { sdk, s3 } = await this.connect();
    let token: string | undefined;
    do {
      const page = await s3.send(new sdk.ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) if (o.Key) yield { key: o.Key, modified: o.LastModified ?? new Date(0) };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}

function missing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

import type { Schema } from '../schema/index.js';
import { authComponents, authPaths, authResponseSchema } from './auth.js';
import { sharedComponents } from './components.js';
import type { JsonSchema } from './field-schemas.js';
import { recordComponents, recordPaths } from './records.js';
import { describeSchema, type CollectionShape } from './shape.js';
import { METRICS_SECURITY, SYSTEM_TAGS, systemPaths, systemSchemas } from './system.js';

/** An OpenAPI 3.1 document (plain JSON). */
export type OpenApiDocument = Record<string, unknown> & { openapi: string; paths: Record<string, Record<string, unknown>> };

export interface DocumentOptions {
  /** `info.title`; default `Galley API`. */
  title?: string;
}

const DESCRIPTION = [
  'The REST API of this Galley server, generated from its collection files. It is compatible with PocketBase\'s Web API: the unmodified `pocketbase` JS SDK works against it.',
  '',
  'Every error answers `{status, code, message, data}`; every response carries an `X-Request-Id`. Record responses carry an `ETag` (send it in `If-Match` to refuse lost updates); `POST` and `PATCH` take an `Idempotency-Key`. JSON over 1 KB is compressed when the client accepts gzip or brotli.',
  '',
  'Records are described as the collection files define them today: a record written before a field\'s options changed can hold a value outside the current constraints.',
].join('\n');

const documents = new WeakMap<Schema, { title: string | undefined; document: OpenApiDocument }>();

/** The document of a loaded schema, built once and kept while that schema is served. */
export function openApiDocument(schema: Schema, options: DocumentOptions = {}): OpenApiDocument {
  const cached = documents.get(schema);
  if (cached && cached.title === options.title) return cached.document;
  const document = buildOpenApiDocument(schema, options);
  documents.set(schema, { title: options.title, document });
  return document;
}

/**
 * The OpenAPI 3.1 document of a schema: per collection its records endpoints, its auth endpoints
 * (auth collections, enabled methods only) and schemas for records, expand, lists and bodies;
 * then batch, realtime, files, the collections read API, health and metrics. Built once per load.
 */
export function buildOpenApiDocument(schema: Schema, options: DocumentOptions = {}): OpenApiDocument {
  const api = describeSchema(schema);
  const shared = sharedComponents();
  const auth = authComponents();
  const schemas: Record<string, JsonSchema> = { ...shared.schemas, ...systemSchemas(), ...auth.schemas };
  // Shared schemas only some collections need (an unused component is a lint warning).
  const fields = api.collections.flatMap((c) => c.fields);
  if (!fields.some((f) => f.field.type === 'geoPoint')) delete schemas['GeoPoint'];
  if (!api.collections.some((c) => c.auth?.mfa)) delete schemas['MfaRequired'];
  if (!api.collections.some((c) => c.auth?.otp)) delete schemas['OtpSent'];
  const paths: Record<string, Record<string, unknown>> = {};
  for (const shape of api.collections) {
    Object.assign(schemas, recordComponents(shape, api));
    if (shape.auth) schemas[`${shape.typeName}AuthResponse`] = authResponseSchema(shape);
    Object.assign(paths, recordPaths(shape));
    if (shape.auth) Object.assign(paths, authPaths(shape));
  }
  Object.assign(paths, systemPaths());
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ? `${options.title} API` : 'Galley API',
      version: schema.checksum.slice(0, 12),
      description: DESCRIPTION,
    },
    servers: [{ url: '/', description: 'This server' }],
    tags: [...api.collections.map(collectionTag), ...SYSTEM_TAGS],
    paths,
    components: {
      schemas,
      parameters: shared.parameters,
      headers: shared.headers,
      responses: { ...shared.responses, ...auth.responses },
      securitySchemes: { ...shared.securitySchemes, ...METRICS_SECURITY },
    },
  };
}

function collectionTag(shape: CollectionShape): { name: string; description: string } {
  const { collection } = shape;
  const kind = collection.type === 'view' ? 'A view collection (read only)' : collection.type === 'auth' ? 'An auth collection: records that can sign in' : 'A base collection';
  const relations = shape.expand.length ? ` It can expand ${shape.expand.map((e) => `\`${e.key}\``).join(', ')}.` : '';
  return { name: collection.name, description: `${kind}. Records: \`${shape.typeName}Record\`.${relations}` };
}

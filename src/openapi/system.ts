import { AUTH_REQUIRED, GUEST_OR_AUTH, json, ref, schemaRef } from './components.js';

// Collection names are `\w+`: tags with a space never clash with a collection's tag.
const SYSTEM_TAG = 'Health and metrics';
const BATCH_TAG = 'Batch API';
const REALTIME_TAG = 'Realtime API';
const FILES_TAG = 'Files API';
const COLLECTIONS_TAG = 'Collections API';
const GALLEY_TAG = 'Galley endpoints';

/** Schemas of the endpoints that are not per collection. */
export function systemSchemas() {
  return {
    Health: {
      type: 'object',
      required: ['message', 'code', 'data'],
      additionalProperties: false,
      properties: { message: { type: 'string' }, code: { type: 'integer', const: 200 }, data: { type: 'object' } },
    },
    BatchRequest: {
      type: 'object',
      required: ['requests'],
      additionalProperties: false,
      properties: {
        requests: {
          type: 'array',
          minItems: 1,
          maxItems: 50,
          items: {
            type: 'object',
            required: ['method', 'url'],
            properties: {
              method: { type: 'string', enum: ['POST', 'PATCH', 'PUT', 'DELETE'], description: '`PUT .../records` is an upsert by `body.id`.' },
              url: { type: 'string', maxLength: 2000, examples: ['/api/collections/posts/records?expand=author'] },
              headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Merged into the outer request\'s headers (its Authorization is ignored).' },
              body: { type: 'object', description: 'The record body, as for the single-record endpoint.' },
            },
          },
        },
      },
    },
    BatchResponse: {
      type: 'array',
      description: 'One result per request, in order.',
      items: { type: 'object', required: ['status', 'body'], additionalProperties: false, properties: { status: { type: 'integer' }, body: { description: 'The record, or null for a delete.' } } },
    },
    RealtimeSubscriptions: {
      type: 'object',
      required: ['clientId'],
      additionalProperties: false,
      properties: {
        clientId: { type: 'string', minLength: 1, maxLength: 255, description: 'The id of the `PB_CONNECT` event.' },
        subscriptions: {
          type: 'array',
          maxItems: 1000,
          items: { type: 'string', maxLength: 2500 },
          description: 'Replaces the whole set: `COLLECTION/*`, `COLLECTION/RECORD_ID`, each optionally with `?options={"query":{…},"headers":{…}}` (URL-encoded JSON).',
        },
      },
    },
    FileToken: { type: 'object', required: ['token'], additionalProperties: false, properties: { token: { type: 'string', description: 'Short-lived; pass it as `?token=` to download protected files.' } } },
    Collection: {
      type: 'object',
      description: 'A collection as PocketBase serves it (v0.23+ format).',
      required: ['id', 'name', 'type', 'system', 'fields', 'indexes', 'listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule'],
      properties: {
        id: { type: 'string' },
        name: { type: 'string' },
        type: { type: 'string', enum: ['base', 'auth', 'view'] },
        system: { type: 'boolean' },
        fields: { type: 'array', items: { type: 'object', required: ['id', 'name', 'type'], properties: { id: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' } } } },
        indexes: { type: 'array', items: { type: 'string' } },
        listRule: { type: ['string', 'null'] },
        viewRule: { type: ['string', 'null'] },
        createRule: { type: ['string', 'null'] },
        updateRule: { type: ['string', 'null'] },
        deleteRule: { type: ['string', 'null'] },
      },
    },
    CollectionList: {
      type: 'object',
      required: ['items', 'page', 'perPage', 'totalItems', 'totalPages'],
      additionalProperties: false,
      properties: {
        items: { type: 'array', items: schemaRef('Collection') },
        page: { type: 'integer' },
        perPage: { type: 'integer' },
        totalItems: { type: 'integer' },
        totalPages: { type: 'integer' },
      },
    },
    MigrationPlan: {
      type: 'object',
      required: ['steps', 'drift', 'notes'],
      additionalProperties: false,
      properties: {
        steps: {
          type: 'array',
          items: {
            type: 'object',
            required: ['kind', 'risk', 'target', 'summary', 'sql'],
            properties: {
              kind: { type: 'string' },
              risk: { type: 'string', enum: ['safe', 'rewrite', 'destructive'] },
              target: { type: 'string' },
              summary: { type: 'string' },
              sql: { type: 'array', items: { type: 'string' } },
              loss: { type: 'string' },
            },
          },
        },
        drift: { type: 'array', items: { type: 'string' } },
        notes: { type: 'array', items: { type: 'string' } },
      },
    },
  };
}

const superuser = (summary: string, rest: Record<string, unknown>) => ({
  summary,
  tags: [COLLECTIONS_TAG],
  security: AUTH_REQUIRED,
  ...rest,
  responses: { ...(rest['responses'] as object), 401: ref('responses', 'Unauthorized'), 403: ref('responses', 'Forbidden') },
});

/** Health, batch, realtime, files, the collections read API, Galley's own endpoints and /metrics. */
export function systemPaths(): Record<string, Record<string, unknown>> {
  return {
    '/api/health': {
      get: {
        operationId: 'health',
        tags: [SYSTEM_TAG],
        summary: 'Health check',
        security: GUEST_OR_AUTH,
        responses: { 200: { description: 'The server answers.', content: json(schemaRef('Health')) } },
      },
    },
    '/api/batch': {
      post: {
        operationId: 'batch',
        tags: [BATCH_TAG],
        summary: 'Several record writes in one transaction',
        description: 'Creates, updates, upserts (`PUT`) and deletes across collections with the outer request\'s auth and the normal rules; at most 50. Any failure rolls all of them back (400 with `data.requests.<index>.response`). The pocketbase SDK sends it as multipart with `@jsonPayload` and file parts `requests.<index>.<field>`.',
        security: GUEST_OR_AUTH,
        parameters: [ref('parameters', 'idempotencyKey')],
        requestBody: {
          required: true,
          content: {
            ...json(schemaRef('BatchRequest')),
            'multipart/form-data': {
              schema: { type: 'object', required: ['@jsonPayload'], properties: { '@jsonPayload': { type: 'string', contentMediaType: 'application/json', description: 'The BatchRequest as JSON.' } } },
            },
          },
        },
        responses: {
          200: { description: 'Every request succeeded.', headers: { 'Idempotency-Replayed': ref('headers', 'IdempotencyReplayed') }, content: json(schemaRef('BatchResponse')) },
          400: ref('responses', 'WriteFailed'),
          409: ref('responses', 'IdempotencyConflict'),
          413: ref('responses', 'TooLarge'),
        },
      },
    },
    '/api/realtime': {
      get: {
        operationId: 'realtime.connect',
        tags: [REALTIME_TAG],
        summary: 'Open the event stream (SSE)',
        description:
          'Server-sent events. The first event is `PB_CONNECT` with `{"clientId": …}` (also in the event id); then one event per matching subscription, named after it, with `{"action": "create"|"update"|"delete", "record": {…}}`. Each subscriber sees only what its rules let it view. Idle streams close after 5 minutes; the SDK reconnects.',
        security: GUEST_OR_AUTH,
        responses: {
          200: { description: 'The event stream (never compressed).', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        },
      },
      post: {
        operationId: 'realtime.subscribe',
        tags: [REALTIME_TAG],
        summary: 'Set the subscriptions of a connection',
        description: 'The request\'s Authorization becomes the connection\'s identity for rule checks.',
        security: GUEST_OR_AUTH,
        requestBody: { required: true, content: json(schemaRef('RealtimeSubscriptions')) },
        responses: { 204: { description: 'Subscribed.' }, 400: ref('responses', 'BadRequest'), 403: ref('responses', 'Forbidden'), 404: ref('responses', 'NotFound') },
      },
    },
    '/api/files/{collection}/{recordId}/{filename}': {
      parameters: [
        { name: 'collection', in: 'path', required: true, schema: { type: 'string' }, description: 'Collection name or id.' },
        { name: 'recordId', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'filename', in: 'path', required: true, schema: { type: 'string' } },
      ],
      get: {
        operationId: 'files.download',
        tags: [FILES_TAG],
        summary: 'Download a file',
        description: 'Files of protected fields need `token` (from `POST /api/files/token`) and the collection\'s viewRule; others are public to anyone with the URL. Served as stored (never compressed), with range requests.',
        security: [{}],
        parameters: [
          { name: 'thumb', in: 'query', schema: { type: 'string', pattern: '^\\d+x\\d+[tbf]?$' }, description: 'A thumb size listed in the field\'s `thumbs` (or 100x100), for images.' },
          { name: 'download', in: 'query', schema: { type: 'boolean' }, description: '`Content-Disposition: attachment`.' },
          { name: 'token', in: 'query', schema: { type: 'string' }, description: 'A file token, for protected files.' },
        ],
        responses: {
          200: { description: 'The file.', content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
          404: ref('responses', 'NotFound'),
        },
      },
    },
    '/api/files/token': {
      post: {
        operationId: 'files.token',
        tags: [FILES_TAG],
        summary: 'A token for protected files',
        security: AUTH_REQUIRED,
        responses: { 200: { description: 'The token.', content: json(schemaRef('FileToken')) }, 401: ref('responses', 'Unauthorized') },
      },
    },
    '/api/collections': {
      get: superuser('List the collections', {
        operationId: 'collections.list',
        parameters: [ref('parameters', 'page'), ref('parameters', 'perPage')],
        responses: { 200: { description: 'A page of collections.', content: json(schemaRef('CollectionList')) } },
      }),
    },
    '/api/collections/{collection}': {
      get: superuser('View a collection', {
        operationId: 'collections.view',
        parameters: [{ name: 'collection', in: 'path', required: true, schema: { type: 'string' }, description: 'Collection name or id.' }],
        responses: { 200: { description: 'The collection.', content: json(schemaRef('Collection')) }, 404: ref('responses', 'NotFound') },
      }),
    },
    '/api/galley/migrations': {
      get: {
        ...superuser('The pending migration plan', {
          operationId: 'galley.migrations',
          description: 'What `galley migrate` would do now (read only).',
          responses: { 200: { description: 'The plan.', content: json(schemaRef('MigrationPlan')) } },
        }),
        tags: [GALLEY_TAG],
      },
    },
    '/api/openapi.json': {
      get: {
        operationId: 'galley.openapi',
        tags: [GALLEY_TAG],
        summary: 'This document',
        security: [{}],
        responses: { 200: { description: 'OpenAPI 3.1, generated from the collection files.', content: json({ type: 'object' }) }, 304: { description: 'Unchanged (`If-None-Match`).' } },
      },
    },
    '/api/docs': {
      get: {
        operationId: 'galley.docs',
        tags: [GALLEY_TAG],
        summary: 'The API reference page',
        security: [{}],
        responses: { 200: { description: 'An HTML page (Redoc, served by Galley).', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        tags: [SYSTEM_TAG],
        summary: 'Prometheus metrics',
        description:
          'Prometheus text format, or OpenMetrics (with request ids as exemplars on the duration histogram) when the scraper asks for `application/openmetrics-text`. With `GALLEY_METRICS_TOKEN` set, send it as `Authorization: Bearer <token>`.',
        security: [{}, { metricsToken: [] }],
        responses: {
          200: { description: 'The metrics.', content: { 'text/plain': { schema: { type: 'string' } }, 'application/openmetrics-text': { schema: { type: 'string' } } } },
          401: ref('responses', 'Unauthorized'),
        },
      },
    },
  };
}

export const SYSTEM_TAGS = [
  { name: SYSTEM_TAG, description: 'Health and metrics.' },
  { name: BATCH_TAG, description: 'Transactional writes across collections (`/api/batch`).' },
  { name: REALTIME_TAG, description: 'Record events over server-sent events, with per-subscriber rule checks.' },
  { name: FILES_TAG, description: 'Downloads of file fields, and tokens for protected files.' },
  { name: COLLECTIONS_TAG, description: 'The collection definitions, read only, for superusers.' },
  { name: GALLEY_TAG, description: 'Galley\'s own endpoints: the pending migration plan, this document, the reference page.' },
];

export const METRICS_SECURITY = {
  metricsToken: { type: 'http', scheme: 'bearer', description: '`GALLEY_METRICS_TOKEN`, when set.' },
};

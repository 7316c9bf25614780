import { ERROR_CODES } from '../errors/index.js';
import type { JsonSchema } from './field-schemas.js';

/** `#/components/<kind>/<name>`. */
export const ref = (kind: 'schemas' | 'parameters' | 'headers' | 'responses', name: string) => ({ $ref: `#/components/${kind}/${name}` });
export const schemaRef = (name: string) => ref('schemas', name);
export const json = (schema: JsonSchema) => ({ 'application/json': { schema } });

/** The filter language in brief (PocketBase's, see the README). */
const FILTER_SYNTAX = [
  'A PocketBase filter expression, AND-ed with the collection\'s listRule (at most 3500 characters, 200 comparisons).',
  '',
  '- Comparisons: `=`, `!=`, `>`, `>=`, `<`, `<=`, `~` (contains / LIKE, ASCII case-insensitive), `!~`; a `?` prefix (`?=`, `?~`, …) means "any value matches" on multi-valued operands (the plain forms mean "every value").',
  '- Joins `&&`, `||` and parentheses; `//` comments.',
  '- Operands: fields (`title`), relation paths (`author.name`, up to 6 hops), back-relations (`comments_via_post.body`), JSON paths (`metadata.a.b`), text `"…"`/`\'…\'`, numbers, `true`, `false`, `null`.',
  '- Modifiers: `:lower`, `:length` and `:each` (select, relation and file lists).',
  '- Macros: `@now`, `@todayStart`, `@monthEnd`, `@year`, …; functions `geoDistance(lonA, latA, lonB, latB)` and `strftime(format, value)`.',
  '- `@request.*` and `@collection.*` are for superusers only in a client filter (403 otherwise).',
  '',
  'Example: `status = "published" && created >= "2024-01-01" && (title ~ "guide" || tags.name ?= "howto")`.',
].join('\n');

const ERROR_BODY: JsonSchema = {
  type: 'object',
  description: 'PocketBase\'s error body plus Galley\'s stable `code` (see the README\'s error-code table). `data` holds per-field errors (`{code, message, params?}`) when there are any.',
  required: ['status', 'code', 'message', 'data'],
  additionalProperties: false,
  properties: {
    status: { type: 'integer', minimum: 400, maximum: 599 },
    code: { type: 'string', enum: Object.keys(ERROR_CODES) },
    message: { type: 'string' },
    data: { type: 'object' },
  },
};

const GEO_POINT: JsonSchema = {
  type: 'object',
  required: ['lon', 'lat'],
  additionalProperties: false,
  properties: { lon: { type: 'number', minimum: -180, maximum: 180 }, lat: { type: 'number', minimum: -90, maximum: 90 } },
};

function errorResponse(description: string, codes: string[]): Record<string, unknown> {
  const [first] = codes;
  const example = first ? { status: ERROR_CODES[first as keyof typeof ERROR_CODES].status, code: first, message: ERROR_CODES[first as keyof typeof ERROR_CODES].message, data: {} } : undefined;
  return { description: `${description} (\`code\`: ${codes.map((c) => `\`${c}\``).join(', ')}).`, content: { 'application/json': { schema: schemaRef('Error'), ...(example ? { example } : {}) } } };
}

/** Components every document shares: the error body, query parameters, concurrency headers, error responses. */
export function sharedComponents() {
  return {
    securitySchemes: {
      authToken: {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        description: 'A record\'s auth token (from an `auth-with-*` endpoint), as the pocketbase SDK sends it: the raw JWT, or `Bearer <token>`. An invalid or expired token makes the request a guest one on the records API.',
      },
    },
    schemas: {
      Error: ERROR_BODY,
      GeoPoint: GEO_POINT,
    },
    parameters: {
      page: { name: 'page', in: 'query', description: 'Page number, from 1 (values below 1 read as 1).', schema: { type: 'integer', default: 1 } },
      perPage: { name: 'perPage', in: 'query', description: 'Records per page (default 30; above 1000 reads as 1000).', schema: { type: 'integer', default: 30 } },
      sort: {
        name: 'sort',
        in: 'query',
        description: 'Comma-separated fields, `-` for descending (`-created,title`); relation paths, `@random` and `@rowid` work too. At most 8 fields. Without it the order is unspecified.',
        schema: { type: 'string' },
      },
      filter: { name: 'filter', in: 'query', description: FILTER_SYNTAX, schema: { type: 'string', maxLength: 3500 } },
      skipTotal: { name: 'skipTotal', in: 'query', description: 'Skip the count: `totalItems` and `totalPages` are then -1 (faster on large collections).', schema: { type: 'boolean' } },
      expand: {
        name: 'expand',
        in: 'query',
        description: 'Comma-separated relation paths to load into `expand` (`author,tags.owner`), at most 6 levels deep. Related records the requester may not view are left out.',
        schema: { type: 'string' },
      },
      fields: {
        name: 'fields',
        in: 'query',
        description: 'Comma-separated keys to keep in each record (`id,title,expand.author.name`; `*` for all keys of a level; `body:excerpt(200,true)` for a plain-text excerpt). The response schema then describes a superset.',
        schema: { type: 'string' },
      },
      recordId: { name: 'id', in: 'path', required: true, description: 'The record id.', schema: { type: 'string', minLength: 1 } },
      ifMatch: { name: 'If-Match', in: 'header', description: 'An `ETag` from an earlier response: the write fails with 412 when the record changed since.', schema: { type: 'string' } },
      ifNoneMatch: { name: 'If-None-Match', in: 'header', description: 'An `ETag` the client holds: 304 without a body when the record has not changed.', schema: { type: 'string' } },
      idempotencyKey: {
        name: 'Idempotency-Key',
        in: 'header',
        description: 'Makes the request safe to retry: the first response (2xx or 4xx) is kept for 24 hours and replayed (with `Idempotency-Replayed: true`); the same key with another body is a 409.',
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      },
    },
    headers: {
      ETag: { description: 'The record\'s version; it changes on every write. Send it back in `If-Match` or `If-None-Match`.', schema: { type: 'string' } },
      IdempotencyReplayed: { description: '`true` when this is the stored response to an earlier request with the same `Idempotency-Key`.', schema: { type: 'string', enum: ['true'] } },
      RetryAfter: { description: 'Seconds until the limit resets.', schema: { type: 'integer' } },
    },
    responses: {
      BadRequest: errorResponse('Invalid input; `data` names the fields', ['bad_request', 'invalid_body', 'invalid_filter', 'invalid_sort', 'invalid_expand', 'invalid_fields', 'invalid_query']),
      WriteFailed: errorResponse('Validation failed (`data` has one entry per field), the rule refused a create, or a required relation blocks a delete', [
        'create_failed',
        'update_failed',
        'delete_failed',
        'invalid_body',
        'invalid_expand',
        'invalid_fields',
        'bad_request',
      ]),
      Unauthorized: errorResponse('A valid auth token is required', ['unauthorized']),
      Forbidden: errorResponse('Not allowed', ['forbidden', 'filter_forbidden']),
      NotFound: errorResponse('No such record, or the rule hides it', ['not_found', 'collection_not_found']),
      IdempotencyConflict: errorResponse('The Idempotency-Key was used with another request, or that request still runs', ['idempotency_conflict', 'idempotency_in_progress']),
      PreconditionFailed: errorResponse('`If-Match` does not match the record\'s current ETag', ['precondition_failed']),
      TooLarge: errorResponse('The body is over the limit', ['request_too_large']),
      TooManyRequests: {
        ...errorResponse('Rate limited', ['rate_limited']),
        headers: { 'Retry-After': ref('headers', 'RetryAfter') },
      },
      NotModified: { description: 'The record still has the `ETag` sent in `If-None-Match`.', headers: { ETag: ref('headers', 'ETag') } },
    },
  };
}

export const GUEST_OR_AUTH = [{}, { authToken: [] }];
export const AUTH_REQUIRED = [{ authToken: [] }];

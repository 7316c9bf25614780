import { beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument, openApiDocument, type OpenApiDocument } from '../../src/openapi/index.js';
import type { Schema } from '../../src/schema/index.js';
import { allSchemas, exampleSchema, librarySchema } from './fixtures.js';
import { documentAjv, redoclyLint, swaggerParserProblem } from './validators.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Warnings of Redocly's recommended rules that Galley's documents keep on purpose:
 * - `info-license`: the document describes the operator's API, whose license Galley cannot know;
 * - `operation-4xx-response` on the four operations that have no client error: the health check,
 *   the realtime stream (its GET cannot fail), this document and the reference page.
 */
const ACCEPTED_WARNINGS = new Set([
  'info-license #/info',
  'operation-4xx-response #/paths/~1api~1health/get/responses',
  'operation-4xx-response #/paths/~1api~1realtime/get/responses',
  'operation-4xx-response #/paths/~1api~1openapi.json/get/responses',
  'operation-4xx-response #/paths/~1api~1docs/get/responses',
]);

let schemas: [string, Schema][];
let docs: [string, OpenApiDocument][];
beforeAll(async () => {
  schemas = await allSchemas();
  docs = schemas.map(([name, schema]) => [name, buildOpenApiDocument(schema)]);
});

describe('the OpenAPI document is valid under independent validators', () => {
  it('covers the example app, the library fixture, the filter dataset and every corpus export', () => {
    expect(docs.length).toBeGreaterThanOrEqual(20);
  });

  it('@apidevtools/swagger-parser accepts every document', async () => {
    for (const [name, doc] of docs) expect([name, await swaggerParserProblem(doc)]).toEqual([name, null]);
  });

  it('every component schema compiles under ajv (JSON Schema 2020-12, strict)', () => {
    for (const [name, doc] of docs) {
      const ajv = documentAjv(doc as Json as { components: { schemas: Record<string, unknown> } });
      for (const component of Object.keys((doc as Json)['components'].schemas)) {
        expect(() => ajv.compile({ $ref: `doc#/$defs/${component}` }), `${name}: ${component}`).not.toThrow();
      }
    }
  });

  it('@redocly/cli lint (recommended rules): no errors, only the accepted warnings', async () => {
    const problems = await redoclyLint(Object.fromEntries(docs));
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    const unexpected = problems.filter((p) => !ACCEPTED_WARNINGS.has(`${p.ruleId} ${p.pointer}`));
    expect(unexpected).toEqual([]);
    // The lint saw every document (the accepted license warning is reported once per file).
    expect(problems.filter((p) => p.ruleId === 'info-license').length).toBe(docs.length);
  }, 180_000);
});

describe('what the document says about the example app', () => {
  let doc: Json;
  beforeAll(async () => {
    doc = buildOpenApiDocument(await exampleSchema(), { title: 'Blog' });
  });

  it('is OpenAPI 3.1 titled after the app, versioned by the collection files checksum', async () => {
    expect(doc['openapi']).toBe('3.1.0');
    expect(doc['info'].title).toBe('Blog API');
    expect(doc['info'].version).toBe((await exampleSchema()).checksum.slice(0, 12));
  });

  it('documents records CRUD per collection with its own schemas', () => {
    const posts = doc['paths']['/api/collections/posts/records'];
    expect(Object.keys(posts)).toEqual(['get', 'post']);
    expect(Object.keys(doc['paths']['/api/collections/posts/records/{id}'])).toEqual(['parameters', 'get', 'patch', 'delete']);
    expect(posts.get.responses[200].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/PostsList' });
    expect(posts.post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/PostsCreate' });
    // No file field in the example app: no multipart body.
    expect(posts.post.requestBody.content['multipart/form-data']).toBeUndefined();
  });

  it('records are exact: required keys, no extra keys, select enums, hidden auth fields absent', () => {
    const post = doc['components'].schemas.PostsRecord;
    expect(post.additionalProperties).toBe(false);
    expect(post.required).toEqual(expect.arrayContaining(['id', 'title', 'status', 'tags', 'created', 'collectionId', 'collectionName']));
    expect(post.required).not.toContain('expand');
    expect(post.properties.status).toEqual({ type: 'string', enum: ['draft', 'published', 'archived'] });
    expect(post.properties.categories).toMatchObject({ type: 'array', items: { enum: ['news', 'howto', 'release', 'opinion'] }, maxItems: 3, uniqueItems: true });
    // Optional (a hook fills it from the title): '' or the pattern.
    expect(post.properties.slug).toMatchObject({ type: 'string', anyOf: [{ const: '' }, { pattern: '^[a-z0-9-]+$' }] });
    expect(post.properties.title).toMatchObject({ minLength: 3, maxLength: 200 });
    expect(post.properties.views).toMatchObject({ type: 'integer', minimum: 0 });
    const user = doc['components'].schemas.UsersRecord;
    expect(Object.keys(user.properties)).not.toContain('password');
    expect(Object.keys(user.properties)).not.toContain('tokenKey');
    expect(user.properties.email).toBeDefined();
    expect(user.required).not.toContain('email');
    expect(user.properties.role.enum).toEqual(['', 'reader', 'author', 'editor']);
  });

  it('expand lists relations and back-relations, each pointing at the target record', () => {
    const expand = doc['components'].schemas.PostsExpand.properties;
    expect(expand.author).toMatchObject({ $ref: '#/components/schemas/UsersRecord' });
    expect(expand.tags).toMatchObject({ type: 'array', items: { $ref: '#/components/schemas/TagsRecord' } });
    expect(expand.comments_via_post).toMatchObject({ type: 'array', items: { $ref: '#/components/schemas/CommentsRecord' } });
  });

  it('create bodies require what the server requires; update bodies require nothing and take modifiers', () => {
    const create = doc['components'].schemas.PostsCreate;
    expect(create.required.sort()).toEqual(['author', 'status', 'title']);
    expect(create.properties.created).toBeUndefined();
    const update = doc['components'].schemas.PostsUpdate;
    expect(update.required).toBeUndefined();
    expect(Object.keys(update.properties)).toEqual(expect.arrayContaining(['tags+', '+tags', 'tags-', 'views+', 'views-']));
    expect(update.properties.id).toBeUndefined();
    const users = doc['components'].schemas.UsersCreate;
    expect(users.required).toEqual(expect.arrayContaining(['password', 'passwordConfirm', 'email']));
    expect(doc['components'].schemas.UsersUpdate.properties.oldPassword).toBeDefined();
  });

  it('locked rules make an operation superuser-only; open ones allow guests; no rule text is published', () => {
    const tags = doc['paths']['/api/collections/tags/records/{id}'];
    expect(tags.patch.security).toEqual([{ authToken: [] }]);
    expect(tags.patch.responses[403]).toBeDefined();
    expect(tags.get.security).toEqual([{}, { authToken: [] }]);
    expect(JSON.stringify(doc)).not.toContain('@request.auth.id');
  });

  it('ETag, If-Match, If-None-Match and Idempotency-Key with their 304/409/412 answers', () => {
    const one = doc['paths']['/api/collections/posts/records/{id}'];
    const params = (op: Json) => op.parameters.map((p: Json) => p.$ref);
    expect(one.get.responses[200].headers.ETag).toEqual({ $ref: '#/components/headers/ETag' });
    expect(one.get.responses[304]).toBeDefined();
    expect(params(one.get)).toContain('#/components/parameters/ifNoneMatch');
    expect(params(one.patch)).toEqual(expect.arrayContaining(['#/components/parameters/ifMatch', '#/components/parameters/idempotencyKey']));
    expect(one.patch.responses[412]).toBeDefined();
    expect(one.patch.responses[409]).toBeDefined();
    expect(params(one.delete)).toContain('#/components/parameters/ifMatch');
  });

  it('the error body carries Galley\'s code from the catalogue', () => {
    const error = doc['components'].schemas.Error;
    expect(error.required).toEqual(['status', 'code', 'message', 'data']);
    expect(error.properties.code.enum).toEqual(expect.arrayContaining(['not_found', 'precondition_failed', 'invalid_filter']));
  });

  it('auth endpoints only for auth collections and only the enabled methods', () => {
    const paths = Object.keys(doc['paths']);
    expect(paths).toContain('/api/collections/users/auth-with-password');
    expect(paths).toContain('/api/collections/users/request-verification');
    expect(paths).not.toContain('/api/collections/users/request-otp');
    expect(paths).not.toContain('/api/collections/posts/auth-with-password');
    // No verification or email change for superusers.
    expect(paths).not.toContain('/api/collections/_superusers/request-verification');
    expect(paths).not.toContain('/api/collections/_superusers/request-email-change');
    expect(paths).toContain('/api/collections/_superusers/auth-with-password');
    const record = doc['components'].schemas.UsersAuthResponse.properties.record;
    expect(record.allOf[1].required).toEqual(['email']);
  });

  it('documents batch, realtime, files, health, the collections API and metrics', () => {
    expect(Object.keys(doc['paths'])).toEqual(
      expect.arrayContaining(['/api/batch', '/api/realtime', '/api/files/{collection}/{recordId}/{filename}', '/api/files/token', '/api/health', '/api/collections', '/metrics', '/api/openapi.json', '/api/docs']),
    );
    expect(doc['paths']['/api/realtime'].get.responses[200].content['text/event-stream']).toBeDefined();
    expect(doc['components'].securitySchemes.authToken).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization' });
  });

  it('summarises the filter syntax on the filter parameter', () => {
    const filter = doc['components'].parameters.filter.description as string;
    for (const part of ['?=', '&&', '~', ':each', '@now', 'comments_via_post']) expect(filter).toContain(part);
  });
});

describe('what the document says about the library fixture', () => {
  let doc: Json;
  beforeAll(() => {
    doc = buildOpenApiDocument(librarySchema());
  });

  it('file fields get multipart bodies with binary parts', () => {
    const body = doc['paths']['/api/collections/books/records'].post.requestBody.content;
    expect(body['multipart/form-data'].schema).toEqual({ $ref: '#/components/schemas/BooksCreateForm' });
    const form = doc['components'].schemas.BooksCreateForm.properties;
    expect(form.cover).toMatchObject({ type: 'string', contentMediaType: 'application/octet-stream' });
    expect(form.scans).toMatchObject({ type: 'array', maxItems: 4 });
    expect(form['@jsonPayload']).toBeDefined();
    expect(doc['components'].schemas.BooksRecord.properties.scans).toMatchObject({ type: 'array', items: { type: 'string' } });
  });

  it('views are read only and have no ETag', () => {
    expect(Object.keys(doc['paths']['/api/collections/book_stats/records'])).toEqual(['get']);
    expect(Object.keys(doc['paths']['/api/collections/book_stats/records/{id}'])).toEqual(['parameters', 'get']);
    expect(doc['paths']['/api/collections/book_stats/records/{id}'].get.responses[200].headers).toBeUndefined();
    expect(doc['components'].schemas.Book_statsCreate ?? doc['components'].schemas.BookStatsCreate).toBeUndefined();
  });

  it('OTP, MFA and the identity fields of an auth collection', () => {
    const paths = doc['paths'];
    expect(paths['/api/collections/members/request-otp']).toBeDefined();
    expect(paths['/api/collections/members/auth-with-otp'].post.responses[401].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/MfaRequired' });
    const password = paths['/api/collections/members/auth-with-password'].post;
    expect(password.requestBody.content['application/json'].schema.properties.identityField.enum).toEqual(['email', 'username']);
    expect(password.requestBody.content['application/json'].schema.properties.mfaId).toBeDefined();
  });

  it('hidden fields are optional and say who sees them; a unique back-relation is a single record', () => {
    const member = doc['components'].schemas.MembersRecord;
    expect(member.required).not.toContain('notes');
    expect(member.properties.notes.description).toContain('only superusers');
    expect(member.properties.home).toMatchObject({ $ref: '#/components/schemas/GeoPoint' });
    expect(doc['components'].schemas.BooksExpand.properties.loans_via_book).toMatchObject({ $ref: '#/components/schemas/LoansRecord' });
  });

  it('names that PascalCase alike get distinct components', () => {
    expect(doc['components'].schemas.MyShelfRecord.properties.collectionName.const).toBe('my_shelf');
    expect(doc['components'].schemas.MyShelf2Record.properties.collectionName.const).toBe('myShelf');
  });

  it('optional constrained values still accept their empty value', () => {
    const ajv = documentAjv(doc as { components: { schemas: Record<string, unknown> } });
    const validate = ajv.compile({ $ref: 'doc#/$defs/BooksCreate' });
    const valid = { title: 'Dune', authors: ['a1'], format: 'ebook', rating: 3 };
    expect(validate({ ...valid, isbn: '', pages: 0, genres: [] })).toBe(true);
    expect(validate({ ...valid, isbn: '123' })).toBe(false);
    expect(validate({ ...valid, pages: 0.5 })).toBe(false);
    expect(validate({ ...valid, rating: 0 })).toBe(false); // required number: 0 is empty
    expect(validate({ ...valid, titel: 'x' })).toBe(false);
    expect(validate({ ...valid, authors: [] })).toBe(false);
  });
});

describe('built once per loaded schema', () => {
  it('openApiDocument returns the same object for the same schema, a new one for a new schema', async () => {
    const a = await exampleSchema();
    expect(openApiDocument(a)).toBe(openApiDocument(a));
    expect(openApiDocument(await exampleSchema())).not.toBe(openApiDocument(a));
  });

  it('is deterministic: the same files give the same document', async () => {
    expect(JSON.stringify(buildOpenApiDocument(await exampleSchema()))).toBe(JSON.stringify(buildOpenApiDocument(await exampleSchema())));
  });
});

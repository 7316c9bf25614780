import type { Collection, RuleKey } from '../schema/index.js';
import { AUTH_REQUIRED, GUEST_OR_AUTH, json, ref, schemaRef } from './components.js';
import { fieldSchema, type JsonSchema, type SchemaUse } from './field-schemas.js';
import type { ApiShape, CollectionShape, FieldShape } from './shape.js';

/** The component schemas of one collection: record, expand, list, and (unless a view) create/update bodies. */
export function recordComponents(shape: CollectionShape, api: ApiShape): Record<string, JsonSchema> {
  const t = shape.typeName;
  const schemas: Record<string, JsonSchema> = {
    [`${t}Record`]: recordSchema(shape),
    [`${t}Expand`]: expandSchema(shape, api),
    [`${t}List`]: listSchema(t),
  };
  if (shape.writable) {
    schemas[`${t}Create`] = inputSchema(shape, 'create', 'json');
    schemas[`${t}Update`] = inputSchema(shape, 'update', 'json');
    if (shape.hasFiles) {
      schemas[`${t}CreateForm`] = inputSchema(shape, 'create', 'form');
      schemas[`${t}UpdateForm`] = inputSchema(shape, 'update', 'form');
    }
  }
  return schemas;
}

function recordSchema(shape: CollectionShape): JsonSchema {
  const { collection } = shape;
  const isView = collection.type === 'view';
  const fields = shape.fields.filter((f) => f.output !== 'never');
  const properties: Record<string, JsonSchema> = {
    collectionId: { type: 'string', const: collection.id },
    collectionName: { type: 'string', const: collection.name },
  };
  for (const f of fields) properties[f.name] = fieldSchema(f, 'record', isView);
  properties['expand'] = { ...schemaRef(`${shape.typeName}Expand`), description: 'Present when `expand` was requested.' };
  return {
    type: 'object',
    description: `A record of the ${collection.type} collection \`${collection.name}\`${isView ? ' (read-only view)' : ''}.`,
    required: ['collectionId', 'collectionName', ...fields.filter((f) => f.output === 'always').map((f) => f.name)],
    additionalProperties: false,
    properties,
  };
}

function expandSchema(shape: CollectionShape, api: ApiShape): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const e of shape.expand) {
    const target = api.byId.get(e.target.id)!;
    const record = schemaRef(`${target.typeName}Record`);
    const what = e.via ? `\`${e.target.name}\` records whose \`${e.via}\` points here` : `the \`${e.target.name}\` record${e.multiple ? 's' : ''} of \`${e.key}\``;
    properties[e.key] = e.multiple ? { type: 'array', items: record, description: `Expanded: ${what}.` } : { ...record, description: `Expanded: ${what}.` };
  }
  return {
    type: 'object',
    description: `Relations of \`${shape.collection.name}\` loaded by \`expand\`; a key is absent when nothing visible is related.`,
    additionalProperties: false,
    properties,
  };
}

function listSchema(typeName: string): JsonSchema {
  return {
    type: 'object',
    required: ['items', 'page', 'perPage', 'totalItems', 'totalPages'],
    additionalProperties: false,
    properties: {
      items: { type: 'array', items: schemaRef(`${typeName}Record`) },
      page: { type: 'integer', minimum: 1 },
      perPage: { type: 'integer', minimum: 1, maximum: 1000 },
      totalItems: { type: 'integer', minimum: -1, description: '-1 with `skipTotal`.' },
      totalPages: { type: 'integer', minimum: -1, description: '-1 with `skipTotal`.' },
    },
  };
}

/** Body keys of a create or update (records/input.ts), with the auth form keys and the update modifiers. */
function inputSchema(shape: CollectionShape, action: 'create' | 'update', use: SchemaUse): JsonSchema {
  const isAuth = shape.collection.type === 'auth';
  const fields = shape.fields.filter((f) => f.input !== 'no' && (action === 'create' || f.onUpdate));
  const properties: Record<string, JsonSchema> = {};
  for (const f of fields) properties[f.name] = fieldSchema(f, use);
  if (isAuth) {
    properties['passwordConfirm'] = { type: 'string', description: 'Must equal `password`.' };
    if (action === 'update') properties['oldPassword'] = { type: 'string', description: 'The current password: required to change it, unless the requester is a superuser or a manager.' };
  }
  if (action === 'update') Object.assign(properties, modifierProperties(fields, use));
  if (use === 'form') {
    properties['@jsonPayload'] = { type: 'string', contentMediaType: 'application/json', description: 'A JSON object merged into the body (the pocketbase SDK puts object and array values here).' };
  }
  const required = action === 'create' ? [...fields.filter((f) => f.requiredOnCreate).map((f) => f.name), ...(isAuth ? ['passwordConfirm'] : [])] : [];
  return {
    type: 'object',
    description: `${action === 'create' ? 'A new' : 'Changes to a'} \`${shape.collection.name}\` record${use === 'form' ? ' as a multipart form (files as uploads)' : ''}. Unknown keys are ignored by the server.`,
    ...(required.length ? { required } : {}),
    additionalProperties: false,
    properties,
  };
}

/** PocketBase's update modifiers: `n+`/`n-` on numbers, `f+`/`+f`/`f-` on lists, file uploads appended with `f+`. */
function modifierProperties(fields: FieldShape[], use: SchemaUse): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  const ids = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
  for (const f of fields) {
    if (f.field.type === 'number') {
      out[`${f.name}+`] = { type: 'number', description: `Adds to \`${f.name}\`.` };
      out[`${f.name}-`] = { type: 'number', description: `Subtracts from \`${f.name}\`.` };
    } else if (f.multiple && (f.field.type === 'select' || f.field.type === 'relation')) {
      out[`+${f.name}`] = { ...ids, description: `Prepends to \`${f.name}\`.` };
      out[`${f.name}+`] = { ...ids, description: `Appends to \`${f.name}\`.` };
      out[`${f.name}-`] = { ...ids, description: `Removes from \`${f.name}\`.` };
    } else if (f.field.type === 'file') {
      if (use === 'form' && f.multiple) out[`${f.name}+`] = { ...fieldSchema(f, 'form'), description: `Uploads appended to \`${f.name}\`.` };
      out[`${f.name}-`] = { ...ids, description: `Names of files to delete from \`${f.name}\`.` };
    }
  }
  return out;
}

const RULE_OF = { list: 'listRule', view: 'viewRule', create: 'createRule', update: 'updateRule', delete: 'deleteRule' } as const satisfies Record<string, RuleKey>;

/** Who may call it, from the rule (never its text: a rule may hold literals meant to stay private). */
function access(collection: Collection, action: keyof typeof RULE_OF): { description: string; security: object[]; locked: boolean } {
  const key = RULE_OF[action];
  const rule = collection[key];
  if (rule === null) return { description: `Superusers only (the \`${key}\` is locked).`, security: AUTH_REQUIRED, locked: true };
  if (rule.trim() === '') return { description: `Open to everyone (the \`${key}\` is empty).`, security: GUEST_OR_AUTH, locked: false };
  const effect = action === 'list' ? 'filters the rows' : action === 'create' ? 'must pass (400 otherwise)' : 'must pass (404 otherwise)';
  return { description: `The collection's \`${key}\` ${effect}; superusers bypass it.`, security: GUEST_OR_AUTH, locked: false };
}

/** The records endpoints of one collection (§1 of the PocketBase reference). */
export function recordPaths(shape: CollectionShape): Record<string, Record<string, unknown>> {
  const { collection } = shape;
  const t = shape.typeName;
  const name = collection.name;
  const base = `/api/collections/${name}/records`;
  const tags = [name];
  const record = json(schemaRef(`${t}Record`));
  const versioned = collection.type !== 'view';
  const etag = versioned ? { headers: { ETag: ref('headers', 'ETag') } } : {};
  const replayed = { 'Idempotency-Replayed': ref('headers', 'IdempotencyReplayed') };
  const expand = { ...ref('parameters', 'expand'), ...(shape.expand.length ? { description: `Relation paths to load into \`expand\`; here: ${shape.expand.map((e) => `\`${e.key}\``).join(', ')}, and paths through them (at most 6 levels).` } : {}) };
  const picks = [expand, ref('parameters', 'fields')];
  const forbidden = (locked: boolean) => (locked ? { 403: ref('responses', 'Forbidden') } : {});

  const list = access(collection, 'list');
  const view = access(collection, 'view');
  const paths: Record<string, Record<string, unknown>> = {
    [base]: {
      get: {
        operationId: `${name}.list`,
        tags,
        summary: `List ${name}`,
        description: `A page of records. ${list.description}`,
        security: list.security,
        parameters: [ref('parameters', 'page'), ref('parameters', 'perPage'), ref('parameters', 'sort'), ref('parameters', 'filter'), ref('parameters', 'skipTotal'), ...picks],
        responses: { 200: { description: 'A page of records.', content: json(schemaRef(`${t}List`)) }, 400: ref('responses', 'BadRequest'), 403: ref('responses', 'Forbidden') },
      },
    },
    [`${base}/{id}`]: {
      parameters: [ref('parameters', 'recordId')],
      get: {
        operationId: `${name}.view`,
        tags,
        summary: `View one ${name} record`,
        description: view.description,
        security: view.security,
        parameters: [...picks, ...(versioned ? [ref('parameters', 'ifNoneMatch')] : [])],
        responses: {
          200: { description: 'The record.', ...etag, content: record },
          ...(versioned ? { 304: ref('responses', 'NotModified') } : {}),
          400: ref('responses', 'BadRequest'),
          ...forbidden(view.locked),
          404: ref('responses', 'NotFound'),
        },
      },
    },
  };
  if (!shape.writable) return paths;

  const create = access(collection, 'create');
  const update = access(collection, 'update');
  const remove = access(collection, 'delete');
  const body = (action: 'Create' | 'Update') => ({
    required: true,
    content: {
      ...json(schemaRef(`${t}${action}`)),
      ...(shape.hasFiles ? { 'multipart/form-data': { schema: schemaRef(`${t}${action}Form`) } } : {}),
    },
  });
  paths[base]!['post'] = {
    operationId: `${name}.create`,
    tags,
    summary: `Create a ${name} record`,
    description: `Answers 200 (not 201) with the new record. ${create.description}`,
    security: create.security,
    parameters: [...picks, ref('parameters', 'idempotencyKey')],
    requestBody: body('Create'),
    responses: {
      200: { description: 'The created record.', headers: { ETag: ref('headers', 'ETag'), ...replayed }, content: record },
      400: ref('responses', 'WriteFailed'),
      ...forbidden(create.locked),
      409: ref('responses', 'IdempotencyConflict'),
      413: ref('responses', 'TooLarge'),
    },
  };
  paths[`${base}/{id}`]!['patch'] = {
    operationId: `${name}.update`,
    tags,
    summary: `Update a ${name} record`,
    description: `Sets the given keys only. ${update.description}`,
    security: update.security,
    parameters: [...picks, ref('parameters', 'ifMatch'), ref('parameters', 'idempotencyKey')],
    requestBody: body('Update'),
    responses: {
      200: { description: 'The updated record.', headers: { ETag: ref('headers', 'ETag'), ...replayed }, content: record },
      400: ref('responses', 'WriteFailed'),
      ...forbidden(update.locked),
      404: ref('responses', 'NotFound'),
      409: ref('responses', 'IdempotencyConflict'),
      412: ref('responses', 'PreconditionFailed'),
      413: ref('responses', 'TooLarge'),
    },
  };
  paths[`${base}/{id}`]!['delete'] = {
    operationId: `${name}.delete`,
    tags,
    summary: `Delete a ${name} record`,
    description: `Also deletes or unlinks what refers to it (cascadeDelete), or fails with 400 when a required relation still points at it. ${remove.description}`,
    security: remove.security,
    parameters: [ref('parameters', 'ifMatch')],
    responses: {
      204: { description: 'Deleted.' },
      400: ref('responses', 'WriteFailed'),
      ...forbidden(remove.locked),
      404: ref('responses', 'NotFound'),
      412: ref('responses', 'PreconditionFailed'),
    },
  };
  return paths;
}

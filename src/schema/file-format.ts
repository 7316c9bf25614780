import { FIELD_TYPES } from './fields/index.js';
import type { FieldType, JsonSchema } from './fields/field-type.js';

/**
 * The JSON Schema of a collection file, built from the field-type registry.
 * Validation runs in two steps so every error points at the exact key: the
 * collection object first, then each field against its own type's schema.
 */
const nullableString = { anyOf: [{ type: 'string' }, { type: 'null' }] };
const rule = { ...nullableString, default: null };
const duration = (dflt: number) => ({
  type: 'object',
  properties: { duration: { type: 'integer', minimum: 0, default: dflt }, secret: { type: 'string', minLength: 30, maxLength: 255 } },
  additionalProperties: false,
  default: { duration: dflt },
});
const template = {
  type: 'object',
  properties: { subject: { type: 'string' }, body: { type: 'string' } },
  additionalProperties: false,
};
const enabledObject = (props: Record<string, JsonSchema>, dflt: Record<string, unknown>) => ({
  type: 'object',
  properties: { enabled: { type: 'boolean', default: false }, ...props },
  additionalProperties: false,
  default: dflt,
});

/** Keys only auth collections may carry, with PocketBase's defaults. */
export const AUTH_KEYS: Record<string, JsonSchema> = {
  authRule: { ...nullableString, default: '' },
  manageRule: rule,
  authAlert: enabledObject({ emailTemplate: template }, { enabled: true }),
  oauth2: enabledObject(
    {
      mappedFields: { type: 'object', additionalProperties: { type: 'string' } },
      providers: { type: 'array', items: { type: 'object' } },
    },
    { enabled: false },
  ),
  passwordAuth: enabledObject(
    { identityFields: { type: 'array', items: { type: 'string' }, default: ['email'] } },
    { enabled: true, identityFields: ['email'] },
  ),
  mfa: enabledObject({ duration: { type: 'integer', minimum: 0, default: 600 }, rule: { type: 'string', default: '' } }, { enabled: false, duration: 600, rule: '' }),
  otp: enabledObject(
    { duration: { type: 'integer', minimum: 0, default: 180 }, length: { type: 'integer', minimum: 1, default: 8 }, emailTemplate: template },
    { enabled: false, duration: 180, length: 8 },
  ),
  authToken: duration(432000),
  passwordResetToken: duration(1800),
  emailChangeToken: duration(1800),
  verificationToken: duration(86400),
  fileToken: duration(180),
  verificationTemplate: template,
  resetPasswordTemplate: template,
  confirmEmailChangeTemplate: template,
};

export const collectionSchema: JsonSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    $schema: { type: 'string' },
    id: { type: 'string', pattern: '^\\w+$', maxLength: 100 },
    name: { type: 'string', pattern: '^\\w+$', minLength: 1, maxLength: 255 },
    type: { enum: ['base', 'auth', 'view'], default: 'base' },
    system: { type: 'boolean', default: false },
    fields: {
      type: 'array',
      default: [],
      items: { type: 'object', required: ['name', 'type'], properties: { name: { type: 'string' }, type: { enum: [...FIELD_TYPES.keys()] } } },
    },
    indexes: { type: 'array', items: { type: 'string' }, default: [] },
    listRule: rule,
    viewRule: rule,
    createRule: rule,
    updateRule: rule,
    deleteRule: rule,
    viewQuery: { type: 'string', minLength: 1 },
    created: { type: 'string' },
    updated: { type: 'string' },
    ...AUTH_KEYS,
  },
  additionalProperties: false,
};

/** The schema one field of `type` must satisfy (common keys plus the type's options). */
export function fieldSchema(type: FieldType): JsonSchema {
  const common: Record<string, JsonSchema> = {
    id: { type: 'string', pattern: '^\\w+$', maxLength: 100 },
    name: { type: 'string', pattern: '^\\w+$', minLength: 1, maxLength: 100 },
    type: { const: type.type },
    system: { type: 'boolean', default: false },
    hidden: { type: 'boolean', default: false },
    presentable: { type: 'boolean', default: false },
    previousName: { type: 'string', pattern: '^\\w+$' },
  };
  if (!type.noRequired) {
    common['required'] = { type: 'boolean', default: false };
    common['help'] = { type: 'string', default: '' };
  }
  return {
    type: 'object',
    required: ['name', 'type', ...(type.requiredOptions ?? [])],
    properties: { ...common, ...type.options },
    additionalProperties: false,
  };
}

/** One schema for editors (`"$schema"` in a collection file): the collection plus per-type field shapes. */
export function editorSchema(): JsonSchema {
  const fieldVariants = [...FIELD_TYPES.values()].map((type) => ({
    if: { properties: { type: { const: type.type } }, required: ['type'] },
    then: fieldSchema(type),
  }));
  const properties = collectionSchema['properties'] as Record<string, JsonSchema>;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://galley.dev/schema/collection-file.json',
    title: 'Galley collection file (PocketBase v0.23+ collection format)',
    ...collectionSchema,
    properties: {
      ...properties,
      fields: {
        ...properties['fields'],
        items: {
          type: 'object',
          required: ['name', 'type'],
          // Lists the types for completion; each type's own keys come from its if/then branch.
          properties: { name: { type: 'string' }, type: { enum: [...FIELD_TYPES.keys()] } },
          allOf: fieldVariants,
        },
      },
    },
  };
}

import { boolOption, intOption, isMultiple, type FieldType } from './field-type.js';

export const relation: FieldType = {
  type: 'relation',
  options: {
    collectionId: { type: 'string', minLength: 1 },
    collection: { type: 'string', minLength: 1 },
    cascadeDelete: boolOption(),
    minSelect: intOption(),
    maxSelect: intOption(1, 1),
  },
  storage: (field) => (isMultiple(field) ? { kind: 'junction' } : { kind: 'column', column: 'ref' }),
  zero: (field) => (isMultiple(field) ? [] : ''),
  check(field, ctx) {
    const target = (field['collectionId'] ?? field['collection']) as string | undefined;
    if (target === undefined) return [{ path: '/collectionId', message: 'is required (or "collection" with the target collection\'s name)' }];
    const found = ctx.resolveCollection(target);
    if (!found) return [{ path: field['collectionId'] ? '/collectionId' : '/collection', message: `unknown collection "${target}"` }];
    if (found.type === 'view') return [{ path: field['collectionId'] ? '/collectionId' : '/collection', message: `cannot reference view collection "${found.name}"` }];
    const minSelect = field['minSelect'] as number;
    const maxSelect = field['maxSelect'] as number;
    return minSelect > maxSelect && maxSelect > 1
      ? [{ path: '/minSelect', message: `must be <= maxSelect (${maxSelect})` }]
      : [];
  },
};

import { boolOption, intOption, isMultiple, type FieldType } from './field-type.js';

const stringList = { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'null' }], default: null };

export const file: FieldType = {
  type: 'file',
  options: {
    maxSelect: intOption(1, 1),
    maxSize: intOption(),
    mimeTypes: stringList,
    thumbs: stringList,
    protected: boolOption(),
  },
  storage: (field) => ({ kind: 'column', column: isMultiple(field) ? 'json' : 'text' }),
  zero: (field) => (isMultiple(field) ? [] : ''),
  check(field) {
    const thumbs = (field['thumbs'] as string[] | null) ?? [];
    return thumbs
      .map((thumb, i) => ({ thumb, i }))
      .filter(({ thumb }) => !/^\d+x\d+[tbf]?$/.test(thumb))
      .map(({ thumb, i }) => ({ path: `/thumbs/${i}`, message: `invalid thumb size "${thumb}" (expected e.g. 100x100, 0x300 or 300x100t)` }));
  },
};

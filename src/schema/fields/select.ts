import { intOption, isMultiple, type FieldType } from './field-type.js';

export const select: FieldType = {
  type: 'select',
  options: {
    values: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
    maxSelect: intOption(1, 1),
  },
  requiredOptions: ['values'],
  storage: (field) => ({ kind: 'column', column: isMultiple(field) ? 'json' : 'text' }),
  zero: (field) => (isMultiple(field) ? [] : ''),
  check(field) {
    const values = field['values'] as string[];
    const maxSelect = field['maxSelect'] as number;
    return maxSelect > values.length
      ? [{ path: '/maxSelect', message: `must be <= ${values.length} (the number of values)` }]
      : [];
  },
};

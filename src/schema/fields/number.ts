import { boolOption, type FieldType } from './field-type.js';

const nullableNumber = { anyOf: [{ type: 'number' }, { type: 'null' }], default: null };

export const number: FieldType = {
  type: 'number',
  options: { min: nullableNumber, max: nullableNumber, onlyInt: boolOption() },
  storage: () => ({ kind: 'column', column: 'number' }),
  zero: () => 0,
  check(field) {
    const min = field['min'] as number | null;
    const max = field['max'] as number | null;
    return min !== null && max !== null && min > max ? [{ path: '/min', message: `must be <= max (${max})` }] : [];
  },
};

import type { FieldType } from './field-type.js';

export const bool: FieldType = {
  type: 'bool',
  options: {},
  storage: () => ({ kind: 'column', column: 'bool' }),
  zero: () => false,
};

import { intOption, type FieldType } from './field-type.js';

export const json: FieldType = {
  type: 'json',
  options: { maxSize: intOption() },
  storage: () => ({ kind: 'column', column: 'json' }),
  zero: () => null,
};

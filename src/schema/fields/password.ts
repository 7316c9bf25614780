import { intOption, stringOption, type FieldType } from './field-type.js';
import { regexProblem } from './regex-check.js';

export const password: FieldType = {
  type: 'password',
  options: { min: intOption(), max: { type: 'integer', minimum: 0, maximum: 71, default: 0 }, pattern: stringOption(), cost: intOption() },
  storage: () => ({ kind: 'column', column: 'text' }),
  zero: () => '',
  check: (field) => regexProblem(field, 'pattern'),
};

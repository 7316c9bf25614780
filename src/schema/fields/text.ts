import { boolOption, intOption, stringOption, type FieldType } from './field-type.js';
import { regexProblem } from './regex-check.js';

export const text: FieldType = {
  type: 'text',
  options: {
    min: intOption(),
    max: intOption(),
    pattern: stringOption(),
    autogeneratePattern: stringOption(),
    primaryKey: boolOption(),
  },
  storage: () => ({ kind: 'column', column: 'text' }),
  zero: () => '',
  check(field) {
    const problems = [...regexProblem(field, 'pattern'), ...regexProblem(field, 'autogeneratePattern')];
    const min = field['min'] as number;
    const max = field['max'] as number;
    if (max > 0 && min > max) problems.push({ path: '/min', message: `must be <= max (${max})` });
    if (field['primaryKey'] && field.name !== 'id') problems.push({ path: '/primaryKey', message: 'only the "id" field can be the primary key' });
    return problems;
  },
};

import { stringOption, type FieldType } from './field-type.js';
import { parseDate } from '../dates.js';

export const date: FieldType = {
  type: 'date',
  options: { min: stringOption(), max: stringOption() },
  storage: () => ({ kind: 'column', column: 'date' }),
  zero: () => '',
  check(field) {
    return (['min', 'max'] as const)
      .filter((key) => field[key] !== '' && parseDate(field[key] as string) === null)
      .map((key) => ({ path: `/${key}`, message: 'must be a date (YYYY-MM-DD HH:MM:SS.mmmZ)' }));
  },
};

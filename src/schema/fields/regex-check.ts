import type { Field } from '../types.js';
import type { FieldProblem } from './field-type.js';

/** A pattern option must compile as a regular expression. */
export function regexProblem(field: Field, key: string): FieldProblem[] {
  const source = field[key];
  if (typeof source !== 'string' || source === '') return [];
  try {
    new RegExp(source);
    return [];
  } catch (err) {
    return [{ path: `/${key}`, message: `invalid regular expression: ${(err as Error).message}` }];
  }
}

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
    // V8 says "Invalid regular expression: /<source>/<flags>: <reason>"; the source is in the file already.
    const reason = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    return [{ path: `/${key}`, message: `invalid regular expression: ${reason}` }];
  }
}

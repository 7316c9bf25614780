import type { Field } from '../types.js';
import type { FieldProblem } from './field-type.js';

/** `onlyDomains` and `exceptDomains` are mutually exclusive (PocketBase rule). */
export function domainProblems(field: Field): FieldProblem[] {
  const only = field['onlyDomains'] as string[] | null;
  const except = field['exceptDomains'] as string[] | null;
  return only?.length && except?.length
    ? [{ path: '/onlyDomains', message: 'cannot be set together with exceptDomains' }]
    : [];
}

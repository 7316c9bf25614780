import { domainsOption, type FieldType } from './field-type.js';
import { domainProblems } from './domain-check.js';

export const email: FieldType = {
  type: 'email',
  options: { exceptDomains: domainsOption, onlyDomains: domainsOption },
  storage: () => ({ kind: 'column', column: 'text' }),
  zero: () => '',
  check: domainProblems,
};

import { boolOption, intOption, type FieldType } from './field-type.js';

export const editor: FieldType = {
  type: 'editor',
  options: { maxSize: intOption(), convertURLs: boolOption() },
  storage: () => ({ kind: 'column', column: 'text' }),
  zero: () => '',
};

import { boolOption, type FieldType } from './field-type.js';

export const autodate: FieldType = {
  type: 'autodate',
  options: { onCreate: boolOption(), onUpdate: boolOption() },
  noRequired: true,
  storage: () => ({ kind: 'column', column: 'date' }),
  zero: () => '',
  check(field) {
    return field['onCreate'] || field['onUpdate']
      ? []
      : [{ path: '', message: 'at least one of onCreate and onUpdate must be true' }];
  },
};

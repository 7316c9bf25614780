import type { FieldType } from './field-type.js';

export const geoPoint: FieldType = {
  type: 'geoPoint',
  options: {},
  storage: () => ({ kind: 'column', column: 'json' }),
  zero: () => ({ lon: 0, lat: 0 }),
};

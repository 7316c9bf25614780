import type { FieldType } from './field-type.js';
import { autodate } from './autodate.js';
import { bool } from './bool.js';
import { date } from './date.js';
import { editor } from './editor.js';
import { email } from './email.js';
import { file } from './file.js';
import { geoPoint } from './geo-point.js';
import { json } from './json.js';
import { number } from './number.js';
import { password } from './password.js';
import { relation } from './relation.js';
import { select } from './select.js';
import { text } from './text.js';
import { url } from './url.js';

/** Every field type Galley knows, by PocketBase type name. */
export const FIELD_TYPES: ReadonlyMap<string, FieldType> = new Map(
  [text, number, bool, email, url, editor, date, autodate, select, json, file, relation, password, geoPoint].map((t) => [t.type, t]),
);

export function fieldType(type: string): FieldType {
  const found = FIELD_TYPES.get(type);
  if (!found) throw new Error(`unknown field type "${type}"`);
  return found;
}

export type { ColumnKind, FieldType, Storage } from './field-type.js';
export { isMultiple } from './field-type.js';

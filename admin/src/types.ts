/** The collection JSON served by `GET /api/collections` (PocketBase v0.23+ format, spec §6). */

export type FieldType =
  | 'text'
  | 'number'
  | 'bool'
  | 'email'
  | 'url'
  | 'editor'
  | 'date'
  | 'autodate'
  | 'select'
  | 'json'
  | 'file'
  | 'relation'
  | 'password'
  | 'geoPoint';

interface FieldBase {
  id: string;
  name: string;
  system: boolean;
  hidden: boolean;
  presentable: boolean;
  required?: boolean;
  help?: string;
  [option: string]: unknown;
}

export interface TextField extends FieldBase {
  type: 'text';
  min: number;
  max: number;
  pattern: string;
  autogeneratePattern: string;
  primaryKey?: boolean;
}
export interface NumberField extends FieldBase {
  type: 'number';
  min: number | null;
  max: number | null;
  onlyInt: boolean;
}
export interface BoolField extends FieldBase {
  type: 'bool';
}
export interface EmailField extends FieldBase {
  type: 'email';
  exceptDomains: string[] | null;
  onlyDomains: string[] | null;
}
export interface UrlField extends FieldBase {
  type: 'url';
  exceptDomains: string[] | null;
  onlyDomains: string[] | null;
}
export interface EditorField extends FieldBase {
  type: 'editor';
  maxSize: number;
  convertURLs: boolean;
}
export interface DateField extends FieldBase {
  type: 'date';
  min: string;
  max: string;
}
export interface AutodateField extends FieldBase {
  type: 'autodate';
  onCreate: boolean;
  onUpdate: boolean;
}
export interface SelectField extends FieldBase {
  type: 'select';
  values: string[];
  maxSelect: number;
}
export interface JsonField extends FieldBase {
  type: 'json';
  maxSize: number;
}
export interface FileField extends FieldBase {
  type: 'file';
  maxSelect: number;
  maxSize: number;
  mimeTypes: string[] | null;
  thumbs: string[] | null;
  protected: boolean;
}
export interface RelationField extends FieldBase {
  type: 'relation';
  collectionId: string;
  cascadeDelete: boolean;
  minSelect: number;
  maxSelect: number;
}
export interface PasswordField extends FieldBase {
  type: 'password';
  min: number;
  max: number;
  pattern: string;
}
export interface GeoPointField extends FieldBase {
  type: 'geoPoint';
}

export type Field =
  | TextField
  | NumberField
  | BoolField
  | EmailField
  | UrlField
  | EditorField
  | DateField
  | AutodateField
  | SelectField
  | JsonField
  | FileField
  | RelationField
  | PasswordField
  | GeoPointField;

export type CollectionType = 'base' | 'auth' | 'view';

export const RULE_KEYS = ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule', 'authRule', 'manageRule'] as const;
export type RuleKey = (typeof RULE_KEYS)[number];

export interface Collection {
  id: string;
  name: string;
  type: CollectionType;
  system: boolean;
  fields: Field[];
  indexes: string[];
  listRule: string | null;
  viewRule: string | null;
  createRule: string | null;
  updateRule: string | null;
  deleteRule: string | null;
  /** auth collections only */
  authRule?: string | null;
  manageRule?: string | null;
  /** view collections only */
  viewQuery?: string;
  [key: string]: unknown;
}

/** A record as the API returns it. */
export interface RecordData {
  id: string;
  collectionId: string;
  collectionName: string;
  expand?: Record<string, RecordData | RecordData[]>;
  [field: string]: unknown;
}

/** `GET /api/galley/migrations` (superusers only). */
export interface MigrationStep {
  kind: string;
  risk: 'safe' | 'rewrite' | 'destructive' | string;
  summary: string;
  sql: string[];
  /** The table, column, index or view the step is about. */
  target?: string;
  /** Destructive steps: what would be lost. */
  loss?: string;
}
export interface MigrationPlan {
  steps: MigrationStep[];
  drift: string[];
  notes?: string[];
}

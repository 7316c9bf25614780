/** The collection model, in PocketBase v0.23+ shape after Galley's normalization. */
export type CollectionType = 'base' | 'auth' | 'view';

export const RULE_KEYS = ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule'] as const;
export type RuleKey = (typeof RULE_KEYS)[number];

/** A field as written in a collection file after defaults are applied: common keys plus the type's options. */
export interface Field {
  id: string;
  name: string;
  type: string;
  system: boolean;
  hidden: boolean;
  presentable: boolean;
  required: boolean;
  /** Galley: the column's former name, to rename instead of drop + add. */
  previousName?: string;
  [option: string]: unknown;
}

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
  viewQuery?: string;
  authRule?: string | null;
  manageRule?: string | null;
  /** Other PocketBase keys (auth options, templates, ...), kept as written. */
  [key: string]: unknown;
}

/** Where a collection came from, for error messages. */
export interface CollectionSource {
  file: string;
}

/** The loaded, validated set of collections: what migrations plan from and the API serves. */
export interface Schema {
  collections: Collection[];
  byName: ReadonlyMap<string, Collection>;
  byId: ReadonlyMap<string, Collection>;
  sources: ReadonlyMap<string, CollectionSource>;
  /** Accepted-but-not-implemented keys and similar notices, one line each. */
  warnings: string[];
  /** sha256 of the normalized collections; recorded with each migration. */
  checksum: string;
}

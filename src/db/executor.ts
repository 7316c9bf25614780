/** The narrow SQL interface migrations run through: one connection, inside one transaction. */
export type Row = Record<string, unknown>;

export interface Executor {
  all(sql: string, params?: unknown[]): Promise<Row[]>;
  run(sql: string, params?: unknown[]): Promise<void>;
}

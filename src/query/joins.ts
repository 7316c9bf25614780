import { sql, type Sql } from './sql.js';

/** Hands out unique table aliases across one statement, including nested rule compilations. */
export class AliasCounter {
  private n = 0;
  next(prefix: string): string {
    return `${prefix}${++this.n}`;
  }
}

/**
 * The LEFT JOINs one filter expression needs, keyed by relation path so that
 * every reference to `author.*` (or `@collection.members:m.*`) in the same
 * expression shares one joined row, as PocketBase's resolver does.
 */
export class JoinSet {
  private readonly clauses: Sql[] = [];
  private readonly keys: string[] = [];
  private readonly byKey = new Map<string, string>();
  /** Rows each join may yield per row it joins to (1 for a single relation): the cost model's input. */
  private readonly fanOuts = new Map<string, number>();
  /** Keys touched since the last `track()` (a comparison's joins, to tell shared from private). */
  private touched: Set<string> | null = null;
  readonly root: string;

  constructor(readonly aliases: AliasCounter) {
    this.root = aliases.next('_r');
  }

  get isEmpty(): boolean {
    return this.clauses.length === 0;
  }

  /**
   * Adds a join once per key; `build` gets the alias and returns the whole clause (`LEFT JOIN ... ON ...`).
   * `fanOut` estimates how many rows it yields per joined row (a back-relation many, a single relation one).
   */
  add(key: string, prefix: string, build: (alias: string) => Sql, fanOut = 1): string {
    this.touched?.add(key);
    const found = this.byKey.get(key);
    if (found) return found;
    if (this.clauses.length >= MAX_JOINS) throw new JoinLimitError();
    const alias = this.aliases.next(prefix);
    this.byKey.set(key, alias);
    this.fanOuts.set(key, fanOut);
    // The clause is built before it is recorded: it may add (and so precede) the joins it depends on.
    const clause = build(alias);
    this.clauses.push(clause);
    this.keys.push(key);
    return alias;
  }

  /** Starts recording the keys `fn` touches. */
  track<T>(fn: () => T): { result: T; keys: Set<string> } {
    const outer = this.touched;
    const keys = new Set<string>();
    this.touched = keys;
    try {
      return { result: fn(), keys };
    } finally {
      this.touched = outer;
      if (outer) for (const k of keys) outer.add(k);
    }
  }

  /** Estimated rows the joins `keys` (all of them when omitted) visit per row of the outer table. */
  fanOut(keys?: Iterable<string>): number {
    let rows = 1;
    for (const key of keys ?? this.keys) rows *= this.fanOuts.get(key) ?? 1;
    return rows;
  }

  /** A FROM item that always yields at least one row (a NULL row when a join finds nothing); `only` restricts the joins. */
  from(only?: Set<string>): Sql {
    const parts = [sql(`(SELECT 1 AS one) AS ${only ? this.aliases.next('_r') : this.root}`), ...this.clauses.filter((_, i) => !only || only.has(this.keys[i]!))];
    return { text: parts.map((p) => p.text).join(' '), values: parts.flatMap((p) => p.values) };
  }
}

/** More joins than one statement should carry (SQLite's own limit is 64 tables per join). */
export const MAX_JOINS = 60;

export class JoinLimitError extends Error {
  constructor() {
    super(`more than ${MAX_JOINS} joins`);
  }
}

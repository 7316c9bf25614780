/**
 * A reference evaluator for the filter language (pocketbase-api.md §4), written
 * from the specification and independent of src/query: it evaluates a parsed
 * filter against in-memory records, as PocketBase on SQLite would.
 *
 * Model (one paragraph per spec rule):
 * - Stored values are PocketBase's SQLite values: text columns hold '' when
 *   empty (a single relation included, §4.4 "all non-JSON columns are NOT NULL
 *   with zero defaults"), numbers and bools are numeric (bools 0/1), dates are
 *   text, a direct multiple select/relation/file is its raw JSON text (§4.5),
 *   JSON paths are json_extract results (true/false → 1/0, missing → NULL).
 * - Comparisons follow SQLite: type order NULL < numbers < text, text by code
 *   point (BINARY), column affinity (a text column turns a number literal into
 *   text, `5` → '5.0'; a numeric column turns numeric-looking text into a
 *   number), number literals are REALs (float64 parameters), `true`/`false`
 *   are the integers 1/0.
 * - `=`/`!=` with the ''/NULL equivalence of §4.4, `!=` null-safe (IS NOT);
 *   `< <= > >=` plain; `~`/`!~` SQLite LIKE with ESCAPE '\' (ASCII-only case
 *   folding) and the wrapping rule of §4.2.
 * - Multi-valued operands (§4.5): `?` ops need one value (pair) that matches;
 *   plain ops need a match and no value (pair) that makes the comparison false
 *   ("join condition AND NOT EXISTS a violating value"); an empty set is one
 *   NULL value. Relation paths are LEFT JOINs shared by every reference to the
 *   same path in one filter (PocketBase joins each path once per query).
 * - `&&` binds tighter than `||`; SQL three-valued logic; NULL is false.
 */
import type { ExprItem, Operand as AstOperand, Operator } from '../../src/filter/index.js';
import type { Collection, Field, Schema } from '../../src/schema/index.js';

export type Rec = Record<string, unknown> & { id: string };
export type Dataset = Record<string, Rec[]>;

/** A SQLite value. Integers and reals differ only in their text form ('5' vs '5.0'). */
export type V = null | { t: 'int'; n: number } | { t: 'real'; n: number } | { t: 'text'; s: string };
/** SQLite affinity of an expression: columns have one, literals/functions/CASE don't. */
type Aff = 'numeric' | 'text' | 'none';
interface SV {
  v: V;
  aff: Aff;
}
type Bool3 = boolean | null;

export class FilterReferenceError extends Error {}

const NULL: SV = { v: null, aff: 'none' };
const int = (n: number, aff: Aff = 'none'): SV => ({ v: { t: 'int', n }, aff });
const real = (n: number, aff: Aff = 'none'): SV => ({ v: { t: 'real', n }, aff });
const text = (s: string, aff: Aff = 'none'): SV => ({ v: { t: 'text', s }, aff });
/** A number as SQLite stores it in a NUMERIC column: integral values become INTEGER. */
const num = (n: number, aff: Aff): SV => (Number.isInteger(n) && Math.abs(n) < 2 ** 63 ? int(n, aff) : real(n, aff));

// ---- rows and joins ------------------------------------------------------

/** A joined row: a record, one element of a JSON array (`:each`), or the NULL row of a LEFT JOIN without match. */
type Row = { kind: 'rec'; rec: Rec } | { kind: 'elem'; value: SV } | null;

/** One LEFT JOIN of the query: keyed by its path, so that every operand using the same path shares it. */
interface JoinDef {
  key: string;
  parent: string | null;
  rows(parent: Row): Row[];
}

/** A resolved operand, in PocketBase's terms (a param, the NULL/TRUE/FALSE identifiers, or an SQL expression). */
interface Operand {
  kind: 'param' | 'null' | 'bool' | 'expr';
  /** JSON paths compare with IS / IS NOT, without ''/NULL equivalence. */
  noCoalesce: boolean;
  multi: boolean;
  chain: JoinDef[];
  /** The value given the last joined row of `chain` (the root row when the chain is empty). */
  final(row: Row): SV;
}

/** A LEFT JOIN never loses its left row: no matches, or a NULL parent, give one NULL row. */
function joinRows(join: JoinDef, parent: Row): Row[] {
  if (parent === null) return [null];
  const rows = join.rows(parent);
  return rows.length > 0 ? rows : [null];
}

// ---- SQLite value semantics -----------------------------------------------

/** SQLite's text form of a REAL (printf "%!.15g"): integral values keep ".0". */
export function realText(n: number): string {
  if (Object.is(n, -0)) return '0.0';
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return `${n}.0`;
  const s = Number(n.toPrecision(15)).toString();
  return /e/.test(s) ? s.replace(/^(-?\d+)e/, '$1.0e') : s;
}

function textOf(v: V): string | null {
  if (v === null) return null;
  if (v.t === 'text') return v.s;
  return v.t === 'int' ? String(v.n) : realText(v.n);
}

const NUMERIC_TEXT = /^[ \t\n\f\r\v]*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[ \t\n\f\r\v]*$/;

function toNumeric(v: V): V {
  if (v === null || v.t !== 'text' || !NUMERIC_TEXT.test(v.s)) return v;
  const n = Number(v.s);
  return Number.isInteger(n) ? { t: 'int', n } : { t: 'real', n };
}

function toText(v: V): V {
  if (v === null || v.t === 'text') return v;
  return { t: 'text', s: textOf(v)! };
}

/** The affinity conversions SQLite applies to the operands of a comparison. */
function withAffinity(a: SV, b: SV): [V, V] {
  let x = a.v;
  let y = b.v;
  if (a.aff === 'numeric' && b.aff !== 'numeric') y = toNumeric(y);
  else if (b.aff === 'numeric' && a.aff !== 'numeric') x = toNumeric(x);
  else if (a.aff === 'text' && b.aff === 'none') y = toText(y);
  else if (b.aff === 'text' && a.aff === 'none') x = toText(x);
  return [x, y];
}

function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** SQLite's ordering of two non-NULL values: numbers before text, text by BINARY collation. */
function order(a: Exclude<V, null>, b: Exclude<V, null>): number {
  const an = a.t !== 'text';
  const bn = b.t !== 'text';
  if (an !== bn) return an ? -1 : 1;
  if (a.t !== 'text' && b.t !== 'text') return a.n - b.n;
  return compareCodePoints((a as { s: string }).s, (b as { s: string }).s);
}

type CmpOp = '=' | '<' | '<=' | '>' | '>=';

function cmp(op: CmpOp, a: SV, b: SV): Bool3 {
  const [x, y] = withAffinity(a, b);
  if (x === null || y === null) return null;
  const c = order(x, y);
  switch (op) {
    case '=':
      return c === 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

/** `a IS b`: NULL-safe equality. */
function is(a: SV, b: SV): boolean {
  const [x, y] = withAffinity(a, b);
  if (x === null || y === null) return x === y;
  return order(x, y) === 0;
}

const not3 = (v: Bool3): Bool3 => (v === null ? null : !v);
const and3 = (a: Bool3, b: Bool3): Bool3 => (a === false || b === false ? false : a === null || b === null ? null : true);
const or3 = (a: Bool3, b: Bool3): Bool3 => (a === true || b === true ? true : a === null || b === null ? null : false);

const lowerAscii = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** SQLite `text LIKE pattern ESCAPE '\'`: `%` any run, `_` one character, ASCII-only case folding. */
export function sqliteLike(value: string, pattern: string): boolean {
  const s = [...lowerAscii(value)];
  const p = [...lowerAscii(pattern)];
  const memo = new Map<string, boolean>();
  const match = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let result: boolean;
    if (j === p.length) result = i === s.length;
    else if (p[j] === '%') result = match(i, j + 1) || (i < s.length && match(i + 1, j));
    else if (p[j] === '_') result = i < s.length && match(i + 1, j + 1);
    else if (p[j] === '\\') result = j + 1 < p.length && i < s.length && s[i] === p[j + 1] && match(i + 1, j + 2); // a trailing escape never matches
    else result = i < s.length && s[i] === p[j] && match(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return match(0, 0);
}

function like(a: SV, pattern: SV): Bool3 {
  const x = textOf(a.v);
  const y = textOf(pattern.v);
  if (x === null || y === null) return null;
  return sqliteLike(x, y);
}

/** §4.2: does the operand contain a `%` not preceded by an escaping backslash? */
function hasUnescapedPercent(s: string): boolean {
  const c = [...s];
  for (let i = 0; i < c.length; i++) {
    if (c[i] === '\\') i++;
    else if (c[i] === '%') return true;
  }
  return false;
}

/** §4.2: a literal `~` operand without an unescaped `%` has its `\`, `%`, `_` escaped and is wrapped as `%value%`. */
export function likeOperand(value: string): string {
  if (hasUnescapedPercent(value)) return value;
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The text of a parameter as the filter layer sees it before wrapping (spec-silent for numbers: Go's shortest form). */
function paramText(v: V): string | null {
  if (v === null) return null;
  if (v.t === 'text') return v.s;
  return String(v.n);
}

// ---- comparison (§4.2, §4.4) ------------------------------------------------

interface Side {
  op: Pick<Operand, 'kind' | 'noCoalesce'>;
  value: SV;
}

const EMPTY_LITERAL: SV = text('');

function isEmptySide(s: Side): boolean {
  if (s.op.kind === 'null') return true;
  return s.op.kind === 'param' && !s.op.noCoalesce && (s.value.v === null || (s.value.v.t === 'text' && s.value.v.s === ''));
}

function isKnownNonEmpty(s: Side): boolean {
  if (s.op.kind === 'bool') return true;
  return s.op.kind === 'param' && !isEmptySide(s);
}

/** §4.4. */
function equal(eq: boolean, l: Side, r: Side): Bool3 {
  // JSON paths: a IS b / a IS NOT b.
  if (l.op.noCoalesce || r.op.noCoalesce) return eq ? is(l.value, r.value) : !is(l.value, r.value);
  const lEmpty = isEmptySide(l);
  const rEmpty = isEmptySide(r);
  if (lEmpty && rEmpty) return eq;
  if (isKnownNonEmpty(l) || isKnownNonEmpty(r)) {
    const a = lEmpty ? EMPTY_LITERAL : l.value;
    const b = rEmpty ? EMPTY_LITERAL : r.value;
    return eq ? cmp('=', a, b) : !is(a, b);
  }
  if (lEmpty) return eq ? or3(cmp('=', EMPTY_LITERAL, r.value), r.value.v === null) : and3(!is(EMPTY_LITERAL, r.value), r.value.v !== null);
  if (rEmpty) return eq ? or3(cmp('=', l.value, EMPTY_LITERAL), l.value.v === null) : and3(!is(l.value, EMPTY_LITERAL), l.value.v !== null);
  // Field vs field: COALESCE(a, '') = COALESCE(b, ''); COALESCE() has no affinity.
  const coalesce = (v: SV): SV => (v.v === null ? EMPTY_LITERAL : { v: v.v, aff: 'none' });
  return eq === is(coalesce(l.value), coalesce(r.value));
}

function condition(op: Operator, l: Side, r: Side): Bool3 {
  const base = op.startsWith('?') ? op.slice(1) : op;
  switch (base) {
    case '=':
      return equal(true, l, r);
    case '!=':
      return equal(false, l, r);
    case '<':
    case '<=':
    case '>':
    case '>=':
      return cmp(base, l.value, r.value);
    case '~':
    case '!~': {
      let pattern: SV;
      if (r.op.kind === 'param') {
        const t = paramText(r.value.v);
        pattern = t === null ? NULL : text(likeOperand(t));
      } else {
        // A field (or NULL/TRUE/FALSE identifier): a LIKE ('%' || b || '%').
        const t = textOf(r.value.v);
        pattern = t === null ? NULL : text(`%${t}%`);
      }
      const m = like(l.value, pattern);
      return base === '~' ? m : not3(m);
    }
    default:
      throw new FilterReferenceError(`unknown operator ${op}`);
  }
}

// ---- the evaluator ----------------------------------------------------------

export interface ReferenceOptions {
  now: Date;
  /** `@request.*` values of a guest request (method, context, query, headers); auth and body are empty. */
  request?: { method: string; context: string; query: Record<string, string>; headers: Record<string, string> };
}

export class ReferenceEvaluator {
  private readonly byId = new Map<string, Map<string, Rec>>();

  constructor(
    private readonly schema: Schema,
    private readonly data: Dataset,
    private readonly options: ReferenceOptions,
  ) {
    for (const [name, recs] of Object.entries(data)) this.byId.set(name, new Map(recs.map((r) => [r.id, r])));
  }

  /** The ids of the records of `collection` matching `items`, sorted. */
  ids(collection: string, items: ExprItem[]): string[] {
    const coll = this.collection(collection);
    const comparisons = this.prepare(coll, items);
    const joins = this.joinsOf(comparisons);
    return (this.data[coll.name] ?? [])
      .filter((rec) => this.matches({ kind: 'rec', rec }, items, comparisons, joins))
      .map((r) => r.id)
      .sort();
  }

  // -- evaluation --

  private matches(root: Row, items: ExprItem[], comparisons: Map<object, [Operand, Operand]>, joins: JoinDef[]): boolean {
    // Spec-silent: PocketBase runs SELECT DISTINCT ... FROM <root> LEFT JOIN <each path once> WHERE <filter>, so some joined row must pass.
    const assign = new Map<string, Row>();
    const walk = (i: number): boolean => {
      if (i === joins.length) return this.items(items, root, assign, comparisons) === true;
      const join = joins[i]!;
      const parent = join.parent === null ? root : assign.get(join.parent)!;
      for (const row of joinRows(join, parent)) {
        assign.set(join.key, row);
        if (walk(i + 1)) return true;
      }
      return false;
    };
    return walk(0);
  }

  private items(items: ExprItem[], root: Row, assign: Map<string, Row>, comparisons: Map<object, [Operand, Operand]>): Bool3 {
    // `&&` binds tighter than `||`: an OR of AND-chains.
    let any: Bool3 = false;
    let chain: Bool3 = true;
    items.forEach((item, i) => {
      const v = item.expr.kind === 'group' ? this.items(item.expr.items, root, assign, comparisons) : this.comparison(item.expr, root, assign, comparisons);
      if (i > 0 && item.join === '||') {
        any = or3(any, chain);
        chain = v;
      } else {
        chain = and3(chain, v);
      }
    });
    return or3(any, chain);
  }

  private comparison(expr: ExprItem['expr'] & { kind: 'comparison' }, root: Row, assign: Map<string, Row>, comparisons: Map<object, [Operand, Operand]>): Bool3 {
    const [l, r] = comparisons.get(expr)!;
    const at = (o: Operand): Side => ({ op: o, value: o.final(o.chain.length > 0 ? assign.get(o.chain[o.chain.length - 1]!.key)! : root) });
    const core = condition(expr.op, at(l), at(r));
    if (expr.op.startsWith('?') || (!l.multi && !r.multi)) return core;
    // Match-all: NOT EXISTS a value (pair) for which the comparison is false (a NULL comparison is no violation).
    const asExpr = (o: Operand): Side['op'] => ({ kind: 'expr', noCoalesce: o.noCoalesce });
    let violated: boolean;
    if (l.multi && r.multi) {
      const rs = this.values(r, root);
      violated = this.values(l, root).some((lv) => rs.some((rv) => condition(expr.op, { op: asExpr(l), value: lv }, { op: asExpr(r), value: rv }) === false));
    } else if (l.multi) {
      const other = at(r);
      violated = this.values(l, root).some((lv) => condition(expr.op, { op: asExpr(l), value: lv }, other) === false);
    } else {
      const other = at(l);
      violated = this.values(r, root).some((rv) => condition(expr.op, other, { op: asExpr(r), value: rv }) === false);
    }
    return and3(core, !violated);
  }

  /** Every value of a (multi-valued) operand for the root row, through fresh joins. */
  private values(o: Operand, root: Row): SV[] {
    let rows: Row[] = [root];
    for (const join of o.chain) rows = rows.flatMap((row) => joinRows(join, row));
    return rows.map((row) => o.final(row));
  }

  // -- resolution --

  private prepare(coll: Collection, items: ExprItem[]): Map<object, [Operand, Operand]> {
    const out = new Map<object, [Operand, Operand]>();
    const visit = (list: ExprItem[]) => {
      for (const item of list) {
        if (item.expr.kind === 'group') visit(item.expr.items);
        else out.set(item.expr, [this.operand(coll, item.expr.left), this.operand(coll, item.expr.right)]);
      }
    };
    visit(items);
    return out;
  }

  private joinsOf(comparisons: Map<object, [Operand, Operand]>): JoinDef[] {
    const joins = new Map<string, JoinDef>();
    for (const pair of comparisons.values()) for (const o of pair) for (const j of o.chain) if (!joins.has(j.key)) joins.set(j.key, j);
    return [...joins.values()];
  }

  private operand(coll: Collection, op: AstOperand): Operand {
    switch (op.kind) {
      case 'text':
        return constant('param', text(op.value));
      case 'number':
        return constant('param', real(op.value)); // §4.1: numbers are bound as float64
      case 'function':
        throw new FilterReferenceError(`functions are not modelled (${op.name})`);
      case 'identifier':
        return this.identifier(coll, op.name);
    }
  }

  private identifier(coll: Collection, name: string): Operand {
    if (name.startsWith('@collection.')) return this.collectionRef(name);
    if (name.startsWith('@request.')) return this.request(name);
    if (name.startsWith('@')) return this.macro(name);
    const lower = name.toLowerCase();
    if (['null', 'true', 'false'].includes(lower) && !this.field(coll, name)) {
      return lower === 'null' ? constant('null', NULL) : constant('bool', int(lower === 'true' ? 1 : 0));
    }
    const [path, modifier, ...extra] = name.split(':');
    if (extra.length > 0) throw new FilterReferenceError(`more than one modifier in ${name}`);
    return this.path(coll, null, [], path!.split('.'), modifier, false, 0);
  }

  private collectionRef(name: string): Operand {
    const m = /^@collection\.(\w+)(?::(\w+))?\.([^:]+)(?::(\w+))?$/.exec(name);
    if (!m) throw new FilterReferenceError(`invalid ${name}`);
    const target = this.collection(m[1]!);
    const join: JoinDef = { key: `@collection:${m[2] ?? `=${target.name}`}`, parent: null, rows: () => (this.data[target.name] ?? []).map((rec) => ({ kind: 'rec', rec })) };
    return this.path(target, join.key, [join], m[3]!.split('.'), m[4], true, 0);
  }

  /** A guest request: auth and body are empty, so those keys are NULL (§4.3 "missing @request.* keys resolve to NULL"). */
  private request(name: string): Operand {
    const [path, modifier] = name.split(':');
    const [, section, key, ...rest] = path!.split('.');
    const req = this.options.request ?? { method: 'GET', context: 'default', query: {}, headers: {} };
    let value: string | null = null;
    let isset = false;
    if ((section === 'method' || section === 'context') && key === undefined) {
      value = section === 'method' ? req.method : req.context;
      isset = true;
    } else if ((section === 'query' || section === 'headers') && key !== undefined && rest.length === 0) {
      const bag = section === 'query' ? req.query : req.headers;
      isset = Object.hasOwn(bag, key);
      value = isset ? bag[key]! : null;
    } else if (section !== 'auth' && section !== 'body') {
      throw new FilterReferenceError(`unknown ${name}`);
    }
    if (modifier === 'isset') return constant('bool', int(isset ? 1 : 0));
    if (modifier !== undefined && modifier !== 'lower') throw new FilterReferenceError(`modifier ${modifier} on ${name}`);
    if (value === null) return constant('null', NULL);
    return constant('param', text(modifier === 'lower' ? lowerAscii(value) : value));
  }

  /** §4.7: date macros are PocketBase date strings (UTC), the others integers. */
  private macro(name: string): Operand {
    const now = this.options.now;
    const fmt = (d: Date) => d.toISOString().replace('T', ' ');
    const y = now.getUTCFullYear();
    const mo = now.getUTCMonth();
    const d = now.getUTCDate();
    const DAY = 86_400_000;
    const dates: Record<string, () => Date> = {
      '@now': () => now,
      '@yesterday': () => new Date(now.getTime() - DAY),
      '@tomorrow': () => new Date(now.getTime() + DAY),
      '@todayStart': () => new Date(Date.UTC(y, mo, d)),
      '@todayEnd': () => new Date(Date.UTC(y, mo, d, 23, 59, 59, 999)),
      '@monthStart': () => new Date(Date.UTC(y, mo, 1)),
      '@monthEnd': () => new Date(Date.UTC(y, mo + 1, 0, 23, 59, 59, 999)),
      '@yearStart': () => new Date(Date.UTC(y, 0, 1)),
      '@yearEnd': () => new Date(Date.UTC(y, 11, 31, 23, 59, 59, 999)),
    };
    const ints: Record<string, number> = {
      '@second': now.getUTCSeconds(),
      '@minute': now.getUTCMinutes(),
      '@hour': now.getUTCHours(),
      '@day': d,
      '@month': mo + 1,
      '@weekday': now.getUTCDay(),
      '@year': y,
    };
    if (dates[name]) return constant('param', text(fmt(dates[name]())));
    if (name in ints) return constant('param', int(ints[name]!));
    throw new FilterReferenceError(`unknown macro ${name}`);
  }

  /**
   * Walks `segments` from the row of join `fromKey` (null: the root row) of `coll`.
   * `chain` is the list of joins so far; relation segments add one.
   */
  private path(coll: Collection, fromKey: string | null, chain: JoinDef[], segments: string[], modifier: string | undefined, multi: boolean, hops: number): Operand {
    const [head, ...rest] = segments;
    if (!head) throw new FilterReferenceError('empty path');
    if (rest.length === 0) return this.finalize(coll, fromKey, chain, head, modifier, multi);
    const field = this.field(coll, head);
    if (field && field.type === 'json') {
      if (modifier !== undefined) throw new FilterReferenceError('modifiers on JSON paths are not modelled');
      return { kind: 'expr', noCoalesce: true, multi, chain, final: (row) => (row === null ? NULL : jsonExtract(recOf(row)[field.name], rest)) };
    }
    // §4.8: at most 6 relation hops; `@collection.x` itself is not one (spec-silent; PocketBase counts from the collection).
    if (hops >= 6) throw new FilterReferenceError('more than 6 relation hops');
    const key = `${fromKey ?? ''}.${head}`;
    if (!field) {
      const back = /^(\w+)_via_(\w+)$/.exec(head);
      if (!back) throw new FilterReferenceError(`unknown field ${head} in ${coll.name}`);
      const source = this.collection(back[1]!);
      const relField = this.field(source, back[2]!);
      if (!relField || relField.type !== 'relation' || relField['collectionId'] !== coll.id) throw new FilterReferenceError(`bad back-relation ${head}`);
      const join: JoinDef = {
        key,
        parent: fromKey,
        rows: (parent) => {
          const id = recOf(parent).id;
          return (this.data[source.name] ?? []).filter((r) => ids(r[relField.name]).includes(id)).map((rec) => ({ kind: 'rec' as const, rec }));
        },
      };
      // The dataset has no UNIQUE index on a relation field: every back-relation is multi-valued.
      return this.path(source, key, [...chain, join], rest, modifier, true, hops + 1);
    }
    if (field.type !== 'relation') throw new FilterReferenceError(`${head} is not a relation`);
    const target = this.collectionById(String(field['collectionId']));
    // `rel.id` on a single relation is the relation column itself.
    if (!isMultiple(field) && rest.length === 1 && rest[0] === 'id' && modifier === undefined) return this.finalize(coll, fromKey, chain, field.name, undefined, multi);
    const join: JoinDef = {
      key,
      parent: fromKey,
      rows: (parent) =>
        ids(recOf(parent)[field.name]).map((id) => {
          const rec = this.byId.get(target.name)?.get(id);
          return rec ? { kind: 'rec' as const, rec } : null;
        }),
    };
    return this.path(target, key, [...chain, join], rest, modifier, multi || isMultiple(field), hops + 1);
  }

  private finalize(coll: Collection, fromKey: string | null, chain: JoinDef[], name: string, modifier: string | undefined, multi: boolean): Operand {
    const field = this.field(coll, name);
    if (!field) throw new FilterReferenceError(`unknown field ${name} in ${coll.name}`);
    const holdsMany = field.type === 'select' || field.type === 'file' || field.type === 'relation';
    const get = (row: Row): unknown => (row === null ? null : recOf(row)[field.name]);
    switch (modifier) {
      case undefined:
        return { kind: 'expr', noCoalesce: field.type === 'json', multi, chain, final: (row) => columnValue(field, get(row), row === null) };
      case 'lower':
        return {
          kind: 'expr',
          noCoalesce: field.type === 'json',
          multi,
          chain,
          final: (row) => {
            const t = textOf(columnValue(field, get(row), row === null).v);
            return t === null ? NULL : text(lowerAscii(t));
          },
        };
      case 'length':
        if (!holdsMany) throw new FilterReferenceError(':length needs a select/file/relation field');
        // §4.6: the number of items; a single non-empty value counts 1, '' (and NULL) 0.
        return { kind: 'expr', noCoalesce: false, multi, chain, final: (row) => int(lengthOf(get(row))) };
      case 'each': {
        if (!holdsMany) throw new FilterReferenceError(':each needs a select/file/relation field');
        // json_each over the items (a single value is one item). Spec-silent: json_each values have no column affinity (SQLite).
        const join: JoinDef = {
          key: `${fromKey ?? ''}.${field.name}:each`,
          parent: fromKey,
          rows: (parent) => {
            const v = recOf(parent)[field.name];
            const items = Array.isArray(v) ? v : [v ?? null];
            return items.map((item) => ({ kind: 'elem' as const, value: item === null ? NULL : text(String(item)) }));
          },
        };
        return { kind: 'expr', noCoalesce: false, multi: multi || isMultiple(field), chain: [...chain, join], final: (row) => (row === null ? NULL : elemOf(row)) };
      }
      default:
        throw new FilterReferenceError(`unknown modifier :${modifier}`);
    }
  }

  private field(coll: Collection, name: string): Field | undefined {
    return coll.fields.find((f) => f.name === name);
  }

  private collection(name: string): Collection {
    const c = this.schema.byName.get(name);
    if (!c) throw new FilterReferenceError(`unknown collection ${name}`);
    return c;
  }

  private collectionById(id: string): Collection {
    const c = this.schema.byId.get(id);
    if (!c) throw new FilterReferenceError(`unknown collection id ${id}`);
    return c;
  }
}

function constant(kind: Operand['kind'], value: SV): Operand {
  return { kind, noCoalesce: false, multi: false, chain: [], final: () => value };
}

function recOf(row: Row): Rec {
  if (row === null || row.kind !== 'rec') throw new FilterReferenceError('expected a record row');
  return row.rec;
}

function elemOf(row: Row): SV {
  if (row === null || row.kind !== 'elem') throw new FilterReferenceError('expected an element row');
  return row.value;
}

function isMultiple(field: Field): boolean {
  return Number(field['maxSelect'] ?? 0) > 1;
}

function ids(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' && value !== '' ? [value] : [];
}

function lengthOf(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  return value === null || value === undefined || value === '' ? 0 : 1;
}

/** A column's value as PocketBase's SQLite returns it, with the column's affinity. */
function columnValue(field: Field, value: unknown, nullRow: boolean): SV {
  switch (field.type) {
    case 'number':
      return nullRow ? { v: null, aff: 'numeric' } : num(Number(value ?? 0), 'numeric');
    case 'bool':
      return nullRow ? { v: null, aff: 'numeric' } : int(value === true ? 1 : 0, 'numeric');
    case 'json':
      // A whole JSON field (spec-silent; the generator avoids it): json_extract(col, '$').
      return nullRow ? NULL : jsonExtract(value, []);
    default:
      if (nullRow) return { v: null, aff: isMultiple(field) ? 'numeric' : 'text' };
      if (isMultiple(field)) return text(JSON.stringify(value ?? []), 'numeric'); // a JSON column: NUMERIC affinity
      return text(value === null || value === undefined ? '' : String(value), 'text');
  }
}

/** `json_extract(col, '$.a.b[0]')`: true/false → 1/0, null or missing → NULL, objects/arrays → their JSON text. */
function jsonExtract(value: unknown, path: string[]): SV {
  let cur: unknown = value;
  for (const seg of path) {
    if (/^\d+$/.test(seg)) cur = Array.isArray(cur) ? cur[Number(seg)] : undefined;
    else cur = cur !== null && typeof cur === 'object' && !Array.isArray(cur) && Object.hasOwn(cur, seg) ? (cur as Record<string, unknown>)[seg] : undefined;
    if (cur === undefined) return NULL;
  }
  if (cur === null || cur === undefined) return NULL;
  if (typeof cur === 'boolean') return int(cur ? 1 : 0);
  if (typeof cur === 'number') return Number.isInteger(cur) ? int(cur) : real(cur);
  if (typeof cur === 'string') return text(cur);
  return text(JSON.stringify(cur));
}

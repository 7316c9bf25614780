import { AppError } from '../errors/index.js';
import type { ExprItem, Operand, Operator } from '../filter/index.js';
import type { RequestInfo } from '../records/types.js';
import { findCollection, formatDate, isMultiple, parseDate, type Collection, type Field, type Schema } from '../schema/index.js';
import { constant, constText, type Kind, type QueryDialect, type ValueExpr } from './dialect.js';
import { fieldAccess, findField, hasUniqueIndex } from './fields.js';
import { AliasCounter, JoinLimitError, JoinSet } from './joins.js';
import { macroValue } from './macros.js';
import { fmt, ident, joinSql, sql, type Sql } from './sql.js';
import { compareConst, likeMatch, likePattern, lowerAscii, type CompareOp, type Const } from './values.js';

/**
 * Compiles the filter language (PocketBase §4) into one parameterized SQL
 * boolean expression over a row alias. Relation paths become LEFT JOINs shared
 * per path inside an `EXISTS (...)` wrapper; multi-valued operands get
 * PocketBase's match-all semantics through a `NOT EXISTS` over fresh joins.
 */
export interface CompileContext {
  schema: Schema;
  dialect: QueryDialect;
  info: RequestInfo;
  /** `filter`: a client's filter or sort, with the extra restrictions of §4.3. */
  mode: 'rule' | 'filter';
  aliases: AliasCounter;
  now: Date;
  /** Parsed rule of a collection (cached by the caller). */
  parseRule(collection: Collection, rule: string): ExprItem[];
  /**
   * What the compilation read of the request: the `@request.*` sections, `now` for a date macro.
   * Shared by nested compilations (related collections' rules); the compiled-SQL cache reads it.
   */
  reads?: Set<string>;
}

export const MAX_COMPARISONS = 200;
export const MAX_RELATION_HOPS = 6;

/**
 * The cost model of client filters and sorts: estimated rows a join yields per joined row.
 * Real counts vary; these are deliberately round upper-ish guesses, so the budgets below refuse
 * shapes (three back-relations in one path, dozens of two-back-relation comparisons) rather
 * than data sizes.
 */
const BACK_RELATION_FAN_OUT = 100;
const COLLECTION_FAN_OUT = 1000;
/** Rows a filter's comparisons may visit per record, summed: e.g. ten paths through two back-relations. */
export const MAX_FILTER_ROWS = 100_000;
/** Rows one sort term may visit per record: e.g. one back-relation, or a multiple relation. */
export const MAX_SORT_ROWS = 1_000;

/** A multiple relation yields up to maxSelect rows per record (capped as a back-relation is). */
function listFanOut(field: Field): number {
  const max = Number(field['maxSelect']) || BACK_RELATION_FAN_OUT;
  return Math.min(Math.max(max, 1), BACK_RELATION_FAN_OUT);
}

function tooExpensive(rows: number, limit: number): AppError {
  return invalidFilter(
    `too expensive: its relation paths could visit about ${rows.toLocaleString('en-US')} rows per record (the limit is ${limit.toLocaleString('en-US')}); use fewer back-relations (x_via_y) or @collection references per path`,
  );
}

/** The filter/rule problem a client sees as a 400. */
export function invalidFilter(message: string): AppError {
  return new AppError('invalid_filter', `Invalid filter: ${message}.`);
}

/** Compiles `items` as a condition on the row `alias` of `collection`. */
export function compileCondition(ctx: CompileContext, collection: Collection, alias: string, items: ExprItem[]): Sql {
  const compiler = new Compiler(ctx, collection, alias);
  return compiler.compile(items);
}

/** A collection's rule as a condition on `alias`: null when the rule is empty (everyone passes). */
export function ruleCondition(ctx: CompileContext, collection: Collection, alias: string, rule: string): Sql | null {
  if (rule.trim() === '') return null;
  return compileCondition({ ...ctx, mode: 'rule' }, collection, alias, ctx.parseRule(collection, rule));
}

/**
 * A single field path (`title`, `author.name`, `tags.name`) as one scalar SQL
 * value for ORDER BY: joins become a subquery; a multi-valued path sorts by its
 * smallest value ascending and its largest descending.
 */
export function compileScalar(ctx: CompileContext, collection: Collection, alias: string, identifier: string, desc: boolean): ValueExpr {
  const compiler = new Compiler(ctx, collection, alias);
  return compiler.scalar(identifier, desc);
}

/** One operand, rebuildable into any JoinSet (shared joins, or fresh ones for match-all checks). */
interface Resolved {
  multi: boolean;
  build(joins: JoinSet): ValueExpr;
}

const fixed = (value: ValueExpr): Resolved => ({ multi: false, build: () => value });
const constOf = (value: Const, kind?: Kind, integer = false): Resolved => fixed(constant(value, kind, integer));
/** true/false/:isset: SQLite INTEGERs 1/0. */
const boolConst = (b: boolean | null): Resolved => (b === null ? constOf(null) : constOf(b ? 1 : 0, 'bool', true));

class Compiler {
  private readonly joins: JoinSet;

  constructor(
    private readonly ctx: CompileContext,
    private readonly collection: Collection,
    private readonly alias: string,
  ) {
    this.joins = new JoinSet(ctx.aliases);
  }

  compile(items: ExprItem[]): Sql {
    if (countComparisons(items) > MAX_COMPARISONS) throw invalidFilter(`more than ${MAX_COMPARISONS} comparisons`);
    let tree: Node;
    try {
      tree = this.node(items);
    } catch (err) {
      if (err instanceof JoinLimitError) throw invalidFilter(err.message);
      throw err;
    }
    this.checkCost(tree);
    if (this.joins.isEmpty) return this.render(tree, new Set());
    // A comparison whose joins no other comparison uses gets its own EXISTS: for a formula of
    // AND/OR (monotone) this is exact, and it avoids a cartesian product of unrelated joins.
    const uses = new Map<string, number>();
    forEachAtom(tree, (atom) => atom.keys.forEach((k) => uses.set(k, (uses.get(k) ?? 0) + 1)));
    const privateKeys = new Set([...uses].filter(([, n]) => n === 1).map(([k]) => k));
    const body = this.render(tree, privateKeys);
    const outerKeys = new Set([...uses.keys()].filter((k) => !privateKeys.has(k) || !this.isPrivateAtomKey(tree, k, privateKeys)));
    if (outerKeys.size === 0) return body;
    return fmt`EXISTS (SELECT 1 FROM ${this.joins.from(outerKeys)} WHERE ${body})`;
  }

  /**
   * A client's filter or sort must be answerable in bounded time: every comparison may visit,
   * per record, the rows its relation path joins (a back-relation or an @collection many, a
   * single relation one). Past the budget the request is refused up front with a 400 instead of
   * holding a connection (or, on SQLite, a reader) for seconds. Rules are the developer's and
   * are not limited here; the query timeout still applies to them.
   */
  private checkCost(tree: Node): void {
    if (this.ctx.mode !== 'filter') return;
    let rows = 0;
    forEachAtom(tree, (atom) => (rows += this.joins.fanOut(atom.keys)));
    if (rows > MAX_FILTER_ROWS) throw tooExpensive(rows, MAX_FILTER_ROWS);
  }

  private node(items: ExprItem[]): Node {
    return {
      kind: 'list',
      parts: withoutRepeats(items).map((item) => ({
        join: item.join,
        node: item.expr.kind === 'group' ? this.node(item.expr.items) : this.atom(item.expr.left, item.expr.op, item.expr.right),
      })),
    };
  }

  private atom(left: Operand, op: Operator, right: Operand): Node {
    const { result, keys } = this.joins.track(() => this.comparison(left, op, right));
    return { kind: 'atom', sql: result, keys };
  }

  /** An atom renders in its own EXISTS when all its joins are private to it. */
  private ownsJoins(atom: Atom, privateKeys: Set<string>): boolean {
    return atom.keys.size > 0 && [...atom.keys].every((k) => privateKeys.has(k));
  }

  private isPrivateAtomKey(tree: Node, key: string, privateKeys: Set<string>): boolean {
    let owned = false;
    forEachAtom(tree, (atom) => {
      if (atom.keys.has(key) && this.ownsJoins(atom, privateKeys)) owned = true;
    });
    return owned;
  }

  private render(node: Node, privateKeys: Set<string>): Sql {
    if (node.kind === 'atom') {
      if (!this.ownsJoins(node, privateKeys)) return node.sql;
      return fmt`EXISTS (SELECT 1 FROM ${this.joins.from(node.keys)} WHERE ${node.sql})`;
    }
    const parts: Sql[] = [];
    for (const part of node.parts) {
      if (part.join) parts.push(sql(part.join === '&&' ? 'AND' : 'OR'));
      parts.push(this.render(part.node, privateKeys));
    }
    return fmt`(${joinSql(parts, ' ')})`;
  }

  scalar(identifier: string, desc: boolean): ValueExpr {
    const resolved = this.identifier(identifier);
    const joins = new JoinSet(this.ctx.aliases);
    const value = resolved.build(joins);
    if (joins.isEmpty) return value;
    // A sort evaluates its path for every record of the list (no EXISTS stops early): a smaller budget.
    if (this.ctx.mode === 'filter' && joins.fanOut() > MAX_SORT_ROWS) throw tooExpensive(joins.fanOut(), MAX_SORT_ROWS);
    // A subquery finds no row when the relation is empty: NULL.
    if (!resolved.multi) return { ...value, sql: fmt`(SELECT ${value.sql} FROM ${joins.from()} LIMIT 1)`, notNull: false };
    return { ...value, sql: this.ctx.dialect.extreme(value, joins.from(), desc), notNull: false };
  }

  private comparison(left: Operand, op: Operator, right: Operand): Sql {
    const anyOf = op.startsWith('?');
    const base = (anyOf ? op.slice(1) : op) as CompareOp | '~' | '!~';
    const l = this.operand(left);
    const r = this.operand(right);
    const core = this.condition(base, l.build(this.joins), r.build(this.joins));
    if (anyOf || (!l.multi && !r.multi)) return core;
    // Match-all: no value (pair) of the multi-valued side may fail the comparison.
    const froms: Sql[] = [];
    const side = (res: Resolved): ValueExpr => {
      if (!res.multi) return res.build(this.joins);
      const fresh = new JoinSet(this.ctx.aliases);
      const value = res.build(fresh);
      froms.push(fresh.from());
      return value;
    };
    const violation = this.condition(base, side(l), side(r));
    return fmt`(${core} AND NOT EXISTS (SELECT 1 FROM ${joinSql(froms, ', ')} WHERE NOT ${violation}))`;
  }

  /** SQL for `a op b` with PocketBase's ''/NULL handling (§4.4) and constant folding. */
  private condition(op: CompareOp | '~' | '!~', a: ValueExpr, b: ValueExpr): Sql {
    const d = this.ctx.dialect;
    a = settleEmpty(op, a, b);
    b = settleEmpty(op, b, a);
    if (op === '~' || op === '!~') {
      if (a.constant && b.constant) return boolSql(d, foldLike(op, a.constant, b.constant));
      const text = b.constant ? constText(b.constant) : null;
      const pattern = b.constant ? constant(text === null ? null : likePattern(text)) : b;
      return d.like(a, pattern, op === '!~');
    }
    if (op !== '=' && op !== '!=') {
      if (a.constant && b.constant) return boolSql(d, compareConst(op, a.constant.value, b.constant.value) === true);
      return d.compare(op, a, b);
    }
    const negate = op === '!=';
    if (a.constant && b.constant) {
      const both = isEmptyConst(a) && isEmptyConst(b);
      return boolSql(d, both ? !negate : compareConst(op, a.constant.value, b.constant.value) === true);
    }
    if (a.nullSafe || b.nullSafe) {
      const [x, other] = a.constant ? [b, a] : [a, b];
      if (other.constant?.value === null) return negate ? fmt`(NOT ${isNull(d, x)})` : isNull(d, x);
      if (a.constant || b.constant) return d.compare(op, a, b);
      // Two non-constant operands compare with IS: NULL IS NULL holds.
      if (d.name === 'sqlite') return fmt`(${a.sql} ${sql(negate ? 'IS NOT' : 'IS')} ${b.sql})`;
      return negate ? d.compare('!=', a, b) : fmt`(NOT ${d.compare('!=', a, b)})`;
    }
    const empty = isEmptyConst(b) ? a : isEmptyConst(a) ? b : null;
    if (empty) {
      const blank = d.compare(op, empty, constant(''));
      return negate ? fmt`(${blank} AND NOT ${isNull(d, empty)})` : fmt`(${blank} OR ${isNull(d, empty)})`;
    }
    if (a.constant || b.constant) return d.compare(op, a, b);
    return coalescedEquals(d, a, b, negate);
  }

  // ---- operands ---------------------------------------------------------

  private operand(op: Operand): Resolved {
    switch (op.kind) {
      case 'text':
        return constOf(op.value);
      case 'number':
        return constOf(op.value);
      case 'function':
        return this.func(op.name, op.args);
      case 'identifier':
        return this.identifier(op.name);
    }
  }

  private identifier(name: string): Resolved {
    const [path, modifier, ...extra] = name.split(':');
    if (name.startsWith('@collection.')) return this.collectionRef(name);
    if (extra.length > 0) throw invalidFilter(`"${name}" has more than one modifier`);
    if (path!.startsWith('@request.')) return this.requestRef(path!, modifier);
    if (path!.startsWith('@')) {
      if (modifier !== undefined) throw invalidFilter(`"${name}" cannot take a modifier`);
      this.ctx.reads?.add('now');
      const value = macroValue(path!, this.ctx.now);
      if (value === undefined) throw invalidFilter(`unknown macro "${path}"`);
      return constOf(value, undefined, typeof value === 'number');
    }
    const segments = path!.split('.');
    const literal = literalFor(path!, this.collection);
    if (literal !== undefined && modifier === undefined) return literal;
    return this.fieldPath(this.collection, { alias: this.alias, key: '' }, segments, modifier, false, 0);
  }

  /**
   * Walks `a.b.c` from a row of `collection`: relation and back-relation segments
   * add joins, the last segment is a field value (or a JSON path inside one).
   */
  private fieldPath(collection: Collection, from: RowRef, segments: string[], modifier: string | undefined, multi: boolean, hops: number): Resolved {
    const [head, ...rest] = segments;
    if (!head) throw invalidFilter('empty field path');
    const field = findField(collection, head);
    if (!field) {
      const back = /^(\w+)_via_(\w+)$/.exec(head);
      if (back) return this.backRelation(collection, from, back[1]!, back[2]!, rest, modifier, multi, hops);
      throw invalidFilter(`unknown field "${head}" in collection "${collection.name}"`);
    }
    this.checkVisible(collection, field);
    if (rest.length === 0) return this.fieldValue(collection, field, from, modifier, multi);
    if (field.type === 'json' || field.type === 'geoPoint') {
      if (modifier !== undefined && modifier !== 'lower') throw invalidFilter(`modifier ":${modifier}" cannot be used on a JSON path`);
      return this.jsonPath(collection, field, from, rest, modifier, multi);
    }
    if (field.type !== 'relation') throw invalidFilter(`"${field.name}" is not a relation field`);
    if (hops >= MAX_RELATION_HOPS) throw invalidFilter(`more than ${MAX_RELATION_HOPS} relation hops`);
    const target = this.relationTarget(field);
    const access = fieldAccess(collection, field);
    const key = `${from.key}.${field.name}`;
    if (rest.length === 1 && rest[0] === 'id' && modifier === undefined && access.kind === 'column') {
      return this.fieldValue(collection, field, from, undefined, multi);
    }
    return this.withJoins(access.kind !== 'column' || multi, (joins) => {
      const alias = this.joinRelation(joins, collection, field, target, from, key);
      return { alias, key };
    }, target, rest, modifier, hops + 1);
  }

  /** Continues a path in `target` after joins produced by `join` (rebuilt per JoinSet). */
  private withJoins(multi: boolean, join: (joins: JoinSet) => RowRef, target: Collection, rest: string[], modifier: string | undefined, hops: number): Resolved {
    const probe = (joins: JoinSet): Resolved => this.fieldPath(target, join(joins), rest, modifier, multi, hops);
    // Resolve once against a scratch set to learn whether deeper segments are multi-valued (and to validate early).
    const inner = probe(new JoinSet(this.ctx.aliases));
    return { multi: inner.multi, build: (joins) => probe(joins).build(joins) };
  }

  private joinRelation(joins: JoinSet, collection: Collection, field: Field, target: Collection, from: RowRef, key: string): string {
    const access = fieldAccess(collection, field);
    const rule = (alias: string) => this.traversalRule(target, alias);
    if (access.kind === 'junction') {
      const j = joins.add(`${key}#junction`, 'jr', (a) => sql(`LEFT JOIN ${ident(access.table)} ${a} ON ${a}."owner_id" = ${from.alias}."id"`), listFanOut(field));
      return joins.add(key, 'j', (a) => fmt`LEFT JOIN ${sql(ident(target.name))} ${sql(a)} ON ${sql(`${a}."id" = ${j}."target_id"`)}${andRule(rule(a))}`);
    }
    if (access.kind === 'jsonArray') {
      const each = joins.add(`${key}#each`, 'je', (a) => fmt`${sql(this.ctx.dialect.lateral)} ${this.ctx.dialect.jsonEach(sql(`${from.alias}.${ident(field.name)}`), a)} ON 1=1`, listFanOut(field));
      return joins.add(key, 'j', (a) => fmt`LEFT JOIN ${sql(ident(target.name))} ${sql(a)} ON ${sql(`${a}."id" = ${each}.value`)}${andRule(rule(a))}`);
    }
    return joins.add(key, 'j', (a) => fmt`LEFT JOIN ${sql(ident(target.name))} ${sql(a)} ON ${sql(`${a}."id" = ${from.alias}.${ident(field.name)}`)}${andRule(rule(a))}`);
  }

  private backRelation(collection: Collection, from: RowRef, sourceName: string, fieldName: string, rest: string[], modifier: string | undefined, multi: boolean, hops: number): Resolved {
    const source = findCollection(this.ctx.schema, sourceName);
    const field = source ? findField(source, fieldName) : undefined;
    if (!source || !field || field.type !== 'relation' || this.relationTarget(field).id !== collection.id) {
      throw invalidFilter(`unknown back-relation "${sourceName}_via_${fieldName}"`);
    }
    if (hops >= MAX_RELATION_HOPS) throw invalidFilter(`more than ${MAX_RELATION_HOPS} relation hops`);
    const access = fieldAccess(source, field);
    const single = access.kind === 'column' && hasUniqueIndex(source, field);
    const key = `${from.key}.${sourceName}_via_${fieldName}`;
    const join = (joins: JoinSet): RowRef => {
      const rule = (alias: string) => this.traversalRule(source, alias);
      if (access.kind === 'junction') {
        const j = joins.add(`${key}#junction`, 'jr', (a) => sql(`LEFT JOIN ${ident(access.table)} ${a} ON ${a}."target_id" = ${from.alias}."id"`), BACK_RELATION_FAN_OUT);
        return { key, alias: joins.add(key, 'j', (a) => fmt`LEFT JOIN ${sql(ident(source.name))} ${sql(a)} ON ${sql(`${a}."id" = ${j}."owner_id"`)}${andRule(rule(a))}`) };
      }
      if (access.kind === 'jsonArray') throw invalidFilter(`back-relations through view "${source.name}" are not supported`);
      const fanOut = single ? 1 : BACK_RELATION_FAN_OUT;
      return { key, alias: joins.add(key, 'j', (a) => fmt`LEFT JOIN ${sql(ident(source.name))} ${sql(a)} ON ${sql(`${a}.${ident(field.name)} = ${from.alias}."id"`)}${andRule(rule(a))}`, fanOut) };
    };
    return this.withJoins(multi || !single, join, source, rest.length > 0 ? rest : ['id'], modifier, hops + 1);
  }

  private collectionRef(name: string): Resolved {
    const m = /^@collection\.(\w+)(?::(\w+))?\.([^:]+)(?::(\w+))?$/.exec(name);
    if (!m) throw invalidFilter(`invalid @collection reference "${name}"`);
    const [, collName, aliasName, path, modifier] = m;
    const target = findCollection(this.ctx.schema, collName!);
    if (!target) throw invalidFilter(`unknown collection "${collName}"`);
    const key = `@collection.${target.name}:${aliasName ?? ''}`;
    const join = (joins: JoinSet): RowRef => ({
      key,
      alias: joins.add(key, 'jc', (a) => fmt`LEFT JOIN ${sql(ident(target.name))} ${sql(a)} ON 1=1${andRule(this.traversalRule(target, a))}`, COLLECTION_FAN_OUT),
    });
    return this.withJoins(true, join, target, path!.split('.'), modifier, 0);
  }

  /** A field's value from a row, with an optional modifier. */
  private fieldValue(collection: Collection, field: Field, from: RowRef, modifier: string | undefined, multi: boolean): Resolved {
    const d = this.ctx.dialect;
    const access = fieldAccess(collection, field);
    const column = sql(`${from.alias}.${ident(field.name)}`);
    const canHoldMany = field.type === 'select' || field.type === 'file' || field.type === 'relation';
    switch (modifier) {
      case undefined:
        return { multi, build: () => this.plainValue(collection, field, from) };
      case 'lower':
        return { multi, build: () => ({ sql: d.lower(coalesced(this.plainValue(collection, field, from))), kind: 'text' }) };
      case 'length': {
        if (!canHoldMany) throw invalidFilter(`":length" needs a select, file or relation field, not "${field.name}"`);
        if (access.kind === 'junction') return { multi, build: () => ({ sql: sql(`(SELECT COUNT(*) FROM ${ident(access.table)} WHERE "owner_id" = ${from.alias}."id")`), kind: 'number' }) };
        if (access.kind === 'jsonArray') return { multi, build: () => ({ sql: d.jsonLength(column), kind: 'number' }) };
        return { multi, build: () => ({ sql: fmt`(CASE WHEN ${column} IS NULL OR ${column} = '' THEN 0 ELSE 1 END)`, kind: 'number' }) };
      }
      case 'each': {
        if (!canHoldMany) throw invalidFilter(`":each" needs a select, file or relation field, not "${field.name}"`);
        const key = `${from.key}.${field.name}:each`;
        if (access.kind === 'junction') {
          return { multi: true, build: (joins) => ({ sql: sql(`${joins.add(key, 'je', (a) => sql(`LEFT JOIN ${ident(access.table)} ${a} ON ${a}."owner_id" = ${from.alias}."id"`), listFanOut(field))}."target_id"`), kind: 'text' }) };
        }
        if (access.kind === 'jsonArray') {
          return { multi: true, build: (joins) => ({ sql: sql(`${joins.add(key, 'je', (a) => fmt`${sql(d.lateral)} ${d.jsonEach(column, a)} ON 1=1`, listFanOut(field))}.value`), kind: 'text' }) };
        }
        // A single value iterated: json_each-like, without the column's affinity.
        return { multi, build: () => ({ sql: fmt`COALESCE(${this.plainValue(collection, field, from).sql}, '')`, kind: 'text' }) };
      }
      case 'isset':
      case 'changed':
        throw invalidFilter(`":${modifier}" can only be used on @request.* fields`);
      default:
        throw invalidFilter(`unknown modifier ":${modifier}"`);
    }
  }

  private plainValue(collection: Collection, field: Field, from: RowRef): ValueExpr {
    const d = this.ctx.dialect;
    const access = fieldAccess(collection, field);
    const column = sql(`${from.alias}.${ident(field.name)}`);
    if (access.kind === 'junction') {
      return { sql: d.aggregateJsonText('"target_id"', sql(`${ident(access.table)} WHERE "owner_id" = ${from.alias}."id"`), '"position"'), kind: 'text' };
    }
    if (access.kind === 'jsonArray') return { sql: d.jsonArrayText(column), kind: 'text' };
    if (this.hidesEmail(collection, field)) {
      return { sql: fmt`(CASE WHEN ${sql(`${from.alias}."emailVisibility"`)} THEN ${column} END)`, kind: 'text' };
    }
    if (field.type === 'geoPoint') return { sql: column, kind: 'json', affinity: true };
    if (access.relation) return { sql: column, kind: access.valueKind, affinity: true, nullAsEmpty: true };
    // Table columns other than JSON and single relations are NOT NULL (db/model.ts); a view's are not.
    const notNull = collection.type !== 'view' && access.valueKind !== 'json';
    return { sql: column, kind: access.valueKind, affinity: true, ...(notNull ? { notNull } : {}) };
  }

  private jsonPath(collection: Collection, field: Field, from: RowRef, path: string[], modifier: string | undefined, multi: boolean): Resolved {
    const d = this.ctx.dialect;
    if (path.some((seg) => !/^\w+$/.test(seg))) throw invalidFilter(`invalid JSON path "${path.join('.')}"`);
    return {
      multi,
      build: () => {
        const value = d.jsonPath(sql(`${from.alias}.${ident(field.name)}`), path);
        return modifier === 'lower' ? { sql: d.lower(value), kind: 'text' } : value;
      },
    };
  }

  // ---- @request.* ---------------------------------------------------------

  private requestRef(path: string, modifier: string | undefined): Resolved {
    const info = this.ctx.info;
    const [, section, ...rest] = path.split('.');
    this.ctx.reads?.add(section ?? '');
    switch (section) {
      case 'context':
      case 'method':
        if (rest.length > 0) throw invalidFilter(`invalid identifier "${path}"`);
        return this.requestConst(section === 'context' ? info.context : info.method, true, modifier);
      case 'headers':
      case 'query': {
        if (rest.length !== 1) throw invalidFilter(`invalid identifier "${path}"`);
        const bag = section === 'headers' ? info.headers : info.query;
        const has = Object.hasOwn(bag, rest[0]!);
        return this.requestConst(has ? bag[rest[0]!]! : null, has, modifier);
      }
      case 'auth':
        return this.authRef(rest, modifier);
      case 'body':
      case 'data':
        return this.bodyRef(rest, modifier);
      default:
        throw invalidFilter(`unknown identifier "${path}"`);
    }
  }

  private requestConst(value: unknown, isset: boolean, modifier: string | undefined): Resolved {
    switch (modifier) {
      case undefined:
        return constOf(toConst(value));
      case 'isset':
        return boolConst(isset);
      case 'lower': {
        const c = toConst(value);
        return constOf(typeof c === 'string' ? lowerAscii(c) : c);
      }
      case 'length':
        return constOf(lengthOf(value), 'number', true);
      case 'each':
        return this.constSet(Array.isArray(value) ? value : value === null || value === undefined || value === '' ? [] : [value]);
      default:
        throw invalidFilter(`modifier ":${modifier}" cannot be used here`);
    }
  }

  /** A multi-valued constant (`@request.body.tags:each`): one row per element, NULL when empty. */
  private constSet(values: unknown[]): Resolved {
    const d = this.ctx.dialect;
    const json = JSON.stringify(values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))));
    return {
      multi: true,
      build: (joins) => {
        const alias = joins.add(`#const${json}`, 'jv', (a) => fmt`${sql(d.lateral)} ${d.jsonEachParam(json, a)} ON 1=1`);
        return { sql: sql(`${alias}.value`), kind: 'text' };
      },
    };
  }

  private authRef(path: string[], modifier: string | undefined): Resolved {
    const auth = this.ctx.info.auth;
    const [head, ...rest] = path;
    if (!head) throw invalidFilter('invalid identifier "@request.auth"');
    if (!auth) return modifier === 'isset' ? boolConst(false) : constOf(null);
    const meta: Record<string, unknown> = { collectionId: auth.collection.id, collectionName: auth.collection.name };
    if (Object.hasOwn(meta, head) && rest.length === 0) return this.requestConst(meta[head], true, modifier);
    const field = findField(auth.collection, head);
    if (!field) return this.requestConst(null, false, modifier);
    return this.recordValue(auth.collection, field, auth.record[field.name], rest, modifier, true, `@request.auth`);
  }

  private bodyRef(path: string[], modifier: string | undefined): Resolved {
    const body = this.ctx.info.body;
    const [head, ...rest] = path;
    if (!head) throw invalidFilter('invalid identifier "@request.body"');
    const isset = Object.hasOwn(body, head);
    const field = findField(this.collection, head);
    if (modifier === 'changed') {
      if (!field || rest.length > 0) throw invalidFilter(`":changed" needs a field of "${this.collection.name}"`);
      if (!isset) return boolConst(false);
      const current = this.fieldValue(this.collection, field, { alias: this.alias, key: '' }, undefined, false);
      const submitted = this.recordValue(this.collection, field, body[head], [], undefined, true, '@request.body');
      // PocketBase: `@request.body.f:isset = true && @request.body.f != f`.
      return { multi: false, build: (joins) => ({ sql: this.condition('!=', submitted.build(joins), current.build(joins)), kind: 'bool' }) };
    }
    if (!field) {
      if (rest.length > 0) return this.requestConst(null, false, modifier);
      return this.requestConst(isset ? body[head] : null, isset, modifier);
    }
    if (modifier === 'isset') return boolConst(isset);
    return this.recordValue(this.collection, field, isset ? body[head] : null, rest, modifier, isset, '@request.body');
  }

  /**
   * A value known in memory (the auth record's field, a submitted body value):
   * a constant, or for a relation path a join starting from the bound ids.
   */
  private recordValue(collection: Collection, field: Field, value: unknown, rest: string[], modifier: string | undefined, isset: boolean, origin: string): Resolved {
    if (rest.length === 0) {
      if (modifier === undefined && field.type === 'number' && typeof value === 'string') return constOf(Number(value) || 0);
      if (modifier === undefined && field.type === 'bool') return boolConst(value === null || value === undefined ? null : value === true || value === 'true' || value === 1);
      return this.requestConst(value, isset, modifier);
    }
    if (field.type === 'json' || field.type === 'geoPoint') {
      let current: unknown = value;
      for (const seg of rest) current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[seg] : undefined;
      return this.requestConst(current ?? null, current !== undefined, modifier);
    }
    if (field.type !== 'relation') throw invalidFilter(`"${field.name}" is not a relation field`);
    const target = this.relationTarget(field);
    const ids = (Array.isArray(value) ? value : value === null || value === undefined || value === '' ? [] : [value]).map(String);
    const key = `${origin}.${field.name}`;
    const join = (joins: JoinSet): RowRef => ({
      key,
      alias: joins.add(key, 'ja', (a) => {
        const match = ids.length === 0 ? sql('1=0') : sql(`${a}."id" IN (${ids.map(() => '?').join(', ')})`, ids);
        return fmt`LEFT JOIN ${sql(ident(target.name))} ${sql(a)} ON ${match}`;
      }),
    });
    return this.withJoins(isMultiple(field), join, target, rest, modifier, 1);
  }

  // ---- functions ----------------------------------------------------------

  private func(name: string, args: Operand[]): Resolved {
    switch (name) {
      case 'geoDistance':
        return this.geoDistance(args);
      case 'strftime':
        return this.strftime(args);
      default:
        throw invalidFilter(`unknown function "${name}"`);
    }
  }

  private geoDistance(args: Operand[]): Resolved {
    if (args.length !== 4) throw invalidFilter('geoDistance() takes 4 arguments (lonA, latA, lonB, latB)');
    const resolved = args.map((a) => this.operand(a));
    const d = this.ctx.dialect;
    return {
      multi: resolved.some((r) => r.multi),
      build: (joins) => {
        const [lonA, latA, lonB, latB] = resolved.map((r) => numeric(d, r.build(joins)));
        const rad = (x: Sql) => fmt`RADIANS(${x})`;
        const hav = fmt`POWER(SIN((${rad(latB!)} - ${rad(latA!)}) / 2), 2) + COS(${rad(latA!)}) * COS(${rad(latB!)}) * POWER(SIN((${rad(lonB!)} - ${rad(lonA!)}) / 2), 2)`;
        return { sql: fmt`(6371 * 2 * ASIN(SQRT(${hav})))`, kind: 'number', nullSafe: true };
      },
    };
  }

  private strftime(args: Operand[]): Resolved {
    const [format, time, ...modifiers] = args;
    if (!format || format.kind !== 'text') throw invalidFilter('strftime() needs a text format as its first argument');
    if (args.length > 10) throw invalidFilter('strftime() takes at most 10 arguments');
    const d = this.ctx.dialect;
    const timeRes = time ? this.operand(time) : constOf('now');
    const mods = modifiers.map((m) => this.operand(m));
    if (d.name === 'postgres' && mods.length > 0) throw invalidFilter('strftime() modifiers are not supported on PostgreSQL');
    return {
      multi: timeRes.multi,
      build: (joins) => {
        const t = timeRes.build(joins);
        if (d.name === 'sqlite') {
          const rest = mods.map((m) => m.build(joins).sql);
          return { sql: fmt`COALESCE(strftime(${joinSql([sql('?', [format.value]), t.sql, ...rest], ', ')}), '')`, kind: 'text' };
        }
        // SQLite's strftime gives NULL (→ '') for a text it cannot read as a date; so does this.
        if (t.constant && t.constant.value !== 'now' && (typeof t.constant.value !== 'string' || !parseDate(t.constant.value))) return constant('');
        return { sql: pgStrftime(format.value, t), kind: 'text' };
      },
    };
  }

  // ---- access checks --------------------------------------------------------

  private get restricted(): boolean {
    return this.ctx.mode === 'filter' && !this.ctx.info.superuser;
  }

  /** A hidden field reads as an unknown one to a non-superuser: the message must not confirm it exists. */
  private checkVisible(collection: Collection, field: Field): void {
    if (this.restricted && field.hidden) throw invalidFilter(`unknown field "${field.name}" in collection "${collection.name}"`);
  }

  private hidesEmail(collection: Collection, field: Field): boolean {
    return this.restricted && collection.type === 'auth' && field.name === 'email';
  }

  /** Client filters may only traverse into collections they can list, and only see the rows they could list. */
  private traversalRule(target: Collection, alias: string): Sql | null {
    if (!this.restricted) return null;
    if (target.listRule === null) throw invalidFilter(`the records of "${target.name}" cannot be listed`);
    return ruleCondition(this.ctx, target, alias, target.listRule);
  }

  private relationTarget(field: Field): Collection {
    const target = findCollection(this.ctx.schema, String(field['collectionId']));
    if (!target) throw invalidFilter(`relation "${field.name}" has no target collection`);
    return target;
  }
}

interface Atom {
  kind: 'atom';
  sql: Sql;
  /** The shared joins this comparison uses. */
  keys: Set<string>;
}
type Node = Atom | { kind: 'list'; parts: { join: ExprItem['join']; node: Node }[] };

/**
 * `a || a || a` is `a` (and `a && a` is `a`): when a list joins with one operator only,
 * repeated comparisons are dropped, so a hostile filter repeating one costly
 * comparison 200 times costs one.
 */
function countComparisons(items: ExprItem[]): number {
  return items.reduce((n, item) => n + (item.expr.kind === 'group' ? countComparisons(item.expr.items) : 1), 0);
}

function withoutRepeats(items: ExprItem[]): ExprItem[] {
  const joins = new Set(items.slice(1).map((i) => i.join));
  if (joins.size > 1) return items;
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = JSON.stringify(item.expr);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function forEachAtom(node: Node, fn: (atom: Atom) => void): void {
  if (node.kind === 'atom') fn(node);
  else for (const part of node.parts) forEachAtom(part.node, fn);
}

interface RowRef {
  alias: string;
  /** The path that led here, to share joins between references to the same path. */
  key: string;
}

function andRule(rule: Sql | null): Sql {
  return rule ? fmt` AND ${rule}` : sql('');
}

function literalFor(name: string, collection: Collection): Resolved | undefined {
  const lower = name.toLowerCase();
  if (!['true', 'false', 'null'].includes(lower) || findField(collection, name)) return undefined;
  return lower === 'null' ? constOf(null) : boolConst(lower === 'true');
}

function toConst(value: unknown): Const {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function lengthOf(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  return value === null || value === undefined || value === '' ? 0 : 1;
}

function isEmptyConst(v: ValueExpr): boolean {
  return v.constant !== undefined && (v.constant.value === null || v.constant.value === '');
}

function boolSql(d: QueryDialect, b: boolean): Sql {
  return sql(`(${d.bool(b)} = ${d.bool(true)})`);
}

function foldLike(op: '~' | '!~', a: { value: Const; integer?: boolean }, b: { value: Const; integer?: boolean }): boolean {
  const text = constText(a);
  const raw = constText(b);
  if (text === null || raw === null) return false;
  const pattern = likePattern(raw);
  const matched = likeMatch(text, pattern);
  return op === '~' ? matched : !matched;
}

/** NULL of an empty single relation reads as '' wherever '' and NULL would differ (everything but =/!= with a constant). */
function settleEmpty(op: string, v: ValueExpr, other: ValueExpr): ValueExpr {
  if (!v.nullAsEmpty) return v;
  if ((op === '=' || op === '!=') && other.constant) return v;
  return { ...v, sql: fmt`CAST(COALESCE(${v.sql}, '') AS TEXT)`, nullAsEmpty: false };
}

function coalesced(v: ValueExpr): ValueExpr {
  return v.nullAsEmpty ? { ...v, sql: fmt`COALESCE(${v.sql}, '')`, nullAsEmpty: false } : v;
}

function isNull(d: QueryDialect, v: ValueExpr): Sql {
  if (d.name === 'postgres' && v.kind === 'jsonpath') return fmt`COALESCE(jsonb_typeof(${v.sql}) = 'null', TRUE)`;
  return fmt`(${v.sql} IS NULL)`;
}

/** `COALESCE(a,'') = COALESCE(b,'')` (field vs field), reproduced on PostgreSQL with typed columns. */
function coalescedEquals(d: QueryDialect, a: ValueExpr, b: ValueExpr, negate: boolean): Sql {
  if (d.name === 'sqlite') return fmt`(COALESCE(${a.sql}, '') ${sql(negate ? 'IS NOT' : '=')} COALESCE(${b.sql}, ''))`;
  const blank = (v: ValueExpr): Sql =>
    v.kind === 'text' ? fmt`(${v.sql} = '')` : v.kind === 'date' ? fmt`(${v.sql} = '-infinity')` : sql('FALSE');
  // COALESCE drops SQLite's column affinity: compare as plain expressions.
  const plain = d.compare('=', { ...a, affinity: false }, { ...b, affinity: false });
  const eq = fmt`(CASE WHEN ${a.sql} IS NULL AND ${b.sql} IS NULL THEN TRUE WHEN ${a.sql} IS NULL THEN ${blank(b)} WHEN ${b.sql} IS NULL THEN ${blank(a)} ELSE COALESCE(${plain}, FALSE) END)`;
  return negate ? fmt`(NOT ${eq})` : eq;
}

function numeric(d: QueryDialect, v: ValueExpr): Sql {
  if (d.name === 'sqlite') return v.sql;
  if (v.constant) return d.param(typeof v.constant.value === 'number' ? v.constant.value : Number(v.constant.value) || 0, 'number');
  if (v.kind === 'jsonpath') return fmt`(CASE jsonb_typeof(${v.sql}) WHEN 'number' THEN ((${v.sql}) #>> '{}')::float8 END)`;
  if (v.kind === 'bool') return fmt`(${v.sql})::int`;
  if (v.kind === 'number') return v.sql;
  return sql('NULL::float8');
}

const PG_STRFTIME: Record<string, string> = { d: 'DD', m: 'MM', Y: 'YYYY', H: 'HH24', M: 'MI', S: 'SS', f: 'SS.MS', j: 'DDD' };

/** SQLite's strftime on PostgreSQL for a date value: each specifier becomes a to_char piece. */
function pgStrftime(format: string, t: ValueExpr): Sql {
  const time = t.constant
    ? t.constant.value === 'now'
      ? sql('(now() AT TIME ZONE \'UTC\')')
      : sql("(?::timestamptz AT TIME ZONE 'UTC')", [formatDate(parseDate(String(t.constant.value))!)])
    : t.kind === 'date'
      ? fmt`(${t.sql} AT TIME ZONE 'UTC')`
      : null;
  if (!time) throw invalidFilter('strftime() on PostgreSQL needs a date field, a date literal or "now"');
  const pieces: Sql[] = [];
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c === '%' && i + 1 < format.length) {
      const spec = format[++i]!;
      if (PG_STRFTIME[spec]) pieces.push(fmt`to_char(${time}, '${sql(PG_STRFTIME[spec])}')`);
      else if (spec === 'w') pieces.push(fmt`EXTRACT(DOW FROM ${time})::int::text`);
      else if (spec === 's') pieces.push(fmt`EXTRACT(EPOCH FROM ${time})::bigint::text`);
      else pieces.push(sql('?::text', [spec === '%' ? '%' : `%${spec}`]));
    } else {
      pieces.push(sql('?::text', [c]));
    }
  }
  const zero = t.kind === 'date' && !t.constant ? fmt`${t.sql} = '-infinity' OR ` : sql('');
  return fmt`(CASE WHEN ${zero}${time} IS NULL THEN '' ELSE ${pieces.length ? joinSql(pieces, ' || ') : sql("''")} END)`;
}

export { AliasCounter };

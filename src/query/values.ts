/**
 * SQLite's comparison semantics for constants, so that a comparison between two
 * constants (`@request.auth.id != ""`, `@now > "2024"`) folds to TRUE/FALSE in
 * JavaScript with the same result SQLite would give, on both engines.
 */
export type Const = string | number | null;

export type CompareOp = '=' | '!=' | '>' | '>=' | '<' | '<=';

/** NULL < numbers < text, as SQLite orders mixed types. */
function typeRank(v: Exclude<Const, null>): number {
  return typeof v === 'number' ? 1 : 2;
}

/** SQLite's three-valued comparison of two constants; `!=` is PocketBase's null-safe `IS NOT`. */
export function compareConst(op: CompareOp, a: Const, b: Const): boolean | null {
  if (op === '!=') {
    if (a === null || b === null) return !(a === null && b === null);
    return order(a, b) !== 0;
  }
  if (a === null || b === null) return null;
  const c = order(a, b);
  switch (op) {
    case '=':
      return c === 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
  }
}

function order(a: Exclude<Const, null>, b: Exclude<Const, null>): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number') return a - (b as number);
  // SQLite's BINARY collation: compare UTF-8 bytes, which orders like code points.
  return compareCodePoints(a, b as string);
}

function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/** How SQLite renders a REAL as text (`5` → `5.0`): what a number literal becomes next to a text column. */
export function realText(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? 'Inf' : n < 0 ? '-Inf' : 'NaN';
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return `${n}.0`;
  return String(n);
}

/** ASCII-only lower-casing, as SQLite's LOWER() and LIKE do it. */
export function lowerAscii(text: string): string {
  return text.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * PocketBase's `~` operand: without an unescaped `%` the value is escaped and
 * wrapped as a contains-pattern; with one it is used as written.
 */
export function likePattern(value: string): string {
  if (hasUnescapedPercent(value)) return value;
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Scans `\\x` escapes left to right, so `a\\\\%` (escaped backslash, then %) has an unescaped `%`. */
function hasUnescapedPercent(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === '%') return true;
  }
  return false;
}

/**
 * SQLite LIKE with ESCAPE '\\': ASCII case-insensitive, `%` any run, `_` one character.
 * The classic wildcard walk (backtrack to the last `%` only): O(text × pattern), never
 * exponential, so a hostile `%a%a%a...` literal cannot block the event loop.
 */
export function likeMatch(text: string, pattern: string): boolean {
  const t = [...lowerAscii(text)];
  const p = parsePattern(lowerAscii(pattern));
  let ti = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    const tok = p[pi];
    if (tok !== undefined && tok.kind !== 'any' && (tok.kind === 'one' || tok.char === t[ti])) {
      ti++;
      pi++;
    } else if (tok?.kind === 'any') {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (p[pi]?.kind === 'any') pi++;
  return pi === p.length;
}

type PatternToken = { kind: 'any' } | { kind: 'one' } | { kind: 'char'; char: string };

function parsePattern(pattern: string): PatternToken[] {
  const chars = [...pattern];
  const out: PatternToken[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\' && i + 1 < chars.length) out.push({ kind: 'char', char: chars[++i]! });
    else if (c === '%') out.push({ kind: 'any' });
    else if (c === '_') out.push({ kind: 'one' });
    else out.push({ kind: 'char', char: c });
  }
  return out;
}

/** SQLite's numeric affinity: text that looks like a number is compared as one next to a numeric column. */
export function numericText(text: string): number | null {
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text)) return null;
  return Number(text);
}

/**
 * The `fields` query parameter picker (PocketBase `tools/picker`, see
 * pocketbase-api.md §1.4).
 *
 * The raw parameter is compiled once per request into a tree of path segments;
 * picking is then a single walk over the value, building new containers (the
 * input is never mutated; leaf values are shared, not cloned).
 *
 * Semantics, as in PocketBase:
 * - top-level commas separate tokens (commas inside `(...)` or quotes are kept),
 *   tokens are trimmed and empty tokens are skipped;
 * - `a.b.c` selects nested keys; a missing key is simply absent from the result;
 * - `*` selects every key of its level that no other path of that level names,
 *   so `*,expand.author.name` keeps every top-level key but narrows `expand`;
 * - an exact path wins over deeper paths of the same key (`expand,expand.a` ⇒ whole `expand`);
 * - arrays are picked element-wise (object elements are picked, other elements kept);
 * - a deeper path through a scalar (`title.x` when `title` is a string) keeps the scalar as is;
 * - `path:excerpt(maxLength[, withEllipsis])` turns an HTML string into a plain-text excerpt.
 *
 * Galley difference (galley.md §6): a malformed value throws AppError('invalid_fields')
 * instead of PocketBase's empty 2xx body. Galley is also stricter about what is
 * malformed: empty path segments (`a..b`, `a.`), `*` before the last segment,
 * unbalanced parentheses/quotes, unknown modifiers and bad modifier arguments
 * (including a `withEllipsis` that is not a Go-style bool).
 */
import { Parser } from 'htmlparser2';
import { AppError } from '../errors/index.js';

export interface FieldsPicker {
  /** Returns a new object holding only the picked keys of `value` (never throws, never mutates `value`). */
  pick(value: Record<string, unknown>): Record<string, unknown>;
}

/** A value transformation attached to a picked path (`path:name(args)`). */
interface Modifier {
  apply(value: unknown): unknown;
}

interface PickNode {
  /** Set when `*` was listed at this level; holds its modifier (null for none). */
  star: { modifier: Modifier | null } | null;
  children: Map<string, PickChild>;
}

interface PickChild {
  /** The key itself was listed: keep its whole value (deeper paths are ignored). */
  exact: boolean;
  modifier: Modifier | null;
  /** Deeper paths below this key (used only when `exact` is false). */
  sub: PickNode | null;
}

function invalid(detail: string): AppError {
  return new AppError('invalid_fields', `Invalid "fields" parameter: ${detail}`);
}

/**
 * Compiled once per request from the `fields` query value. Throws
 * AppError('invalid_fields', <clear message>) for a malformed value (unknown
 * modifier, bad args, empty path segments, maxLength <= 0, ...).
 * Returns null when the value is empty/blank (or holds only empty tokens) → no picking.
 */
export function compileFieldsPicker(param: string): FieldsPicker | null {
  const tokens = tokenize(param);
  if (tokens.length === 0) return null;

  const root: PickNode = newNode();
  for (const token of tokens) addToken(root, token);

  return {
    pick(value: Record<string, unknown>): Record<string, unknown> {
      const normalized = toJSONValue(value);
      if (!isPlainObject(normalized)) return value;
      return pickObject(normalized, root);
    },
  };
}

// ---------------------------------------------------------------------------
// Compilation

function newNode(): PickNode {
  return { star: null, children: new Map() };
}

/**
 * Splits on top-level commas, respecting `(...)` nesting and '"` quotes (a
 * backslash escapes the next character's special meaning), as PocketBase's
 * tools/tokenizer does. Tokens are trimmed; empty tokens are dropped.
 */
function tokenize(raw: string): string[] {
  const tokens: string[] = [];
  let depth = 0;
  let quote = '';
  let escaped = false;
  let start = 0;

  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (escaped) {
      escaped = false;
      continue;
    }
    if (ch === '\\') {
      escaped = true;
      continue;
    }
    if (quote !== '') {
      if (ch === quote) quote = '';
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '`') {
      quote = ch;
    } else if (ch === '(') {
      depth++;
    } else if (ch === ')') {
      if (depth === 0) throw invalid(`unbalanced ")" in ${JSON.stringify(raw.slice(start, i + 1).trim())}`);
      depth--;
    } else if (ch === ',' && depth === 0) {
      pushToken(tokens, raw.slice(start, i));
      start = i + 1;
    }
  }

  const rest = raw.slice(start);
  if (quote !== '') throw invalid(`unterminated ${quote} quote in ${JSON.stringify(rest.trim())}`);
  if (depth > 0) throw invalid(`unbalanced "(" in ${JSON.stringify(rest.trim())}`);
  pushToken(tokens, rest);
  return tokens;
}

function pushToken(tokens: string[], token: string): void {
  const trimmed = token.trim();
  if (trimmed !== '') tokens.push(trimmed);
}

function addToken(root: PickNode, token: string): void {
  const colon = token.indexOf(':');
  const rawPath = colon === -1 ? token : token.slice(0, colon);
  const modifier = colon === -1 ? null : parseModifier(token.slice(colon + 1), token);

  const path = rawPath.trim();
  if (path === '') throw invalid(`missing field path in ${JSON.stringify(token)}`);
  const segments = path.split('.').map((s) => s.trim());

  let node = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    const last = i === segments.length - 1;
    if (segment === '') throw invalid(`empty path segment in ${JSON.stringify(path)}`);

    if (segment === '*') {
      if (!last) throw invalid(`"*" must be the last segment of a path, got ${JSON.stringify(path)}`);
      node.star = { modifier }; // a later `*` overrides an earlier one, as in PocketBase
      return;
    }

    let child = node.children.get(segment);
    if (child === undefined) {
      child = { exact: false, modifier: null, sub: null };
      node.children.set(segment, child);
    }
    if (last) {
      child.exact = true;
      child.modifier = modifier; // the last listing of the same path wins, as in PocketBase
      return;
    }
    child.sub ??= newNode();
    node = child.sub;
  }
}

const MODIFIER_SYNTAX = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([\s\S]*)\))?$/;

const MODIFIERS: Record<string, (args: string[], token: string) => Modifier> = {
  excerpt: excerptModifier,
};

function parseModifier(raw: string, token: string): Modifier {
  const expr = raw.trim();
  if (expr === '') throw invalid(`empty modifier in ${JSON.stringify(token)}`);
  const m = MODIFIER_SYNTAX.exec(expr);
  if (m === null) {
    throw invalid(`malformed modifier ${JSON.stringify(expr)} in ${JSON.stringify(token)} - expected name(args)`);
  }
  const name = m[1] as string;
  const factory = Object.hasOwn(MODIFIERS, name) ? MODIFIERS[name] : undefined;
  if (factory === undefined) {
    throw invalid(`unknown modifier ${JSON.stringify(name)} in ${JSON.stringify(token)} (supported: ${Object.keys(MODIFIERS).join(', ')})`);
  }
  const inner = m[2];
  const args = inner === undefined || inner.trim() === '' ? [] : inner.split(',').map((a) => a.trim());
  if (args.some((a) => a === '')) throw invalid(`empty argument in ${JSON.stringify(token)}`);
  return factory(args, token);
}

/** Go strconv.ParseBool, which PocketBase uses (through spf13/cast) for `withEllipsis`. */
const GO_BOOLS: Record<string, boolean> = {
  '1': true, t: true, T: true, TRUE: true, true: true, True: true,
  '0': false, f: false, F: false, FALSE: false, false: false, False: false,
};

function excerptModifier(args: string[], token: string): Modifier {
  const usage = 'expected excerpt(maxLength, withEllipsis?)';
  if (args.length === 0) throw invalid(`excerpt requires maxLength in ${JSON.stringify(token)} - ${usage}`);
  if (args.length > 2) throw invalid(`too many excerpt arguments in ${JSON.stringify(token)} - ${usage}`);

  const rawMax = args[0] as string;
  const max = /^\+?\d+$/.test(rawMax) ? Number(rawMax) : NaN;
  if (!Number.isSafeInteger(max) || max <= 0) {
    throw invalid(`excerpt maxLength must be an integer > 0, got ${JSON.stringify(rawMax)} in ${JSON.stringify(token)}`);
  }

  let withEllipsis = false;
  if (args.length === 2) {
    const rawBool = args[1] as string;
    const parsed = Object.hasOwn(GO_BOOLS, rawBool) ? GO_BOOLS[rawBool] : undefined;
    if (parsed === undefined) {
      throw invalid(`excerpt withEllipsis must be a boolean (true/false/1/0/t/f), got ${JSON.stringify(rawBool)} in ${JSON.stringify(token)}`);
    }
    withEllipsis = parsed;
  }

  return { apply: (value) => (typeof value === 'string' ? excerpt(value, max, withEllipsis) : value) };
}

// ---------------------------------------------------------------------------
// Picking

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Objects with toJSON (Date, custom classes) are picked in their serialized form,
 * as PocketBase marshals the data before picking. Never throws.
 */
function toJSONValue(v: unknown): unknown {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    try {
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return (toJSON as () => unknown).call(v);
    } catch {
      return v;
    }
  }
  return v;
}

function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function applyModifier(modifier: Modifier | null, value: unknown): unknown {
  return modifier === null ? value : modifier.apply(value);
}

function pickObject(obj: Record<string, unknown>, node: PickNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const { star, children } = node;
  for (const key of Object.keys(obj)) {
    const child = children.get(key);
    if (child !== undefined) {
      if (child.exact) setKey(out, key, applyModifier(child.modifier, obj[key]));
      else if (child.sub !== null) setKey(out, key, pickValue(obj[key], child.sub));
    } else if (star !== null) {
      setKey(out, key, applyModifier(star.modifier, obj[key]));
    }
  }
  return out;
}

function pickValue(value: unknown, node: PickNode): unknown {
  if (Array.isArray(value)) {
    return value.map((item: unknown) => {
      const v = toJSONValue(item);
      return isPlainObject(v) ? pickObject(v, node) : item;
    });
  }
  const v = toJSONValue(value);
  // PocketBase leaves non-object values untouched when a deeper path goes through them.
  return isPlainObject(v) ? pickObject(v, node) : value;
}

// ---------------------------------------------------------------------------
// excerpt(): HTML → plain text

/** Elements whose whole content is dropped (PocketBase's list plus media/noscript and friends). */
const EXCLUDED_TAGS = new Set([
  'head', 'title', 'meta', 'link', 'base', 'style', 'script', 'noscript', 'template',
  'iframe', 'frame', 'frameset', 'noframes', 'embed', 'applet', 'object', 'param',
  'svg', 'math', 'canvas', 'img', 'picture', 'audio', 'video', 'source', 'track', 'map',
  'dialog', 'button', 'form', 'textarea', 'input', 'select', 'option', 'optgroup', 'datalist',
]);

/** Elements that do not break words; every other element is treated as a block (space around it). */
const INLINE_TAGS = new Set([
  'a', 'abbr', 'acronym', 'b', 'bdi', 'bdo', 'big', 'cite', 'code', 'data', 'del', 'dfn',
  'em', 'font', 'i', 'ins', 'kbd', 'label', 'mark', 'q', 'rp', 'rt', 'ruby', 's', 'samp',
  'small', 'span', 'strike', 'strong', 'sub', 'sup', 'time', 'tt', 'u', 'var', 'wbr',
]);

/** HTML (ASCII) whitespace, as Go's `\s` that PocketBase collapses. */
const WHITESPACE_RUN = /[\t\n\f\r ]+/g;

/** Size of the slices of HTML fed to the parser by excerpt(). */
const EXCERPT_CHUNK = 2048;

/** Number of code points (runes) in `s`. */
function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** The first `max` code points of `s`. */
function sliceRunes(s: string, max: number): string {
  let n = 0;
  let i = 0;
  while (i < s.length && n < max) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    i++;
    n++;
  }
  return s.slice(0, i);
}

/** Plain-text excerpt of an HTML string, at most `max` runes (plus `...` when cut and `withEllipsis`). */
export function excerpt(html: string, max: number, withEllipsis: boolean): string {
  let text = '';
  let runes = 0;
  let hasPrevSpace = false;
  let skipDepth = 0;
  let done = false;

  const append = (s: string): void => {
    text += s;
    runes += runeCount(s);
    // The text never holds two consecutive spaces, so at most one leading and one trailing
    // space will be trimmed: past max+2 runes the excerpt is certainly cut and its first
    // `max` runes are fixed, so the rest of the document need not be parsed.
    if (runes > max + 2) {
      done = true;
      parser.pause();
    }
  };
  const blockBoundary = (name: string): void => {
    if (!hasPrevSpace && !INLINE_TAGS.has(name)) {
      hasPrevSpace = true;
      append(' ');
    }
  };

  const parser = new Parser(
    {
      onopentag(name) {
        if (done) return;
        if (skipDepth > 0 || EXCLUDED_TAGS.has(name)) {
          skipDepth++;
          return;
        }
        blockBoundary(name);
      },
      onclosetag(name) {
        if (done) return;
        if (skipDepth > 0) {
          skipDepth--;
          return;
        }
        blockBoundary(name);
      },
      ontext(data) {
        if (done || skipDepth > 0) return;
        let chunk = data.replace(WHITESPACE_RUN, ' ');
        if (hasPrevSpace) chunk = chunk.replace(/^ +/, '');
        if (chunk === '') return;
        hasPrevSpace = chunk.endsWith(' ');
        append(chunk);
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: false },
  );

  try {
    // Fed in chunks so that a long document stops being tokenized once the excerpt is known
    // (htmlparser2 emits pending text at the end of every chunk).
    for (let i = 0; i < html.length && !done; i += EXCERPT_CHUNK) parser.write(html.slice(i, i + EXCERPT_CHUNK));
    if (!done) parser.end();
  } catch {
    // htmlparser2 is lenient and is not expected to throw; keep whatever text was collected.
  }

  const result = text.trim();
  if (result.length <= max || runeCount(result) <= max) return result;
  const cut = sliceRunes(result, max).trim();
  return withEllipsis ? `${cut}...` : cut;
}

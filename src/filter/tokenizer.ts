import { FilterSyntaxError } from './filter-syntax-error.js';

export type TokenKind = 'identifier' | 'text' | 'number' | 'sign' | 'join' | 'lparen' | 'rparen' | 'comma' | 'eof';

export interface Token {
  kind: TokenKind;
  value: string;
  /** 0-based offset of the token's first character, for error messages. */
  pos: number;
}

const SIGN_CHARS = new Set(['=', '?', '!', '>', '<', '~']);
const VALID_SIGNS = new Set(['=', '!=', '>', '>=', '<', '<=', '~', '!~', '?=', '?!=', '?>', '?>=', '?<', '?<=', '?~', '?!~']);
const isLetter = (c: string) => /[A-Za-z]/.test(c);
const isDigit = (c: string) => c >= '0' && c <= '9';
const isIdentStart = (c: string) => isLetter(c) || c === '_' || c === '@' || c === '#';
const isIdentPart = (c: string) => isLetter(c) || isDigit(c) || c === '_' || c === '.' || c === ':' || c === '@' || c === '#';
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/** Splits a filter expression into tokens, skipping whitespace and `//` comments. */
export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (isSpace(c)) { i++; continue; }
    if (c === '/' && input[i + 1] === '/') {
      while (i < input.length && input[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c === '(' ? 'lparen' : c === ')' ? 'rparen' : 'comma', value: c, pos: i });
      i++;
    } else if (c === "'" || c === '"') {
      i = scanText(input, i, tokens);
    } else if (isDigit(c) || (c === '-' && isDigit(input[i + 1] ?? ''))) {
      i = scanNumber(input, i, tokens);
    } else if (isIdentStart(c)) {
      while (i < input.length && isIdentPart(input[i]!)) i++;
      const name = input.slice(start, i);
      if (name === '@' || name === '_' || name === '#' || /[.:]$/.test(name)) {
        throw new FilterSyntaxError(`invalid identifier "${name}"`, start);
      }
      tokens.push({ kind: 'identifier', value: name, pos: start });
    } else if (SIGN_CHARS.has(c)) {
      while (i < input.length && SIGN_CHARS.has(input[i]!)) i++;
      const sign = input.slice(start, i);
      if (!VALID_SIGNS.has(sign)) throw new FilterSyntaxError(`invalid operator "${sign}"`, start);
      tokens.push({ kind: 'sign', value: sign, pos: start });
    } else if ((c === '&' || c === '|') && input[i + 1] === c) {
      tokens.push({ kind: 'join', value: c + c, pos: i });
      i += 2;
    } else {
      // Whole code point (not half a surrogate pair); control characters escaped so the message stays one line.
      throw new FilterSyntaxError(`unexpected character ${JSON.stringify(String.fromCodePoint(input.codePointAt(i)!))}`, i);
    }
  }
  tokens.push({ kind: 'eof', value: '', pos: input.length });
  return tokens;
}

function scanText(input: string, start: number, tokens: Token[]): number {
  const quote = input[start]!;
  let value = '';
  let i = start + 1;
  while (i < input.length) {
    const c = input[i]!;
    if (c === '\\' && input[i + 1] === quote) {
      value += quote;
      i += 2;
      continue;
    }
    if (c === quote) {
      tokens.push({ kind: 'text', value, pos: start });
      return i + 1;
    }
    value += c;
    i++;
  }
  throw new FilterSyntaxError('unterminated text literal', start);
}

function scanNumber(input: string, start: number, tokens: Token[]): number {
  let i = start + (input[start] === '-' ? 1 : 0);
  while (i < input.length && (isDigit(input[i]!) || input[i] === '.')) i++;
  const raw = input.slice(start, i);
  if (!/^-?\d+(\.\d+)?$/.test(raw)) throw new FilterSyntaxError(`invalid number "${raw}"`, start);
  if (i < input.length && isIdentPart(input[i]!)) throw new FilterSyntaxError(`invalid number "${raw}${input[i]}"`, start);
  tokens.push({ kind: 'number', value: raw, pos: start });
  return i;
}

import type { Expr, ExprItem, Join, Operand, Operator } from './ast.js';
import { FilterSyntaxError } from './filter-syntax-error.js';
import { tokenize, type Token } from './tokenizer.js';

const MAX_FUNCTION_DEPTH = 3;
/** Guards the recursive descent against stack exhaustion on hostile input. */
const MAX_GROUP_DEPTH = 64;

/**
 * Parses a filter or rule into a flat list of joined expressions (fexpr's shape).
 * @example parseFilter('title ~ "x" && (views > 5 || draft = false)')
 */
export function parseFilter(input: string): ExprItem[] {
  const parser = new Parser(tokenize(input));
  const items = parser.exprList(0);
  parser.expect('eof', 'unexpected');
  if (items.length === 0) throw new FilterSyntaxError('empty expression', 0);
  return items;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  expect(kind: Token['kind'], message: string): Token {
    const token = this.next();
    if (token.kind !== kind) throw new FilterSyntaxError(`${message} ${describe(token)}`, token.pos);
    return token;
  }

  exprList(depth: number): ExprItem[] {
    const items: ExprItem[] = [];
    let join: Join | null = null;
    for (;;) {
      const token = this.peek();
      if (token.kind === 'eof' || token.kind === 'rparen') {
        if (join !== null) throw new FilterSyntaxError(`expected an expression after "${join}"`, token.pos);
        return items;
      }
      if (items.length > 0 && join === null) {
        if (token.kind !== 'join') throw new FilterSyntaxError(`expected "&&" or "||", found ${describe(token)}`, token.pos);
        join = this.next().value as Join;
        continue;
      }
      items.push({ join, expr: this.expr(depth) });
      join = null;
    }
  }

  private expr(depth: number): Expr {
    const token = this.peek();
    if (token.kind === 'lparen') {
      if (depth >= MAX_GROUP_DEPTH) throw new FilterSyntaxError('expression nested too deeply', token.pos);
      this.next();
      const items = this.exprList(depth + 1);
      if (items.length === 0) throw new FilterSyntaxError('empty group', token.pos);
      this.expect('rparen', 'expected ")", found');
      return { kind: 'group', items };
    }
    const left = this.operand(0);
    const sign = this.expect('sign', 'expected an operator, found');
    const right = this.operand(0);
    return { kind: 'comparison', left, op: sign.value as Operator, right };
  }

  private operand(fnDepth: number): Operand {
    const token = this.next();
    switch (token.kind) {
      case 'text':
        return { kind: 'text', value: token.value };
      case 'number':
        return { kind: 'number', value: Number(token.value) };
      case 'identifier':
        if (this.peek().kind === 'lparen' && this.peek().pos === token.pos + token.value.length) {
          return this.call(token, fnDepth + 1);
        }
        return { kind: 'identifier', name: token.value };
      default:
        throw new FilterSyntaxError(`expected an operand, found ${describe(token)}`, token.pos);
    }
  }

  private call(name: Token, depth: number): Operand {
    if (depth > MAX_FUNCTION_DEPTH) throw new FilterSyntaxError(`functions nested deeper than ${MAX_FUNCTION_DEPTH}`, name.pos);
    this.next(); // (
    const args: Operand[] = [];
    while (this.peek().kind !== 'rparen') {
      args.push(this.operand(depth));
      if (this.peek().kind === 'comma') this.next();
      else if (this.peek().kind !== 'rparen') throw new FilterSyntaxError(`expected "," or ")", found ${describe(this.peek())}`, this.peek().pos);
    }
    this.next(); // )
    return { kind: 'function', name: name.value, args };
  }
}

/** A token for an error message; JSON quoting keeps newlines and control characters on one line. */
function describe(token: Token): string {
  return token.kind === 'eof' ? 'end of input' : JSON.stringify(token.value);
}

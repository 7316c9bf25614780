import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OPERATORS, type Expr, type ExprItem, type Join, type Operand, type Operator } from '../../src/filter/ast.js';
import { FilterSyntaxError, parseFilter } from '../../src/filter/index.js';

const id = (name: string): Operand => ({ kind: 'identifier', name });
const num = (value: number): Operand => ({ kind: 'number', value });
const txt = (value: string): Operand => ({ kind: 'text', value });
const fn = (name: string, ...args: Operand[]): Operand => ({ kind: 'function', name, args });
const cmp = (left: Operand, op: Operator, right: Operand, join: Join | null = null): ExprItem => ({ join, expr: { kind: 'comparison', left, op, right } });
const group = (items: ExprItem[], join: Join | null = null): ExprItem => ({ join, expr: { kind: 'group', items } });

/** The message a filter fails with; fails the test if it parses or throws anything else. */
function syntaxError(input: string): string {
  try {
    parseFilter(input);
  } catch (err) {
    expect(err).toBeInstanceOf(FilterSyntaxError);
    return (err as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(input)} not to parse`);
}

describe('valid filters', () => {
  const valid: [string, ExprItem[]][] = [
    ['a = 1', [cmp(id('a'), '=', num(1))]],
    ['5 < views', [cmp(num(5), '<', id('views'))]],
    ['title ~ "x" && (views > 5 || draft = false)', [cmp(id('title'), '~', txt('x')), group([cmp(id('views'), '>', num(5)), cmp(id('draft'), '=', id('false'), '||')], '&&')]],
    ['a = -5 || b != 10.5', [cmp(id('a'), '=', num(-5)), cmp(id('b'), '!=', num(10.5), '||')]],
    [`name = 'it\\'s' && q = "say \\"hi\\""`, [cmp(id('name'), '=', txt("it's")), cmp(id('q'), '=', txt('say "hi"'), '&&')]],
    ['p = "a\\b\\n"', [cmp(id('p'), '=', txt('a\\b\\n'))]],
    ['p = "it\'s" && q = \'"\'', [cmp(id('p'), '=', txt("it's")), cmp(id('q'), '=', txt('"'), '&&')]],
    ['@request.auth.id != "" && author = @request.auth.id', [cmp(id('@request.auth.id'), '!=', txt('')), cmp(id('author'), '=', id('@request.auth.id'), '&&')]],
    ['@collection.posts:p.title ?= tags:length', [cmp(id('@collection.posts:p.title'), '?=', id('tags:length'))]],
    ['#x = _a1', [cmp(id('#x'), '=', id('_a1'))]],
    ['a = 1 // trailing comment', [cmp(id('a'), '=', num(1))]],
    ['// leading\na = 1\r\n\t&& b = 2', [cmp(id('a'), '=', num(1)), cmp(id('b'), '=', num(2), '&&')]],
    ['a = "// not a comment"', [cmp(id('a'), '=', txt('// not a comment'))]],
    ['geoDistance(lon, lat, 1.5, -2) < 25', [cmp(fn('geoDistance', id('lon'), id('lat'), num(1.5), num(-2)), '<', num(25))]],
    ['f(g(h(1)),) = f()', [cmp(fn('f', fn('g', fn('h', num(1)))), '=', fn('f'))]],
    ['f(a, // comment\n b) = 1', [cmp(fn('f', id('a'), id('b')), '=', num(1))]],
    ['((a = 1))', [group([group([cmp(id('a'), '=', num(1))])])]],
    ['a = 1 && b = 2 || c = 3', [cmp(id('a'), '=', num(1)), cmp(id('b'), '=', num(2), '&&'), cmp(id('c'), '=', num(3), '||')]],
  ];
  it.each(valid)('%s', (input, ast) => {
    expect(parseFilter(input)).toEqual(ast);
  });

  it.each(OPERATORS.map((op) => [op]))('operator %s', (op) => {
    expect(parseFilter(`a ${op} 1`)).toEqual([cmp(id('a'), op, num(1))]);
    expect(parseFilter(`a${op}1`)).toEqual([cmp(id('a'), op, num(1))]);
  });
});

describe('invalid filters: exact messages with 1-based positions', () => {
  const invalid: [string, string][] = [
    ['', 'empty expression at position 1'],
    ['   // only a comment', 'empty expression at position 1'],
    ['a', 'expected an operator, found end of input at position 2'],
    ['title = ', 'expected an operand, found end of input at position 9'],
    ['= 1', 'expected an operand, found "=" at position 1'],
    ['a = 1 &&', 'expected an expression after "&&" at position 9'],
    ['a = 1 || ', 'expected an expression after "||" at position 10'],
    ['a = 1 b = 2', 'expected "&&" or "||", found "b" at position 7'],
    ['a = 1 and b = 2', 'expected "&&" or "||", found "and" at position 7'],
    ['a AND b', 'expected an operator, found "AND" at position 3'],
    ['(a = 1', 'expected ")", found end of input at position 7'],
    ['a = 1)', 'unexpected ")" at position 6'],
    ['()', 'empty group at position 1'],
    ['(a = 1) (b = 2)', 'expected "&&" or "||", found "(" at position 9'],
    ['a = (1)', 'expected an operand, found "(" at position 5'],
    ['a == 1', 'invalid operator "==" at position 3'],
    ['a =! 1', 'invalid operator "=!" at position 3'],
    ['a ~ "x" ! b', 'invalid operator "!" at position 9'],
    ['a & b', 'unexpected character "&" at position 3'],
    ['a = $x', 'unexpected character "$" at position 5'],
    ['a = .5', 'unexpected character "." at position 5'],
    ['a = 5.', 'invalid number "5." at position 5'],
    ['a = 1.2.3', 'invalid number "1.2.3" at position 5'],
    ['a = 1x', 'invalid number "1x" at position 5'],
    ['a = --1', 'unexpected character "-" at position 5'],
    ['a = "x', 'unterminated text literal at position 5'],
    ["a = 'x\\'", 'unterminated text literal at position 5'],
    ['@ = 1', 'invalid identifier "@" at position 1'],
    ['_ = 1', 'invalid identifier "_" at position 1'],
    ['a. = 1', 'invalid identifier "a." at position 1'],
    ['a: = 1', 'invalid identifier "a:" at position 1'],
    ['a = f(', 'expected an operand, found end of input at position 7'],
    ['a = f(1,,)', 'expected an operand, found "," at position 9'],
    ['a = f(1 2)', 'expected "," or ")", found "2" at position 9'],
    ['a = f(g(h(i(1))))', 'functions nested deeper than 3 at position 11'],
    ['título = 1', 'unexpected character "í" at position 2'],
    ['a = 1\u0000', 'unexpected character "\\u0000" at position 6'],
    ['a = 😀', 'unexpected character "😀" at position 5'],
  ];
  it.each(invalid)('%j', (input, message) => {
    expect(syntaxError(input)).toBe(message);
  });
});

// ---- printer: AST back to filter text ------------------------------------------------------

interface Style {
  quote: '"' | "'";
  space: string;
  comments: boolean;
}

function printOperand(o: Operand, s: Style): string {
  switch (o.kind) {
    case 'identifier':
      return o.name;
    case 'number':
      return Object.is(o.value, -0) ? '-0' : String(o.value);
    case 'text':
      return s.quote + o.value.replaceAll(s.quote, `\\${s.quote}`) + s.quote;
    case 'function': {
      const sep = s.comments ? `, // arg${s.space === '\n' ? '' : ' note'}\n` : `,${s.space}`;
      return `${o.name}(${o.args.map((a) => printOperand(a, s)).join(sep)})`;
    }
  }
}

function printExpr(e: Expr, s: Style): string {
  return e.kind === 'group' ? `(${s.space}${printItems(e.items, s)}${s.space})` : `${printOperand(e.left, s)}${s.space}${e.op}${s.space}${printOperand(e.right, s)}`;
}

function printItems(items: ExprItem[], s: Style): string {
  return items.map((it, i) => (i === 0 ? '' : `${s.comments ? ' // and then\n' : s.space}${it.join}${s.space}`) + printExpr(it.expr, s)).join('');
}

// ---- generators ------------------------------------------------------------------------------

const identifierArb = fc
  .stringMatching(/^[A-Za-z_@#][A-Za-z0-9_@#]{0,6}(?:[.:][A-Za-z0-9_]{1,4}){0,2}$/)
  .filter((n) => n !== '@' && n !== '_' && n !== '#');
const numberArb = fc
  .tuple(fc.boolean(), fc.nat(999_999), fc.option(fc.nat(999), { nil: undefined }))
  .map(([neg, int, frac]) => Number(`${neg ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}`));
const textArb = fc
  .string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '"', "'", '\\', '/', '(', ')', '&', '|', '=', 'é', '😀', '\n', '\t'), maxLength: 12 })
  .filter((t) => !t.endsWith('\\')); // fexpr cannot express a text ending with a backslash

const operandArb = (depth: number): fc.Arbitrary<Operand> =>
  fc.oneof(
    { weight: 3, arbitrary: identifierArb.map(id) },
    { weight: 2, arbitrary: numberArb.map(num) },
    { weight: 2, arbitrary: textArb.map(txt) },
    ...(depth < 3 ? [{ weight: 1, arbitrary: fc.tuple(identifierArb, fc.array(operandArb(depth + 1), { maxLength: 3 })).map(([n, args]) => fn(n, ...args)) }] : []),
  );

const joinArb = fc.constantFrom<Join>('&&', '||');
const exprArb = (depth: number): fc.Arbitrary<Expr> =>
  depth <= 0
    ? fc.tuple(operandArb(0), fc.constantFrom(...OPERATORS), operandArb(0)).map(([left, op, right]) => ({ kind: 'comparison' as const, left, op, right }))
    : fc.oneof(exprArb(0), itemsArb(depth - 1).map((items) => ({ kind: 'group' as const, items })));
const itemsArb = (depth: number): fc.Arbitrary<ExprItem[]> =>
  fc.array(fc.tuple(joinArb, exprArb(depth)), { minLength: 1, maxLength: 4 }).map((list) => list.map(([join, expr], i) => ({ join: i === 0 ? null : join, expr })));
const styleArb: fc.Arbitrary<Style> = fc.record({ quote: fc.constantFrom<'"' | "'">('"', "'"), space: fc.constantFrom(' ', '\t', '\n', '\r\n', '  ', ''), comments: fc.boolean() });

describe('property tests', () => {
  it('random strings parse or throw FilterSyntaxError with a position inside the input', () => {
    const soup = fc.string({ unit: fc.constantFrom('a', 'b', '_', '@', '.', ':', '1', '-', ' ', '"', "'", '\\', '(', ')', ',', '=', '!', '?', '<', '>', '~', '&', '|', '/', '\n', 'é', '\u0000'), maxLength: 40 });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), soup), (input) => {
        try {
          parseFilter(input);
        } catch (err) {
          if (!(err instanceof FilterSyntaxError)) throw err;
          expect(err.pos).toBeGreaterThanOrEqual(0);
          expect(err.pos).toBeLessThanOrEqual(input.length);
          expect(err.message).not.toContain('\n');
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('well-formed expressions parse, and printing them gives the same AST back', () => {
    fc.assert(
      fc.property(itemsArb(3), styleArb, (items, style) => {
        const text = printItems(items, style);
        expect(parseFilter(text)).toEqual(items);
        // Print → parse → print is stable too.
        expect(printItems(parseFilter(text), style)).toBe(text);
      }),
      { numRuns: 1500 },
    );
  });

  it('breaking a well-formed expression (dropping its last character) gives FilterSyntaxError or another valid AST, never a crash', () => {
    fc.assert(
      fc.property(itemsArb(2), styleArb, (items, style) => {
        const text = printItems(items, style).slice(0, -1);
        try {
          parseFilter(text);
        } catch (err) {
          expect(err).toBeInstanceOf(FilterSyntaxError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('hostile inputs fail fast with FilterSyntaxError', () => {
  const hostile: [string, string, string][] = [
    ['10k open parens', '('.repeat(10_000), 'expression nested too deeply at position 65'],
    ['10k balanced parens', `${'('.repeat(10_000)}a = 1${')'.repeat(10_000)}`, 'expression nested too deeply at position 65'],
    ['10k nested function calls', `${'f('.repeat(10_000)}1${')'.repeat(10_000)} = 1`, 'functions nested deeper than 3 at position 7'],
    ['10 kB identifier', 'a'.repeat(10_000), 'expected an operator, found end of input at position 10001'],
    ['10 kB unterminated text', `a = "${'x'.repeat(10_000)}`, 'unterminated text literal at position 5'],
    ['10 kB of escaped quotes', `a = "${'\\"'.repeat(5_000)}`, 'unterminated text literal at position 5'],
    ['10 kB of operators', `a ${'='.repeat(10_000)} 1`, `invalid operator "${'='.repeat(10_000)}" at position 3`],
    ['10 kB number', `a = ${'9'.repeat(10_000)}.`, `invalid number "${'9'.repeat(10_000)}." at position 5`],
    ['NUL bytes', '\u0000'.repeat(10_000), 'unexpected character "\\u0000" at position 1'],
    ['unicode soup', 'ñ'.repeat(10_000), 'unexpected character "ñ" at position 1'],
    ['lone surrogate', 'a = \ud800', 'unexpected character "\\ud800" at position 5'],
    ['20k joins without operands', '&&'.repeat(10_000), 'expected an operand, found "&&" at position 1'],
  ];
  it.each(hostile)('%s', (_title, input, message) => {
    const started = performance.now();
    expect(syntaxError(input)).toBe(message);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('parses a long flat chain without recursion trouble', () => {
    const input = Array.from({ length: 5_000 }, (_, i) => `f${i} = ${i}`).join(' && ');
    const started = performance.now();
    const items = parseFilter(input);
    expect(items).toHaveLength(5_000);
    expect(items[4_999]).toEqual(cmp(id('f4999'), '=', num(4999), '&&'));
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

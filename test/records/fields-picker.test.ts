import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/index.js';
import { compileFieldsPicker, excerpt } from '../../src/records/fields-picker.js';

type Rec = Record<string, unknown>;

function pick(fields: string, value: Rec): Rec {
  const picker = compileFieldsPicker(fields);
  if (picker === null) throw new Error(`expected ${JSON.stringify(fields)} to compile to a picker`);
  return picker.pick(value);
}

/** The AppError a `fields` value fails with; fails the test if it compiles or throws anything else. */
function compileError(fields: string): AppError {
  try {
    compileFieldsPicker(fields);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error(`expected ${JSON.stringify(fields)} not to compile`);
}

const post: Rec = {
  id: 'p1',
  title: 'Hello',
  body: '<p>Hello <b>world</b></p><script>alert(1)</script><p>Second paragraph</p>',
  views: 3,
  draft: false,
  meta: null,
  author: 'u1',
  tags: ['t1', 't2'],
  expand: {
    author: { id: 'u1', name: 'Ann', email: 'ann@example.com', expand: { team: { id: 'tm', name: 'Core' } } },
    tags: [
      { id: 't1', name: 'news', color: 'red' },
      { id: 't2', name: 'tech' },
    ],
  },
};

describe('compileFieldsPicker: no picking', () => {
  it.each(['', ' ', '\t\n ', ',', ' , ,, '])('returns null for %j', (fields) => {
    expect(compileFieldsPicker(fields)).toBeNull();
  });
});

describe('compileFieldsPicker: picking', () => {
  const cases: [string, string, Rec, Rec][] = [
    ['plain keys', 'id,title', post, { id: 'p1', title: 'Hello' }],
    ['tokens are trimmed, empty tokens skipped', ' id , ,title ,', post, { id: 'p1', title: 'Hello' }],
    ['result keys keep the input order', 'title,id', post, { id: 'p1', title: 'Hello' }],
    ['falsy values are kept', 'views,draft,meta', { views: 0, draft: false, meta: null, x: 1 }, { views: 0, draft: false, meta: null }],
    ['missing keys are absent', 'id,missing,expand.missing', post, { id: 'p1', expand: {} }],
    ['nothing matches', 'nope', post, {}],
    ['nested path', 'expand.author.name', post, { expand: { author: { name: 'Ann' } } }],
    ['deep nested path', 'expand.author.expand.team.name', post, { expand: { author: { expand: { team: { name: 'Core' } } } } }],
    ['several nested paths merge', 'id,expand.author.name,expand.author.id', post, { id: 'p1', expand: { author: { id: 'u1', name: 'Ann' } } }],
    ['arrays are picked element-wise', 'expand.tags.name', post, { expand: { tags: [{ name: 'news' }, { name: 'tech' }] } }],
    ['element without the key becomes {}', 'expand.tags.color', post, { expand: { tags: [{ color: 'red' }, {}] } }],
    ['arrays of scalars are kept whole', 'tags', post, { tags: ['t1', 't2'] }],
    ['deeper path through arrays of scalars keeps them', 'tags.x', post, { tags: ['t1', 't2'] }],
    ['deeper path through a scalar keeps it (PocketBase)', 'author.name,meta.x', post, { author: 'u1', meta: null }],
    ['mixed arrays: objects picked, scalars kept', 'list.a', { list: [{ a: 1, b: 2 }, 7, null, [{ a: 1 }]] }, { list: [{ a: 1 }, 7, null, [{ a: 1 }]] }],
    ['exact key wins over a deeper path', 'expand,expand.author.name', post, { expand: post['expand'] }],
    ['exact key wins in either order', 'expand.author.name,expand', post, { expand: post['expand'] }],
    ['* keeps every key', '*', post, post],
    ['*, deeper path narrows that key', '*,expand.author.name', post, { ...post, expand: { author: { name: 'Ann' } } }],
    ['*, deeper path listed first', 'expand.tags.id , *', post, { ...post, expand: { tags: [{ id: 't1' }, { id: 't2' }] } }],
    ['nested *', 'id,expand.author.*', post, { id: 'p1', expand: { author: post['expand'] && (post['expand'] as Rec)['author'] } }],
    ['nested * with a deeper exception', 'id,expand.author.*,expand.author.expand.team.id', post, {
      id: 'p1',
      expand: { author: { id: 'u1', name: 'Ann', email: 'ann@example.com', expand: { team: { id: 'tm' } } } },
    }],
    ['* inside arrays', 'expand.tags.*', post, { expand: post['expand'] && { tags: (post['expand'] as Rec)['tags'] } }],
    ['PocketBase: root wildcard with nested exception', '*,rel.id', { id: '123', title: 'lorem', rel: { id: '456', title: 'rel_title' } }, { id: '123', title: 'lorem', rel: { id: '456' } }],
    ['PocketBase: nested fields with mixed slices', 'a, c, anySlice.A, mapSlice.C, mapSlice.D.DA, anySlice.D,fullMap', {
      a: 1, b: 2, c: 'test',
      anySlice: [{ A: [1, 2, 3], B: ['1', '2', 3], C: 'test', D: { DA: 1, DB: 2 } }, { A: 'test' }],
      mapSlice: [
        { A: [1, 2, 3], B: ['1', '2', 3], C: 'test', D: [{ DA: 1 }] },
        { B: ['1', '2', 3], D: [{ DA: 2 }, { DA: 3 }, { DB: 4 }] },
      ],
      fullMap: [{ A: [1, 2, 3] }, { B: ['1'], D: [{ DA: 2 }] }],
    }, {
      a: 1, c: 'test',
      anySlice: [{ A: [1, 2, 3], D: { DA: 1, DB: 2 } }, { A: 'test' }],
      mapSlice: [{ C: 'test', D: [{ DA: 1 }] }, { D: [{ DA: 2 }, { DA: 3 }, {}] }],
      fullMap: [{ A: [1, 2, 3] }, { B: ['1'], D: [{ DA: 2 }] }],
    }],
    ['excerpt on a plain key', 'body:excerpt(11)', post, { body: 'Hello world' }],
    ['excerpt with ellipsis', 'body:excerpt(11,true)', post, { body: 'Hello world...' }],
    ['excerpt not cut: no ellipsis', 'body:excerpt(100, 1)', post, { body: 'Hello world Second paragraph' }],
    ['excerpt ignores non-strings', 'views:excerpt(1,true),tags:excerpt(1),expand:excerpt(1)', post, { views: 3, tags: ['t1', 't2'], expand: post['expand'] }],
    ['excerpt on a missing key', 'nope:excerpt(3)', post, {}],
    ['excerpt through arrays', 'expand.tags.name:excerpt(2, t)', post, { expand: { tags: [{ name: 'ne...' }, { name: 'te...' }] } }],
    ['excerpt with spaces around the modifier', ' title : excerpt ( 3 , TRUE ) ', post, { title: 'Hel...' }],
    ['last listing of a path wins', 'title:excerpt(2),title', post, { title: 'Hello' }],
    ['last listing of a path wins (modifier last)', 'title,title:excerpt(2)', post, { title: 'He' }],
    ['*:excerpt applies to the other keys', '*:excerpt(2),rel.title:excerpt(3, true)', {
      id: '123', title: 'lorem', rel: { id: '456', title: '<p>rel_title</p>', sub: { id: '789' } },
    }, { id: '12', title: 'lo', rel: { title: 'rel...' } }],
    ['an explicit key is not modified by *:excerpt', '*:excerpt(1),title', { id: 'abc', title: 'Hello' }, { id: 'a', title: 'Hello' }],
  ];

  it.each(cases)('%s: %j', (_name, fields, input, expected) => {
    const before = structuredClone(input);
    expect(pick(fields, input)).toEqual(expected);
    expect(input).toEqual(before); // never mutated
  });

  it('is reusable: one compiled picker serves many values', () => {
    const picker = compileFieldsPicker('*,expand.tags.name');
    expect(picker).not.toBeNull();
    const items = [post, { id: 'p2', expand: { tags: [] } }, { id: 'p3' }];
    expect(items.map((item) => picker?.pick(item))).toEqual([
      { ...post, expand: { tags: [{ name: 'news' }, { name: 'tech' }] } },
      { id: 'p2', expand: { tags: [] } },
      { id: 'p3' },
    ]);
  });

  it('picks the JSON form of objects with toJSON (as PocketBase marshals first)', () => {
    const at = new Date('2024-01-02T03:04:05.000Z');
    const custom = { toJSON: () => ({ a: 1, b: 2 }) };
    expect(pick('at,custom.a', { at, custom })).toEqual({ at, custom: { a: 1 } });
  });

  it('handles a "__proto__" key without touching prototypes', () => {
    const input = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Rec;
    const out = pick('*', input);
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Rec)['polluted']).toBeUndefined();
    expect(pick('__proto__.polluted', input)).toEqual(JSON.parse('{"__proto__":{"polluted":true}}'));
  });
});

describe('excerpt', () => {
  // PocketBase's own excerpt fixture (tools/picker/excerpt_modifier_test.go); `<br>` is a block here.
  const pbHtml = ` <script>var a = 123;</script>   <p>Hello</p><div id="test_id">t   est<b>12
	3</b><span>456</span></div><span>word <b>7</b> 89<span>!<b>?</b><b> a </b><b>b </b>c</span>#<h1>title</h1>`;
  const pbText = 'Hello t est12 3456 word 7 89!? a b c# title';

  const cases: [string, string, number, boolean, string][] = [
    ['PocketBase fixture, cut', pbHtml, 2, false, 'He'],
    ['PocketBase fixture, exact length', pbHtml, pbText.length, true, pbText],
    ['PocketBase fixture, longer max', pbHtml, pbText.length + 5, true, pbText],
    ['PocketBase fixture, cut with ellipsis', pbHtml, 2, true, 'He...'],
    ['multibyte <= max', 'аб\nв ', 4, true, 'аб в'],
    ['multibyte > max', 'аб\nв ', 3, true, 'аб...'],
    ['plain text untouched', 'just text', 50, true, 'just text'],
    ['empty string', '', 5, true, ''],
    ['whitespace collapsed and trimmed', '  a \n\t b   c  ', 50, false, 'a b c'],
    ['cut then trimmed before the ellipsis', 'Hello world', 6, true, 'Hello...'],
    ['emoji is one rune', '😀😀😀😀', 3, true, '😀😀😀...'],
    ['emoji not cut when it fits', '😀😀😀', 3, true, '😀😀😀'],
    ['emoji split between code points never happens', 'a😀b', 2, false, 'a😀'],
    ['flag = two runes', '🇫🇷🇫🇷', 2, false, '🇫🇷'],
    ['combining chars count as runes', 'e\u0301e\u0301', 3, false, 'e\u0301e'],
    ['tags dropped, inline elements do not break words', '<b>bo</b><i>ld</i> <a href="#">link</a><span>s</span>', 50, false, 'bold links'],
    ['block elements break words', '<p>one</p><p>two</p><div>three</div><li>four</li><h1>five</h1><td>six</td>', 50, false, 'one two three four five six'],
    ['br breaks words', 'line<br>break<br/>again', 50, false, 'line break again'],
    ['script and style content dropped', '<style>p{color:red}</style>a<script>if (a < b) { x() }</script>b', 50, false, 'ab'],
    ['excluded elements dropped with their content (no space, as PocketBase)', 'x<iframe>i</iframe><svg><text>s</text></svg><img src=a alt=img><form>f<input value=v><textarea>t</textarea><select><option>o</option></select><button>b</button></form><audio>a</audio><video>v</video><object>o</object><embed><noscript>n</noscript><template>t</template>y', 50, false, 'xy'],
    ['self-closing svg', 'a<svg/>b', 50, false, 'ab'],
    ['entities decoded', 'Tom &amp; Jerry &lt;3 &quot;x&quot; caf&eacute;', 50, false, 'Tom & Jerry <3 "x" café'],
    ['comments dropped', 'a<!-- hidden -->b', 50, false, 'ab'],
    ['unclosed tags', '<div><p>unclosed <b>bold', 50, false, 'unclosed bold'],
    ['stray closing tags: ignored, except </p> (an empty paragraph)', 'a</script></div>b</p>c', 50, false, 'ab c'],
    ['unclosed script hides the rest', 'a<script>b c d', 50, false, 'a'],
    ['head-only elements dropped', '<html><head><title>T</title></head><body><p>Body</p></body></html>', 50, false, 'Body'],
    ['uppercase tags', '<P>One</P><SCRIPT>x</SCRIPT><DIV>Two</DIV>', 50, false, 'One Two'],
    ['cut at the last word of the first block', '<p>Hello world</p><p>Second</p>', 11, true, 'Hello world...'],
    ['long text with early stop', `<p>${'word '.repeat(10_000)}</p><p>tail</p>`, 9, true, 'word word...'],
  ];

  it.each(cases)('%s', (_name, html, max, withEllipsis, expected) => {
    expect(excerpt(html, max, withEllipsis)).toBe(expected);
  });

  it('the early stop gives the same result as a full pass', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'bb', ' ', '\n', '<p>', '</p>', '<b>', '</b>', '😀', '<br>', '<script>x</script>', '&amp;'), { maxLength: 30 }), fc.integer({ min: 1, max: 12 }), (parts, max) => {
        const html = parts.join('');
        const full = excerpt(html, 1_000_000, false);
        const runes = Array.from(full);
        const expected = runes.length > max ? `${runes.slice(0, max).join('').trim()}...` : full;
        expect(excerpt(html, max, true)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('compileFieldsPicker: malformed values', () => {
  const cases: [string, string, RegExp][] = [
    ['unknown modifier', 'title:upper(1)', /unknown modifier "upper"/],
    ['modifier names are case-sensitive', 'title:Excerpt(1)', /unknown modifier "Excerpt"/],
    ['empty modifier', 'title:', /empty modifier/],
    ['modifier without parentheses', 'title:excerpt', /excerpt requires maxLength/],
    ['no arguments', 'title:excerpt()', /excerpt requires maxLength/],
    ['too many arguments', 'title:excerpt(1,true,3)', /too many excerpt arguments/],
    ['empty argument', 'title:excerpt(10,)', /empty argument/],
    ['maxLength 0', 'title:excerpt(0)', /maxLength must be an integer > 0/],
    ['negative maxLength', 'title:excerpt(-5)', /maxLength must be an integer > 0/],
    ['non-integer maxLength', 'title:excerpt(1.5)', /maxLength must be an integer > 0/],
    ['non-numeric maxLength', 'title:excerpt(abc)', /maxLength must be an integer > 0/],
    ['huge maxLength', 'title:excerpt(99999999999999999999)', /maxLength must be an integer > 0/],
    ['bad withEllipsis', 'title:excerpt(10,yes)', /withEllipsis must be a boolean/],
    ['quoted withEllipsis', 'title:excerpt(10,"true")', /withEllipsis must be a boolean/],
    ['garbage after the modifier', 'title:excerpt(10):x', /malformed modifier/],
    ['nested parentheses in arguments', 'title:excerpt((10))', /maxLength must be an integer > 0/],
    ['unbalanced (', 'title:excerpt(10', /unbalanced "\("/],
    ['unbalanced )', 'title),id', /unbalanced "\)"/],
    ['unterminated quote', 'a"b,c', /unterminated " quote/],
    ['empty path segment', 'expand..author', /empty path segment/],
    ['leading dot', '.id', /empty path segment/],
    ['trailing dot', 'id.', /empty path segment/],
    ['missing path before modifier', ':excerpt(10)', /missing field path/],
    ['* before the last segment', 'expand.*.name', /"\*" must be the last segment/],
    ['one bad token fails the whole value', 'id,title,body:excerpt(0)', /maxLength/],
  ];

  it.each(cases)('%s: %j', (_name, fields, message) => {
    const err = compileError(fields);
    expect(err.code).toBe('invalid_fields');
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/^Invalid "fields" parameter: /);
    expect(err.message).toMatch(message);
  });

  it('commas inside parentheses stay in their token', () => {
    expect(pick('title:excerpt(3, true),id', post)).toEqual({ id: 'p1', title: 'Hel...' });
  });
});

describe('properties', () => {
  const key = fc.oneof(fc.constantFrom('id', 'title', 'expand', 'author', 'tags', 'name', '*', '__proto__', 'toString', 'constructor'), fc.string({ maxLength: 6 }));
  const record = fc.dictionary(key, fc.jsonValue({ maxDepth: 4 })) as fc.Arbitrary<Rec>;
  const segment = fc.oneof(fc.constantFrom('id', 'title', 'expand', 'author', 'tags', 'name', 'a', 'b'), fc.stringMatching(/^[a-z_]{1,5}$/));
  const path = fc.array(segment, { minLength: 1, maxLength: 4 }).chain((segs) =>
    fc.boolean().map((star) => (star ? [...segs.slice(0, -1), '*'] : segs).join('.')),
  );
  const token = fc.tuple(path, fc.option(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.constantFrom('', ',true', ', 0', ',t')), { nil: undefined })).map(
    ([p, mod]) => (mod === undefined ? p : `${p}:excerpt(${mod[0]}${mod[1]})`),
  );
  const fieldsParam = fc.array(token, { minLength: 1, maxLength: 6 }).map((tokens) => tokens.join(','));

  /** Every key of `out` exists in `input` at the same position (arrays picked element-wise). */
  function assertSubset(out: unknown, input: unknown): void {
    if (Array.isArray(out)) {
      expect(Array.isArray(input)).toBe(true);
      expect(out).toHaveLength((input as unknown[]).length);
      out.forEach((v, i) => assertSubset(v, (input as unknown[])[i]));
    } else if (typeof out === 'object' && out !== null && typeof input === 'object' && input !== null) {
      for (const k of Object.keys(out)) {
        expect(Object.hasOwn(input, k)).toBe(true);
        const v = (out as Rec)[k];
        if (typeof v !== 'string') assertSubset(v, (input as Rec)[k]);
      }
    }
  }

  it('picking never throws, never mutates and keeps only input keys', () => {
    fc.assert(
      fc.property(fieldsParam, record, (fields, input) => {
        const picker = compileFieldsPicker(fields);
        expect(picker).not.toBeNull();
        const before = structuredClone(input);
        const out = picker?.pick(input);
        expect(input).toEqual(before);
        expect(Object.keys(out ?? {}).every((k) => Object.hasOwn(input, k))).toBe(true);
        assertSubset(out, input);
      }),
    );
  });

  it('"*" returns a deep-equal copy', () => {
    const picker = compileFieldsPicker('*');
    fc.assert(
      fc.property(record, (input) => {
        const out = picker?.pick(input);
        expect(out).not.toBe(input);
        expect(out).toEqual(input);
        expect(Object.keys(out ?? {})).toEqual(Object.keys(input));
      }),
    );
  });

  it('listing every top-level key equals "*"', () => {
    fc.assert(
      fc.property(record.filter((r) => Object.keys(r).every((k) => k.trim() === k && k !== '' && k !== '*' && !/[.,:()"'`\\]/.test(k))), (input) => {
        const keys = Object.keys(input);
        fc.pre(keys.length > 0);
        expect(compileFieldsPicker(keys.join(','))?.pick(input)).toEqual(input);
      }),
    );
  });

  it('compiling arbitrary strings returns a picker, null or throws AppError(invalid_fields)', () => {
    const alphabet = fc.constantFrom('a', 'b', '.', ',', ':', '(', ')', '*', ' ', '"', "'", '\\', 'excerpt', '1', '0', '-', 'true', 'x');
    const anyParam = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.array(alphabet, { maxLength: 20 }).map((a) => a.join('')));
    fc.assert(
      fc.property(anyParam, record, (fields, input) => {
        let picker;
        try {
          picker = compileFieldsPicker(fields);
        } catch (err) {
          expect(err).toBeInstanceOf(AppError);
          expect((err as AppError).status).toBe(400);
          return;
        }
        if (picker !== null) expect(() => picker.pick(input)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it('excerpt never throws and respects maxLength', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), fc.integer({ min: 1, max: 40 }), fc.boolean(), (html, max, ell) => {
        const out = excerpt(html, max, ell);
        const runes = Array.from(out).length;
        expect(runes).toBeLessThanOrEqual(max + (ell ? 3 : 0));
        expect(out).toBe(out.trim());
      }),
    );
  });
});

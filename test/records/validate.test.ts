import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileInputResolver } from '../../src/records/input.js';
import type { ApiRecord, FieldError } from '../../src/records/types.js';
import { compileValidator, goFloat, isEmail, isUrl, sentenize, type ValidationContext } from '../../src/records/validate.js';
import { schemaOf } from '../helpers/schema.js';

const VALID_ID = 'abcdefghij12345';

/** The error of field `f` (defined by `field`) holding `value` in a fresh collection. */
function errorOf(field: Record<string, unknown>, value: unknown, ctx: Partial<ValidationContext> = {}): FieldError | undefined {
  const schema = schemaOf({ name: 'things', fields: [{ name: 'f', ...field }] }, { name: 'others' });
  const validate = compileValidator(schema.byName.get('things')!);
  const errors = validate({ id: VALID_ID, f: value }, { isNew: true, changed: new Set(['f']), ...ctx });
  expect(Object.keys(errors).filter((k) => k !== 'f')).toEqual([]);
  return errors['f'];
}

const blank = { code: 'validation_required', message: 'Cannot be blank.' };

type Row = [label: string, field: Record<string, unknown>, value: unknown, expected: FieldError | undefined];

// One row per field type × code (plus the "empty values skip format checks" rows).
const rows: Row[] = [
  ['text required', { type: 'text', required: true }, '', blank],
  ['text ok', { type: 'text', required: true }, 'x', undefined],
  ['text min', { type: 'text', min: 3 }, 'ab', { code: 'validation_min_text_constraint', message: 'Must be at least 3 character(s).', params: { min: 3 } }],
  ['text min skips empty', { type: 'text', min: 3 }, '', undefined],
  ['text max default 5000', { type: 'text' }, 'x'.repeat(5001), { code: 'validation_max_text_constraint', message: 'Must be no more than 5000 character(s).', params: { max: 5000 } }],
  ['text max counts characters', { type: 'text', max: 5 }, 'ééééé', undefined],
  ['text max', { type: 'text', max: 5 }, '123456', { code: 'validation_max_text_constraint', message: 'Must be no more than 5 character(s).', params: { max: 5 } }],
  ['text pattern', { type: 'text', pattern: '^[a-z]+$' }, 'ABC', { code: 'validation_invalid_format', message: 'Invalid value format.' }],
  ['text min before pattern', { type: 'text', min: 5, pattern: '^[a-z]+$' }, 'AB', { code: 'validation_min_text_constraint', message: 'Must be at least 5 character(s).', params: { min: 5 } }],
  ['number required', { type: 'number', required: true }, 0, blank],
  ['number zero skips min', { type: 'number', min: 5 }, 0, undefined],
  ['number min', { type: 'number', min: 5 }, 3, { code: 'validation_min_number_constraint', message: 'Must be greater or equal than 5.', params: { min: 5 } }],
  ['number max', { type: 'number', max: 10.5 }, 11, { code: 'validation_max_number_constraint', message: 'Must be less or equal than 10.5.', params: { max: 10.5 } }],
  ['number min in Go %v form', { type: 'number', min: 1000000 }, 5, { code: 'validation_min_number_constraint', message: 'Must be greater or equal than 1e+06.', params: { min: 1000000 } }],
  ['number onlyInt', { type: 'number', onlyInt: true, min: 5 }, 1.5, { code: 'validation_only_int_constraint', message: 'Decimal numbers are not allowed.' }],
  ['number NaN', { type: 'number' }, NaN, { code: 'validation_not_a_number', message: 'The submitted number is not properly formatted.' }],
  ['number Inf', { type: 'number' }, Infinity, { code: 'validation_not_a_number', message: 'The submitted number is not properly formatted.' }],
  ['bool required', { type: 'bool', required: true }, false, blank],
  ['bool ok', { type: 'bool', required: true }, true, undefined],
  ['email required', { type: 'email', required: true }, '', blank],
  ['email format', { type: 'email' }, 'nope', { code: 'validation_is_email', message: 'Must be a valid email address.' }],
  ['email onlyDomains', { type: 'email', onlyDomains: ['a.com'] }, 'x@b.com', { code: 'validation_email_domain_not_allowed', message: 'Email domain is not allowed.' }],
  ['email onlyDomains ok', { type: 'email', onlyDomains: ['a.com'] }, 'x@a.com', undefined],
  ['email exceptDomains', { type: 'email', exceptDomains: ['a.com'] }, 'x@a.com', { code: 'validation_email_domain_not_allowed', message: 'Email domain is not allowed.' }],
  ['url format', { type: 'url' }, 'not a url', { code: 'validation_invalid_url', message: 'Must be a valid url.' }],
  ['url onlyDomains', { type: 'url', onlyDomains: ['a.com'] }, 'https://b.com/x', { code: 'validation_url_domain_not_allowed', message: 'Url domain is not allowed.' }],
  ['url onlyDomains ok', { type: 'url', onlyDomains: ['a.com'] }, 'https://a.com/x', undefined],
  ['url exceptDomains', { type: 'url', exceptDomains: ['a.com'] }, 'https://a.com', { code: 'validation_url_domain_not_allowed', message: 'Url domain is not allowed.' }],
  ['editor required', { type: 'editor', required: true }, '', blank],
  ['editor maxSize (bytes)', { type: 'editor', maxSize: 4 }, 'ééé', { code: 'validation_content_size_limit', message: 'The maximum allowed content size is 4 bytes.', params: { maxSize: 4 } }],
  ['editor default 5 MiB', { type: 'editor' }, 'x'.repeat(5 * 1024 * 1024 + 1), { code: 'validation_content_size_limit', message: 'The maximum allowed content size is 5242880 bytes.', params: { maxSize: 5242880 } }],
  ['date required', { type: 'date', required: true }, '', blank],
  ['date min', { type: 'date', min: '2024-01-01 00:00:00.000Z' }, '2023-12-31 23:59:59.999Z', { code: 'validation_min_greater_equal_than_required', message: 'Must be no less than 2024-01-01 00:00:00 +0000 UTC.', params: { threshold: '2024-01-01T00:00:00Z' } }],
  ['date max', { type: 'date', max: '2024-01-01 10:00:00.500Z' }, '2024-02-01 00:00:00.000Z', { code: 'validation_max_less_equal_than_required', message: 'Must be no greater than 2024-01-01 10:00:00.5 +0000 UTC.', params: { threshold: '2024-01-01T10:00:00.5Z' } }],
  ['date within', { type: 'date', min: '2024-01-01 00:00:00.000Z', max: '2025-01-01 00:00:00.000Z' }, '2024-06-01 00:00:00.000Z', undefined],
  ['select required (single)', { type: 'select', values: ['a', 'b'], required: true }, '', blank],
  ['select invalid (single)', { type: 'select', values: ['a', 'b'] }, 'z', { code: 'validation_invalid_value', message: 'Invalid value z.', params: { value: 'z' } }],
  ['select required (multiple)', { type: 'select', values: ['a', 'b'], maxSelect: 2, required: true }, [], blank],
  ['select invalid (multiple)', { type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 }, ['a', 'q', 'r'], { code: 'validation_invalid_value', message: 'Invalid value q.', params: { value: 'q' } }],
  ['select too many before invalid', { type: 'select', values: ['a', 'b'], maxSelect: 2 }, ['a', 'b', 'z'], { code: 'validation_too_many_values', message: 'Select no more than 2.', params: { maxSelect: 2 } }],
  ['relation required', { type: 'relation', collection: 'others', required: true }, '', blank],
  ['relation not enough', { type: 'relation', collection: 'others', minSelect: 2, maxSelect: 3 }, ['a'], { code: 'validation_not_enough_values', message: 'Select at least 2.', params: { minSelect: 2 } }],
  ['relation too many', { type: 'relation', collection: 'others', maxSelect: 3 }, ['a', 'b', 'c', 'd'], { code: 'validation_too_many_values', message: 'Select no more than 3.', params: { maxSelect: 3 } }],
  ['relation ok', { type: 'relation', collection: 'others', minSelect: 1, maxSelect: 3 }, ['a'], undefined],
  ['file required', { type: 'file', required: true }, '', blank],
  ['file name on create', { type: 'file', maxSelect: 3 }, ['a.png', 'b.png'], { code: 'validation_invalid_file', message: 'Invalid new files: [a.png b.png].', params: { invalidFiles: ['a.png', 'b.png'] } }],
  ['json required null', { type: 'json', required: true }, null, blank],
  ['json required ""', { type: 'json', required: true }, '', blank],
  ['json required []', { type: 'json', required: true }, [], blank],
  ['json required {}', { type: 'json', required: true }, {}, blank],
  ['json zero is a value', { type: 'json', required: true }, 0, undefined],
  ['json maxSize', { type: 'json', maxSize: 8 }, { a: 12345 }, { code: 'validation_json_size_limit', message: 'The maximum allowed JSON size is 8 bytes.', params: { maxSize: 8 } }],
  ['json default 1 MiB', { type: 'json' }, 'x'.repeat(1 << 20), { code: 'validation_json_size_limit', message: 'The maximum allowed JSON size is 1048576 bytes.', params: { maxSize: 1048576 } }],
  ['geoPoint required', { type: 'geoPoint', required: true }, { lon: 0, lat: 0 }, blank],
  ['geoPoint latitude', { type: 'geoPoint' }, { lon: 0, lat: 90.5 }, { code: 'validation_invalid_latitude', message: 'Latitude must be between -90 and 90 degrees.' }],
  ['geoPoint longitude', { type: 'geoPoint' }, { lon: -181, lat: 0 }, { code: 'validation_invalid_longitude', message: 'Longitude must be between -180 and 180 degrees.' }],
  ['geoPoint ok', { type: 'geoPoint', required: true }, { lon: 180, lat: -90 }, undefined],
];

describe('compileValidator: one row per field type and code', () => {
  it.each(rows)('%s', (_label, field, value, expected) => {
    expect(errorOf(field, value)).toEqual(expected);
  });

  it('reports an unsupported value type instead of throwing', () => {
    expect(errorOf({ type: 'text' }, 5)?.code).toBe('validation_unsupported_value_type');
    expect(errorOf({ type: 'number' }, '5')?.code).toBe('validation_unsupported_value_type');
    expect(errorOf({ type: 'select', values: ['a'] }, ['a'])?.code).toBe('validation_unsupported_value_type');
  });
});

describe('file fields on update', () => {
  const field = { type: 'file', maxSelect: 2 };
  const existing = { id: VALID_ID, f: ['a.png', 'b.png', 'c.png'] };

  it('accepts kept filenames and rejects invented ones', () => {
    expect(errorOf(field, ['a.png'], { isNew: false, existing })).toBeUndefined();
    expect(errorOf(field, ['a.png', 'new.png'], { isNew: false, existing })).toEqual({
      code: 'validation_invalid_file',
      message: 'Invalid new files: [new.png].',
      params: { invalidFiles: ['new.png'] },
    });
  });

  it('counts the files against maxSelect', () => {
    expect(errorOf(field, ['a.png', 'b.png', 'c.png'], { isNew: false, existing })).toEqual({
      code: 'validation_too_many_files',
      message: 'The maximum allowed files is 2.',
      params: { maxSelect: 2 },
    });
  });
});

describe('the id field', () => {
  const idErrors = (id: unknown, ctx: Partial<ValidationContext> = {}, pattern?: string) => {
    const fields = pattern ? [{ name: 'id', type: 'text', pattern, min: 1, max: 30, autogeneratePattern: '[a-z]{5}' }] : [];
    const schema = schemaOf({ name: 'things', fields });
    return compileValidator(schema.byName.get('things')!)({ id }, { isNew: true, changed: new Set(['id']), ...ctx })['id'];
  };

  it.each([
    ['', blank],
    ['short', { code: 'validation_min_text_constraint', message: 'Must be at least 15 character(s).', params: { min: 15 } }],
    ['abcdefghij1234567', { code: 'validation_max_text_constraint', message: 'Must be no more than 15 character(s).', params: { max: 15 } }],
    ['ABCDEFGHIJ12345', { code: 'validation_invalid_format', message: 'Invalid value format.' }],
    [VALID_ID, undefined],
  ])('checks %j on create', (id, expected) => {
    expect(idErrors(id)).toEqual(expected);
  });

  it('is not re-validated on update (the id cannot change; stored ids may predate the rules)', () => {
    expect(idErrors('legacy-ID', { isNew: false })).toBeUndefined();
  });

  it.each([
    ['a.b', { code: 'validation_forbidden_pk_character', message: "'.' is not a valid primary key character.", params: { ch: '.' } }],
    ['has space', { code: 'validation_forbidden_pk_character', message: "' ' is not a valid primary key character.", params: { ch: ' ' } }],
    ['com1', { code: 'validation_reserved_pk', message: "The primary key 'COM1' is reserved and cannot be used.", params: { reserved: 'COM1' } }],
    ['fine-id_1', undefined],
  ])('vets %j when the id pattern is custom', (id, expected) => {
    expect(idErrors(id, {}, '^.+$')).toEqual(expected);
  });
});

describe('auth collections', () => {
  const schema = schemaOf({ name: 'users', type: 'auth', fields: [{ name: 'name', type: 'text' }] });
  const users = schema.byName.get('users')!;
  const validate = compileValidator(users);
  const resolve = compileInputResolver(users);
  const base: ApiRecord = { id: VALID_ID, password: '', tokenKey: 'k'.repeat(50), email: 'a@b.co', emailVisibility: false, verified: false, name: '' };

  it('requires a password on create', () => {
    expect(validate(base, { isNew: true, changed: new Set() })['password']).toEqual(blank);
  });

  it.each([
    ['short', { code: 'validation_min_text_constraint', message: 'Must be at least 8 character(s).' }],
    ['x'.repeat(72), { code: 'validation_max_text_constraint', message: 'Must be less than 71 character(s).' }],
    ['x'.repeat(71), undefined],
  ])('checks the new plain password %j (no params, as PocketBase)', (newPassword, expected) => {
    expect(validate(base, { isNew: true, changed: new Set(['password']), newPassword })['password']).toEqual(expected);
  });

  it('accepts a stored hash without a new password on update', () => {
    expect(validate({ ...base, password: '$2a$10$x' }, { isNew: false, changed: new Set() })).toEqual({});
  });

  it('requires email and a 30-60 char tokenKey', () => {
    const errors = validate({ ...base, email: '', tokenKey: 'short', password: '$2a$10$x' }, { isNew: false, changed: new Set() });
    expect(errors).toEqual({
      email: blank,
      tokenKey: { code: 'validation_min_text_constraint', message: 'Must be at least 30 character(s).', params: { min: 30 } },
    });
  });

  it('validates what the input resolver produces end to end', () => {
    const input = resolve({ email: 'nope', password: 'pw', passwordConfirm: 'pw' }, { existing: null, superuser: false, canManage: false });
    expect(input.errors).toEqual({});
    const errors = validate(input.values, { isNew: true, changed: input.changed, newPassword: input.newPassword });
    expect(errors).toEqual({
      email: { code: 'validation_is_email', message: 'Must be a valid email address.' },
      password: { code: 'validation_min_text_constraint', message: 'Must be at least 8 character(s).' },
    });
  });
});

describe('whole-record validation', () => {
  it('validates every field on update too, and reuses the compiled validator', () => {
    const schema = schemaOf({ name: 'things', fields: [{ name: 'title', type: 'text', required: true }, { name: 'n', type: 'number', max: 3 }] });
    const validate = compileValidator(schema.byName.get('things')!);
    const ctx = { isNew: false, changed: new Set(['n']) };
    expect(validate({ id: VALID_ID, title: '', n: 1 }, ctx)).toEqual({ title: blank });
    expect(validate({ id: VALID_ID, title: 'x', n: 4 }, ctx)).toEqual({
      n: { code: 'validation_max_number_constraint', message: 'Must be less or equal than 3.', params: { max: 3 } },
    });
    expect(validate({ id: VALID_ID, title: 'x', n: 2 }, ctx)).toEqual({});
  });
});

describe('helpers', () => {
  it.each([
    ['cannot be blank', 'Cannot be blank.'],
    ['Done!', 'Done!'],
    ['  ok?  ', 'Ok?'],
    ['', ''],
  ])('sentenizes %j', (input, output) => {
    expect(sentenize(input)).toBe(output);
  });

  it.each([
    [5, '5'],
    [1e6, '1e+06'],
    [999999, '999999'],
    [1234567, '1.234567e+06'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-2.5, '-2.5'],
  ])('prints %d as Go %%v does', (value, text) => {
    expect(goFloat(value)).toBe(text);
  });

  it.each([
    ['a@b.co', true],
    ['first.last+tag@sub.example.com', true],
    ['"quoted name"@example.org', true],
    ['ünï@例え.jp', true],
    ['a@b', false],
    ['a..b@c.com', false],
    ['@b.com', false],
    ['a@b.c1', false],
    ['a@-b.com', false],
    ['=?utf-8?q?x?=@b.com', false],
  ])('isEmail(%j) is %s', (email, ok) => {
    expect(isEmail(email)).toBe(ok);
  });

  it.each([
    ['https://example.com', true],
    ['http://localhost:8090/api?x=1#y', true],
    ['example.com/path', true],
    ['localhost:3000', true],
    ['ftp://1.2.3.4/file', true],
    ['http://[::1]/', true],
    ['http://user:pw@host.io', true],
    ['localhost', false],
    ['mailto://a.com', false],
    ['http://a b.com', false],
    ['http://exa mple.com', false],
    ['https://', false],
    ['.example.com', false],
    ['http//example.com', false],
  ])('isUrl(%j) is %s', (url, ok) => {
    expect(isUrl(url)).toBe(ok);
  });

  it('checks emails and urls in linear time (no catastrophic backtracking)', () => {
    const evil = ['a@' + 'a.'.repeat(20000) + '!', 'a'.repeat(50000) + '@', 'http://' + 'a-'.repeat(20000) + '!', '"' + ' '.repeat(50000) + '@x.com'];
    const started = performance.now();
    for (const text of evil) {
      isEmail(text);
      isUrl(text);
    }
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(typeof isEmail(text)).toBe('boolean');
        expect(typeof isUrl(text)).toBe('boolean');
      }),
    );
  });
});

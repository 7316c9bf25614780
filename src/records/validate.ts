import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { formatDate, isMultiple, parseDate, type Collection, type Field } from '../schema/index.js';
import { formatFloat, toFileNames } from './input.js';
import type { ApiRecord, FieldError, FieldErrors, UploadedFile } from './types.js';

export interface ValidationContext {
  isNew: boolean;
  changed: Set<string>;
  /** The plain auth password being set, if any (its length/pattern are checked, not the hash's). */
  newPassword?: string;
  /** The plain values of other password fields being set. */
  otherPasswords?: Record<string, string> | undefined;
  /**
   * The stored record on update. File fields may only keep filenames it already has; without it an
   * update cannot tell kept files from invented ones and that check is skipped.
   */
  existing?: ApiRecord | null;
  /** Files uploaded with the write: their stored names are valid new values of their fields. */
  uploads?: readonly UploadedFile[] | undefined;
}

export type RecordValidator = (values: ApiRecord, ctx: ValidationContext) => FieldErrors;

/** One field's check over the whole record; undefined when the value is fine. */
type FieldCheck = (values: ApiRecord, ctx: ValidationContext) => FieldError | undefined;

/**
 * Compiles, once per collection, PocketBase's field validation (`Field.ValidateValue` of every
 * field): each field reports its first problem with PocketBase's code, message and params. Empty
 * values only face the `required` check; the format rules of non-empty ones are an ajv schema per
 * field, compiled here, whose errors are mapped back to PocketBase's codes.
 */
export function compileValidator(collection: Collection): RecordValidator {
  const checks = collection.fields.flatMap((field) => {
    const check = compileFieldCheck(field, collection);
    return check ? [[field.name, check] as const] : [];
  });
  return (values, ctx) => {
    const errors: FieldErrors = {};
    for (const [name, check] of checks) {
      const error = check(values, ctx);
      if (error) errors[name] = error;
    }
    return errors;
  };
}

function compileFieldCheck(field: Field, collection: Collection): FieldCheck | undefined {
  switch (field.type) {
    case 'text':
      return textCheck(field);
    case 'password':
      return passwordCheck(field, collection.type === 'auth' && field.name === 'password');
    case 'email':
      return simpleCheck(field, (v) => v === '', emailRule(field));
    case 'url':
      return simpleCheck(field, (v) => v === '', urlRule(field));
    case 'editor':
      return simpleCheck(field, (v) => v === '', editorRule(field));
    case 'number':
      return numberCheck(field);
    case 'bool':
      return simpleCheck(field, (v) => v === false, ajvRule({ type: 'boolean' }, []));
    case 'date':
      return simpleCheck(field, (v) => v === '', dateRule(field));
    case 'select':
      return simpleCheck(field, isEmptyList, selectRule(field));
    case 'relation':
      return simpleCheck(field, isEmptyList, relationRule(field));
    case 'file':
      return fileCheck(field);
    case 'json':
      return simpleCheck(field, isEmptyJson, jsonRule(field));
    case 'geoPoint':
      return simpleCheck(field, isZeroPoint, geoPointRule());
    default: // autodate: set by the server
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// PocketBase's errors.

/** PocketBase "sentenizes" every message: first letter upper-cased, a final `.` unless it ends in `.`, `?` or `!`. */
export function sentenize(message: string): string {
  const text = message.trim();
  if (text === '') return '';
  const upper = text[0]!.toUpperCase() + text.slice(1);
  return /[.?!]$/.test(upper) ? upper : `${upper}.`;
}

function fieldError(code: string, message: string, params?: Record<string, unknown>): FieldError {
  return params ? { code, message: sentenize(message), params } : { code, message: sentenize(message) };
}

const required = () => fieldError('validation_required', 'Cannot be blank');
const unsupported = () => fieldError('validation_unsupported_value_type', 'Invalid or unsupported value type');

// ---------------------------------------------------------------------------------------------
// ajv: one compiled schema per field; its errors mapped to PocketBase's, first match wins.

const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
ajv.addFormat('pb-email', { type: 'string', validate: isEmail });
ajv.addFormat('pb-url', { type: 'string', validate: isUrl });
ajv.addFormat('pb-date', { type: 'string', validate: (s: string) => s === canonicalDate(s) });
ajv.addKeyword({ keyword: 'maxBytes', type: 'string', schemaType: 'number', validate: (max: number, s: string) => Buffer.byteLength(s) <= max });
ajv.addKeyword({ keyword: 'maxJsonBytes', schemaType: 'number', validate: (max: number, v: unknown) => jsonSize(v) <= max });
// Canonical date texts compare in time order, so the limits are plain string comparisons.
ajv.addKeyword({ keyword: 'dateMin', type: 'string', schemaType: 'string', validate: (min: string, s: string) => s >= min });
ajv.addKeyword({ keyword: 'dateMax', type: 'string', schemaType: 'string', validate: (max: string, s: string) => s <= max });
ajv.addKeyword({ keyword: 'domainIn', type: 'string', schemaType: 'array', validate: (list: string[], s: string) => list.includes(domainOf(s)) });
ajv.addKeyword({ keyword: 'domainNotIn', type: 'string', schemaType: 'array', validate: (list: string[], s: string) => !list.includes(domainOf(s)) });
ajv.addKeyword({ keyword: 'hostIn', type: 'string', schemaType: 'array', validate: (list: string[], s: string) => list.includes(urlHost(s)) });
ajv.addKeyword({ keyword: 'hostNotIn', type: 'string', schemaType: 'array', validate: (list: string[], s: string) => !list.includes(urlHost(s)) });
ajv.addKeyword({ keyword: 'safePrimaryKey', type: 'string', schemaType: 'boolean', validate: (_on: boolean, s: string) => !primaryKeyProblem(s) });

/** ajv error → PocketBase error; `match` is an ajv keyword or an instance path (`/lat`). */
type ErrorMapping = [match: string, toError: (value: unknown, error: ErrorObject) => FieldError];

/** A check of a non-empty value: undefined when valid, else the first mapped error in `mappings` order. */
type ValueRule = (value: unknown) => FieldError | undefined;

/**
 * Compiled field schemas by their JSON text. Fields repeat across collections (every `created`,
 * every plain text field), and compiling one costs ~1 ms: 200 collections compiled eagerly took
 * 2.7 s of a 5 s start (CPU profile, 2-core machine). So a schema compiles once per distinct
 * text, on the first value it checks, not when the collections load.
 */
const compiled = new Map<string, ValidateFunction>();

function compiledSchema(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) compiled.set(key, (validate = ajv.compile(schema)));
  return validate;
}

function ajvRule(schema: Record<string, unknown>, mappings: ErrorMapping[]): ValueRule {
  let validate: ValidateFunction | undefined;
  return (value) => {
    validate ??= compiledSchema(schema);
    if (validate(value)) return undefined;
    const errors = validate.errors ?? [];
    for (const [match, toError] of [['type', unsupported] as ErrorMapping, ...mappings]) {
      const found = errors.find((e) => e.keyword === match || e.instancePath === match);
      if (found) return toError(value, found);
    }
    return unsupported();
  };
}

/** Required when empty, else the rule: the shape of most PocketBase `ValidateValue`s. */
function simpleCheck(field: Field, isEmpty: (value: unknown) => boolean, rule: ValueRule): FieldCheck {
  return (values) => {
    const value = values[field.name];
    if ((value === null || value === undefined) && field.type !== 'json') return field.required ? required() : undefined;
    if (isEmpty(value)) return field.required ? required() : undefined;
    return rule(value);
  };
}

const isEmptyList = (v: unknown) => v === '' || (Array.isArray(v) && v.length === 0);
const isZeroPoint = (v: unknown) => {
  const p = v as { lon?: unknown; lat?: unknown } | null;
  return typeof p === 'object' && p !== null && p.lon === 0 && p.lat === 0;
};
/** PocketBase's emptyJSONValues: null, "", [], {} (and nothing at all). */
const isEmptyJson = (v: unknown) => v === undefined || ['null', '""', '[]', '{}'].includes(JSON.stringify(v));

function jsonSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? 'null');
}

const num = (v: unknown, dflt = 0): number => (typeof v === 'number' ? v : dflt);
const optionalNumber = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const stringList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

// ---------------------------------------------------------------------------------------------
// Per type.

const DEFAULT_ID_PATTERN = '^[a-z0-9]+$';
const invalidFormat = () => fieldError('validation_invalid_format', 'Invalid value format');

function textCheck(field: Field): FieldCheck {
  const primaryKey = field['primaryKey'] === true;
  const min = num(field['min']);
  const max = num(field['max']) || 5000;
  const pattern = String(field['pattern'] ?? '');
  const schema: Record<string, unknown> = { type: 'string', maxLength: max };
  if (min > 0) schema['minLength'] = min;
  if (pattern) schema['pattern'] = pattern;
  // A custom id pattern may allow characters that are unsafe in file paths; PocketBase then vets ids itself.
  if (primaryKey && pattern !== DEFAULT_ID_PATTERN) schema['safePrimaryKey'] = true;
  const rule = ajvRule(schema, [
    ['minLength', () => fieldError('validation_min_text_constraint', `Must be at least ${min} character(s)`, { min })],
    ['maxLength', () => fieldError('validation_max_text_constraint', `Must be no more than ${max} character(s)`, { max })],
    ['pattern', invalidFormat],
    ['safePrimaryKey', (value) => primaryKeyProblem(String(value)) ?? unsupported()],
  ]);
  const check = simpleCheck({ ...field, required: field.required || primaryKey }, (v) => v === '', rule);
  // The id of a stored record never changes (the input resolver reports attempts) and may predate the rules.
  return primaryKey ? (values, ctx) => (ctx.isNew ? check(values, ctx) : undefined) : check;
}

const FORBIDDEN_PK_CHARACTERS = ['.', '/', '\\', '|', '"', "'", '`', '<', '>', ':', '?', '*', '%', '$', '\0', '\t', '\n', '\r', ' '];
const RESERVED_PKS = ['CON', 'PRN', 'AUX', 'NUL', ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((n) => [`COM${n}`, `LPT${n}`])];

function primaryKeyProblem(id: string): FieldError | undefined {
  const ch = FORBIDDEN_PK_CHARACTERS.find((c) => id.includes(c));
  if (ch !== undefined) return fieldError('validation_forbidden_pk_character', `'${ch}' is not a valid primary key character`, { ch });
  const reserved = RESERVED_PKS.find((r) => r === id.toUpperCase());
  if (reserved) return fieldError('validation_reserved_pk', `The primary key '${reserved}' is reserved and cannot be used`, { reserved });
  return undefined;
}

/**
 * A password field holds a hash; `required` looks at it (or at the new plain password), while
 * min/max/pattern apply to the plain password being set. PocketBase words these without params.
 */
function passwordCheck(field: Field, isAuthPassword: boolean): FieldCheck {
  const min = num(field['min']);
  const max = num(field['max']) || 71;
  const pattern = String(field['pattern'] ?? '');
  const schema: Record<string, unknown> = { type: 'string', maxLength: max };
  if (min > 0) schema['minLength'] = min;
  if (pattern) schema['pattern'] = pattern;
  const rule = ajvRule(schema, [
    ['minLength', () => fieldError('validation_min_text_constraint', `Must be at least ${min} character(s)`)],
    ['maxLength', () => fieldError('validation_max_text_constraint', `Must be less than ${max} character(s)`)],
    ['pattern', invalidFormat],
  ]);
  return (values, ctx) => {
    const plain = (isAuthPassword ? ctx.newPassword : ctx.otherPasswords?.[field.name]) ?? '';
    const hash = values[field.name];
    if (field.required && plain === '' && (typeof hash !== 'string' || hash === '')) return required();
    return plain === '' ? undefined : rule(plain);
  };
}

function emailRule(field: Field): ValueRule {
  const schema: Record<string, unknown> = { type: 'string', format: 'pb-email' };
  const only = stringList(field['onlyDomains']);
  const except = stringList(field['exceptDomains']);
  if (only.length) schema['domainIn'] = only;
  if (except.length) schema['domainNotIn'] = except;
  const notAllowed = () => fieldError('validation_email_domain_not_allowed', 'Email domain is not allowed');
  return ajvRule(schema, [
    ['format', () => fieldError('validation_is_email', 'Must be a valid email address')],
    ['domainIn', notAllowed],
    ['domainNotIn', notAllowed],
  ]);
}

function urlRule(field: Field): ValueRule {
  const schema: Record<string, unknown> = { type: 'string', format: 'pb-url' };
  const only = stringList(field['onlyDomains']);
  const except = stringList(field['exceptDomains']);
  if (only.length) schema['hostIn'] = only;
  if (except.length) schema['hostNotIn'] = except;
  const notAllowed = () => fieldError('validation_url_domain_not_allowed', 'Url domain is not allowed');
  return ajvRule(schema, [
    ['format', () => fieldError('validation_invalid_url', 'Must be a valid url')],
    ['hostIn', notAllowed],
    ['hostNotIn', notAllowed],
  ]);
}

function editorRule(field: Field): ValueRule {
  const maxSize = num(field['maxSize']) || 5 << 20;
  return ajvRule({ type: 'string', maxBytes: maxSize }, [
    ['maxBytes', () => fieldError('validation_content_size_limit', `The maximum allowed content size is ${maxSize} bytes`, { maxSize })],
  ]);
}

/** Zero is the empty number: it only faces `required`, never min/max (PocketBase behaviour). */
function numberCheck(field: Field): FieldCheck {
  const min = optionalNumber(field['min']);
  const max = optionalNumber(field['max']);
  const schema: Record<string, unknown> = { type: 'number' };
  if (field['onlyInt'] === true) schema['multipleOf'] = 1;
  if (min !== null) schema['minimum'] = min;
  if (max !== null) schema['maximum'] = max;
  const rule = ajvRule(schema, [
    ['multipleOf', () => fieldError('validation_only_int_constraint', 'Decimal numbers are not allowed')],
    ['minimum', () => fieldError('validation_min_number_constraint', `Must be greater or equal than ${goFloat(min!)}`, { min })],
    ['maximum', () => fieldError('validation_max_number_constraint', `Must be less or equal than ${goFloat(max!)}`, { max })],
  ]);
  return (values) => {
    const value = values[field.name];
    if (value === null || value === undefined || value === 0) return field.required ? required() : undefined;
    if (typeof value === 'number' && !Number.isFinite(value)) {
      return fieldError('validation_not_a_number', 'The submitted number is not properly formatted');
    }
    return rule(value);
  };
}

function dateRule(field: Field): ValueRule {
  const min = canonicalDate(String(field['min'] ?? ''));
  const max = canonicalDate(String(field['max'] ?? ''));
  const schema: Record<string, unknown> = { type: 'string', format: 'pb-date' };
  if (min) schema['dateMin'] = min;
  if (max) schema['dateMax'] = max;
  return ajvRule(schema, [
    ['format', unsupported],
    ['dateMin', () => thresholdError('validation_min_greater_equal_than_required', 'Must be no less than', min)],
    ['dateMax', () => thresholdError('validation_max_less_equal_than_required', 'Must be no greater than', max)],
  ]);
}

/** ozzo's threshold errors print Go's `time.Time` in the message and its JSON (RFC 3339) form in params. */
function thresholdError(code: string, text: string, threshold: string): FieldError {
  const date = parseDate(threshold)!;
  return fieldError(code, `${text} ${goTimeString(date)}`, { threshold: goTimeJson(date) });
}

function selectRule(field: Field): ValueRule {
  const values = stringList(field['values']);
  const maxSelect = Math.max(num(field['maxSelect'], 1), 1);
  const invalid = (value: unknown, e: ErrorObject) => {
    const bad = valueAt(value, e.instancePath);
    return fieldError('validation_invalid_value', `Invalid value ${castText(bad)}`, { value: bad });
  };
  if (!isMultiple(field)) return ajvRule({ type: 'string', enum: values }, [['enum', invalid]]);
  return ajvRule({ type: 'array', maxItems: maxSelect, items: { enum: values } }, [
    ['maxItems', () => tooMany(maxSelect)],
    ['enum', invalid],
  ]);
}

function relationRule(field: Field): ValueRule {
  if (!isMultiple(field)) return ajvRule({ type: 'string' }, []);
  const minSelect = num(field['minSelect']);
  const maxSelect = num(field['maxSelect'], 1);
  const schema: Record<string, unknown> = { type: 'array', maxItems: maxSelect };
  if (minSelect > 0) schema['minItems'] = minSelect;
  return ajvRule(schema, [
    ['minItems', () => fieldError('validation_not_enough_values', `Select at least ${minSelect}`, { minSelect })],
    ['maxItems', () => tooMany(maxSelect)],
  ]);
}

const tooMany = (maxSelect: number) => fieldError('validation_too_many_values', `Select no more than ${maxSelect}`, { maxSelect });

/**
 * A file field may only hold filenames the stored record already has, or the names of this
 * write's uploads (so on create only uploads). Each upload it keeps is checked for size and
 * type (detected from its content); an upload it does not keep (two to a single field) is refused
 * rather than dropped.
 */
function fileCheck(field: Field): FieldCheck {
  const maxSelect = Math.max(num(field['maxSelect'], 1), 1);
  const maxSize = num(field['maxSize']) || 5 << 20;
  const mimeTypes = Array.isArray(field['mimeTypes']) ? (field['mimeTypes'] as unknown[]).map(String) : [];
  const tooManyFiles = () => fieldError('validation_too_many_files', `The maximum allowed files is ${maxSelect}`, { maxSelect });
  const countRule = ajvRule({ type: 'array', maxItems: maxSelect }, [['maxItems', tooManyFiles]]);
  return (values, ctx) => {
    const files = toFileNames(values[field.name]);
    const uploads = (ctx.uploads ?? []).filter((u) => uploadField(u.field) === field.name);
    if (uploads.some((u) => !files.includes(u.name))) return tooManyFiles();
    if (files.length === 0) return field.required ? required() : undefined;
    const uploaded = new Map(uploads.map((u) => [u.name, u]));
    const known = ctx.isNew ? new Set<string>() : ctx.existing ? new Set(toFileNames(ctx.existing[field.name])) : null;
    const invalidFiles = known ? files.filter((f) => !known.has(f) && !uploaded.has(f)).map((f) => f.slice(0, 250)) : [];
    if (invalidFiles.length > 0) {
      return fieldError('validation_invalid_file', `Invalid new files: [${invalidFiles.join(' ')}].`, { invalidFiles });
    }
    const counted = countRule(files);
    if (counted) return counted;
    for (const u of uploads) {
      if (u.tooLarge || u.size > maxSize) {
        return fieldError('validation_file_size_limit', `Failed to upload ${u.filename} - the maximum allowed file size is ${maxSize} bytes.`, { file: u.filename, maxSize });
      }
      if (mimeTypes.length > 0 && !mimeTypes.some((m) => sameType(m, u.mimeType))) {
        return fieldError('validation_invalid_mime_type', `Failed to upload "${u.filename}" due to unsupported file type.`, { file: u.filename, mimeTypes });
      }
    }
    return undefined;
  };
}

/** The field a multipart part names (`f`, `f+`, `+f`). */
function uploadField(part: string): string {
  return part.startsWith('+') ? part.slice(1) : part.endsWith('+') ? part.slice(0, -1) : part;
}

/** Media types compared without parameters (`text/plain` matches `text/plain; charset=utf-8`). */
function sameType(a: string, b: string): boolean {
  const base = (t: string) => t.split(';')[0]!.trim().toLowerCase();
  return base(a) === base(b);
}

function jsonRule(field: Field): ValueRule {
  const maxSize = num(field['maxSize']) || 1 << 20;
  return ajvRule({ maxJsonBytes: maxSize }, [
    ['maxJsonBytes', () => fieldError('validation_json_size_limit', `The maximum allowed JSON size is ${maxSize} bytes`, { maxSize })],
  ]);
}

function geoPointRule(): ValueRule {
  return ajvRule(
    {
      type: 'object',
      required: ['lon', 'lat'],
      properties: { lat: { type: 'number', minimum: -90, maximum: 90 }, lon: { type: 'number', minimum: -180, maximum: 180 } },
    },
    [
      ['/lat', () => fieldError('validation_invalid_latitude', 'Latitude must be between -90 and 90 degrees.')],
      ['/lon', () => fieldError('validation_invalid_longitude', 'Longitude must be between -180 and 180 degrees.')],
    ],
  );
}

// ---------------------------------------------------------------------------------------------
// Helpers for values and Go's text forms.

function valueAt(value: unknown, instancePath: string): unknown {
  if (instancePath === '') return value;
  return (value as unknown[])[Number(instancePath.slice(1))];
}

const castText = (v: unknown) => (typeof v === 'number' ? formatFloat(v) : String(v));

function canonicalDate(text: string): string {
  const date = text === '' ? null : parseDate(text);
  return date ? formatDate(date) : '';
}

/** Go's `%v` of a float64 (PocketBase's message templates): shortest digits, exponent form below 1e-4 and from 1e+06. */
export function goFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (value === 0) return formatFloat(value);
  const [mantissa, expText] = value.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp >= -4 && exp < 6) return formatFloat(value);
  return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Go's `time.Time.String()` for a UTC time: `2006-01-02 15:04:05.999999999 +0000 UTC`. */
function goTimeString(date: Date): string {
  const [day, time] = formatDate(date).replace('Z', '').split(' ') as [string, string];
  return `${day} ${trimFraction(time)} +0000 UTC`;
}

/** Go's JSON form of a `time.Time` (RFC 3339 with the shortest fraction). */
function goTimeJson(date: Date): string {
  const [day, time] = formatDate(date).replace('Z', '').split(' ') as [string, string];
  return `${day}T${trimFraction(time)}Z`;
}

const trimFraction = (time: string) => time.replace(/\.?0+$/, '');

// ---------------------------------------------------------------------------------------------
// Email and URL syntax (govalidator's IsEmail / IsURL as used by PocketBase), written without
// nested quantifiers so no input can make them backtrack for long.

const UCS = '\\u00A0-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFEF';
const ALNUM_UCS = `a-zA-Z\\d${UCS}`;
const LETTER_UCS = `a-zA-Z${UCS}`;
const ATEXT = `${ALNUM_UCS}!#$%&'*+\\-/=?^_\`{|}~`;
const DOT_ATOM = new RegExp(`^[${ATEXT}]+(?:\\.[${ATEXT}]+)*$`);
const QUOTED_LOCAL = new RegExp(`^"(?:[\\x20\\x09]|\\r\\n|[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\\x21\\x23-\\x5b\\x5d-\\x7e${UCS}]|\\\\[\\x01-\\x09\\x0b\\x0c\\x0d-\\x7f${UCS}])*"$`);
/** Everything before the top-level domain: labels joined by dots, which may themselves contain `-._~`. */
const DOMAIN_LABELS = new RegExp(`^[${ALNUM_UCS}](?:[${ALNUM_UCS}\\-._~]*[${ALNUM_UCS}])?$`);
const TOP_LEVEL_DOMAIN = new RegExp(`^[${LETTER_UCS}](?:[${ALNUM_UCS}\\-_~]*[${LETTER_UCS}])?$`);

export function isEmail(text: string): boolean {
  if (text.includes('=?') && text.includes('?=')) return false; // RFC 2047 encoded-word injection
  const at = text.lastIndexOf('@');
  if (at <= 0) return false;
  const local = text.slice(0, at);
  const domain = text.slice(at + 1).replace(/\.$/, '');
  if (!DOT_ATOM.test(local) && !QUOTED_LOCAL.test(local)) return false;
  const dot = domain.lastIndexOf('.');
  return dot > 0 && DOMAIN_LABELS.test(domain.slice(0, dot)) && TOP_LEVEL_DOMAIN.test(domain.slice(dot + 1));
}

function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1);
}

const URL_SCHEME = /^(?:ftp|tcp|udp|wss?|https?):\/\//;
const HOST_CHARS = `a-zA-Z0-9\\u00a1-\\uffff`;
const IPV4 = /^([1-9]\d?|1\d\d|2[01]\d|22[0-3]|24\d|25[0-5])(\.(\d{1,2}|1\d\d|2[0-4]\d|25[0-5])){2}\.([0-9]\d?|1\d\d|2[0-4]\d|25[0-5])$/;
const HOSTNAME = new RegExp(`^[${HOST_CHARS}](?:[${HOST_CHARS}\\-_.]*[${HOST_CHARS}])?$`);

/**
 * An approximation of govalidator.IsURL: optional http(s)/ws(s)/ftp/tcp/udp scheme, optional
 * user info, an IPv4, `[IPv6]` or host name, optional port, then a path without white space.
 * A bare word without a dot or port ("localhost") is not a URL unless it has a scheme.
 */
export function isUrl(text: string): boolean {
  if (text === '' || Array.from(text).length >= 2083 || Buffer.byteLength(text) <= 3 || text.startsWith('.')) return false;
  if (/^(?:https?|ftp|tcp|udp|wss?)\/\//i.test(text)) return false; // "http//x": a scheme missing its colon
  const scheme = URL_SCHEME.exec(text)?.[0] ?? '';
  if (!scheme && /^[^/?#]*:\/\//.test(text)) return false; // an unsupported scheme
  const rest = text.slice(scheme.length);
  const pathStart = rest.search(/[/?#]/);
  const authority = pathStart < 0 ? rest : rest.slice(0, pathStart);
  const path = pathStart < 0 ? '' : rest.slice(pathStart);
  if (/\s/.test(path) || /\s/.test(authority)) return false;
  const at = authority.lastIndexOf('@');
  const hostPort = authority.slice(at + 1);
  const port = /:(\d{1,5})$/.exec(hostPort);
  const host = (port ? hostPort.slice(0, port.index) : hostPort).replace(/\.$/, '');
  if (at === 0 || host === '' || /[:]/.test(host.replace(/^\[.*\]$/, ''))) return false;
  if (!scheme && !port && !host.includes('.') && !path.includes('.')) return false;
  if (host.includes('..')) return false;
  return IPV4.test(host) || /^\[[0-9a-fA-F:.]+\]$/.test(host) || HOSTNAME.test(host);
}

/** Go's `url.Parse(v).Host` (with the port, without user info): empty when there is no `scheme://`. */
function urlHost(text: string): string {
  const match = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(text);
  if (!match) return '';
  const authority = match[1]!;
  return authority.slice(authority.lastIndexOf('@') + 1);
}

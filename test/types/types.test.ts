import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTypes } from '../../src/types-gen/index.js';
import { allSchemas, exampleSchema, librarySchema } from '../openapi/fixtures.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** Inside the repository, so `pocketbase` resolves from node_modules; one folder per test process (two runs at once must not share it). */
const OUT_ROOT = join(ROOT, 'test-output/types');
const OUT = join(OUT_ROOT, `run-${process.pid}`);
const USAGE = join(import.meta.dirname, 'usage.fixture.ts');

/** `tsc --strict` against the unmodified pocketbase SDK (its declarations checked too). */
const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  types: [],
  skipLibCheck: false,
  noUnusedLocals: true,
};

interface Diagnostic {
  file: string;
  line: number;
  message: string;
}

function compile(files: string[]): Diagnostic[] {
  const program = ts.createProgram(files, COMPILER_OPTIONS);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const position = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : { line: -1 };
    return { file: d.file?.fileName ?? '', line: position.line + 1, message: ts.flattenDiagnosticMessageText(d.messageText, '\n') };
  });
}

/** The usage file next to the example app's types, optionally with its `@ts-expect-error` lines blanked (same line numbers). */
function writeUsage(dir: string, annotations: boolean): { file: string; expectedLines: number[] } {
  const lines = readFileSync(USAGE, 'utf8').split('\n');
  const isAnnotation = (l: string) => /^\s*\/\/ @ts-expect-error/.test(l);
  const marked = lines.flatMap((l, i) => (isAnnotation(l) ? [i + 1] : []));
  const text = annotations ? lines.join('\n') : lines.map((l) => (isAnnotation(l) ? '' : l)).join('\n');
  const file = join(dir, annotations ? 'usage.ts' : 'usage-unannotated.ts');
  writeFileSync(file, text);
  // Each annotation guards the line below it.
  return { file, expectedLines: marked.map((n) => n + 1) };
}

describe('galley types compiles with tsc --strict against the pocketbase SDK', () => {
  let schemas: Awaited<ReturnType<typeof allSchemas>>;
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    schemas = await allSchemas();
  });
  afterAll(() => rmSync(OUT, { recursive: true, force: true }));

  it('for the example app, the library fixture, the filter dataset and every corpus export (one program, no diagnostics)', () => {
    const files = schemas.map(([name, schema], i) => {
      const dir = join(OUT, `schema-${i}`);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'galley-types.ts');
      writeFileSync(file, generateTypes(schema));
      return [name, file] as const;
    });
    const diagnostics = compile(files.map(([, f]) => f));
    expect(diagnostics).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(20);
  }, 120_000);

  it('the usage file compiles with its @ts-expect-error lines, and fails on exactly those lines without them', async () => {
    const dir = join(OUT, 'usage');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'galley-types.ts'), generateTypes(await exampleSchema()));
    const annotated = writeUsage(dir, true);
    expect(compile([annotated.file])).toEqual([]);

    const bare = writeUsage(dir, false);
    const errors = compile([bare.file]);
    expect(errors.every((e) => e.file === bare.file)).toBe(true);
    expect([...new Set(errors.map((e) => e.line))].sort((a, b) => a - b)).toEqual(bare.expectedLines);
    expect(bare.expectedLines.length).toBeGreaterThanOrEqual(8);
    // The messages say what is wrong, e.g. the misspelt field.
    expect(errors.map((e) => e.message).join('\n')).toContain("Property 'titel' does not exist on type 'PostsRecord'");
  }, 120_000);
});

describe('the generated types say what the API does', () => {
  let text: string;
  beforeAll(async () => {
    text = generateTypes(await exampleSchema());
  });

  it('records: fields always present are required, the auth email optional, password and tokenKey absent', () => {
    const users = /export interface UsersRecord \{([^}]*)\}/.exec(text)![1]!;
    expect(users).toMatch(/\n {2}name: string;/);
    expect(users).toMatch(/\n {2}email\?: string;/);
    expect(users).toMatch(/\n {2}verified: boolean;/);
    expect(users).not.toMatch(/password|tokenKey/);
    expect(users).toMatch(/collectionName: "users";/);
  });

  it('select unions, relation ids, expand shapes and inputs', () => {
    expect(text).toContain('export type PostsStatusOptions = "draft" | "published" | "archived";');
    expect(text).toContain('export type UsersRoleOptions = "reader" | "author" | "editor";');
    expect(text).toMatch(/ {2}role: UsersRoleOptions \| '';/);
    expect(text).toMatch(/ {2}tags: RecordIdString\[\];/);
    expect(text).toMatch(/export interface PostsExpand \{\n {2}author\?: UsersRecord;\n {2}tags\?: TagsRecord\[\];\n {2}comments_via_post\?: CommentsRecord\[\];\n\}/);
    expect(text).toMatch(/export type PostsCreate = \{[^}]*\n {2}title: string;[^}]*\n {2}body\?: HtmlString;/);
    expect(text).toContain('"tags+"?: RecordIdString | RecordIdString[];');
    expect(text).toContain('Superusers = "_superusers",');
    expect(text).toMatch(/export type TypedPocketBase = \{\n {2}collection<K extends keyof CollectionRecords>/);
  });

  it('hidden fields stay out of records but superusers may set them; files are Blobs on create; views have no bodies', () => {
    const library = generateTypes(librarySchema());
    const block = (start: string) => library.slice(library.indexOf(start), library.indexOf('\n}', library.indexOf(start)));
    expect(block('export interface MembersRecord {')).not.toContain('notes');
    expect(block('export type BooksCreate = {')).toContain('code?: string;');
    expect(library).toMatch(/ {2}cover\?: Blob;/);
    expect(library).toMatch(/ {2}scans\?: Array<Blob \| string>;/);
    expect(library).toContain('book_stats: never;');
    expect(library).toContain('"2nd_edition": boolean;');
    expect(library).toContain('export interface MyShelf2Record {');
  });

  it('is deterministic (same files, same text)', async () => {
    expect(generateTypes(await exampleSchema())).toBe(text);
  });
});

// Keep a copy of the generated example types for people reading the test output.
it('writes the example app types to test-output/types/example.ts', async () => {
  mkdirSync(OUT_ROOT, { recursive: true });
  writeFileSync(join(OUT_ROOT, 'example.ts'), generateTypes(await exampleSchema()));
  copyFileSync(USAGE, join(OUT_ROOT, 'usage.fixture.ts'));
  expect(readFileSync(join(OUT_ROOT, 'example.ts'), 'utf8')).toContain('TypedPocketBase');
});

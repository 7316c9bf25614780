import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const ROOT = resolve(import.meta.dirname, '../..');
const REDOCLY = join(ROOT, 'node_modules/@redocly/cli/bin/cli.js');
export const OUTPUT_DIR = join(ROOT, 'test-output/openapi');

/**
 * Ajv (JSON Schema 2020-12, OpenAPI 3.1's dialect) over a document's component schemas, in strict
 * mode so an unknown keyword or a misspelt type fails. `strictRequired` is off: `allOf: [$ref,
 * {required: [...]}]` (an auth record with its email) is valid JSON Schema it cannot follow.
 */
export function documentAjv(doc: { components: { schemas: Record<string, unknown> } }): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'doc', $defs: rebase(doc.components.schemas) });
  return ajv;
}

/** A schema from the document with its component references pointed at the `doc` schema's `$defs`. */
export function rebase<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"doc#/$defs/')) as T;
}

/** @apidevtools/swagger-parser: the OpenAPI 3.1 structure, every $ref resolvable. Resolves to the problem text, or null. */
export async function swaggerParserProblem(doc: object): Promise<string | null> {
  try {
    await SwaggerParser.validate(structuredClone(doc) as never);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export interface RedoclyProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  file: string;
  pointer: string;
}

/** `redocly lint` with its recommended rules, over several documents in one run (its start-up is the slow part). */
export async function redoclyLint(docs: Record<string, object>): Promise<RedoclyProblem[]> {
  // One folder per test process: two runs at once must not overwrite each other's files.
  const dir = join(OUTPUT_DIR, `lint-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    return await lintFiles(dir, docs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function lintFiles(dir: string, docs: Record<string, object>): Promise<RedoclyProblem[]> {
  const files = Object.entries(docs).map(([name, doc]) => {
    const file = join(dir, `${name.replace(/[^\w.-]+/g, '_')}.openapi.json`);
    writeFileSync(file, JSON.stringify(doc, null, 1));
    return file;
  });
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };
  const run = promisify(execFile);
  // Exit code 1 means "problems found": the JSON report says which.
  const { stdout } = await run(process.execPath, [REDOCLY, 'lint', '--format=json', ...files], { env, cwd: dir, maxBuffer: 64 << 20 }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  // One JSON report per file, one after the other.
  const reports = stdout
    .trim()
    .split(/(?<=\n\})(?=\{)/)
    .map((text) => JSON.parse(text) as { problems: { ruleId: string; severity: 'error' | 'warn'; message: string; location: { source: { ref: string }; pointer: string }[] }[] });
  if (reports.length !== files.length) throw new Error(`redocly lint reported on ${reports.length} of ${files.length} files`);
  return reports.flatMap((r) => r.problems).map((p) => ({ ruleId: p.ruleId, severity: p.severity, message: p.message, file: p.location[0]?.source.ref ?? '', pointer: p.location[0]?.pointer ?? '' }));
}

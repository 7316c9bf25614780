/**
 * `import type { Hooks } from 'galley'` from a project that installs Galley (issue 14 item 2):
 * the package's `exports`/`types` point at the built declarations (dist/, made by `npm install` /
 * `npm run build`). A scratch project links the package under node_modules/galley and type-checks a
 * hooks file with `tsc --strict`: correct uses compile, the `@ts-expect-error` lines must be errors.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const USAGE = resolve(import.meta.dirname, 'fixtures/package-types/usage.hooks.ts');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

describe('the galley package types', () => {
  const dir = mkdtempSync(join(tmpdir(), 'galley-types-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function tsc(file: string): { ok: boolean; output: string } {
    try {
      execFileSync(process.execPath, [TSC, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), file], { cwd: dir, encoding: 'utf8' });
      return { ok: true, output: '' };
    } catch (err) {
      return { ok: false, output: String((err as { stdout?: string }).stdout ?? err) };
    }
  }

  it('type-checks a hooks file against the installed package', () => {
    expect(existsSync(join(ROOT, 'dist/hooks/public.d.ts')), 'dist/ is built by `npm install` (npm run build)').toBe(true);
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules/galley'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'my-app', type: 'module', dependencies: { galley: '*' } }));
    copyFileSync(USAGE, join(dir, 'usage.hooks.ts'));
    const result = tsc('usage.hooks.ts');
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  it('the @ts-expect-error lines really are errors', () => {
    const without = readFileSync(USAGE, 'utf8').replace(/^\s*\/\/ @ts-expect-error.*$/gm, '');
    writeFileSync(join(dir, 'bare.hooks.ts'), without);
    const result = tsc('bare.hooks.ts');
    expect(result.ok).toBe(false);
    expect(result.output.match(/error TS\d+/g)?.length).toBe(3);
  });
});

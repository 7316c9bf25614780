import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from '../src/config/index.js';
import { ERROR_CODES } from '../src/errors/index.js';

/** The README documents what exists: these checks keep its tables in step with the code. */
const ROOT = join(import.meta.dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The Markdown section that starts with the `## title` heading, up to the next `## `. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  expect(start, `README has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end === -1 ? undefined : end);
}

describe('README', () => {
  it('lists exactly the error codes of ERROR_CODES, with their statuses', () => {
    const rows = [...section('Error codes').matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm)];
    const documented = rows.map((m) => m[1]!);
    expect([...documented].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    expect(new Set(documented).size).toBe(documented.length);
    for (const [, code, status] of rows) expect(Number(status), code).toBe(ERROR_CODES[code as keyof typeof ERROR_CODES].status);
  });

  it('documents every CLI command defined in src/cli/index.ts', () => {
    const cli = readFileSync(join(ROOT, 'src/cli/index.ts'), 'utf8');
    // `program.command('serve')` → `galley serve`; `superuser.command('upsert')` → `galley superuser upsert`.
    const commands = [...cli.matchAll(/(\w+)\.command\(\s*'([\w-]+)/g)].map((m) => (m[1] === 'program' ? m[2]! : `${m[1]} ${m[2]}`));
    expect(commands.length).toBeGreaterThan(0);
    const table = section('CLI');
    for (const command of commands) expect(table, `command ${command}`).toContain(`\`galley ${command}`);
  });

  it('documents every environment variable of ENV_VARS', () => {
    for (const name of Object.keys(ENV_VARS)) expect(README, name).toMatch(new RegExp(`\`${name}\``));
  });

  it('maps every top-level folder of src/ in the source layout', () => {
    const layout = section('Source layout');
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(folders.length).toBeGreaterThan(0);
    for (const folder of folders) expect(layout, `src/${folder}/`).toContain(`\`src/${folder}/\``);
  });
});

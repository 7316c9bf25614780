import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { createApp, migrateForServe, startServer, type App, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import type { DialectName } from '../../src/db/index.js';
import { createLogger } from '../../src/log/index.js';
import { adminQuery, PG_URL, withSearchPath } from '../helpers/dialects.js';
import { COLLECTIONS } from './fixtures.js';

/**
 * The admin panel's browser suite: a real Galley server started in this process through the
 * serve path (loadConfig → createApp → migrateForServe → startServer), Debian's chromium driven
 * by playwright-core, and small helpers for the API side of each check.
 */

export type Json = Record<string, unknown>;

export const ROOT = resolve(import.meta.dirname, '../..');
/** Debian's chromium; GALLEY_TEST_CHROMIUM points elsewhere (e.g. to check the missing-browser path). */
export const CHROMIUM = process.env['GALLEY_TEST_CHROMIUM'] || '/usr/bin/chromium';
export const ADMIN_DIST_INDEX = join(ROOT, 'admin/dist/index.html');
export const ADMIN_ASSETS = join(ROOT, 'admin/dist/assets');
export const OUTPUT_DIR = join(ROOT, 'test-output/admin');
export const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** What the suite cannot run without (empty when everything is there). */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (!existsSync(CHROMIUM)) missing.push(`the browser ${CHROMIUM} is not installed (apt-get install chromium)`);
  if (!existsSync(ADMIN_DIST_INDEX)) missing.push(`${ADMIN_DIST_INDEX} does not exist (run npm run build:admin)`);
  return missing;
}

export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, timeout: 60_000 });
}

/** Every JSON log line the server wrote, with a way to wait for one. */
export class LogSink extends Writable {
  readonly lines: Json[] = [];
  private partial = '';
  private readonly waiters: { match: (l: Json) => boolean; done: (l: Json) => void }[] = [];

  override _write(chunk: Buffer | string, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.partial += chunk.toString();
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const text = this.partial.slice(0, nl).trim();
      this.partial = this.partial.slice(nl + 1);
      if (!text) continue;
      let line: Json;
      try {
        line = JSON.parse(text) as Json;
      } catch {
        line = { msg: text, unparsed: true };
      }
      this.lines.push(line);
      for (const w of [...this.waiters]) {
        if (w.match(line)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.done(line);
        }
      }
    }
    callback();
  }

  waitFor(match: (l: Json) => boolean, timeoutMs = 10_000): Promise<Json> {
    const found = this.lines.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolveLine, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; lines: ${JSON.stringify(this.lines)}`)), timeoutMs);
      this.waiters.push({ match, done: (l) => (clearTimeout(timer), resolveLine(l)) });
    });
  }
}

export interface Galley {
  dialect: DialectName;
  app: App;
  /** Base URL of the listening server (`http://127.0.0.1:<port>`). */
  url: string;
  log: LogSink;
  /** The `installUrl` field of the warn line `startServer` logs while no superuser exists. */
  installUrl: string;
  close(): Promise<void>;
}

/**
 * Starts Galley on a fresh database (SQLite file in a temporary folder, or a new PostgreSQL schema)
 * with the suite's collections plus `extra` ones.
 */
export async function startGalley(dialect: DialectName, extra: Json[] = []): Promise<Galley> {
  const root = mkdtempSync(join(tmpdir(), 'galley-admin-'));
  const collectionsDir = join(root, 'collections');
  const dataDir = join(root, 'data');
  mkdirSync(collectionsDir);
  mkdirSync(dataDir);
  for (const c of [...COLLECTIONS, ...extra]) writeFileSync(join(collectionsDir, `${String(c['name'])}.json`), `${JSON.stringify(c, null, 2)}\n`);

  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(root, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  };

  try {
    let db: string;
    if (dialect === 'sqlite') {
      db = `sqlite:${join(dataDir, 'data.db')}`;
    } else {
      const schema = `admin_${randomBytes(6).toString('hex')}`;
      await adminQuery(`CREATE SCHEMA "${schema}"`);
      cleanups.push(() => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
      db = withSearchPath(PG_URL, schema);
    }
    const config = loadConfig(
      { collections: collectionsDir, data: dataDir, db, http: '127.0.0.1:0' },
      { GALLEY_LOG_LEVEL: 'warn', GALLEY_LOG_PRETTY: 'false', GALLEY_RATE_LIMIT_AUTH_IP: '0', GALLEY_RATE_LIMIT_AUTH_IDENTITY: '0' },
      false,
    );
    const log = new LogSink();
    const app = await createApp(config, createLogger(config, log));
    let running: RunningServer | null = null;
    cleanups.push(async () => {
      if (running) await running.close();
      else await app.db.close();
    });
    await migrateForServe(app);
    running = await startServer(app);
    const line = await log.waitFor((l) => typeof l['installUrl'] === 'string');
    return { dialect, app, url: running.url, log, installUrl: String(line['installUrl']), close: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

export interface ApiResponse<T = Json> {
  status: number;
  body: T;
  headers: Headers;
}

/** A JSON request to the server (`token` goes in Authorization, as the SDK sends it). */
export async function api<T = Json>(base: string, method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResponse<T>> {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(options.token ? { Authorization: options.token } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: unknown = {};
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = { raw: text };
    }
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** Signs a superuser in through the API; the token (and the record, as the SDK stores them). */
export async function superuserSignIn(base: string, email: string, password: string): Promise<{ token: string; record: Json }> {
  const r = await api<{ token?: string; record?: Json }>(base, 'POST', '/api/collections/_superusers/auth-with-password', { body: { identity: email, password } });
  if (r.status !== 200 || !r.body.token || !r.body.record) throw new Error(`superuser sign-in → ${r.status} ${JSON.stringify(r.body)}`);
  return { token: r.body.token, record: r.body.record };
}

/** Saves a full-page screenshot into test-output/admin/<dialect>-<name>.png. */
export async function screenshot(page: Page, dialect: string, name: string): Promise<string> {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const file = join(OUTPUT_DIR, `${dialect}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The SDK's LocalAuthStore key in localStorage. */
export const AUTH_STORAGE_KEY = 'pocketbase_auth';

/** The token part of the install link. */
export function installTokenOf(installUrl: string): string {
  return installUrl.slice(installUrl.indexOf('/pbinstal/') + '/pbinstal/'.length);
}

export interface Admin {
  email: string;
  password: string;
}

/** The superuser exists (created through the install token when an earlier test did not). */
export async function ensureSuperuser(galley: Galley, admin: Admin): Promise<void> {
  const probe = await api(galley.url, 'POST', '/api/collections/_superusers/auth-with-password', { body: { identity: admin.email, password: admin.password } });
  if (probe.status === 200) return;
  const body = { email: admin.email, password: admin.password, passwordConfirm: admin.password };
  const made = await api(galley.url, 'POST', '/api/collections/_superusers/records', { token: installTokenOf(galley.installUrl), body });
  if (made.status !== 200) throw new Error(`could not create the superuser: ${made.status} ${JSON.stringify(made.body)}`);
}

/** The panel is open and signed in (through the login form when needed). */
export async function ensureSignedIn(page: Page, galley: Galley, admin: Admin, timeoutMs: number): Promise<void> {
  await ensureSuperuser(galley, admin);
  if (!page.url().startsWith(`${galley.url}/_/`)) await page.goto(`${galley.url}/_/`);
  const user = page.getByTestId('current-user');
  const form = page.getByTestId('login-form');
  await expect.poll(async () => (await user.isVisible()) || (await form.isVisible()), { timeout: timeoutMs }).toBe(true);
  if (await form.isVisible()) {
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByTestId('login-submit').click();
  }
  await user.waitFor();
}

import PocketBase, { getTokenPayload } from 'pocketbase';
import type { RecordData } from '../types';

/**
 * The one SDK client. The API lives where the panel is mounted minus `/_/`
 * (`https://host/prefix/_/` → `https://host/prefix`), so a reverse proxy prefix keeps working.
 */
function apiBase(): string {
  const path = window.location.pathname;
  const at = path.lastIndexOf('/_/');
  const prefix = at >= 0 ? path.slice(0, at) : '';
  return window.location.origin + prefix;
}

export const pb = new PocketBase(apiBase());

/** ETag (record version) of each record object the SDK returned, read from the response headers. */
const etags = new WeakMap<object, string>();

/** Called when a request other than a sign-in answers 401: the session is gone. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

pb.afterSend = (response: Response, data: unknown) => {
  const etag = response.headers.get('etag');
  if (etag && data && typeof data === 'object') etags.set(data, etag);
  if (response.status === 401 && !/\/auth-with-password$|\/auth-refresh$/.test(pathOf(response.url))) {
    onUnauthorized();
  }
  return data;
};

export function etagOf(record: RecordData | null | undefined): string | undefined {
  return record ? etags.get(record) : undefined;
}

export const SUPERUSERS = '_superusers';

/** Seconds until the stored token expires (0 when there is none or it cannot be read). */
export function tokenSecondsLeft(token = pb.authStore.token): number {
  if (!token) return 0;
  const exp = Number(getTokenPayload(token)['exp']);
  if (!Number.isFinite(exp)) return 0;
  return exp - Date.now() / 1000;
}

/** A valid superuser session is stored (the SDK keeps it in localStorage across reloads). */
export function hasSession(): boolean {
  return pb.authStore.isValid && pb.authStore.isSuperuser;
}

export const REFRESH_WHEN_LEFT_S = 30 * 60;

/** Refreshes the token when less than 30 minutes are left. Clears the session if the server refuses. */
export async function refreshIfNeeded(): Promise<void> {
  if (!hasSession()) return;
  if (tokenSecondsLeft() >= REFRESH_WHEN_LEFT_S) return;
  try {
    await pb.collection(SUPERUSERS).authRefresh({ requestKey: 'auth-refresh' });
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 401 || status === 403 || status === 404) pb.authStore.clear();
    // Network errors: keep the session; the next tick tries again.
  }
}

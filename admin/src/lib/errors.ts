import type { ClientResponseError } from 'pocketbase';

/** Field errors of a 400 response: `{ field: message }`. */
export type FieldErrors = Record<string, string>;

function asResponseError(err: unknown): ClientResponseError | null {
  if (err && typeof err === 'object' && 'response' in err && 'status' in err) return err as ClientResponseError;
  return null;
}

export function isAbort(err: unknown): boolean {
  return Boolean(err && typeof err === 'object' && (err as { isAbort?: boolean }).isAbort);
}

export function statusOf(err: unknown): number {
  return asResponseError(err)?.status ?? 0;
}

/** The message to show for any error (the server's own message when there is one). */
export function errorMessage(err: unknown): string {
  const e = asResponseError(err);
  if (e) {
    const message = (e.response as { message?: unknown } | undefined)?.message;
    if (typeof message === 'string' && message) return message;
    if (e.status === 0) return 'Cannot reach the server.';
    return e.message || `Request failed (${e.status}).`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

export function fieldErrors(err: unknown): FieldErrors {
  const data = (asResponseError(err)?.response as { data?: unknown } | undefined)?.data;
  const out: FieldErrors = {};
  if (!data || typeof data !== 'object') return out;
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (value && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') {
      out[key] = (value as { message: string }).message;
    }
  }
  return out;
}

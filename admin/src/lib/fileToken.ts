import { getTokenPayload } from 'pocketbase';
import { useEffect, useState } from 'preact/hooks';
import { isThumbable } from './files';
import { pb } from './pb';
import type { RecordData } from '../types';

/**
 * Protected files are only served with `?token=` (a short-lived file token from
 * `POST /api/files/token`). One token is shared by every preview and link of the panel; it is
 * fetched again shortly before it expires.
 */
const RENEW_BEFORE_S = 20;

let current: { token: string; exp: number } | null = null;
let pending: Promise<string> | null = null;

function expiryOf(token: string): number {
  const exp = Number(getTokenPayload(token)['exp']);
  return Number.isFinite(exp) ? exp : Date.now() / 1000 + 60;
}

const fresh = () => Boolean(current && current.exp - Date.now() / 1000 > RENEW_BEFORE_S);

export function fileToken(): Promise<string> {
  if (current && fresh()) return Promise.resolve(current.token);
  pending ??= pb.files
    .getToken({ requestKey: null })
    .then((token) => {
      current = { token, exp: expiryOf(token) };
      return token;
    })
    .finally(() => {
      pending = null;
    });
  return pending;
}

/** The file token while `needed` (null until it arrives, or on an error: the previews then show names only). */
export function useFileToken(needed: boolean): string | null {
  const [token, setToken] = useState<string | null>(() => (needed && fresh() ? current!.token : null));
  const [round, setRound] = useState(0);
  useEffect(() => {
    if (!needed) return;
    let live = true;
    let timer: number | undefined;
    fileToken()
      .then((t) => {
        if (!live) return;
        setToken(t);
        const renewInMs = Math.max((expiryOf(t) - RENEW_BEFORE_S) * 1000 - Date.now(), 1000);
        timer = window.setTimeout(() => setRound((r) => r + 1), renewInMs);
      })
      .catch(() => {
        if (live) setToken(null);
      });
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [needed, round]);
  return needed ? token : null;
}

export interface FileUrls {
  /** Opens the file (new tab). */
  view: string;
  /** Downloads it (`?download=1`). */
  download: string;
  /** A 100x100 thumb for images the server can thumb, else null. */
  thumb: string | null;
}

/** URLs of a stored file; null for a protected one while its token is missing. */
export function fileUrls(record: Pick<RecordData, 'id' | 'collectionId' | 'collectionName'>, name: string, isProtected: boolean, token: string | null): FileUrls | null {
  if (isProtected && !token) return null;
  const auth = isProtected && token ? { token } : {};
  return {
    view: pb.files.getURL(record, name, auth),
    download: pb.files.getURL(record, name, { ...auth, download: true }),
    thumb: isThumbable(name) ? pb.files.getURL(record, name, { ...auth, thumb: '100x100' }) : null,
  };
}

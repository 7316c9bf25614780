import { randomBytes } from 'node:crypto';

/** The native libraries load with the first password (~40 ms and ~6 MB a start without sign-ins does not need). */
const argon2 = () => import('@node-rs/argon2');
const bcrypt = () => import('@node-rs/bcrypt');

/**
 * Password hashing. New hashes are argon2id (memory-hard; OWASP's first choice) in the PHC
 * string format. Both libraries are native and run on libuv's thread pool, so a sign-in
 * never blocks the event loop. bcrypt hashes (PocketBase's format, carried over by an import)
 * are still verified, and reported as needing a rehash so the next sign-in upgrades them.
 */
export const ARGON2_PARAMS = {
  /** Algorithm.Argon2id (a const enum, which verbatimModuleSyntax cannot import). */
  algorithm: 2,
  /** KiB: 19 MiB, t=2, p=1 is OWASP's minimum recommendation for argon2id. */
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

const ARGON2_PREFIX = `$argon2id$v=19$m=${ARGON2_PARAMS.memoryCost},t=${ARGON2_PARAMS.timeCost},p=${ARGON2_PARAMS.parallelism}$`;
const BCRYPT = /^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$/;

export interface PasswordCheck {
  ok: boolean;
  /** The hash is of an older kind or weaker parameters: store hashPassword(password) now. */
  needsRehash: boolean;
}

export async function hashPassword(password: string): Promise<string> {
  return (await argon2()).hash(password, ARGON2_PARAMS);
}

export async function verifyPassword(password: string, stored: string): Promise<PasswordCheck> {
  if (stored.startsWith('$argon2')) {
    const ok = await (await argon2()).verify(stored, password).catch(() => false);
    return { ok, needsRehash: ok && !stored.startsWith(ARGON2_PREFIX) };
  }
  if (BCRYPT.test(stored)) {
    const ok = await (await bcrypt()).verify(password, stored).catch(() => false);
    return { ok, needsRehash: ok };
  }
  return { ok: false, needsRehash: false };
}

let dummyHash: Promise<string> | null = null;

/**
 * Spends the time of one verification and fails: used when the identity does not exist, so an
 * unknown account and a wrong password take equally long (no account enumeration by timing).
 */
export async function verifyNothing(password: string): Promise<false> {
  // Computed once per process; a constant value, not state, so it is safe to share.
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await (await argon2()).verify(await dummyHash, password).catch(() => false);
  return false;
}

import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope recipients (RCPT TO), which is where the mail actually went. */
  to: string[];
  /** The From header as written, e.g. `Galley <no-reply@localhost>`. */
  from: string;
  subject: string;
  html: string;
  text: string;
  /** The login the client authenticated with, null when it sent no AUTH. */
  user: string | null;
}

export interface SmtpSink {
  /** `smtp://127.0.0.1:PORT?ignoreTLS=true`; add `user:pass@` freely, any login is accepted. */
  url: string;
  messages: ReceivedMail[];
  /** The first mail, received or still to come, that matches. */
  waitFor(predicate: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  clear(): void;
  close(): Promise<void>;
}

interface Waiter {
  predicate: (m: ReceivedMail) => boolean;
  resolve: (m: ReceivedMail) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * An SMTP server on a free local port that keeps every message it is sent.
 * Plaintext only: STARTTLS is not offered (and the URL tells nodemailer not to
 * ask), while AUTH is offered on the plain connection so credentials work too.
 */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const waiters = new Set<Waiter>();

  const deliver = (mail: ReceivedMail): void => {
    messages.push(mail);
    for (const w of waiters) {
      if (!w.predicate(mail)) continue;
      waiters.delete(w);
      clearTimeout(w.timer);
      w.resolve(mail);
    }
  };

  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // Connections still open at close() are dropped after this instead of the default 30 s.
    closeTimeout: 100,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? 'anonymous' });
    },
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          deliver({
            to: session.envelope.rcptTo.map((r) => r.address),
            from: parsed.from?.text ?? '',
            subject: parsed.subject ?? '',
            html: parsed.html || '',
            text: parsed.text ?? '',
            user: typeof session.user === 'string' ? session.user : null,
          });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}?ignoreTLS=true`,
    messages,
    waitFor(predicate, timeoutMs = 5000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise<ReceivedMail>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const seen = messages.map((m) => `"${m.subject}" to ${m.to.join(', ')}`).join('; ') || 'none';
          reject(new Error(`No matching email within ${timeoutMs} ms (received: ${seen})`));
        }, timeoutMs);
        const waiter: Waiter = { predicate, resolve, reject, timer };
        waiters.add(waiter);
      });
    },
    clear() {
      messages.length = 0;
    },
    close() {
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.reject(new Error('SMTP sink closed'));
      }
      waiters.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The token of a PocketBase-style link in the mail: `…/_/#/auth/<path>/TOKEN`. */
export function tokenFromMail(mail: ReceivedMail, path: 'confirm-verification' | 'confirm-password-reset' | 'confirm-email-change'): string {
  const match = new RegExp(`/_/#/auth/${path}/([^"'<>\\s]+)`).exec(mail.html);
  if (!match) throw new Error(`No ${path} link in email "${mail.subject}"`);
  return match[1]!;
}

/** The one-time password, the digits in `<strong>…</strong>` of the OTP email. */
export function otpFromMail(mail: ReceivedMail): string {
  const match = /<strong>\s*(\d+)\s*<\/strong>/.exec(mail.html);
  if (!match) throw new Error(`No one-time password in email "${mail.subject}"`);
  return match[1]!;
}

import type { Transporter } from 'nodemailer';
import type { MailConfig } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { htmlToText } from './text.js';

export { DEFAULT_TEMPLATES, escapeHtml, renderTemplate, type MailTemplate, type TemplateName, type TemplateVars } from './templates.js';
export { htmlToText } from './text.js';

export interface MailMessage {
  to: string;
  subject: string;
  html: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  /** Ends pooled SMTP connections (at shutdown). */
  close(): void;
}

/**
 * A delivery that failed. The message says what went wrong without the SMTP
 * password (a server may echo what it was sent), and carries no `cause` for the
 * same reason: the raw nodemailer error would end up in the logs as it is.
 */
export class MailDeliveryError extends Error {
  override readonly name = 'MailDeliveryError';
  /** nodemailer's code: ECONNECTION, EAUTH, EENVELOPE, ETIMEDOUT, … */
  readonly code: string | undefined;
  /** The SMTP reply code, when the server answered. */
  readonly responseCode: number | undefined;
  constructor(message: string, code: string | undefined, responseCode: number | undefined) {
    super(message);
    this.code = code;
    this.responseCode = responseCode;
  }
}

/**
 * SMTP when a URL is configured; otherwise every email is written to the log,
 * link and token included, so sign-up and password reset work in development.
 */
export function createMailer(config: MailConfig, log: Logger): Mailer {
  return config.smtpUrl ? smtpMailer(config.smtpUrl, config.from, log) : logMailer(log);
}

/**
 * Shorter timeouts than nodemailer's (2 min to connect, 10 min idle) since a
 * request waits on the send; anything in the URL's query (`?pool=true`,
 * `?connectionTimeout=…`) wins over these.
 */
const SMTP_DEFAULTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

function smtpMailer(smtpUrl: string, from: string, log: Logger): Mailer {
  const secrets = secretsOf(smtpUrl);
  // nodemailer (~70 ms and ~15 MB to load) is imported with the first email, not at start:
  // many deployments send none for hours, some never.
  let transport: Promise<Transporter> | null = null;
  let closed = false;
  const open = async (): Promise<Transporter> => {
    const { createTransport } = await import('nodemailer');
    const created = createTransport({ ...SMTP_DEFAULTS, url: smtpUrl });
    // An idle pooled connection that fails is reported as an 'error' event; unheard, it would end the process.
    created.on('error', (err) => log.warn({ err: { message: redact(err.message, secrets) } }, 'SMTP transport error'));
    // Closed while nodemailer was loading: do not leave a pool behind.
    if (closed) created.close();
    return created;
  };
  const transporter = (): Promise<Transporter> => {
    // A failed load is not kept: the next email tries again.
    transport ??= open().catch((err: unknown) => {
      transport = null;
      throw err;
    });
    return transport;
  };
  return {
    async send(message) {
      try {
        const smtp = await transporter();
        await smtp.sendMail({ from, to: message.to, subject: message.subject, html: message.html, text: htmlToText(message.html) });
      } catch (err) {
        throw deliveryError(err, message.to, secrets);
      }
      log.debug({ mail: { to: message.to, subject: message.subject } }, 'email sent');
    },
    close() {
      closed = true;
      void transport?.then((smtp) => smtp.close()).catch(() => {});
    },
  };
}

function logMailer(log: Logger): Mailer {
  return {
    send(message) {
      log.info({ mail: { to: message.to, subject: message.subject, text: htmlToText(message.html) } }, 'email (not sent: no SMTP configured)');
      return Promise.resolve();
    },
    close() {},
  };
}

function deliveryError(err: unknown, to: string, secrets: string[]): MailDeliveryError {
  const e = (err ?? {}) as { message?: unknown; code?: unknown; responseCode?: unknown };
  const reason = redact(typeof e.message === 'string' ? e.message : String(err), secrets);
  return new MailDeliveryError(
    `Could not send email to ${to}: ${reason}`,
    typeof e.code === 'string' ? e.code : undefined,
    typeof e.responseCode === 'number' ? e.responseCode : undefined,
  );
}

/**
 * The password as written in the URL and decoded: either form could come back in
 * an error. Read by hand rather than with `new URL`, which refuses some URLs
 * nodemailer's lenient parser still accepts.
 */
function secretsOf(smtpUrl: string): string[] {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(smtpUrl)?.[1] ?? '';
  const userinfo = authority.slice(0, Math.max(authority.lastIndexOf('@'), 0));
  const colon = userinfo.indexOf(':');
  const password = colon < 0 ? '' : userinfo.slice(colon + 1);
  if (password === '') return [];
  return [...new Set([password, safeDecode(password)])].sort((a, b) => b.length - a.length);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a malformed escape: nodemailer keeps it as written too
  }
}

function redact(text: string, secrets: string[]): string {
  return secrets.reduce((acc, secret) => acc.split(secret).join('***'), text);
}

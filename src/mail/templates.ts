/** A collection's email template (PocketBase's `subject` + HTML `body`). */
export interface MailTemplate {
  subject: string;
  body: string;
}

/** What the placeholders of a template stand for; an unset one is left as written, as PocketBase does. */
export interface TemplateVars {
  APP_NAME: string;
  APP_URL: string;
  TOKEN?: string;
  OTP?: string;
  OTP_ID?: string;
  ALERT_INFO?: string;
  /** The auth record, for `{RECORD:fieldName}`. */
  record?: Record<string, unknown>;
}

export type TemplateName = 'verification' | 'resetPassword' | 'confirmEmailChange' | 'otp' | 'authAlert';

const SIGNATURE = `<p>
  Thanks,<br/>
  {APP_NAME} team
</p>`;

/** PocketBase's default templates (v0.23+), word for word, so clients and users see the same emails. */
export const DEFAULT_TEMPLATES: Readonly<Record<TemplateName, Readonly<MailTemplate>>> = Object.freeze({
  verification: Object.freeze({
    subject: 'Verify your {APP_NAME} email',
    body: `<p>Hello,</p>
<p>Thank you for joining us at {APP_NAME}.</p>
<p>Click on the button below to verify your email address.</p>
<p>
  <a class="btn" href="{APP_URL}/_/#/auth/confirm-verification/{TOKEN}" target="_blank" rel="noopener">Verify</a>
</p>
${SIGNATURE}`,
  }),
  resetPassword: Object.freeze({
    subject: 'Reset your {APP_NAME} password',
    body: `<p>Hello,</p>
<p>Click on the button below to reset your password.</p>
<p>
  <a class="btn" href="{APP_URL}/_/#/auth/confirm-password-reset/{TOKEN}" target="_blank" rel="noopener">Reset password</a>
</p>
<p><i>If you didn't ask to reset your password, you can ignore this email.</i></p>
${SIGNATURE}`,
  }),
  confirmEmailChange: Object.freeze({
    subject: 'Confirm your {APP_NAME} new email address',
    body: `<p>Hello,</p>
<p>Click on the button below to confirm your new email address.</p>
<p>
  <a class="btn" href="{APP_URL}/_/#/auth/confirm-email-change/{TOKEN}" target="_blank" rel="noopener">Confirm new email</a>
</p>
<p><i>If you didn't ask to change your email address, you can ignore this email.</i></p>
${SIGNATURE}`,
  }),
  otp: Object.freeze({
    subject: 'OTP for {APP_NAME}',
    body: `<p>Hello,</p>
<p>Your one-time password is: <strong>{OTP}</strong></p>
<p><i>If you didn't ask for the one-time password, you can ignore this email.</i></p>
${SIGNATURE}`,
  }),
  authAlert: Object.freeze({
    subject: 'Login from a new location',
    body: `<p>Hello,</p>
<p>We noticed a login to your {APP_NAME} account from a new location:</p>
<p><em>{ALERT_INFO}</em></p>
<p><strong>If this wasn't you, you should immediately change your {APP_NAME} account password to revoke access from all other locations.</strong></p>
<p>If this was you, you may disregard this email.</p>
${SIGNATURE}`,
  }),
});

/**
 * Every placeholder in one regular expression, so a template is substituted in a
 * single pass: a value that itself reads `{TOKEN}` is text, never expanded again.
 * OTP_ID comes before OTP so the alternation does not stop at the shorter name.
 */
const PLACEHOLDER = /\{(APP_NAME|APP_URL|TOKEN|OTP_ID|OTP|ALERT_INFO|RECORD:(\w+))\}/g;
type SimpleVar = Exclude<keyof TemplateVars, 'record'>;

/** Secrets of an auth record that no template may print, whatever record the caller hands in. */
const NEVER_RENDERED = new Set(['password', 'tokenKey']);

/**
 * The subject and HTML of an email: the collection's template where it has one
 * (an empty subject or body counts as none), PocketBase's default otherwise.
 * Values are HTML-escaped in the body; in the subject they go in as they are
 * (it is plain text), but line breaks become spaces so no header can be smuggled in.
 */
export function renderTemplate(template: Partial<MailTemplate> | undefined, fallback: MailTemplate, vars: TemplateVars): { subject: string; html: string } {
  const subject = nonEmpty(template?.subject) ?? fallback.subject;
  const body = nonEmpty(template?.body) ?? fallback.body;
  return {
    subject: substitute(subject, vars, (v) => v).replace(/[\r\n]+/g, ' '),
    html: substitute(body, vars, escapeHtml),
  };
}

function nonEmpty(text: string | undefined): string | undefined {
  return text !== undefined && text.trim() !== '' ? text : undefined;
}

function substitute(text: string, vars: TemplateVars, encode: (value: string) => string): string {
  return text.replace(PLACEHOLDER, (whole: string, name: string, field: string | undefined) => {
    if (field !== undefined) return encode(recordValue(vars.record, field));
    const value = vars[name as SimpleVar];
    return value === undefined ? whole : encode(value);
  });
}

/** A record field as text: missing → empty, objects and arrays → JSON (as PocketBase's GetString). */
function recordValue(record: Record<string, unknown> | undefined, field: string): string {
  if (!record || NEVER_RENDERED.has(field) || !Object.hasOwn(record, field)) return '';
  const value = record[field];
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value) ?? '';
  return String(value);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes for text and quoted attribute values alike: a value may land in an `href="…"`. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

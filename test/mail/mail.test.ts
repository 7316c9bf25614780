import { Writable } from 'node:stream';
import fc from 'fast-check';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/index.js';
import { createMailer, DEFAULT_TEMPLATES, htmlToText, MailDeliveryError, renderTemplate, type MailTemplate, type TemplateVars } from '../../src/mail/index.js';
import { otpFromMail, startSmtpSink, tokenFromMail, type SmtpSink } from '../helpers/smtp-sink.js';

const VARS: TemplateVars = { APP_NAME: 'Acme', APP_URL: 'https://acme.test' };
const FROM = 'Acme <no-reply@acme.test>';
const silent = createLogger({ logLevel: 'silent', prettyLogs: false });

function render(body: string, vars: Partial<TemplateVars> = {}, subject = 'S') {
  return renderTemplate({ subject, body }, DEFAULT_TEMPLATES.verification, { ...VARS, ...vars });
}

/** Undoes escapeHtml, to check that escaping loses nothing. */
function unescapeHtml(html: string): string {
  return html.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!);
}

describe('renderTemplate', () => {
  it('substitutes every placeholder in the subject and the body', () => {
    const vars = { TOKEN: 'tok.en', OTP: '123456', OTP_ID: 'otp1', ALERT_INFO: 'Firefox on Linux' };
    const template = '{APP_NAME}|{APP_URL}|{TOKEN}|{OTP}|{OTP_ID}|{ALERT_INFO}';
    const out = render(template, vars, template);
    expect(out.subject).toBe('Acme|https://acme.test|tok.en|123456|otp1|Firefox on Linux');
    expect(out.html).toBe('Acme|https://acme.test|tok.en|123456|otp1|Firefox on Linux');
  });

  it('replaces every occurrence, not just the first', () => {
    expect(render('{APP_NAME} and {APP_NAME}').html).toBe('Acme and Acme');
  });

  it('leaves a placeholder without a value, and unknown ones, as written (as PocketBase)', () => {
    expect(render('{TOKEN} {OTP} {FOO} {app_name} {RECORD:}').html).toBe('{TOKEN} {OTP} {FOO} {app_name} {RECORD:}');
  });

  it('reads {RECORD:field} from the record: strings, numbers, booleans, JSON for objects, empty when missing', () => {
    const record = { name: 'Ada', age: 36, admin: false, tags: ['a', 'b'], meta: { x: 1 }, nothing: null, at: new Date('2024-01-02T03:04:05Z') };
    const out = render('{RECORD:name}|{RECORD:age}|{RECORD:admin}|{RECORD:tags}|{RECORD:meta}|{RECORD:nothing}|{RECORD:missing}|{RECORD:at}', { record });
    expect(unescapeHtml(out.html)).toBe('Ada|36|false|["a","b"]|{"x":1}|||2024-01-02T03:04:05.000Z');
    expect(render('[{RECORD:name}]').html).toBe('[]');
  });

  it('never prints the password hash or the token key of a record', () => {
    expect(render('{RECORD:password}|{RECORD:tokenKey}', { record: { password: '$argon2id$…', tokenKey: 'secret' } }).html).toBe('|');
  });

  it('does not read inherited properties of the record', () => {
    expect(render('{RECORD:constructor}|{RECORD:toString}', { record: {} }).html).toBe('|');
  });

  it('escapes substituted values in the body, not the markup of the template', () => {
    const out = render('<p><a href="{APP_URL}/x/{TOKEN}">{RECORD:name}</a></p>', {
      APP_URL: 'https://a.test/?a=1&b=2',
      TOKEN: '"><script>',
      record: { name: `<script>alert('x')</script>` },
    });
    expect(out.html).toBe('<p><a href="https://a.test/?a=1&amp;b=2/x/&quot;&gt;&lt;script&gt;">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</a></p>');
  });

  it('inserts values raw in the subject but strips CR/LF so no header can be injected', () => {
    const out = render('b', { record: { name: 'Ada <a@b.c>\r\nBcc: evil@x.test' } }, 'Hi {RECORD:name}\n!');
    expect(out.subject).toBe('Hi Ada <a@b.c> Bcc: evil@x.test !');
    expect(out.subject).not.toMatch(/[\r\n]/);
  });

  it('substitutes in a single pass: a value that reads like a placeholder stays text', () => {
    const out = render('{TOKEN}|{RECORD:name}', { TOKEN: '{APP_NAME}', record: { name: '{TOKEN}{RECORD:name}' } }, '{RECORD:name}');
    expect(out.html).toBe('{APP_NAME}|{TOKEN}{RECORD:name}');
    expect(out.subject).toBe('{TOKEN}{RECORD:name}');
  });

  it('falls back to the default subject and body when the template has none, or an empty one', () => {
    const fallback = DEFAULT_TEMPLATES.resetPassword;
    const vars = { ...VARS, TOKEN: 't' };
    const expected = renderTemplate(fallback, fallback, vars);
    expect(expected.subject).toBe('Reset your Acme password');
    for (const template of [undefined, {}, { subject: '', body: '' }, { subject: '  ', body: '\n' }] as (Partial<MailTemplate> | undefined)[]) {
      expect(renderTemplate(template, fallback, vars)).toEqual(expected);
    }
    expect(renderTemplate({ subject: 'Custom {APP_NAME}' }, fallback, vars)).toEqual({ subject: 'Custom Acme', html: expected.html });
    expect(renderTemplate({ body: '<b>{TOKEN}</b>' }, fallback, vars)).toEqual({ subject: expected.subject, html: '<b>t</b>' });
  });

  it('ships PocketBase default templates with the PocketBase links', () => {
    const vars = { ...VARS, TOKEN: 'T0K', OTP: '0042', ALERT_INFO: '1.2.3.4 Firefox' };
    const cases: [keyof typeof DEFAULT_TEMPLATES, string, string][] = [
      ['verification', 'Verify your Acme email', 'https://acme.test/_/#/auth/confirm-verification/T0K'],
      ['resetPassword', 'Reset your Acme password', 'https://acme.test/_/#/auth/confirm-password-reset/T0K'],
      ['confirmEmailChange', 'Confirm your Acme new email address', 'https://acme.test/_/#/auth/confirm-email-change/T0K'],
      ['otp', 'OTP for Acme', '<strong>0042</strong>'],
      ['authAlert', 'Login from a new location', '<em>1.2.3.4 Firefox</em>'],
    ];
    for (const [name, subject, snippet] of cases) {
      const out = renderTemplate(undefined, DEFAULT_TEMPLATES[name], vars);
      expect(out.subject).toBe(subject);
      expect(out.html).toContain(snippet);
      expect(out.html).toMatch(/Thanks,<br\/>\n {2}Acme team\n<\/p>$/);
      expect(out.html).not.toMatch(/\{[A-Z_]+\}/);
    }
    expect(renderTemplate(undefined, DEFAULT_TEMPLATES.verification, vars).html).toContain('Thank you for joining us at Acme.');
  });

  it('never lets < or > of a value through unescaped (property)', () => {
    const value = fc.string({ unit: 'binary', maxLength: 60 });
    fc.assert(
      fc.property(value, value, fc.jsonValue({ maxDepth: 2 }), (name, alert, other) => {
        const out = render('<p>{RECORD:name}</p><em>{ALERT_INFO}</em><i>{RECORD:other}</i>', { ALERT_INFO: alert, record: { name, other } });
        const inner = out.html.match(/^<p>(.*)<\/p><em>(.*)<\/em><i>(.*)<\/i>$/s);
        expect(inner).not.toBeNull();
        for (const part of inner!.slice(1)) expect(part).not.toMatch(/[<>]/);
        expect(unescapeHtml(inner![1]!)).toBe(name);
        expect(unescapeHtml(inner![2]!)).toBe(alert);
      }),
    );
  });
});

describe('htmlToText', () => {
  it('keeps link URLs, paragraph breaks and line breaks, and decodes entities', () => {
    const html = '<p>Hello &amp; welcome,</p>\n<p>\n  <a href="https://a.test/x?a=1&amp;b=2">Verify</a>\n</p><p>Thanks,<br/>\n  Acme&nbsp;team</p>';
    expect(htmlToText(html)).toBe('Hello & welcome,\n\nVerify (https://a.test/x?a=1&b=2)\n\nThanks,\nAcme team');
  });

  it('shows a bare URL once when the label is the URL or empty, and drops styles', () => {
    expect(htmlToText('<style>p{color:red}</style><a href="https://a.test">https://a.test</a> <a href="https://b.test"></a>')).toBe('https://a.test https://b.test');
  });

  it('turns the default OTP email into readable text', () => {
    const { html } = renderTemplate(undefined, DEFAULT_TEMPLATES.otp, { ...VARS, OTP: '123456' });
    expect(htmlToText(html)).toBe(
      "Hello,\n\nYour one-time password is: 123456\n\nIf you didn't ask for the one-time password, you can ignore this email.\n\nThanks,\nAcme team",
    );
  });
});

describe('log mailer (no SMTP configured)', () => {
  it('writes each email as one info line, with the link and its token', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const mailer = createMailer({ smtpUrl: null, from: FROM }, createLogger({ logLevel: 'info', prettyLogs: false }, stream));
    const { subject, html } = renderTemplate(undefined, DEFAULT_TEMPLATES.verification, { ...VARS, TOKEN: 'tok.123' });
    await mailer.send({ to: 'ada@example.test', subject, html });
    mailer.close();

    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as { level: number; msg: string; mail: { to: string; subject: string; text: string } };
    expect(entry.level).toBe(30);
    expect(entry.msg).toBe('email (not sent: no SMTP configured)');
    expect(entry.mail.to).toBe('ada@example.test');
    expect(entry.mail.subject).toBe('Verify your Acme email');
    expect(entry.mail.text).toContain('Verify (https://acme.test/_/#/auth/confirm-verification/tok.123)');
  });
});

describe('SMTP mailer', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink.close();
  });
  beforeEach(() => sink.clear());

  it('delivers the HTML with a plain-text alternative that keeps the link', async () => {
    const mailer = createMailer({ smtpUrl: sink.url, from: FROM }, silent);
    try {
      const { subject, html } = renderTemplate(undefined, DEFAULT_TEMPLATES.verification, { ...VARS, TOKEN: 'eyJ.abc-_.x' });
      await mailer.send({ to: 'ada@example.test', subject, html });
    } finally {
      mailer.close();
    }
    const mail = await sink.waitFor((m) => m.to.includes('ada@example.test'));
    expect(mail.subject).toBe('Verify your Acme email');
    expect(mail.from).toMatch(/^"?Acme"? <no-reply@acme\.test>$/);
    expect(mail.user).toBeNull();
    expect(mail.html).toContain('href="https://acme.test/_/#/auth/confirm-verification/eyJ.abc-_.x"');
    expect(mail.text).toContain('Verify (https://acme.test/_/#/auth/confirm-verification/eyJ.abc-_.x)');
    expect(tokenFromMail(mail, 'confirm-verification')).toBe('eyJ.abc-_.x');
  });

  it('logs in when the URL carries credentials, over plaintext without STARTTLS', async () => {
    const mailer = createMailer({ smtpUrl: sink.url.replace('smtp://', 'smtp://mailer:s%40cret@'), from: FROM }, silent);
    try {
      const { subject, html } = renderTemplate(undefined, DEFAULT_TEMPLATES.otp, { ...VARS, OTP: '01234567' });
      await mailer.send({ to: 'bob@example.test', subject, html });
    } finally {
      mailer.close();
    }
    const mail = await sink.waitFor((m) => m.to.includes('bob@example.test'));
    expect(mail.user).toBe('mailer');
    expect(mail.subject).toBe('OTP for Acme');
    expect(otpFromMail(mail)).toBe('01234567');
    expect(mail.text).toContain('Your one-time password is: 01234567');
  });

  it('keeps the subject of a hostile record on one header line', async () => {
    const mailer = createMailer({ smtpUrl: sink.url, from: FROM }, silent);
    try {
      const out = renderTemplate({ subject: 'Hi {RECORD:name}' }, DEFAULT_TEMPLATES.verification, { ...VARS, TOKEN: 't', record: { name: 'x\r\nBcc: evil@x.test' } });
      await mailer.send({ to: 'carol@example.test', ...out });
    } finally {
      mailer.close();
    }
    const mail = await sink.waitFor((m) => m.to.includes('carol@example.test'));
    expect(mail.subject).toBe('Hi x Bcc: evil@x.test');
    expect(mail.to).toEqual(['carol@example.test']);
  });

  it('pools connections when the URL asks for it', async () => {
    const mailer = createMailer({ smtpUrl: `${sink.url}&pool=true`, from: FROM }, silent);
    try {
      await Promise.all(['p1@example.test', 'p2@example.test', 'p3@example.test'].map((to) => mailer.send({ to, subject: 'pooled', html: '<p>hi</p>' })));
    } finally {
      mailer.close();
    }
    expect(sink.messages.map((m) => m.to[0]).sort()).toEqual(['p1@example.test', 'p2@example.test', 'p3@example.test']);
    expect(sink.messages.every((m) => m.text === 'hi')).toBe(true);
  });

  it('waitFor times out with what was received', async () => {
    await expect(sink.waitFor(() => false, 50)).rejects.toThrow(/No matching email within 50 ms/);
  });
});

describe('SMTP failures', () => {
  const message = { to: 'ada@example.test', subject: 's', html: '<p>x</p>' };

  it('rejects with a clear error, without the password, when nothing listens', async () => {
    const sink = await startSmtpSink();
    const closedUrl = sink.url.replace('smtp://', 'smtp://user:hunter2-pw@');
    await sink.close();
    const mailer = createMailer({ smtpUrl: closedUrl, from: FROM }, silent);
    try {
      const err = await mailer.send(message).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MailDeliveryError);
      const e = err as MailDeliveryError;
      expect(e.message).toMatch(/^Could not send email to ada@example\.test: .*ECONNREFUSED/);
      expect(e.code).toBe('ESOCKET');
      expect(e.message).not.toContain('hunter2-pw');
      expect(JSON.stringify(e)).not.toContain('hunter2-pw');
      expect(e.cause).toBeUndefined();
    } finally {
      mailer.close();
    }
  });

  it('redacts the password even when the server echoes it back', async () => {
    // A misbehaving server that repeats the credentials in its refusal.
    const server = new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      closeTimeout: 100,
      onAuth(auth, _session, callback) {
        callback(new Error(`rejected ${auth.username}:${auth.password ?? ''}`));
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.server.address() as { port: number }).port;
    const mailer = createMailer({ smtpUrl: `smtp://user:p%40ss%2Fw0rd@127.0.0.1:${port}?ignoreTLS=true`, from: FROM }, silent);
    try {
      const err = (await mailer.send(message).catch((e: unknown) => e)) as MailDeliveryError;
      expect(err).toBeInstanceOf(MailDeliveryError);
      expect(err.code).toBe('EAUTH');
      expect(err.responseCode).toBe(535);
      expect(err.message).toContain('rejected user:***');
      expect(err.message).not.toContain('p@ss/w0rd');
      expect(err.message).not.toContain('p%40ss%2Fw0rd');
    } finally {
      mailer.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

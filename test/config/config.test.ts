import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/index.js';
import { loadConfig } from '../../src/config/index.js';

const load = (env: Record<string, string> = {}, flags = {}) => loadConfig(flags, env, false);

describe('loadConfig', () => {
  it('has working defaults for every auth setting', () => {
    const c = load();
    expect(c.appName).toBe('Galley');
    expect(c.appUrl).toBe('http://127.0.0.1:8090');
    expect(c.appUrlSet).toBe(false);
    expect(c.mail).toEqual({ smtpUrl: null, from: 'Galley <no-reply@localhost>' });
    expect(c.redisUrl).toBeNull();
    expect(c.rateLimits).toEqual({ authPerIp: { max: 60, windowSeconds: 60 }, authPerIdentity: { max: 10, windowSeconds: 900 } });
    expect(c.trustProxy).toBe(false);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('derives the app URL from --http (IPv6 bracketed) and trims a trailing slash from GALLEY_APP_URL', () => {
    expect(load({}, { http: '[::1]:9000' }).appUrl).toBe('http://[::1]:9000');
    expect(load({ GALLEY_APP_URL: 'https://example.com/base/' }).appUrl).toBe('https://example.com/base');
  });

  it('reads SMTP, Redis, rate limits and trusted proxies from the environment', () => {
    const c = load({
      GALLEY_SMTP_URL: 'smtps://u:p@mail.example.com:465',
      GALLEY_MAIL_FROM: 'Shop <shop@example.com>',
      GALLEY_REDIS_URL: 'redis://127.0.0.1:6379',
      GALLEY_RATE_LIMIT_AUTH_IP: '100 / 30',
      GALLEY_RATE_LIMIT_AUTH_IDENTITY: '0',
      GALLEY_TRUST_PROXY: 'loopback, 10.0.0.0/8',
    });
    expect(c.mail).toEqual({ smtpUrl: 'smtps://u:p@mail.example.com:465', from: 'Shop <shop@example.com>' });
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.rateLimits.authPerIp).toEqual({ max: 100, windowSeconds: 30 });
    expect(c.rateLimits.authPerIdentity.max).toBe(0);
    expect(c.trustProxy).toBe('loopback, 10.0.0.0/8');
    expect(load({ GALLEY_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(load({ GALLEY_TRUST_PROXY: 'false' }).trustProxy).toBe(false);
  });

  it.each([
    ['GALLEY_RATE_LIMIT_AUTH_IP', '60 per minute', /GALLEY_RATE_LIMIT_AUTH_IP/],
    ['GALLEY_RATE_LIMIT_AUTH_IP', '5/0', /N\/SECONDS/],
    ['GALLEY_RATE_LIMIT_AUTH_IDENTITY', '-1/60', /GALLEY_RATE_LIMIT_AUTH_IDENTITY/],
    ['GALLEY_TRUST_PROXY', 'true', /cannot forge/],
    ['GALLEY_TRUST_PROXY', 'a;b', /GALLEY_TRUST_PROXY/],
    ['GALLEY_SMTP_URL', 'mail.example.com', /mail\.smtpUrl/],
    ['GALLEY_REDIS_URL', 'localhost:6379', /redisUrl/],
    ['GALLEY_APP_URL', 'example.com', /appUrl/],
  ])('%s=%s is a configuration error', (name, value, message) => {
    expect(() => load({ [name]: value })).toThrow(ConfigError);
    expect(() => load({ [name]: value })).toThrow(message);
  });

  it('metrics and compression are on by default; GALLEY_METRICS / GALLEY_COMPRESSION turn them off', () => {
    const c = load();
    expect([c.metrics, c.metricsToken, c.compression, c.typesFile]).toEqual([true, null, true, null]);
    const off = load({ GALLEY_METRICS: 'false', GALLEY_COMPRESSION: '0' });
    expect([off.metrics, off.compression]).toEqual([false, false]);
    expect(load({ GALLEY_METRICS_TOKEN: 'a-long-enough-token!' }).metricsToken).toBe('a-long-enough-token!');
    expect(load({}, { types: 'src/galley.ts' }).typesFile).toMatch(/\/src\/galley\.ts$/);
  });

  it.each([
    ['GALLEY_METRICS', 'maybe', /GALLEY_METRICS/],
    ['GALLEY_COMPRESSION', 'on', /GALLEY_COMPRESSION/],
    ['GALLEY_METRICS_TOKEN', 'short-secret', /at least 16/],
    ['GALLEY_METRICS_TOKEN', 'has a space in the middle', /without spaces/],
  ])('%s=%s is a configuration error', (name, value, message) => {
    expect(() => load({ [name]: value })).toThrow(ConfigError);
    expect(() => load({ [name]: value })).toThrow(message);
  });

  it('an invalid metrics token is never repeated in the message (it is a secret)', () => {
    expect(() => load({ GALLEY_METRICS_TOKEN: 'short-secret' })).not.toThrow(/short-secret/);
  });
});

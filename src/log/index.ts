import { pino, type Logger } from 'pino';
import type { Config } from '../config/index.js';

export type { Logger } from 'pino';

/** JSON logs (one object per line); pino-pretty when a human is watching. */
export function createLogger(config: Pick<Config, 'logLevel' | 'prettyLogs'>, destination?: NodeJS.WritableStream): Logger {
  const options = { level: config.logLevel, base: { service: 'galley' } };
  if (destination) return pino(options, destination);
  if (config.prettyLogs) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname,service', translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino(options);
}

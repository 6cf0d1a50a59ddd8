/** Structured logs (pino). Credentials and tokens are redacted wherever they appear. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'channelsync'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['credentials', '*.credentials', 'accessToken', '*.accessToken', 'headers.authorization', '*.secret'],
      censor: '[redacted]',
    },
  });
}

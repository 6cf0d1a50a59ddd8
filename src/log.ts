/** Structured logs (pino). Credentials and tokens are redacted wherever they appear. */
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Errors are logged as what a person needs (type, message, code, status,
 * stack, cause chain), never as their enumerable fields: an HTTP library's
 * error carries the request it failed on (axios: `config.auth` with the
 * WooCommerce consumer key and secret, `config.headers.Authorization`), and
 * pino's default serializer would copy all of it into the log line.
 */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & { code?: unknown; status?: unknown; statusCode?: unknown };
  const out: Record<string, unknown> = { type: e.constructor?.name ?? e.name, message: e.message, stack: e.stack };
  if (typeof e.code === 'string' || typeof e.code === 'number') out.code = e.code;
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined) out.status = status;
  if (e.cause !== undefined && depth < 5) out.cause = serializeError(e.cause, depth + 1);
  return out;
}

/** The pino logger every process uses; `level` from LOG_LEVEL; stdout unless `destination` is given (tests). */
export function createLogger(level: string, name = 'channelsync', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    serializers: { err: serializeError, error: serializeError },
    redact: {
      paths: [
        'credentials', '*.credentials', 'accessToken', '*.accessToken', '*.secret',
        'password', '*.password', 'token', '*.token', 'auth', '*.auth',
        'headers.authorization', '*.headers.authorization', 'headers.cookie', '*.headers.cookie',
        'headers["x-shopify-access-token"]', '*.headers["x-shopify-access-token"]',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

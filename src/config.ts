/**
 * Environment -> validated, frozen settings. Read once at start; a bad value
 * stops start-up with one line naming the variable and what is wrong.
 * Every variable is listed in the README's configuration reference.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import cron from 'node-cron';
import { ConfigError } from './domain/errors.ts';
import { FINANCIAL_STATUSES, type FinancialStatus } from './domain/order.ts';

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int({ error: `must be a whole number from ${min} to ${max}` })
    .min(min, { error: `must be a whole number from ${min} to ${max}` })
    .max(max, { error: `must be a whole number from ${min} to ${max}` });

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { error: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

/**
 * TRUST_PROXY, for fastify's `trustProxy`: `true` (trust every hop), a number
 * of hops, or addresses/CIDRs of the proxies. Null when not valid.
 */
export function parseTrustProxy(value: string): boolean | number | string[] | null {
  const v = value.trim();
  if (/^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  if (/^\d+$/.test(v)) return Number(v) <= 100 ? Number(v) : null;
  const list = v.split(',').map((a) => a.trim()).filter(Boolean);
  const address = (a: string) => {
    const [ip, bits, extra] = a.split('/');
    const version = isIP(ip ?? '');
    if (!version || extra !== undefined) return false;
    if (bits === undefined) return true;
    return /^\d+$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128);
  };
  return list.length > 0 && list.every((a) => a === 'loopback' || a === 'linklocal' || a === 'uniquelocal' || address(a)) ? list : null;
}

const secretKey = z
  .string()
  .refine((value) => decodeKey(value) !== null, {
    error: 'must be 32 random bytes as 64 hex characters or base64 (generate one with: openssl rand -hex 32)',
  });

const schema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/channelsync'),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  CHANNELSYNC_SECRET_KEY: secretKey.optional(),
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  TRUST_PROXY: z
    .string()
    .refine((value) => parseTrustProxy(value) !== null, {
      error: 'must be true, false, a number of proxy hops, or the proxies\' addresses or CIDRs separated by commas (e.g. 10.0.0.0/8,127.0.0.1)',
    })
    .default('false'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  WORKER_CONCURRENCY: int(1, 1000).default(10),
  INGEST_FIRST_LAG_MS: int(0, 60_000).default(100),
  DATABASE_POOL_SIZE: int(2, 1000).optional(),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9{}_.-]+$/, { error: 'may hold only letters, digits, {}, _, . and -' })
    .default('{channelsync}'),
  JOB_ATTEMPTS: int(1, 100).default(8),
  SYNC_INTERVAL_SECONDS: int(5, 86400).default(60),
  SWEEP_INTERVAL_SECONDS: int(1, 3600).default(30),
  SWEEP_AFTER_SECONDS: int(1, 86400).default(60),
  SHUTDOWN_TIMEOUT_SECONDS: int(1, 600).default(8),
  JOB_LOCK_SECONDS: int(2, 600).default(30),
  FULFILMENT_MODE: z.enum(['manual', 'auto'], { error: 'must be manual or auto' }).default('manual'),
  ALLOCATE_WHEN: z
    .string()
    .refine((value) => statusList(value) !== null, {
      error: `must be a comma-separated list of financial statuses (${FINANCIAL_STATUSES.join(', ')})`,
    })
    .default('paid,authorized'),
  CARRIER: z.enum(['manual', 'simulated'], { error: 'must be manual or simulated' }).default('manual'),
  SIMULATED_DELIVERY_SECONDS: int(0, 86400 * 30).default(60),
  RECONCILE_CRON: z
    .string()
    .refine((value) => cron.validate(value), {
      error: 'must be a cron expression of 5 or 6 fields, e.g. "*/15 * * * *" (every 15 minutes)',
    })
    .default('*/15 * * * *'),
  ADMIN_TOKEN: z.string().min(16, { error: 'must be at least 16 characters (generate one with: openssl rand -hex 24)' }).optional(),
  ADMIN_USER: z.string().min(1).optional(),
  ADMIN_PASSWORD: z.string().min(12, { error: 'must be at least 12 characters' }).optional(),
  METRICS_TOKEN: z.string().min(16, { error: 'must be at least 16 characters (generate one with: openssl rand -hex 24)' }).optional(),
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  MAIL_FROM: z
    .string()
    .regex(/^(?:[^<>\r\n]*<)?[^\s@<>]+@[^\s@<>]+\.?[^\s@<>]*>?$/, { error: 'must be an address such as shop@example.com or "My Shop <shop@example.com>"' })
    .optional(),
  MAIL_TEMPLATES_DIR: z.string().min(1).optional(),
  MAIL_DIR: z.string().min(1).optional(),
  FEEDBACK_AFTER_DAYS: z.coerce
    .number({ error: 'must be a number of days from 0 to 365 (fractions allowed, e.g. 0.001 is about 86 seconds)' })
    .min(0, { error: 'must be a number of days from 0 to 365 (fractions allowed, e.g. 0.001 is about 86 seconds)' })
    .max(365, { error: 'must be a number of days from 0 to 365 (fractions allowed, e.g. 0.001 is about 86 seconds)' })
    .default(7),
  FEEDBACK_LINK_DAYS: int(1, 365).default(30),
  SHIP_FROM: z.string().min(1).max(500).optional(),
}).refine((e) => (e.ADMIN_USER === undefined) === (e.ADMIN_PASSWORD === undefined), {
  error: 'and ADMIN_PASSWORD must be set together (or neither)',
  path: ['ADMIN_USER'],
}).refine((e) => (e.SMTP_URL === undefined && e.MAIL_DIR === undefined) || e.MAIL_FROM !== undefined, {
  error: 'must be set with SMTP_URL (or MAIL_DIR): the sender of customer e-mails, e.g. "My Shop <shop@example.com>"',
  path: ['MAIL_FROM'],
});

export type Env = z.input<typeof schema>;

/** Never echoed in error messages. */
const SECRET_VARS = new Set(['CHANNELSYNC_SECRET_KEY', 'ADMIN_TOKEN', 'ADMIN_PASSWORD', 'METRICS_TOKEN', 'SMTP_URL']);

export interface Config {
  databaseUrl: string;
  redisUrl: string;
  /** 32-byte key for channel credentials; null when not configured (commands that need it say so). */
  secretKey: Buffer | null;
  port: number;
  host: string;
  /** Base URL the channels reach us at, for webhook registration. */
  publicUrl: string;
  /** Which reverse proxies' X-Forwarded-For to believe (the client address for the login limit and logs); default none. */
  trustProxy: boolean | number | string[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  workerConcurrency: number;
  /**
   * Event-loop lag (ms) above which fulfilment, pushes and mail drop to one job at a time, while webhooks
   * or syncs come in, so that the HTTP accepts and ingest keep up (`src/queue/ingest-first.ts`); default 100, 0 turns it off.
   */
  ingestFirstLagMs: number;
  /**
   * Postgres connections in this process's pool. Default 2 x WORKER_CONCURRENCY + 4: a job holds a
   * connection only while a statement or transaction runs (locks live on connections of their own),
   * so this bounds concurrent transactions, not running jobs; a job that finds the pool busy waits.
   */
  databasePoolSize: number;
  queuePrefix: string;
  jobAttempts: number;
  syncIntervalSeconds: number;
  sweepIntervalSeconds: number;
  sweepAfterSeconds: number;
  shutdownTimeoutSeconds: number;
  /**
   * How long a running job's lock lasts without renewal (renewed every half of it while the process lives);
   * default 30. A job whose process died is handed to another worker within about twice this (the lock
   * expires, then the stalled-job check, run at the same interval, finds it). The sweeper does not revive it:
   * the job is still live in Redis.
   */
  jobLockSeconds: number;
  /** `manual` (default): people confirm pick, pack and ship; `auto`: jobs run them. */
  fulfilmentMode: 'manual' | 'auto';
  /** Financial statuses that make an order allocatable; default paid and authorized. */
  allocateWhen: readonly FinancialStatus[];
  /** Carrier used when shipping: `manual` (default, a person enters tracking) or `simulated` (demo). */
  carrier: 'manual' | 'simulated';
  /** How long after shipping the simulated carrier reports delivery; default 60. */
  simulatedDeliverySeconds: number;
  /** When stock reconciliation runs (node-cron syntax); default every 15 minutes. */
  reconcileCron: string;
  /** Bearer token for the admin UI and API; null with no token configured. */
  adminToken: string | null;
  /** User and password for the admin login form (and HTTP Basic); null when not configured. */
  adminUser: { name: string; password: string } | null;
  /** When set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>`; open when null. */
  metricsToken: string | null;
  /**
   * Where customer e-mails go (`smtp://user:pass@host:587`, `smtps://...:465`); null: channelsync sends
   * no customer e-mail (the channels' own notifications stay on) and the log says so at start.
   */
  smtpUrl: string | null;
  /** Instead of SMTP: write each customer e-mail as a `.eml` file into this folder (the demo, trying it out). SMTP_URL wins when both are set. */
  mailDir: string | null;
  /** Sender of customer e-mails; required with SMTP_URL or MAIL_DIR. */
  mailFrom: string | null;
  /** A folder of templates that override the built-in ones (`<kind>.subject.txt`, `<kind>.txt`, `<kind>.html`). */
  mailTemplatesDir: string | null;
  /** Days after delivery the feedback request goes; fractions allowed (the demo uses minutes). Default 7. */
  feedbackAfterDays: number;
  /** How long a feedback link works, in days; default 30. */
  feedbackLinkDays: number;
  /** Return address printed on shipping labels, lines separated by `|` or `,`; default the location's name. */
  shipFrom: string | null;
}

/** Parses the environment. Throws `ConfigError` naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<Config> {
  // An empty variable means "not set", as in most shells' `FOO= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const got = present[name];
    const shown = SECRET_VARS.has(name) || got === undefined ? '' : ` (got ${JSON.stringify(got)})`;
    throw new ConfigError(`${name} ${issue.message}${shown}`);
  }
  const e = parsed.data;
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    secretKey: e.CHANNELSYNC_SECRET_KEY ? decodeKey(e.CHANNELSYNC_SECRET_KEY) : null,
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    trustProxy: parseTrustProxy(e.TRUST_PROXY)!,
    logLevel: e.LOG_LEVEL,
    workerConcurrency: e.WORKER_CONCURRENCY,
    ingestFirstLagMs: e.INGEST_FIRST_LAG_MS,
    databasePoolSize: e.DATABASE_POOL_SIZE ?? 2 * e.WORKER_CONCURRENCY + 4,
    queuePrefix: e.QUEUE_PREFIX,
    jobAttempts: e.JOB_ATTEMPTS,
    syncIntervalSeconds: e.SYNC_INTERVAL_SECONDS,
    sweepIntervalSeconds: e.SWEEP_INTERVAL_SECONDS,
    sweepAfterSeconds: e.SWEEP_AFTER_SECONDS,
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT_SECONDS,
    jobLockSeconds: e.JOB_LOCK_SECONDS,
    fulfilmentMode: e.FULFILMENT_MODE,
    allocateWhen: Object.freeze(statusList(e.ALLOCATE_WHEN)!),
    carrier: e.CARRIER,
    simulatedDeliverySeconds: e.SIMULATED_DELIVERY_SECONDS,
    reconcileCron: e.RECONCILE_CRON,
    adminToken: e.ADMIN_TOKEN ?? null,
    adminUser: e.ADMIN_USER && e.ADMIN_PASSWORD ? { name: e.ADMIN_USER, password: e.ADMIN_PASSWORD } : null,
    metricsToken: e.METRICS_TOKEN ?? null,
    smtpUrl: e.SMTP_URL ?? null,
    mailDir: e.MAIL_DIR ?? null,
    mailFrom: e.MAIL_FROM ?? null,
    mailTemplatesDir: e.MAIL_TEMPLATES_DIR ?? null,
    feedbackAfterDays: e.FEEDBACK_AFTER_DAYS,
    feedbackLinkDays: e.FEEDBACK_LINK_DAYS,
    shipFrom: e.SHIP_FROM ?? null,
  });
}

/** "paid, authorized" -> ['paid', 'authorized']; null when empty or a word is not a financial status. */
function statusList(text: string): FinancialStatus[] | null {
  const words = text.split(',').map((w) => w.trim()).filter(Boolean);
  const known = new Set<string>(FINANCIAL_STATUSES);
  return words.length > 0 && words.every((w) => known.has(w)) ? (words as FinancialStatus[]) : null;
}

/** Accepts 64 hex characters or base64 of exactly 32 bytes. */
export function decodeKey(text: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(text)) {
    const buf = Buffer.from(text, 'base64');
    if (buf.length === 32) return buf;
  }
  return null;
}

/** The secret key, or a clear error for commands that need it. */
export function requireSecretKey(config: Config): Buffer {
  if (!config.secretKey) {
    throw new ConfigError(
      'CHANNELSYNC_SECRET_KEY is not set: channel credentials are encrypted with it (generate one with: openssl rand -hex 32)',
    );
  }
  return config.secretKey;
}

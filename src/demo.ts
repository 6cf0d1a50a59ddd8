/**
 * `npm run demo`: the product running live against the built-in simulators.
 * Starts one simulator per installed connector, connects a channel to each,
 * seeds products in the stores, links the listings (importing the stores'
 * stock as the ledger's opening balance), sends a steady stream of orders
 * (some cancelled later), plays the supplier (src/demo-supplier.ts) and runs
 * the daemon in auto mode with the simulated carrier and a reconciliation
 * every minute. Data goes to the `channelsync_demo` database
 * (unless DATABASE_URL is set) so a demo never mixes with real channels; with
 * no services at all it runs embedded, data in `.channelsync/demo-data`.
 * Ctrl-C stops everything cleanly, and a restart keeps the data: the
 * simulators keep their stores in `.channelsync/demo-sim-<kind>.json`, so no
 * order id is ever reused. `--speed` (DEMO_SPEED) runs the shop's clock faster.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { startDemoSupplier, type DemoSupplier } from './demo-supplier.ts';
import { syncListings } from './stock/listings.ts';
import { join } from 'node:path';
import { sql } from 'kysely';
import { loadConfig, type Config } from './config.ts';
import { startDaemon, type Daemon } from './daemon.ts';
import type { App } from './app.ts';
import { createLogger } from './log.ts';
import { encryptJson } from './crypto.ts';
import { addChannel } from './db/channels.ts';
import { connectorFactories } from '../connectors/index.ts';
import type { ChannelSimulator } from '../connectors/types.ts';
import { pingRedis } from './queue/connection.ts';
import { describeRuntime, resolveRuntime, type RuntimeOptions } from './embedded/runtime.ts';
import { dashboardLines, demoAdminToken, startFaultBursts, type FaultBursts } from './server/admin/demo-support.ts';
import pg from 'pg';
import { removeDemoEnv, writeDemoEnv } from './demo-env.ts';

export interface DemoOptions {
  /** Orders per minute at speed 1 (the CLI's default is 30). */
  ordersPerMinute: number;
  /**
   * How much faster than real time the shop runs (default DEMO_SPEED, else
   * 1): scales the order rate, the supplier's lead time, delivery checks,
   * reconciliation and the fault bursts together, so a minute at speed 10
   * shows ten minutes of trading.
   */
  speed?: number;
  /** One simulator failing every call for a while each minute (default true): pushes to retry in the queue UI. */
  faults?: boolean;
  /** Stop by itself after this many ms (tests); runs until Ctrl-C when unset. */
  durationMs?: number;
  stateDir?: string;
  /** `--embedded`: no Postgres or Redis even if they answer. */
  embedded?: boolean;
  /** The environment; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Addresses probed for local services (tests point them at closed ports). */
  probe?: RuntimeOptions['probe'];
  /** Called once the daemon and simulators run (tests look inside). */
  onStarted?(demo: { daemon: Daemon; sims: ReadonlyArray<{ sim: ChannelSimulator; channelId: number; name: string }>; stop(): void }): void;
}

/** The demo's catalogue; `stock` is what each store starts with (the buyer orders twice that beyond the backorders). */
const PRODUCTS = [
  { sku: 'MUG-BLUE', title: 'Blue Mug', price: '12.50', stock: 40 },
  { sku: 'MUG-RED', title: 'Red Mug', price: '12.50', stock: 25 },
  { sku: 'TEE-M', title: 'T-shirt M', price: '19.99', stock: 30 },
  { sku: 'TEE-L', title: 'T-shirt L', price: '19.99', stock: 3 },
  { sku: 'CAP-ONE', title: 'Cap', price: '15.00', stock: 12 },
];

/** The shop's timings at a speed: every delay of the demo divided by it. */
export function demoTimings(speed: number) {
  if (!Number.isFinite(speed) || speed <= 0 || speed > 100) throw new Error(`the demo's speed must be a number above 0 and at most 100 (got ${speed})`);
  const scaled = (ms: number) => Math.max(1, Math.round(ms / speed));
  const reconcileSeconds = Math.min(60, Math.max(5, Math.round(60 / speed)));
  return {
    /** A draft purchase order waits this long for the buyer before it is sent. */
    sendAfterMs: scaled(30_000),
    /** The supplier delivers this long after an order is sent. */
    leadTimeMs: scaled(2 * 60_000),
    deliverySeconds: Math.max(1, Math.round(60 / speed)),
    // node-cron takes a seconds field first when there are six.
    reconcileCron: reconcileSeconds === 60 ? '* * * * *' : `*/${reconcileSeconds} * * * * *`,
    cancelAfterMs: scaled(30_000),
    bursts: { everyMs: scaled(300_000), burstMs: scaled(20_000), firstAfterMs: scaled(30_000) },
  };
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const stateDir = options.stateDir ?? '.channelsync';
  mkdirSync(stateDir, { recursive: true });
  const env = { ...(options.env ?? process.env) };
  const speed = options.speed ?? (env.DEMO_SPEED ? Number(env.DEMO_SPEED) : 1);
  if (options.speed === undefined && env.DEMO_SPEED && !(speed > 0 && speed <= 100)) {
    throw new Error(`DEMO_SPEED must be a number above 0 and at most 100, e.g. 10 (got ${JSON.stringify(env.DEMO_SPEED)})`);
  }
  const timings = demoTimings(speed);
  // How the printed environment names the key: the file it is in, or the variable already set.
  let keyShown = '"$CHANNELSYNC_SECRET_KEY"';
  if (!env.CHANNELSYNC_SECRET_KEY) {
    const keyFile = join(stateDir, 'demo.key');
    keyShown = `"$(cat ${keyFile})"`;
    if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    env.CHANNELSYNC_SECRET_KEY = readFileSync(keyFile, 'utf8').trim();
    console.log(`demo: using a generated CHANNELSYNC_SECRET_KEY kept in ${keyFile} (set your own for real channels)`);
  }
  const admin = demoAdminToken(env, stateDir);
  console.log(admin.message);
  const runtime = await resolveRuntime(env, { embedded: options.embedded, dataDir: join(stateDir, 'demo-data'), probe: options.probe });
  for (const line of describeRuntime(runtime)) console.log(line.replace(/^channelsync:/, 'demo:'));
  if (runtime.embedded) env.DATABASE_URL = runtime.env.DATABASE_URL;
  env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/channelsync_demo';
  env.QUEUE_PREFIX ??= '{channelsync-demo}';
  env.LOG_LEVEL ??= 'warn';
  env.SYNC_INTERVAL_SECONDS ??= speed >= 2 ? '5' : '10';
  // The whole cycle without a person: allocate, pick, pack and ship with the simulated carrier's tracking.
  env.FULFILMENT_MODE ??= 'auto';
  env.CARRIER ??= 'simulated';
  env.SIMULATED_DELIVERY_SECONDS ??= String(timings.deliverySeconds);
  // Five SKUs cost the stores next to nothing to read: every minute (faster with the speed) shows drift found and corrected.
  env.RECONCILE_CRON ??= timings.reconcileCron;
  // Outage bursts are ridden out as a real shop's would be: the default attempts back off for minutes, longer than a
  // burst, so pushes wait and retry (the queue UI shows them delayed) instead of piling up as failures over an hour.
  // Customer e-mails: to SMTP_URL when set (docker compose's Mailpit shows them in a browser), else as .eml
  // files in the state folder, so the demo shows them with nothing to install. Feedback requests follow a
  // delivery by two minutes of the shop's clock, not days.
  if (!env.SMTP_URL) env.MAIL_DIR ??= join(stateDir, 'demo-mail');
  env.MAIL_FROM ??= 'channelsync demo shop <shop@demo.example>';
  env.FEEDBACK_AFTER_DAYS ??= String(120 / speed / 86_400);
  const config: Config = loadConfig(env);
  if (!runtime.embedded) await requireServices(config);

  const log = createLogger(config.logLevel);
  const sims: Array<{ sim: ChannelSimulator; channelId: number; name: string }> = [];
  const closeSims = () => Promise.all(sims.map((s) => s.sim.close().catch(() => {})));
  // Simulators first, and the channels pointed at them before any worker runs:
  // a restarted demo has jobs queued for the previous run's simulators.
  const prepare = async (app: App) => {
    for (const factory of connectorFactories.values()) {
      const statePath = join(stateDir, `demo-sim-${factory.kind}.json`);
      const restored = existsSync(statePath);
      // The demo's channelsync listens on http://127.0.0.1: let the simulators deliver there.
      const sim = await factory.simulate({ allowLocalWebhooks: true, log: log.child({ simulator: factory.kind }), statePath });
      // Listed before the channel is saved, so a failure from here on still closes it.
      const entry = { sim, channelId: 0, name: `demo-${factory.kind}` };
      sims.push(entry);
      const cfg = sim.channelConfig();
      // One store leaves its customers' e-mails to channelsync, the others notify their own: both ways show.
      const customerMessages = factory.kind === 'shopify' ? 'channelsync' : 'channel';
      entry.channelId = await upsertDemoChannel(app, factory.kind, entry.name, { ...cfg, settings: { ...cfg.settings, customerMessages } }, restored);
      // Deliveries the previous run's simulator sent and nothing processed yet were signed with its secret,
      // which this run's simulator does not share: processing them now would fail their signature check.
      // The kept store still has those orders, and the first poll reads them again.
      await app.db
        .updateTable('webhook_deliveries')
        .set({ status: 'ignored', error: "signed by the previous demo run's simulator; the poll re-reads these orders", processed_at: new Date() })
        .where('channel_id', '=', entry.channelId)
        .where('status', '=', 'pending')
        .execute();
      // A kept store keeps its stock: only a product it lacks is created.
      for (const p of PRODUCTS) if ((await sim.stockOf(p.sku)) === null) await sim.createProduct(p);
    }
    // Listings linked, and the first store's quantities booked as opening stock (SKUs with movements keep theirs):
    // without links no stock push or reconciliation would ever reach a store.
    for (const s of sims) await syncListings(app, s.channelId, { importStock: true });
    await assignDemoSupplier(app);
  };
  const daemon = await startDaemon(config, { log, embedded: runtime.embedded, prepare }).catch(async (err: unknown) => {
    await closeSims();
    await runtime.embedded?.close();
    throw err;
  });
  let stream: NodeJS.Timeout | undefined;
  let status: NodeJS.Timeout | undefined;
  let prune: NodeJS.Timeout | undefined;
  let bursts: FaultBursts | undefined;
  let supplier: DemoSupplier | undefined;
  const supplied = { sent: 0, received: 0 };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    clearInterval(stream);
    clearInterval(status);
    clearInterval(prune);
    bursts?.stop();
    await supplier?.stop();
    process.stdout.write('\n');
    console.log('demo: stopping...');
    removeDemoEnv(stateDir);
    await daemon.stop();
    await closeSims();
    console.log('demo: stopped');
  };

  try {
    for (const s of sims) {
      s.sim.setWebhookUrl(`${daemon.url}/webhooks/${s.channelId}`);
      const factory = connectorFactories.get(s.sim.kind)!;
      console.log(`demo: ${factory.displayName} simulator at ${s.sim.url} -> channel ${s.channelId} "${s.name}"`);
      await daemon.app.queues.get('sync-orders').add('sync', { channelId: s.channelId });
    }
  } catch (err) {
    await stop();
    throw err;
  }

  console.log(`demo: daemon at ${daemon.url} (health: ${daemon.url}/healthz)`);
  // Commands run beside the demo find its data through this file (src/demo-env.ts).
  const demoVars: Record<string, string> = runtime.embedded
    ? { CHANNELSYNC_EMBEDDED_URL: config.databaseUrl }
    : { DATABASE_URL: config.databaseUrl, REDIS_URL: config.redisUrl };
  demoVars.QUEUE_PREFIX = config.queuePrefix;
  demoVars.CHANNELSYNC_SECRET_KEY = env.CHANNELSYNC_SECRET_KEY!;
  const envFile = writeDemoEnv(stateDir, demoVars);
  const shown = Object.entries({ ...demoVars, CHANNELSYNC_SECRET_KEY: keyShown })
    .map(([k, v]) => `${k}=${k === 'CHANNELSYNC_SECRET_KEY' || /^[\w@%+=:,./-]*$/.test(v) ? v : `'${v}'`}`)
    .join(' ');
  console.log(`demo: commands run in this folder use the demo's data while it runs (${envFile}); elsewhere, set:`);
  console.log(`  export ${shown}`);
  for (const line of dashboardLines(daemon.url, admin.token)) console.log(line);
  for (const line of mailLines(config, sims)) console.log(line);
  if (speed !== 1) console.log(`demo: running ${speed}x faster than real time (orders, supplier, deliveries, reconciliation)`);
  if (sims.length > 0 && options.faults !== false) {
    bursts = startFaultBursts(sims, timings.bursts);
    console.log(
      `demo: one simulator fails every API call for ${timings.bursts.burstMs / 1000} s every ${timings.bursts.everyMs / 1000} s (from ${timings.bursts.firstAfterMs / 1000} s in): its pushes wait and retry (queue UI, delayed) and catch up`,
    );
  }
  supplier = startDemoSupplier(daemon.app, {
    sendAfterMs: timings.sendAfterMs,
    leadTimeMs: timings.leadTimeMs,
    // Twice the opening stock beyond the backorders: shelves refill, and only a SKU that sells out again is reordered.
    topUp: (sku) => 2 * (PRODUCTS.find((p) => p.sku === sku)?.stock ?? 0),
    onEvent: (e) => (e.kind === 'sent' ? (supplied.sent += 1) : (supplied.received += 1)),
    onError: (err) => log.warn({ err: err.message }, 'demo supplier: will try again'),
  });
  console.log(
    `demo: backorders go on draft purchase orders; the supplier gets them after ${timings.sendAfterMs / 1000} s and delivers ${timings.leadTimeMs / 1000} s later (channelsync po list)`,
  );
  if (sims.length === 0) console.log('demo: no connectors installed yet, running the daemon with no channels');
  console.log('demo: press Ctrl-C to stop');
  let stopFromCaller = () => {};
  options.onStarted?.({ daemon, sims, stop: () => stopFromCaller() });

  let created = 0;
  if (sims.length > 0 && options.ordersPerMinute > 0) {
    stream = setInterval(() => {
      const target = sims[created % sims.length]!;
      const product = PRODUCTS[Math.floor(Math.random() * PRODUCTS.length)]!;
      created += 1;
      target.sim
        .createOrder({ lines: [{ sku: product.sku, quantity: 1 + Math.floor(Math.random() * 2) }], email: `customer${created}@example.com` })
        .then(({ externalId }) => {
          // A customer in four gives up if the order is still waiting for stock a while later. Only backordered
          // orders: one cancelled while it is being packed ships anyway (the cancellation reaches us after the
          // shipment), and that is a person's problem, not a demo's. On a storefront the customer cancels; on
          // Amazon the buyer can only ask (BuyerRequestedCancel, flagged in channelsync for a person), and for
          // half the requests Amazon cancels the order at once (the seller accepted it in Seller Central),
          // which comes in by its ORDER_CHANGE notification and releases the stock; the rest wait for a person.
          if (Math.random() < 0.25) {
            const amazonCancels = Math.random() < 0.5;
            setTimeout(() => void giveUp(daemon, target.channelId, target.sim, externalId, amazonCancels).catch(() => {}), timings.cancelAfterMs).unref();
          }
        })
        .catch((err) => log.warn({ err: (err as Error).message }, 'demo order failed'));
    }, Math.max(20, Math.round(60_000 / (options.ordersPerMinute * speed))));
  }
  // A demo left running for days must not fill the disk with .eml files: it keeps the newest DEMO_MAIL_KEEP.
  if (config.mailDir && !config.smtpUrl) {
    const dir = config.mailDir;
    prune = setInterval(() => pruneMailDir(dir, DEMO_MAIL_KEEP), 60_000);
    prune.unref();
  }
  status = setInterval(() => {
    const burst = bursts?.describe();
    void statusLine(daemon, created, supplied).then((line) => process.stdout.write(`\r${line}${burst ? ` | ${burst}` : ''}   `), () => {});
  }, 2_000);

  await new Promise<void>((resolve) => {
    const done = () => void stop().then(resolve);
    stopFromCaller = done;
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (options.durationMs) setTimeout(done, options.durationMs).unref();
  });
}

/** How many of the demo's .eml files are kept (the newest). */
const DEMO_MAIL_KEEP = 1_000;

/** Deletes all but the `keep` newest `.eml` files in `dir`. Never throws: a demo keeps running. */
export function pruneMailDir(dir: string, keep: number): number {
  try {
    const files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
    if (files.length <= keep) return 0;
    const dated = files.map((f) => ({ f, at: statSync(join(dir, f)).mtimeMs })).sort((a, b) => b.at - a.at);
    for (const { f } of dated.slice(keep)) rmSync(join(dir, f), { force: true });
    return dated.length - keep;
  } catch {
    return 0;
  }
}

/** Where the demo's customer e-mails go, and which store sends its own. */
function mailLines(config: Config, sims: ReadonlyArray<{ sim: ChannelSimulator; name: string }>): string[] {
  const ours = sims.filter((s) => s.sim.kind === 'shopify').map((s) => s.name);
  const theirs = sims.filter((s) => s.sim.kind !== 'shopify').map((s) => s.name);
  const where = config.smtpUrl
    ? `sent to ${new URL(config.smtpUrl).host} (with docker compose's Mailpit, read them at http://localhost:8025)`
    : `written as .eml files to ${config.mailDir}, the newest ${DEMO_MAIL_KEEP} kept (set SMTP_URL to send them to a mail server)`;
  return [
    `demo: customer e-mails are ${where}`,
    `demo: ${ours.join(', ') || 'no store'} leaves shipping and delivery mails to channelsync (customerMessages=channelsync); ${theirs.join(', ') || 'no store'} notifies its own customers (customerMessages=channel)`,
    `demo: every delivered order gets a feedback request ${Math.round(config.feedbackAfterDays * 86_400)} s later, linking to ${config.publicUrl}/feedback/...; ratings show on the dashboard`,
  ];
}

/** A customer who gives up on an order channelsync still has backordered, no fulfilment started: cancels it, or on Amazon asks to. */
async function giveUp(daemon: Daemon, channelId: number, sim: ChannelSimulator, externalId: string, amazonCancels: boolean): Promise<void> {
  const order = await daemon.app.db
    .selectFrom('orders')
    .select(['id', 'state'])
    .where('channel_id', '=', channelId)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  if (order?.state !== 'backordered') return;
  const started = await daemon.app.db
    .selectFrom('fulfillments')
    .select('id')
    .where('order_id', '=', order.id)
    .where('state', 'not in', ['backordered', 'cancelled'])
    .executeTakeFirst();
  if (started) return;
  if (!hasCancelRequests(sim)) return sim.cancelOrder(externalId);
  await sim.requestCancel(externalId, 'No longer needed');
  if (amazonCancels) await sim.cancelOrder(externalId);
}

/** A simulated channel whose buyers ask the seller to cancel (Amazon) rather than cancel themselves. */
function hasCancelRequests(sim: ChannelSimulator): sim is ChannelSimulator & { requestCancel(externalId: string, reason: string): Promise<void> } {
  return sim.kind === 'amazon' && typeof (sim as { requestCancel?: unknown }).requestCancel === 'function';
}

async function requireServices(config: Config): Promise<void> {
  const problems: string[] = [];
  const admin = new URL(config.databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 2_000 });
  await client.connect().then(
    () => client.end(),
    (err: Error) => problems.push(`Postgres at ${admin.host} does not answer (${err.message})`),
  );
  await pingRedis(config.redisUrl).catch((err: Error) => problems.push(`Redis at ${new URL(config.redisUrl).host} does not answer (${err.message})`));
  if (problems.length) {
    throw new Error(`${problems.join('; ')}. Start them (see README: docker compose up -d postgres redis) or set DATABASE_URL and REDIS_URL.`);
  }
}

async function upsertDemoChannel(
  app: App,
  kind: string,
  name: string,
  cfg: ReturnType<ChannelSimulator['channelConfig']>,
  storeKept: boolean,
): Promise<number> {
  const { db, config } = app;
  const existing = await db.selectFrom('channels').select('id').where('name', '=', name).executeTakeFirst();
  if (!existing) return addChannel(db, config.secretKey!, { kind, name, settings: cfg.settings, credentials: cfg.credentials });
  // A restarted demo has new simulators: point the kept channel at them.
  await db
    .updateTable('channels')
    .set({
      settings: JSON.stringify(cfg.settings),
      credentials_encrypted: encryptJson(config.secretKey!, cfg.credentials, `channel:${existing.id}`),
      enabled: true,
      updated_at: sql`now()`,
    })
    .where('id', '=', existing.id)
    .execute();
  // A kept store has the orders the cursor points past; an empty one starts over, and the pull with it.
  if (!storeKept) {
    const orders = await db.selectFrom('orders').select(sql<number>`count(*)::int`.as('n')).where('channel_id', '=', existing.id).executeTakeFirstOrThrow();
    if (orders.n > 0) {
      console.warn(
        `demo: channel "${name}" has ${orders.n} orders but its simulator's store file is missing: the store starts empty and may reuse their ids; ` +
          'for a clean start drop the demo database (or remove .channelsync/demo-data when embedded)',
      );
    }
    await db.deleteFrom('sync_cursors').where('channel_id', '=', existing.id).execute();
  }
  return existing.id;
}

/**
 * One supplier for the demo's SKUs, so backorders go on its purchase orders
 * (its lead time in days dates the drafts; the demo's own supplier loop sets
 * the real delivery when it sends them). Leaves a SKU someone gave another
 * supplier alone.
 */
async function assignDemoSupplier(app: App): Promise<void> {
  const { db } = app;
  let supplier = await db.selectFrom('suppliers').select('id').where('name', '=', DEMO_SUPPLIER).executeTakeFirst();
  supplier ??= await db.insertInto('suppliers').values({ name: DEMO_SUPPLIER, email: 'orders@supplier.example', lead_time_days: 3 }).returning('id').executeTakeFirstOrThrow();
  await db
    .updateTable('skus')
    .set({ supplier_id: supplier.id })
    .where('sku', 'in', PRODUCTS.map((p) => p.sku))
    .where('supplier_id', 'is', null)
    .execute();
}

const DEMO_SUPPLIER = 'Demo Supplier Co.';

async function statusLine(daemon: Daemon, created: number, supplied: { sent: number; received: number }): Promise<string> {
  const { rows } = await sql<{ name: string; orders: number }>`
    SELECT c.name, count(o.id)::int AS orders FROM channels c LEFT JOIN orders o ON o.channel_id = c.id
    WHERE c.name LIKE 'demo-%' GROUP BY c.name ORDER BY c.name`.execute(daemon.app.db);
  const failed = await daemon.app.queues.get('channel-push').getFailedCount();
  const { rows: m } = await sql<{ sent: number; rated: number }>`
    SELECT (SELECT count(*) FROM customer_messages WHERE status = 'sent')::int AS sent, (SELECT count(*) FROM feedback)::int AS rated`.execute(daemon.app.db);
  const perChannel = rows.map((r) => `${r.name} ${r.orders}`).join(', ') || 'no channels';
  const { rows: f } = await sql<{ shipped: number; backordered: number }>`
    SELECT count(*) FILTER (WHERE state IN ('shipped', 'delivered'))::int AS shipped, count(*) FILTER (WHERE state = 'backordered')::int AS backordered
    FROM orders`.execute(daemon.app.db);
  return (
    `[${new Date().toISOString().slice(11, 19)}] orders sent ${created} | in Postgres: ${perChannel} | shipped ${f[0]?.shipped ?? 0}, ` +
    `backordered ${f[0]?.backordered ?? 0} | POs sent ${supplied.sent}, received ${supplied.received} | failed pushes ${failed} | ` +
    `mails sent ${m[0]?.sent ?? 0}, ratings ${m[0]?.rated ?? 0}`
  );
}

/**
 * `npm run demo`: the product running live against the built-in simulators.
 * Starts one simulator per installed connector, connects a channel to each,
 * seeds products and stock, sends a steady stream of orders (some cancelled
 * later), and runs the daemon. Data goes to the `channelsync_demo` database
 * (unless DATABASE_URL is set) so a demo never mixes with real channels; with
 * no services at all it runs embedded, data in `.channelsync/demo-data`.
 * Ctrl-C stops everything cleanly, and a restart keeps the data.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
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
  ordersPerMinute: number;
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

const PRODUCTS = [
  { sku: 'MUG-BLUE', title: 'Blue Mug', price: '12.50', stock: 40 },
  { sku: 'MUG-RED', title: 'Red Mug', price: '12.50', stock: 25 },
  { sku: 'TEE-M', title: 'T-shirt M', price: '19.99', stock: 30 },
  { sku: 'TEE-L', title: 'T-shirt L', price: '19.99', stock: 3 },
  { sku: 'CAP-ONE', title: 'Cap', price: '15.00', stock: 12 },
];

export async function runDemo(options: DemoOptions): Promise<void> {
  const stateDir = options.stateDir ?? '.channelsync';
  mkdirSync(stateDir, { recursive: true });
  const env = { ...(options.env ?? process.env) };
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
  env.SYNC_INTERVAL_SECONDS ??= '10';
  // The whole cycle without a person: allocate, pick, pack and ship with the simulated carrier's tracking.
  env.FULFILMENT_MODE ??= 'auto';
  env.CARRIER ??= 'simulated';
  // Two attempts, so a push whose retries fall inside a fault burst fails for good and waits in the queue UI.
  env.JOB_ATTEMPTS ??= '2';
  const config: Config = loadConfig(env);
  if (!runtime.embedded) await requireServices(config);

  const log = createLogger(config.logLevel);
  const sims: Array<{ sim: ChannelSimulator; channelId: number; name: string }> = [];
  const closeSims = () => Promise.all(sims.map((s) => s.sim.close().catch(() => {})));
  // Simulators first, and the channels pointed at them before any worker runs:
  // a restarted demo has jobs queued for the previous run's simulators.
  const prepare = async (app: App) => {
    for (const factory of connectorFactories.values()) {
      // The demo's channelsync listens on http://127.0.0.1: let the simulators deliver there.
      const sim = await factory.simulate({ allowLocalWebhooks: true, log: log.child({ simulator: factory.kind }) });
      // Listed before the channel is saved, so a failure from here on still closes it.
      const entry = { sim, channelId: 0, name: `demo-${factory.kind}` };
      sims.push(entry);
      entry.channelId = await upsertDemoChannel(app, factory.kind, entry.name, sim.channelConfig());
      for (const p of PRODUCTS) await sim.createProduct(p);
    }
    await seedCatalog(app);
  };
  const daemon = await startDaemon(config, { log, embedded: runtime.embedded, prepare }).catch(async (err: unknown) => {
    await closeSims();
    await runtime.embedded?.close();
    throw err;
  });
  let stream: NodeJS.Timeout | undefined;
  let status: NodeJS.Timeout | undefined;
  let bursts: FaultBursts | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    clearInterval(stream);
    clearInterval(status);
    bursts?.stop();
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
  if (sims.length > 0) {
    bursts = startFaultBursts(sims);
    console.log('demo: one simulator fails every API call for 20 s each minute (from 30 s in): retry the failed pushes in the queue UI');
  }
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
          // About one order in ten is cancelled by the customer a little later.
          if (Math.random() < 0.1) setTimeout(() => void target.sim.cancelOrder(externalId).catch(() => {}), 5_000).unref();
        })
        .catch((err) => log.warn({ err: (err as Error).message }, 'demo order failed'));
    }, Math.max(100, Math.round(60_000 / options.ordersPerMinute)));
  }
  status = setInterval(() => {
    const burst = bursts?.describe();
    void statusLine(daemon, created).then((line) => process.stdout.write(`\r${line}${burst ? ` | ${burst}` : ''}   `), () => {});
  }, 2_000);

  await new Promise<void>((resolve) => {
    const done = () => void stop().then(resolve);
    stopFromCaller = done;
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (options.durationMs) setTimeout(done, options.durationMs).unref();
  });
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

async function upsertDemoChannel(app: App, kind: string, name: string, cfg: ReturnType<ChannelSimulator['channelConfig']>): Promise<number> {
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
  await db.deleteFrom('sync_cursors').where('channel_id', '=', existing.id).execute();
  return existing.id;
}

async function seedCatalog(app: App): Promise<void> {
  const { db } = app;
  await db.insertInto('locations').values({ code: 'MAIN', name: 'Main warehouse' }).onConflict((oc) => oc.column('code').doNothing()).execute();
  const location = await db.selectFrom('locations').select('id').where('code', '=', 'MAIN').executeTakeFirstOrThrow();
  for (const p of PRODUCTS) {
    const inserted = await db
      .insertInto('skus')
      .values({ sku: p.sku, title: p.title })
      .onConflict((oc) => oc.column('sku').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) {
      await db
        .insertInto('stock_movements')
        .values({ sku_id: inserted.id, location_id: location.id, on_hand_delta: p.stock, reason: 'receipt', reference: 'demo:seed', actor: 'demo' })
        .execute();
    }
  }
}

async function statusLine(daemon: Daemon, created: number): Promise<string> {
  const { rows } = await sql<{ name: string; orders: number }>`
    SELECT c.name, count(o.id)::int AS orders FROM channels c LEFT JOIN orders o ON o.channel_id = c.id
    WHERE c.name LIKE 'demo-%' GROUP BY c.name ORDER BY c.name`.execute(daemon.app.db);
  const failed = await daemon.app.queues.get('channel-push').getFailedCount();
  const perChannel = rows.map((r) => `${r.name} ${r.orders}`).join(', ') || 'no channels';
  return `[${new Date().toISOString().slice(11, 19)}] orders sent ${created} | in Postgres: ${perChannel} | failed pushes ${failed}`;
}

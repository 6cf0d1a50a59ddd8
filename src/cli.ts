/**
 * The command-line entry point. Every command validates its input and prints
 * one clear line on failure (exit 2 for bad input or config, 1 otherwise).
 *
 * Start-up is kept light, so `--help` answers at once and a command pays only
 * for what it uses (measured by `npm run bench -- cli`):
 *
 * - Command modules export `registerXCommands(program, withApp)`. That function
 *   and its module's top-level imports stay light: commander,
 *   `domain/errors.ts`, `progress.ts`, `connectors/kinds.ts`, node built-ins
 *   and `import type` of anything.
 * - Everything else is loaded with `await import()` inside the action that
 *   needs it: app, db, connectors, daemon, jobs, queue, server, the fulfilment
 *   and stock modules, and `config.ts` too (zod alone costs ~0.1 s of CPU).
 *
 * `test/cli-light.test.ts` follows the static imports from this file and fails
 * when a heavy module becomes reachable.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import type { Config } from './config.ts';
import type { App } from './app.ts';
import { CHANNEL_KINDS } from '../connectors/kinds.ts';
import { ChannelsyncError, ConfigError } from './domain/errors.ts';
import { bar, eta, progressDone, progressLine } from './progress.ts';
import { withDemoEnv } from './demo-env.ts';
import { registerFulfilmentCommands } from './fulfilment/cli.ts';
import { registerStockCommands } from './stock/cli.ts';
import { registerReturnCommands } from './fulfilment/return-cli.ts';

const program = new Command();
program
  .name('channelsync')
  .description('Order management across every sales channel: orders in, fulfilment, tracking and stock out.')
  .showHelpAfterError();

program
  .command('migrate')
  .description('create the database if missing and apply pending migrations (safe to repeat)')
  .action(async () => {
    const [{ loadConfig }, { createDb, ensureDatabase, migrate }] = await Promise.all([import('./config.ts'), import('./db/index.ts')]);
    const config = loadConfig();
    const created = await ensureDatabase(config.databaseUrl);
    const db = createDb(config.databaseUrl, { max: 2 });
    try {
      const { applied } = await migrate(db);
      if (created) console.log(`created database ${new URL(config.databaseUrl).pathname.slice(1)}`);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
      const locations = await import('./locations/index.ts'), location = await locations.ensureDefaultLocation(db);
      if (location) console.log(locations.defaultLocationCreatedMessage(location.code));
    } finally {
      await db.destroy();
    }
  });

program
  .command('start')
  .description('run the daemon: workers, schedules and the HTTP server (webhooks, /healthz)')
  .option('--no-workers', 'serve HTTP only (for an HTTP-only replica)')
  .option('--embedded', 'run without Postgres and Redis: in-process Postgres in .channelsync/data (chosen anyway when none is set or answers)')
  .action(async (opts: { workers: boolean; embedded?: boolean }) => {
    // Signals first, before anything slow: a SIGTERM or SIGINT at any moment
    // stops what has started, in order, and exits 0 (a second one exits 1 at
    // once). bin/channelsync.js covered the module loading before this.
    const startup = new AbortController();
    let stopRunning: (() => Promise<unknown>) | null = null;
    let signalled = false;
    const stopNow = () => {
      stopRunning!().then(
        () => process.exit(0),
        (err: unknown) => {
          console.error(`channelsync: error: shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
          process.exit(1);
        },
      );
    };
    const onSignal = () => {
      if (signalled) process.exit(1);
      signalled = true;
      // Still starting: start-up sees the abort at its next step and closes what it opened.
      if (stopRunning) stopNow();
      else startup.abort();
    };
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.removeAllListeners(sig); // bin/channelsync.js's early handler: this one takes over
      process.on(sig, onSignal);
    }
    const [{ loadConfig, requireSecretKey }, { resolveRuntime, describeRuntime }, { startDaemon }] = await Promise.all([
      import('./config.ts'),
      import('./embedded/runtime.ts'),
      import('./daemon.ts'),
    ]);
    requireSecretKey(loadConfig());
    if (startup.signal.aborted) process.exit(0);
    const runtime = await resolveRuntime(process.env, { embedded: opts.embedded });
    if (startup.signal.aborted) {
      await runtime.embedded?.close();
      process.exit(0);
    }
    for (const line of describeRuntime(runtime)) console.log(line);
    try {
      const daemon = await startDaemon(loadConfig(runtime.env), { workers: opts.workers, embedded: runtime.embedded, signal: startup.signal });
      stopRunning = () => daemon.stop();
    } catch (err) {
      // startDaemon closed everything it had opened (the embedded Postgres too).
      if (startup.signal.aborted) process.exit(0);
      throw err;
    }
    if (startup.signal.aborted) stopNow();
  });

const channels = program.command('channels').description('add, list, enable, disable and remove sales channels');

// channels add: checked against the store before it is saved (src/channels/add.ts)
(await import('./channels/add.ts')).registerChannelAddCommand(channels, withApp);
// channels webhooks: register at PUBLIC_URL and check that deliveries arrive (src/channels/webhooks.ts)
(await import('./channels/webhooks.ts')).registerChannelWebhooksCommand(channels, withApp);
// channels credentials: replace them (reconnect an account), which ends a pause (src/channels/credentials.ts)
(await import('./channels/credentials.ts')).registerChannelCredentialsCommand(channels, withApp);

channels
  .command('list')
  .description('list channels')
  .action(async () => {
    const { listChannels } = await import('./db/channels.ts');
    await withApp(async (app) => {
      const rows = await listChannels(app.db);
      if (rows.length === 0) console.log('no channels yet: add one with "channelsync channels add <kind> <name> ..."');
      for (const c of rows) console.log(`${c.id}\t${c.kind}\t${c.name}\t${c.enabled ? 'enabled' : 'disabled'}`);
    });
  });

for (const [command, enabled] of [['enable', true], ['disable', false]] as const) {
  channels
    .command(command)
    .description(`${command} a channel (a disabled channel is not synced and its webhooks get 404)`)
    .argument('<channel>', 'channel id or name')
    .action(async (ref: string) => {
      const { resolveChannelId, setChannelEnabled } = await import('./db/channels.ts');
      await withApp(async (app) => {
        const id = await resolveChannelId(app.db, ref);
        await setChannelEnabled(app.db, id, enabled);
        console.log(`channel ${id} ${command}d`);
      });
    });
}

channels
  .command('remove')
  .description('remove a channel (refused while it has orders, unless --purge)')
  .argument('<channel>', 'channel id or name')
  .option('--purge', 'also delete its orders')
  .action(async (ref: string, opts: { purge?: boolean }) => {
    const { removeChannel, resolveChannelId } = await import('./db/channels.ts');
    await withApp(async (app) => {
      const id = await resolveChannelId(app.db, ref);
      const { ordersDeleted } = await removeChannel(app.db, id, opts.purge ?? false);
      console.log(`removed channel ${id}${ordersDeleted ? ` and ${ordersDeleted} orders` : ''}`);
    });
  });

program
  .command('status')
  .description('per channel: last sync and how long ago, orders, pending and failed pushes, last error')
  .action(async () => {
    const [{ sql }, { statusLines }, { failureCounts }, { QUEUE_NAMES }] = await Promise.all([
      import('kysely'),
      import('./status.ts'),
      import('./queue/failures.ts'),
      import('./queue/queues.ts'),
    ]);
    // Everything status shows is in Postgres (failures too: job_failures survives a Redis flush),
    // so it opens the database only: no queue client to load or connect.
    await withDb(async (db) => {
      const rows = await sql<import('./status.ts').ChannelStatus>`
        SELECT c.id, c.name, c.kind, c.enabled, c.paused_at, c.paused_reason, sc.last_synced_at, sc.last_error,
          (SELECT count(*)::int FROM orders o WHERE o.channel_id = c.id) AS orders,
          (SELECT count(*)::int FROM channel_pushes p WHERE p.channel_id = c.id AND p.status = 'pending') AS pending_pushes,
          (SELECT count(*)::int FROM channel_pushes p WHERE p.channel_id = c.id AND p.status = 'failed') AS failed_pushes,
          (SELECT count(*)::int FROM webhook_deliveries w WHERE w.channel_id = c.id AND w.status = 'failed') AS failed_webhooks,
          (SELECT count(*)::int FROM rejected_orders r WHERE r.channel_id = c.id) AS rejected_orders
        FROM channels c LEFT JOIN sync_cursors sc ON sc.channel_id = c.id AND sc.resource = 'orders'
        ORDER BY c.id`.execute(db);
      // The database's clock, like last_synced_at: "how long ago" is right even when this machine's clock is off.
      const { rows: [clock] } = await sql<{ now: Date }>`SELECT now() AS now`.execute(db);
      for (const line of statusLines(rows.rows, clock!.now)) console.log(line);
      const failed = await failureCounts(db);
      console.log(`\nfailed jobs (for good, waiting for a person): ${QUEUE_NAMES.map((q) => `${q} ${failed.get(q) ?? 0}`).join(', ')}`);
    });
  });

program
  .command('sync')
  .description("pull a channel's changed orders now")
  .argument('<channel>', 'channel id or name')
  .action(async (ref: string) => {
    const { resolveChannelId } = await import('./db/channels.ts');
    const { syncOrders } = await import('../jobs/sync-orders.ts');
    await withApp(async (app) => {
      const report = await syncOrders(app, await resolveChannelId(app.db, ref));
      console.log(
        report.skipped
          ? `skipped: ${report.skipped}`
          : `${report.pages} pages: ${report.inserted} new, ${report.updated} updated, ${report.stale} unchanged or older` +
              (report.rejected ? `, ${report.rejected} set aside (see GET /api/rejected-orders)` : ''),
      );
    });
  });

program
  .command('backfill')
  .description("import a channel's historic orders through its bulk export, with progress")
  .argument('<channel>', 'channel id or name')
  .requiredOption('--since <date>', 'oldest order date to import, e.g. 2025-01-01', parseDate)
  .action(async (ref: string, opts: { since: Date }) => {
    const { resolveChannelId } = await import('./db/channels.ts');
    const { backfillOrders } = await import('../jobs/sync-orders.ts');
    await withApp(async (app) => {
      const channelId = await resolveChannelId(app.db, ref);
      const started = Date.now();
      const report = await backfillOrders(app, channelId, opts.since, (p) => {
        const fraction = p.total ? p.done / p.total : 0;
        progressLine(`${p.total ? bar(fraction) : '[exporting]'} ${p.done}${p.total ? `/${p.total}` : ''} read, ${p.saved} saved, ${eta(p.done, p.total, started)}`);
      });
      progressDone();
      console.log(
        `backfill done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${report.orders} orders, ${report.inserted} new, ${report.updated} updated, ${report.stale} unchanged or older` +
          (report.rejected ? `, ${report.rejected} set aside (see GET /api/rejected-orders)` : ''),
      );
    });
  });

program
  .command('sweep')
  .description('re-enqueue every pending item found in Postgres now (what the scheduled sweeper does)')
  .option('--all', 'include items changed in the last SWEEP_AFTER_SECONDS')
  .action(async (opts: { all?: boolean }) => {
    const { sweep } = await import('../jobs/sweeper.ts');
    const { JOBS } = await import('../jobs/index.ts');
    await withApp(async (app) => {
      const report = await sweep(app, JOBS, opts.all ? new Date() : undefined);
      const added = Object.entries(report.requeued);
      console.log(
        added.length ? `re-enqueued ${added.map(([q, n]) => `${n} on ${q}`).join(', ')}` : 'nothing to re-enqueue',
        `(${report.alreadyQueued} already queued)`,
      );
    });
  });

// fulfil <order> [allocate|pick|pack|ship|slip|invoice], picklist, po list|receive (src/fulfilment/cli.ts)
registerFulfilmentCommands(program, withApp);

program
  .command('simulate')
  .description("run a channel's API simulator standalone")
  .argument('<kind>', `channel kind (${CHANNEL_KINDS.join(', ')})`)
  .option('-p, --port <port>', 'port to listen on', parsePort, 0)
  .option('-o, --orders <count>', 'orders to seed', parseCount, 0)
  .option('--latency <ms>', 'added to every request, like a slow shop', parseCount, 0)
  .option('--json', 'print one JSON line {kind, url, settings, credentials} instead of instructions (for scripts)')
  .option('--allow-local-webhooks', "accept webhook addresses the real channel refuses (http://, localhost, private hosts, any port), for a channelsync on this machine")
  .action(async (kind: string, opts: { port: number; orders: number; latency: number; json?: boolean; allowLocalWebhooks?: boolean }) => {
    const { connectorFactory } = await import('../connectors/index.ts');
    const { createLogger } = await import('./log.ts');
    const factory = connectorFactory(kind);
    const sim = await factory.simulate({ port: opts.port, orders: opts.orders, allowLocalWebhooks: opts.allowLocalWebhooks === true, log: createLogger(process.env.LOG_LEVEL ?? (opts.json ? 'warn' : 'info'), `${kind}-simulator`) });
    if (opts.latency) sim.setFaults({ latencyMs: opts.latency });
    const { settings, credentials } = sim.channelConfig();
    if (opts.json) {
      console.log(JSON.stringify({ kind, url: sim.url, settings, credentials }));
    } else {
      console.log(`${factory.displayName} simulator listening on ${sim.url} with ${opts.orders} orders`);
      console.log('connect a channel with:');
      // A PEM does not fit on a command line: it goes to a file the command reads.
      const pemFile = `.channelsync/${kind}-simulator-ca.pem`;
      if (typeof settings.caCertificate === 'string') {
        mkdirSync('.channelsync', { recursive: true });
        writeFileSync(pemFile, settings.caCertificate);
      }
      const pairs = (flag: string, o: Record<string, unknown>) =>
        Object.entries(o)
          .map(([k, v]) => (k === 'caCertificate' ? `${flag} ${k}="$(cat ${pemFile})"` : `${flag} ${k}=${shellQuote(String(v))}`))
          .join(' ');
      console.log(`  channelsync channels add ${kind} sim-${kind} ${pairs('-s', settings)} ${pairs('-c', credentials)}`);
    }
    const stop = () => sim.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

program
  .command('demo')
  .description('a live demo against the built-in simulators (the local services, or embedded when none answers)')
  .option('--orders-per-minute <n>', 'order stream rate', parseCount, 30)
  .option('--embedded', 'run without Postgres and Redis: in-process Postgres in .channelsync/demo-data')
  .option('--speed <factor>', 'run the shop this many times faster than real time: orders, supplier, deliveries, reconciliation (default DEMO_SPEED or 1)', parseSpeed)
  .option('--no-faults', 'no simulated outage bursts (by default one store fails every call for a while each minute)')
  .action(async (opts: { ordersPerMinute: number; embedded?: boolean; speed?: number; faults: boolean }) => {
    const { runDemo } = await import('./demo.ts');
    await runDemo({ ordersPerMinute: opts.ordersPerMinute, embedded: opts.embedded, speed: opts.speed, faults: opts.faults });
  });

function parseSpeed(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 100) throw new InvalidArgumentError('must be a number above 0 and at most 100 (e.g. 10)');
  return n;
}

// --- stock: `stock show|adjust|explain|drift|reorder|rule`, `listings sync`, `reconcile --now` (src/stock/cli.ts) ---
registerStockCommands(program, withApp);
// --- end stock ---

(await import('./locations/cli.ts')).registerLocationCommands(program); // locations add|list|update|deactivate
(await import('./secrets/cli.ts')).registerSecretsCommands(program); // secrets rotate

// --- returns: `return <order> --line SKU=qty [--no-restock] [--reason] [--ref]` (src/fulfilment/return-cli.ts) ---
registerReturnCommands(program, withApp);
// --- end returns ---

async function withApp(fn: (app: App) => Promise<void>): Promise<void> {
  const [{ loadConfig }, { createApp }, { resolveRuntime }, { createLogger }] = await Promise.all([
    import('./config.ts'),
    import('./app.ts'),
    import('./embedded/runtime.ts'),
    import('./log.ts'),
  ]);
  // Beside a running demo (and nothing of your own set), commands work on the demo's data.
  const { env, note } = await withDemoEnv(process.env);
  if (note) console.error(note);
  // Without DATABASE_URL/REDIS_URL and with no local services, commands work on the embedded data.
  const runtime = await resolveRuntime(env);
  const config: Config = loadConfig(runtime.env);
  const app = await createApp(config, { log: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel), embedded: runtime.embedded });
  try {
    await fn(app);
  } finally {
    await app.close();
  }
}

/** Like `withApp`, for commands that need only the database (a migrated one): no queues, no connectors. */
async function withDb(fn: (db: import('./db/index.ts').Db) => Promise<void>): Promise<void> {
  const [{ loadConfig }, { createDb, ensureDatabase, migrate }, { resolveRuntime }] = await Promise.all([
    import('./config.ts'),
    import('./db/index.ts'),
    import('./embedded/runtime.ts'),
  ]);
  const { env, note } = await withDemoEnv(process.env);
  if (note) console.error(note);
  const runtime = await resolveRuntime(env);
  const config: Config = loadConfig(runtime.env);
  await ensureDatabase(config.databaseUrl);
  const db = createDb(config.databaseUrl, { max: 2 });
  try {
    await migrate(db);
    await fn(db);
  } finally {
    await db.destroy();
    await runtime.embedded?.close();
  }
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number from 0 to 65535');
  return n;
}

function parseDate(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) throw new InvalidArgumentError('must be a date like 2025-01-31');
  return date;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number, 0 or more');
  return n;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  const isInput = err instanceof ConfigError || (err instanceof ChannelsyncError && !err.retryable);
  console.error(`channelsync: ${isInput ? '' : 'error: '}${message}`);
  process.exit(isInput ? 2 : 1);
}

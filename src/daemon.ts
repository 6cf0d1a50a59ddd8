/**
 * The daemon: workers, schedules and the HTTP server in one process. Any
 * number of daemons can share one Postgres and one Redis.
 *
 * Shutdown (SIGTERM/SIGINT): stop accepting HTTP, stop taking jobs, let
 * running jobs finish for up to SHUTDOWN_TIMEOUT_SECONDS, close connections.
 * A job still running then keeps its Redis lock until it expires and is
 * picked up again (BullMQ's stalled-job check); its Postgres row stays
 * pending for the sweeper. Nothing is lost.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { createApp, type App } from './app.ts';
import { defaultLocationCreatedMessage, ensureDefaultLocation } from './locations/index.ts';
import { buildServer } from './server/index.ts';
import { startWorkers, type WorkerSet } from './queue/workers.ts';
import { keepSchedules, type ScheduleHandle } from './queue/schedules.ts';
import { startReconcileSchedule, type ReconcileSchedule } from './stock/schedule.ts';
import { JOBS } from '../jobs/index.ts';
import type { Logger } from './log.ts';
import { mailStatusLine } from './notify/policy.ts';
import { loadTemplates } from './notify/templates.ts';
import type { EmbeddedPostgres } from './embedded/postgres.ts';

export interface Daemon {
  app: App;
  server: FastifyInstance;
  /** The address the HTTP server listens on. */
  url: string;
  stop(): Promise<{ jobsFinished: boolean }>;
}

export interface DaemonOptions {
  log?: Logger;
  /** Run workers (default true); an HTTP-only replica sets false. */
  workers?: boolean;
  /** Embedded mode: the in-process Postgres the config points at; queues go there too, and stopping closes it. */
  embedded?: EmbeddedPostgres;
  /**
   * Runs once the database is migrated, before any worker or schedule starts
   * (the demo points its channels at fresh simulators here, so jobs left from
   * a previous run do not fire at the old ones).
   */
  prepare?: (app: App) => Promise<void>;
  /**
   * Aborted (a signal during start-up): start-up stops at its next step,
   * closes what it opened, in reverse order, and rejects with the abort reason.
   */
  signal?: AbortSignal;
}

export async function startDaemon(config: Readonly<Config>, options: DaemonOptions = {}): Promise<Daemon> {
  // A daemon started while Postgres boots or restarts waits for it (a supervisor would only restart it into the same wait).
  const app = await createApp(config, { log: options.log, embedded: options.embedded, waitForPostgresMs: options.embedded ? 0 : 60_000, signal: options.signal });
  let workers: WorkerSet | null = null;
  let schedules: ScheduleHandle | null = null;
  let reconcileSchedule: ReconcileSchedule | null = null;
  let server: FastifyInstance | null = null;
  // Between steps, not inside them: a migration or listen under way completes first.
  const check = () => options.signal?.throwIfAborted();
  try {
    check();
    // The first run: allocation, stock adjustments and opening balances need a location.
    const location = await ensureDefaultLocation(app.db);
    if (location) app.log.info({ location: location.code }, defaultLocationCreatedMessage(location.code));
    // A template that does not parse stops start-up here, naming the file, rather than at the first customer.
    loadTemplates(config.mailTemplatesDir);
    const mail = mailStatusLine(config);
    app.log[mail.on ? 'info' : 'warn']({ mail: mail.where }, mail.message);
    await options.prepare?.(app);
    check();
    if (options.workers ?? true) {
      workers = startWorkers(app, JOBS);
      schedules = keepSchedules(app);
      reconcileSchedule = startReconcileSchedule(app);
    }
    server = await buildServer(app);
    check();
    await server.listen({ port: config.port, host: config.host });
    check();
  } catch (err) {
    schedules?.stop();
    await reconcileSchedule?.stop();
    await workers?.close(1_000);
    await server?.close().catch(() => {});
    await app.close();
    throw err;
  }
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  app.log.info(
    { url, mode: options.embedded ? 'embedded' : 'services', queueBackend: app.backend.description, queues: JOBS.map((j) => j.queue), concurrency: config.workerConcurrency },
    'channelsync daemon started',
  );

  let stopping: Promise<{ jobsFinished: boolean }> | null = null;
  const live = server;
  return {
    app,
    server: live,
    url,
    stop() {
      stopping ??= (async () => {
        app.log.info('shutting down: no new jobs, waiting for running ones');
        schedules?.stop();
        await reconcileSchedule?.stop();
        const closingHttp = live.close();
        const jobsFinished = workers ? await workers.close(config.shutdownTimeoutSeconds * 1000) : true;
        await closingHttp;
        await app.close();
        app.log.info({ jobsFinished }, 'stopped');
        return { jobsFinished };
      })();
      return stopping;
    },
  };
}

/** Stops the daemon on SIGTERM/SIGINT and exits 0; a second signal exits at once. */
export function stopOnSignals(daemon: Daemon): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(1);
    signalled = true;
    daemon.app.log.info({ signal }, 'signal received');
    daemon.stop().then(
      () => process.exit(0),
      (err) => {
        daemon.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

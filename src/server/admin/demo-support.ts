/**
 * What `npm run demo` needs from the operations surface: an admin token to
 * sign in with, the lines that tell the person where to go, and one
 * simulator fault burst per minute so that some pushes fail and the queue UI
 * has something to retry.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChannelSimulator } from '../../../connectors/types.ts';

/**
 * Makes sure the demo has admin credentials: ADMIN_TOKEN or ADMIN_USER from
 * the environment when set, otherwise a generated token kept in
 * `<stateDir>/demo-admin-token` (the same one on every restart). Sets
 * `env.ADMIN_TOKEN` when it generates one. Returns the token to print (null
 * when the person brought their own credentials) and a line saying which.
 */
export function demoAdminToken(env: Record<string, string | undefined>, stateDir: string): { token: string | null; message: string } {
  if (env.ADMIN_TOKEN) return { token: null, message: 'demo: admin sign-in with your ADMIN_TOKEN' };
  if (env.ADMIN_USER) return { token: null, message: 'demo: admin sign-in with your ADMIN_USER and ADMIN_PASSWORD' };
  const file = join(stateDir, 'demo-admin-token');
  if (!existsSync(file)) writeFileSync(file, randomBytes(24).toString('hex'), { mode: 0o600 });
  const token = readFileSync(file, 'utf8').trim();
  env.ADMIN_TOKEN = token;
  return { token, message: `demo: using a generated ADMIN_TOKEN kept in ${file} (set your own ADMIN_TOKEN for a real install)` };
}

/** The lines that say where the dashboard, the queue UI and the metrics are. */
export function dashboardLines(url: string, token: string | null): string[] {
  return [
    `demo: dashboard  ${url}/admin${token ? `   (sign in with token ${token})` : ''}`,
    `demo: queue UI   ${url}/admin/queues   (failed pushes: ${url}/admin/queues/queue/channel-push?status=failed)`,
    `demo: API        ${url}/api/docs   (Authorization: Bearer <token>)`,
    `demo: metrics    ${url}/metrics`,
  ];
}

export interface FaultBurstOptions {
  /** Time between the starts of two bursts; default one minute. */
  everyMs?: number;
  /** How long one burst lasts; default 20 s. */
  burstMs?: number;
  /** Delay before the first burst; default 30 s, so the first orders go through cleanly. */
  firstAfterMs?: number;
  /** Told when a burst starts and ends. */
  onChange?(state: { simulator: string; failing: boolean }): void;
}

export interface FaultBursts {
  /** "fault burst on demo-shopify (12 s left)" while one runs, else null. */
  describe(): string | null;
  stop(): void;
}

/**
 * Once per `everyMs`, one simulator (in turn) answers every API call with a
 * 5xx for `burstMs`. Pushes whose retries all fall inside the burst fail for
 * good and wait in the queue UI for someone to press Retry.
 */
export function startFaultBursts(sims: ReadonlyArray<{ sim: ChannelSimulator; name: string }>, options: FaultBurstOptions = {}): FaultBursts {
  const everyMs = options.everyMs ?? 60_000;
  const burstMs = options.burstMs ?? 20_000;
  let turn = 0;
  let current: { name: string; sim: ChannelSimulator; endsAt: number } | null = null;
  let endTimer: NodeJS.Timeout | undefined;
  let interval: NodeJS.Timeout | undefined;

  const end = () => {
    if (!current) return;
    current.sim.setFaults({});
    options.onChange?.({ simulator: current.name, failing: false });
    current = null;
  };
  const burst = () => {
    if (sims.length === 0) return;
    end();
    const target = sims[turn++ % sims.length]!;
    target.sim.setFaults({ errorRate: 1 });
    current = { name: target.name, sim: target.sim, endsAt: Date.now() + burstMs };
    options.onChange?.({ simulator: target.name, failing: true });
    endTimer = setTimeout(end, burstMs);
    endTimer.unref();
  };
  const first = setTimeout(() => {
    burst();
    interval = setInterval(burst, everyMs);
    interval.unref();
  }, options.firstAfterMs ?? 30_000);
  first.unref();

  return {
    describe: () => (current ? `fault burst on ${current.name} (${Math.max(0, Math.ceil((current.endsAt - Date.now()) / 1000))} s left)` : null),
    stop() {
      clearTimeout(first);
      clearInterval(interval);
      clearTimeout(endTimer);
      end();
    },
  };
}

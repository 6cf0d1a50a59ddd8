/**
 * How many requests the simulated store's host runs at once (`rateLimit.maxConcurrent`);
 * a request beyond it is answered 503 by the web server before WordPress runs.
 *
 * Where the rule comes from: WooCommerce's REST API (wc/v3) has no rate limit of
 * its own. Only the Store API (wc/store) has one, off by default, for POST only
 * (25 requests per 10 s; https://developer.woocommerce.com/docs/apis/store-api/rate-limiting),
 * and channelsync never calls it. What stops a store is its host: PHP-FPM runs at
 * most `pm.max_children` PHP processes (https://www.php.net/manual/en/install.fpm.configuration.php),
 * and a small host's front server answers the rest with 503. That is the one limit
 * kept here, and the client's adaptive concurrency is what it exercises.
 *
 * The limit belongs to the store, not to one simulator process: two simulator
 * processes serving one store (the same `statePath`) are one host, so they
 * share it. The least
 * machinery that is correct across processes is a directory beside the state
 * file holding one empty file per request in flight, named by pid: a request
 * creates its file, then counts the files of live processes (a crashed
 * process's files are removed, so they never hold the host forever) and, above
 * the cap, removes its own and is refused. Creating before counting means two
 * requests can never both pass beyond the cap; at worst two racing requests
 * both see each other and are both refused, which an overloaded host does too.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Capacity {
  /** A release function when the request may run, null when the host is full. */
  tryAcquire(): (() => void) | null;
  /** Requests in flight that this process counts (its own, for the shared one). */
  readonly inFlight: number;
}

/** The cap within one process (no `statePath`). */
export function localCapacity(max: number): Capacity {
  let inFlight = 0;
  return {
    get inFlight() {
      return inFlight;
    },
    tryAcquire() {
      if (inFlight >= max) return null;
      inFlight++;
      let released = false;
      return () => {
        if (!released) inFlight--;
        released = true;
      };
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The cap shared by every process that uses `dir` (`<statePath>.inflight`). */
export function sharedCapacity(dir: string, max: number): Capacity {
  mkdirSync(dir, { recursive: true });
  let seq = 0;
  let own = 0;
  return {
    get inFlight() {
      return own;
    },
    tryAcquire() {
      const mine = join(dir, `${process.pid}-${++seq}`);
      writeFileSync(mine, '', { flag: 'wx' });
      let live = 0;
      for (const name of readdirSync(dir)) {
        const pid = Number(name.split('-')[0]);
        if (pid !== process.pid && !(Number.isInteger(pid) && pid > 0 && alive(pid))) {
          rmSync(join(dir, name), { force: true });
          continue;
        }
        live++;
      }
      if (live > max) {
        rmSync(mine, { force: true });
        return null;
      }
      own++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        own--;
        rmSync(mine, { force: true });
      };
    },
  };
}

/**
 * Fulfilment: orders per second from paid (waiting on the channel) to every
 * push done, auto mode, one daemon process (N orders: full 300, quick 60;
 * BENCH_FULFIL_ORDERS), see ./fleet.ts.
 *
 * Floor: BullMQ's own throughput for empty jobs on the same Redis, at the
 * daemon's concurrency (WORKER_CONCURRENCY, 10), measured in the same run,
 * divided by the jobs an order needs at the least: allocate, pick, pack,
 * ship and the fulfilment push (5; the pull, stock pushes and bookkeeping
 * come on top, which is what the ratio shows). Target: ratio >= 0.3.
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { deleteKeys, REDIS_URL } from '../test/helpers/services.ts';
import { runFleet } from './fleet.ts';
import { atLeast, sized } from './rows.ts';
import type { Scenario } from './types.ts';

const STEPS = 5;
const CONCURRENCY = 10;

/** Empty jobs per second through one BullMQ queue and worker (`jobs` of them, added in bulk first). */
export async function emptyJobRate(jobs: number): Promise<number> {
  const prefix = `{cs-bench-bullmq-${randomBytes(4).toString('hex')}}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('empty', { connection, prefix });
  try {
    for (let i = 0; i < jobs; i += 1000) {
      await queue.addBulk(Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => ({ name: 'empty', data: { id: i + k }, opts: { jobId: `e.${i + k}`, removeOnComplete: true } })));
    }
    let done = 0;
    const started = performance.now();
    const finished = new Promise<void>((resolve) => {
      const worker = new Worker('empty', async () => {}, { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix, concurrency: CONCURRENCY });
      worker.on('completed', () => {
        if (++done === jobs) void worker.close().then(() => resolve());
      });
    });
    await finished;
    return jobs / ((performance.now() - started) / 1000);
  } finally {
    await queue.close();
    connection.disconnect();
    await deleteKeys(`${prefix}*`);
  }
}

const scenario: Scenario = {
  id: 'fulfilment',
  async run(ctx) {
    const orders = sized('BENCH_FULFIL_ORDERS', 300, 60, ctx.quick);
    const empty = await emptyJobRate(orders * STEPS);
    const run = await runFleet(ctx, { daemons: 1, stores: 1, orders, timeoutMs: 15 * 60_000 });
    if (run.duplicates || run.missing) throw new Error(`${run.duplicates} fulfillments made twice, ${run.missing} orders not fulfilled on the channel`);
    return [
      atLeast({
        figure: `fulfilment ${run.orders} orders, paid to every push done, auto mode, 1 daemon`,
        value: run.orders / run.doneSeconds, floor: empty / STEPS, min: 0.3, unit: 'orders/s',
        floorWhat: `BullMQ empty jobs at concurrency ${CONCURRENCY}: ${empty.toFixed(0)} jobs/s, / ${STEPS} steps an order`,
        note: `${run.doneSeconds.toFixed(1)} s in all, of which ${run.ingestSeconds.toFixed(1)} s until every order was pulled; ${run.commitsPerOrder.toFixed(0)} Postgres commits an order (all processes); no fulfillment made twice`,
      }),
    ];
  },
};
export default scenario;

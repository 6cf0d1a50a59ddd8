/**
 * eBay pull: N orders of 1-3 items each (full 2,000, quick 400;
 * BENCH_EBAY_ORDERS) through the connector's `pullOrders` (what the sync job
 * runs), its daily budgets and token cache in Redis as the daemon keeps them,
 * from the eBay simulator (connectors/ebay/simulator) in a process of its own
 * (bench/sim-host.ts): the floor is round trips, and a simulator in this
 * process would serialise its pages on the event loop the connector maps
 * them on, where eBay's servers work beside it.
 *
 * eBay's limits are not per-second buckets but daily call quotas per API
 * (../shared/fixtures/ebay/README.md, rate-limits.json): over the quota eBay
 * answers 429 errorId 2001. The Fulfillment API's own default was not
 * readable in the stored call-limits page; the run uses DAILY_CALLS = 5,000,
 * the quota production keys start with ("a maximum of 5,000 API calls per
 * day", developer.ebay.com/businessbenefits/faq), passed explicitly to the
 * simulator and to the connector's budgets (channelsync's default too).
 *
 * Floors, from the documented limits and N alone, never from the calls the
 * connector made:
 * - calls: ceil(N / 200) getOrders pages (`limit` is at most 200, more fails
 *   with 31100). getOrder per order only where the listing cannot give what
 *   the order needs: cancellation requests, always empty in getOrders, for an
 *   order whose cancelState is not NONE_REQUESTED; the bench's orders have
 *   none, so no getOrder is minimal. The user token is minted before the
 *   timed window (`verify`, as when the channel is added; a daemon holds one
 *   for two hours), so it is not a pull call.
 * - time: a quota of 5,000 calls a day never binds at 10 calls, so the floor
 *   is the minimal calls one after another x the simulator's round trip for
 *   one full page (limit 200, the same filter, body read and parsed),
 *   measured one request at a time with plain fetch, median of 5, in the same
 *   run (as bench/woocommerce-pull.ts does). What the connector adds to
 *   its round trips (mapping, Redis budgets), less what pull.ts overlaps by
 *   asking for the next page while it maps one, is what the ratio shows.
 * - quota: the share of the day's quota the pull's calls used, against the
 *   share of the minimal calls.
 *
 * Both sides warm: the round trip is measured after two discarded requests,
 * and the timed pull follows one untimed pull of the same orders (a daemon
 * that has been running; the quota row counts the timed pull's calls only).
 *
 * The pull starts over a second after the orders were made: eBay's Date
 * header has whole seconds, and pull.ts walks a window again when an order
 * was modified in the second its walk began (an account at rest settles in
 * one walk).
 */
import { ebayFactory } from '../../connectors/ebay/index.ts';
import { PAGE_LIMIT } from '../../connectors/ebay/pull.ts';
import { startSimulators } from '../sim-process.ts';
import { atMost, median, sized } from '../rows.ts';
import type { MarketplacePull } from '../marketplaces.ts';
import { timedFullPull, withMarketplaceConnector } from './connector.ts';

/** getOrders' documented maximum `limit` (sell_fulfillment_v1_oas3.json, parameters[limit]). */
export const ORDERS_PER_PAGE = 200;
/** The daily call quota production keys start with (developer.ebay.com/businessbenefits/faq). */
export const DAILY_CALLS = 5_000;
const ORDERS_PATH = '/sell/fulfillment/v1/order';

/** Minimal Fulfillment API calls to pull `orders` orders without cancellation requests: getOrders pages only. */
export function ebayMinimalCalls(orders: number): { getOrders: number; getOrder: number; total: number } {
  const getOrders = Math.max(1, Math.ceil(orders / ORDERS_PER_PAGE));
  return { getOrders, getOrder: 0, total: getOrders };
}

/** One full getOrders page's round trip, plain fetch with a user token, one at a time, median of 5 (ms). */
async function roundTrip(url: string, credentials: Record<string, unknown>): Promise<number> {
  const basic = Buffer.from(`${String(credentials.clientId)}:${String(credentials.clientSecret)}`).toString('base64');
  const tokenRes = await fetch(`${url}/identity/v1/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: String(credentials.refreshToken) }).toString(),
  });
  const { access_token: token } = (await tokenRes.json()) as { access_token: string };
  const from = new Date(Date.now() - 90 * 86_400_000).toISOString();
  const filter = encodeURIComponent(`lastmodifieddate:[${from}..]`);
  const samples: number[] = [];
  // Two warm-up requests first: the simulator's first pages are compiled while they are served.
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    const res = await fetch(`${url}${ORDERS_PATH}?filter=${filter}&limit=${ORDERS_PER_PAGE}&offset=0`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { orders?: unknown[] };
    if (i >= 2) samples.push(performance.now() - t);
    if (res.status !== 200 || (body.orders ?? []).length === 0) throw new Error(`eBay simulator round trip answered ${res.status} with ${(body.orders ?? []).length} orders`);
  }
  return median(samples);
}

const ebay: MarketplacePull = {
  kind: 'ebay',
  rate: `daily quota ${DAILY_CALLS.toLocaleString('en-US')} calls, getOrders limit ${ORDERS_PER_PAGE}: developer.ebay.com/businessbenefits/faq, sell_fulfillment_v1_oas3.json`,
  async run(ctx) {
    if (PAGE_LIMIT > ORDERS_PER_PAGE) throw new Error(`the connector pages by ${PAGE_LIMIT}, over getOrders' documented maximum ${ORDERS_PER_PAGE}`);
    const count = sized('BENCH_EBAY_ORDERS', 2_000, 400, ctx.quick);
    const host = await startSimulators([{ name: 'ebay', kind: 'ebay', options: { dailyCalls: DAILY_CALLS } }]);
    const store = host.stores.ebay!;
    const exchanges = () => host.call<Array<{ path: string; status: number }>>('ebay', 'exchanges');
    try {
      return await withMarketplaceConnector(ebayFactory, store, async (connector) => {
        for (let j = 1; j <= 3; j++) await host.call('ebay', 'createProduct', { sku: `EBAY-BENCH-${j}`, title: `Bench item ${j}`, price: '19.99', stock: 1_000_000 });
        // Orders of 1, 2 and 3 lines, a third each.
        for (let k = 0; k < 3; k++) {
          const n = Math.floor(count / 3) + (k < count % 3 ? 1 : 0);
          await host.call('ebay', 'createOrders', n, { lines: Array.from({ length: k + 1 }, (_, j) => ({ sku: `EBAY-BENCH-${j + 1}`, quantity: 1 + (k % 2) })) });
        }
        // eBay's Date header has whole seconds: orders modified in the second the walk begins count as moved (pull.ts).
        await new Promise((r) => setTimeout(r, 1_100));
        const minimal = ebayMinimalCalls(count);
        await connector.verify();
        // One untimed pull first, so the connector is as warm as the simulator the round trip is measured on.
        for await (const _ of connector.pullOrders(null)) void _;
        const rtt = await roundTrip(store.url, store.credentials);
        const floorSeconds = (minimal.total * rtt) / 1000;
        ctx.progress(`pulling ${count} ebay orders (floor ${minimal.total} calls x ${rtt.toFixed(1)} ms = ${floorSeconds.toFixed(2)} s)`);
        const firstExchange = (await exchanges()).length;
        const { seconds, items } = await timedFullPull(connector, 'ebay', count);
        // The log keeps the last 1000 exchanges: a pull of this size makes far fewer.
        const log1 = await exchanges();
        if (log1.length >= 1000) throw new Error('the simulator dropped exchanges from its log; the calls cannot be counted');
        const during = log1.slice(firstExchange);
        const listCalls = during.filter((e) => e.path === ORDERS_PATH).length;
        const orderCalls = during.filter((e) => e.path.startsWith(`${ORDERS_PATH}/`)).length;
        const throttled = during.filter((e) => e.status === 429).length;
        const pct = (calls: number) => (100 * calls) / DAILY_CALLS;
        return {
          orders: count,
          seconds,
          floorSeconds,
          floorWhat: `${minimal.total} minimal calls (ceil(${count} / ${ORDERS_PER_PAGE}) getOrders) one after another x ${rtt.toFixed(1)} ms, the simulator's round trip for one full page measured with plain fetch (median of 5); the daily quota does not bind at this size`,
          note: `${items} items; ${during.length} requests (getOrders ${listCalls}, getOrder ${orderCalls}, other ${during.length - listCalls - orderCalls}), ${throttled} 429 errorId 2001; simulator in its own process`,
          rows: [
            atMost({
              figure: 'ebay pull calls per order',
              value: during.length / count, floor: minimal.total / count, max: 1.1, unit: 'calls',
              floorWhat: `minimal calls: ceil(${count} / ${ORDERS_PER_PAGE}) getOrders pages, no getOrder (no order has a cancellation request), over ${count} orders`,
              note: 'requests the simulator received during the pull, 429 answers included',
            }),
            atMost({
              figure: `ebay pull share of the daily quota (${DAILY_CALLS.toLocaleString('en-US')} calls)`,
              value: pct(during.length), floor: pct(minimal.total), max: 1.1, unit: '%',
              floorWhat: `${minimal.total} minimal calls / ${DAILY_CALLS.toLocaleString('en-US')} a day`,
              note: `${during.length} calls of the day's ${DAILY_CALLS.toLocaleString('en-US')}`,
            }),
          ],
        };
      });
    } finally {
      host.stop();
    }
  },
};
export default ebay;

/**
 * An in-memory channel for stock tests: a Connector whose stock lives in a
 * Map, installed into an App in place of the registry's connector. Used where
 * a test is about channelsync's side (ledger, rules, debounce, set-based
 * compare), and until the channel simulators are registered.
 */
import type { App } from '../../src/app.ts';
import type { ChannelListing, Connector, ListingRef, OrderPage, StockPush, StockPushResult, StockReading } from '../../connectors/types.ts';
import type { ChannelRecord } from '../../connectors/types.ts';

export class MemoryChannel implements Connector {
  readonly kind = 'memory';
  readonly capabilities = { webhooks: false, backfill: false, cancel: false, refund: false };
  readonly stock = new Map<string, number | null>();
  readonly titles = new Map<string, string>();
  pushCalls: StockPush[][] = [];
  readCalls = 0;
  /** Added to every read and push call, ms. */
  latencyMs = 0;
  /** Latencies for the next push calls, one each, before `latencyMs` applies again. */
  pushLatencies: number[] = [];

  constructor(readonly name: string) {}

  async verify(): Promise<{ store: string; detail: string }> {
    return { store: this.name, detail: `memory channel ${this.name}` };
  }

  async *pullOrders(): AsyncIterable<OrderPage> {}
  async fetchOrder(): Promise<null> {
    return null;
  }
  parseWebhook(): never {
    throw new Error('no webhooks');
  }
  readonly fulfilmentKeeps = { trackingUrl: 'none' } as const;
  async pushFulfillment(): Promise<never> {
    throw new Error('no fulfilment');
  }
  async *listListings(): AsyncIterable<ChannelListing[]> {
    const all = [...this.stock.keys()];
    for (let i = 0; i < all.length; i += 100) {
      yield all.slice(i, i + 100).map((sku) => ({
        sku,
        title: this.titles.get(sku) ?? sku,
        productExternalId: `p-${sku}`,
        variantExternalId: `v-${sku}`,
        inventoryItemExternalId: `i-${sku}`,
        available: this.stock.get(sku) ?? null,
      }));
    }
  }
  async readStock(listings: ListingRef[]): Promise<StockReading[]> {
    this.readCalls += 1;
    await sleep(this.latencyMs);
    return listings.map((l) => ({ sku: l.sku, available: this.stock.has(l.sku) ? this.stock.get(l.sku)! : null }));
  }
  async pushStock(levels: StockPush[]): Promise<StockPushResult[]> {
    this.pushCalls.push(levels);
    await sleep(this.pushLatencies.shift() ?? this.latencyMs);
    return levels.map((l) => {
      if (!this.stock.has(l.listing.sku)) return { sku: l.listing.sku, ok: false, error: 'no such product' };
      this.stock.set(l.listing.sku, l.available);
      return { sku: l.listing.sku, ok: true };
    });
  }
  async close(): Promise<void> {}
}

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/** Creates a channel row and makes `app` use `channel` as its connector. Returns the channel id. */
export async function addMemoryChannel(app: App, channel: MemoryChannel): Promise<number> {
  const row = await app.db
    .insertInto('channels')
    .values({ kind: 'memory', name: channel.name, credentials_encrypted: 'unused' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const record: ChannelRecord = { id: row.id, kind: 'memory', name: channel.name, settings: {}, credentials: {} };
  const previous = app.connectors.get.bind(app.connectors);
  app.connectors.get = async (id: number) => (id === row.id ? { channel: record, connector: channel } : previous(id));
  return row.id;
}

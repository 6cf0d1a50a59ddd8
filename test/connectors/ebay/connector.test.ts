/**
 * The eBay connector against the eBay simulator, through the Connector contract:
 * orders in with exact money and legacy ids, cancellations read with getOrder,
 * orders changing while pulled ending at their latest version, one shipment per
 * package however often pushed, stock in one-SKU calls and the daily revision cap.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ebayFactory } from '../../../connectors/ebay/index.ts';
import { SCOPE_BASE, type EbaySimulator } from '../../../connectors/ebay/simulator/index.ts';
import { DAILY_REVISIONS } from '../../../connectors/ebay/simulator/state.ts';
import type { UnifiedOrder } from '../../../src/domain/order.ts';
import { connectToSimulator, pullAll, type ConnectedSimulator } from '../../helpers/connectors.ts';
import { testPrefix } from '../../helpers/services.ts';

describe('eBay connector', () => {
  const keys = testPrefix();
  let c: ConnectedSimulator<EbaySimulator>;
  let sim: EbaySimulator;

  beforeAll(async () => {
    c = await connectToSimulator(ebayFactory, keys.prefix);
    sim = c.sim;
    await sim.createProduct({ sku: 'MUG', title: 'Mug', price: '12.50', stock: 5000 });
    await sim.createProduct({ sku: 'CAP', title: 'Cap', price: '7.25', stock: 5000 });
  });
  afterAll(async () => {
    await c?.close();
    await keys.cleanup();
  });

  /** Moves every order's times back, as if minutes had passed. */
  function backdate(minutes: number): void {
    const shift = minutes * 60_000;
    for (const o of sim.state.orders.values()) {
      o.creationDate = new Date(Date.parse(o.creationDate) - shift).toISOString();
      o.lastModifiedDate = new Date(Date.parse(o.lastModifiedDate) - shift).toISOString();
    }
  }

  it('verifies the account and its scopes', async () => {
    const v = await c.connector.verify();
    expect(v.store).toBe('eBay EBAY_US');
    expect(v.detail).toMatch(/scopes sell.fulfillment, sell.inventory, commerce.notification.subscription/);
  });

  it('names a scope the seller did not grant at connect time', async () => {
    const other = await connectToSimulator(ebayFactory, `${keys.prefix}:scopes`, {
      channelId: 2,
      simulator: { grantedScopes: [`${SCOPE_BASE}/sell.fulfillment`, `${SCOPE_BASE}/sell.inventory`] },
    });
    try {
      // The refresh asks for the notification scope too: eBay refuses a scope beyond the grant.
      await expect(other.connector.verify()).rejects.toThrow(/refused the scopes .*commerce.notification.subscription.*reconnect the account granting them/);
    } finally {
      await other.close();
    }
  });

  it('pulls an order with exact money, SKUs and legacy ids', async () => {
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'MUG', quantity: 2 }, { sku: 'CAP', quantity: 1 }], email: 'ada@example.com' });
    backdate(5);
    const { orders } = await pullAll(c.connector);
    const order = orders.find((o) => o.externalId === externalId)!;
    expect(order.totals.total).toBe('32.25');
    expect(order.currency).toBe('USD');
    expect(order.customer?.email).toBe('ada@example.com');
    expect(order.lines.map((l) => [l.sku, l.quantity, l.unitPrice]).sort()).toEqual([
      ['CAP', 1, '7.25'],
      ['MUG', 2, '12.50'],
    ]);
    const listing = sim.state.offersOf('MUG')[0]!.listing.listingId;
    expect(order.lines.find((l) => l.sku === 'MUG')!.productExternalId).toBe(listing);
  });

  it('resumes from its cursor, with cancellation requests read from getOrder', async () => {
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'MUG', quantity: 1 }] });
    backdate(5);
    const first = await pullAll(c.connector);
    await sim.cancelOrder(externalId);
    backdate(2);
    const next = await pullAll(c.connector, first.cursor);
    const after = next.orders.filter((o) => o.externalId === externalId).at(-1)!;
    expect(after.channelState).toBe('cancelled');
    const raw = after.raw as { cancelStatus: { cancelRequests: unknown[] } };
    expect(raw.cancelStatus.cancelRequests).toHaveLength(1);
  });

  it('sets aside an order it cannot read, also one read again for its cancellation, and pulls the others', async () => {
    const bad = await sim.createOrder({ lines: [{ sku: 'MUG', quantity: 1 }] });
    const good = await sim.createOrder({ lines: [{ sku: 'CAP', quantity: 1 }] });
    await sim.cancelOrder(bad.externalId);
    // A line in another currency than the order's: the mapping refuses to add it up.
    sim.state.orders.get(bad.externalId)!.lineItems[0]!.lineItemCost.currency = 'EUR';
    const pages = [];
    for await (const page of c.connector.pullOrders(null)) pages.push(page);
    expect(pages.flatMap((p) => p.orders).some((o) => o.externalId === good.externalId)).toBe(true);
    const rejected = pages.flatMap((p) => p.rejected ?? []);
    expect(rejected.map((r) => r.externalId)).toEqual([bad.externalId]);
    expect(rejected[0]!.reason).toMatch(/in EUR, the order in USD/);
    sim.state.orders.delete(bad.externalId);
  });

  it('2,000 orders changing while pulled end at their latest version, even sorted the worst way for offset paging', async () => {
    for (let i = 0; i < 2000; i++) await sim.createOrder({ lines: [{ sku: 'CAP', quantity: 1 }] });
    backdate(30);
    // The spec names no sort: by lastModifiedDate ascending, every order changed behind the
    // offset jumps to the end and moves the rest back one place, so a naive walk skips orders
    // while getOrders' total stays the same.
    sim.listOrder = 'modified-asc';
    const latest = new Map<string, UnifiedOrder>();
    const keep = (o: UnifiedOrder) => {
      if (!latest.has(o.externalId) || latest.get(o.externalId)!.updatedAt <= o.updatedAt) latest.set(o.externalId, o);
    };
    let cursor: string | null = null;
    let pages = 0;
    const moved = new Set<string>();
    try {
      for await (const page of c.connector.pullOrders(null)) {
        page.orders.forEach(keep);
        cursor = page.cursor;
        pages += 1;
        // During the first walk's pages, orders already read change (a buyer's message, a payment).
        if (pages <= 8) {
          const read = [...latest.keys()].filter((id) => !moved.has(id)).slice(0, 25);
          for (const id of read) {
            await sim.touchOrder(id);
            moved.add(id);
          }
        }
      }
    } finally {
      sim.listOrder = 'creation-desc';
    }
    expect(moved.size).toBe(200);
    for (const o of sim.state.orders.values()) {
      expect(latest.get(o.orderId)?.updatedAt.toISOString(), o.orderId).toBe(o.lastModifiedDate);
    }
    // And the cursor moved on: the next pull re-reads its overlap (the changed orders), not the 2,000.
    const next = await pullAll(c.connector, cursor);
    expect(next.orders.length).toBeLessThan(400);
    expect(next.orders.length).toBeGreaterThanOrEqual(200);
  });

  it('asks for the next page while the caller still holds this one, and none past the last', async () => {
    for (let i = 0; i < 250; i++) await sim.createOrder({ lines: [{ sku: 'MUG', quantity: 1 }] });
    backdate(5);
    sim.exchanges.length = 0;
    const listCalls = () => sim.exchanges.filter((e) => e.method === 'GET' && e.path === '/sell/fulfillment/v1/order').length;
    const pages = c.connector.pullOrders(null)[Symbol.asyncIterator]();
    expect((await pages.next()).done).toBe(false);
    // The caller has not asked for page two: it is on its way (the answer lands in the log) all the same.
    await vi.waitFor(() => expect(listCalls()).toBe(2));
    let yielded = 1;
    while (!(await pages.next()).done) yielded++;
    expect(yielded).toBeGreaterThan(2);
    expect(listCalls()).toBe(yielded);
  });

  it('marks a package shipped once, however often it is pushed', async () => {
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'MUG', quantity: 1 }] });
    const order = (await c.connector.fetchOrder(externalId))!;
    const push = {
      orderExternalId: externalId,
      shipmentId: 1,
      lines: order.lines.map((l) => ({ lineExternalId: l.externalId, sku: l.sku, quantity: l.quantity })),
      carrier: 'USPS',
      service: null,
      trackingNumber: '9400 1000-0000 0000',
      trackingUrl: null,
      notifyCustomer: true,
      completesOrder: true,
    };
    const first = await c.connector.pushFulfillment(push);
    const second = await c.connector.pushFulfillment(push);
    expect(first).toEqual({ externalRef: '9400100000000000', alreadyDone: false });
    expect(second.alreadyDone).toBe(true);
    expect(await sim.fulfillments(externalId)).toEqual([{ trackingCompany: 'USPS', trackingNumber: '9400100000000000', trackingUrl: null, lineItems: [{ sku: 'MUG', quantity: 1 }], customerNotified: true }]);
    expect((await c.connector.fetchOrder(externalId))!.fulfillmentStatus).toBe('fulfilled');
  });

  it('imports listings and reads and writes stock by SKU', async () => {
    const listings = [];
    for await (const page of c.connector.listListings()) listings.push(...page);
    const mug = listings.find((l) => l.sku === 'MUG')!;
    expect(mug.variantExternalId).toBe(sim.state.offersOf('MUG')[0]!.offerId);
    expect(await c.connector.pushStock([{ listing: mug, available: 17, intent: 't:1' }])).toEqual([{ sku: 'MUG', ok: true }]);
    expect(await sim.stockOf('MUG')).toBe(17);
    await sim.setStock('MUG', 3);
    expect(await c.connector.readStock([mug])).toEqual([{ sku: 'MUG', available: 3 }]);
  });

  it('tells a person when a SKU has used its 250 daily revisions, and sends nothing for it', async () => {
    await sim.createProduct({ sku: 'BUSY', title: 'Busy', price: '1.00', stock: 1 });
    const listing = { sku: 'BUSY', productExternalId: null, variantExternalId: null, inventoryItemExternalId: 'BUSY' };
    for (let i = 0; i < DAILY_REVISIONS - 1; i++) expect((await c.connector.pushStock([{ listing, available: i, intent: `t:${i}` }]))[0]!.ok).toBe(true);
    // Two workers pushing the last revision of the day at once: one is sent, the other waits for midnight.
    const racing = await Promise.all([0, 1].map((k) => c.connector.pushStock([{ listing, available: 500 + k, intent: `t:race${k}` }])));
    const sent = racing.flat().filter((r) => r.ok);
    expect(sent).toHaveLength(1);
    expect(racing.flat().find((r) => !r.ok)).toMatchObject({ retryable: true, error: expect.stringMatching(/250 revisions .* SKU BUSY/) });
    const calls = sim.stats.calls;
    const [over] = await c.connector.pushStock([{ listing, available: 999, intent: 't:over' }]);
    expect(over).toMatchObject({ sku: 'BUSY', ok: false, retryable: true });
    expect(over!.error).toMatch(/250 revisions .* SKU BUSY/);
    expect([500, 501]).toContain(await sim.stockOf('BUSY'));
    // Only the offer lookup went out; no revision was sent.
    expect(sim.stats.calls - calls).toBe(1);
  });
});

/**
 * Reserving what the channel reserves: a WooCommerce on-hold order (stock
 * reduced on the store, payment not in) holds its units here too, so stock
 * pushes and reconciliation show the same number as the store, but it is not
 * picked until paid. Orders are the recorded WooCommerce 7.9 order, mapped by
 * the real connector mapping.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapOrder, parseOrder, wooOrderSchema } from '../../connectors/woocommerce/mapping.ts';
import { saveOrders } from '../helpers/orders.ts';
import { allocateOrder } from '../../src/fulfilment/allocate.ts';
import { startPicking } from '../../src/fulfilment/pickpack.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { channel, level, location, placeOrder, sku, stock } from './fixtures.ts';

const { cases } = JSON.parse(
  readFileSync(new URL('../../../shared/fixtures/woocommerce/captures/rest-v3.json', import.meta.url), 'utf8'),
) as { cases: Record<string, { response: { body: Record<string, unknown> } }> };

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

let seq = 0;
/** The recorded processing order (2 x MUG-BLUE-2, 1 x TEE-S) in another status, modified `minute` minutes later. */
function wooOrder(id: number, status: string, minute: number, edit: (raw: Record<string, unknown>) => void = () => {}) {
  const raw = structuredClone(cases.orderCreate!.response.body);
  raw.id = id;
  raw.status = status;
  raw.date_modified_gmt = `2026-11-26T02:${String(minute).padStart(2, '0')}:00`;
  if (status !== 'processing') raw.date_paid_gmt = null;
  edit(raw);
  return parseOrder(raw);
}

async function shop(kind: string) {
  const { app } = t;
  seq++;
  const ch = await channel(app, `${kind}-${seq}`, kind);
  const loc = await location(app, `L${seq}`);
  const mug = await sku(app, `MUG-BLUE-2-${seq}`);
  await stock(app, mug, loc, 10);
  const available = async () =>
    (await app.db.selectFrom('channel_stock_expected').select('expected').where('channel_id', '=', ch).where('sku_id', '=', mug).executeTakeFirstOrThrow()).expected;
  await app.db.insertInto('channel_listings').values({ channel_id: ch, sku_id: mug }).execute();
  return { ch, loc, mug, available, sku: `MUG-BLUE-2-${seq}` };
}

const onlyMugs = (skuCode: string) => (raw: Record<string, unknown>) => {
  const lines = raw.line_items as Array<Record<string, unknown>>;
  raw.line_items = [{ ...lines[0]!, sku: skuCode }];
};

describe('orders the channel holds stock for before payment', () => {
  it('reserves a WooCommerce on-hold order, refuses to pick it, and lets it go once paid', async () => {
    const { app } = t;
    const s = await shop('woocommerce');
    const [saved] = await saveOrders(app.db, s.ch, [wooOrder(501, 'on-hold', 0, onlyMugs(s.sku))]);
    const orderId = saved!.orderId!;

    const held = await allocateOrder(app, orderId, { actor: 'test' });
    expect(held).toMatchObject({ outcome: 'reserved, waiting for payment', ready: [] });
    // The store took 2 mugs off its stock when the order went on-hold; so do we.
    expect(await level(app, s.mug, s.loc)).toEqual({ on_hand: 10, reserved: 2 });
    expect(await s.available()).toBe(8);
    const [f] = await app.db.selectFrom('fulfillments').select(['id', 'state']).where('order_id', '=', orderId).execute();
    expect(f!.state).toBe('allocated');
    await expect(startPicking(app, f!.id, { actor: 'test' })).rejects.toThrow(/its payment is pending; its units stay reserved/);

    // The merchant confirms the bank transfer: on-hold -> processing.
    await saveOrders(app.db, s.ch, [wooOrder(501, 'processing', 1, onlyMugs(s.sku))]);
    const paid = await allocateOrder(app, orderId, { actor: 'test' });
    expect(paid.ready).toEqual([f!.id]);
    expect(await level(app, s.mug, s.loc)).toEqual({ on_hand: 10, reserved: 2 });
    await startPicking(app, f!.id, { actor: 'test' });
    expect((await app.db.selectFrom('fulfillments').select('state').where('id', '=', f!.id).executeTakeFirstOrThrow()).state).toBe('picking');
  });

  it('does not reserve a WooCommerce pending order (the store has not reduced its stock)', async () => {
    const { app } = t;
    const s = await shop('woocommerce');
    const [saved] = await saveOrders(app.db, s.ch, [wooOrder(502, 'pending', 0, onlyMugs(s.sku))]);
    expect((await allocateOrder(app, saved!.orderId!, { actor: 'test' })).outcome).toBe('waiting for payment');
    expect(await s.available()).toBe(10);
  });

  it('reserves a Shopify order awaiting payment, as Shopify commits stock at creation', async () => {
    const { app } = t;
    const s = await shop('shopify');
    const orderId = await placeOrder(app, s.ch, [[s.sku, 3]], { financialStatus: 'pending' });
    expect((await allocateOrder(app, orderId, { actor: 'test' })).outcome).toBe('reserved, waiting for payment');
    expect(await s.available()).toBe(7);
  });
});

describe('a partially refunded order', () => {
  it('ships the units not refunded (the recorded order 21: 3 mugs, 1 refunded)', async () => {
    const { app } = t;
    const s = await shop('woocommerce');
    const raw = structuredClone(cases.orderAfterRefund!.response.body);
    (raw.line_items as Array<Record<string, unknown>>)[0]!.sku = s.sku;
    // What the connector reads from orders/21/refunds: the recorded refund's line (quantity -1, _refunded_item_id 9).
    const refund = cases.refundCreateRestock!.response.body as { line_items: Array<{ quantity: number; meta_data: Array<{ key: string; value: string }> }> };
    const refunded = new Map(refund.line_items.map((l) => [l.meta_data.find((m) => m.key === '_refunded_item_id')!.value, -l.quantity]));
    const order = mapOrder(wooOrderSchema.parse(raw), raw, undefined, refunded);
    expect(order.financialStatus).toBe('partially_refunded');
    expect(order.lines.map((l) => [l.quantity, l.unitPrice])).toEqual([[2, '12.50']]);

    const [saved] = await saveOrders(app.db, s.ch, [order]);
    const result = await allocateOrder(app, saved!.orderId!, { actor: 'test' });
    expect(result.outcome).toBe('allocated');
    expect(result.ready).toHaveLength(1);
    expect(await level(app, s.mug, s.loc)).toEqual({ on_hand: 10, reserved: 2 });
  });
});

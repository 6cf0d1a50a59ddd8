/**
 * Webhook bodies of an older API version, end to end: a subscription the
 * connector creates while the app's webhook version is 2019-01 gets REST
 * bodies with plain amounts and no `*_set` (as Shopify serializes for that
 * version), and the connector maps them to the same order a GraphQL read
 * gives. Before the mapping read plain amounts, such a body was refused with
 * 400 ("body is not an order") or mapped to totals of 0.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shopifyFactory, type ShopifyConnector } from '../../../connectors/shopify/index.ts';
import type { ShopifySimulator } from '../../../connectors/shopify/simulator/index.ts';
import { connectToSimulator, type ConnectedSimulator } from '../../helpers/connectors.ts';
import { testPrefix } from '../../helpers/services.ts';

const keys = testPrefix();
const deliveries: Array<{ body: Buffer; headers: Record<string, string | undefined> }> = [];
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    deliveries.push({ body: Buffer.concat(chunks), headers: req.headers as Record<string, string | undefined> });
    res.end('ok');
  });
});
let c: ConnectedSimulator<ShopifySimulator, ShopifyConnector>;
let sim: ShopifySimulator;
let connector: ShopifyConnector;
let url: string;

beforeAll(async () => {
  // The receiver is on http://127.0.0.1, which real Shopify refuses.
  c = await connectToSimulator(shopifyFactory, keys.prefix, { simulator: { products: 2, allowLocalWebhooks: true, webhookApiVersion: '2019-01' } });
  ({ sim, connector } = c);
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/1`;
});

afterAll(async () => {
  await c?.close();
  receiver.close();
  await keys.cleanup();
});

describe('a subscription of API version 2019-01', () => {
  it('is sent plain-amount REST bodies, which the connector maps to the order a GraphQL read gives', async () => {
    expect(await connector.registerWebhooks(url)).toHaveLength(3);
    const listed = await sim.graphql('{ webhookSubscriptions(first: 5) { nodes { topic apiVersion { handle } } } }');
    expect(listed.body.data.webhookSubscriptions.nodes.map((n: any) => n.apiVersion.handle)).toEqual(['2019-01', '2019-01', '2019-01']);

    const { externalId } = await sim.createOrder({ lines: [{ sku: 'SIM-0001', quantity: 2 }, { sku: 'SIM-0002', quantity: 1 }] });
    await sim.flushWebhooks();
    const delivery = deliveries.find((d) => d.headers['x-shopify-topic'] === 'orders/create');
    expect(delivery?.headers['x-shopify-api-version']).toBe('2019-01');
    const body = JSON.parse(delivery!.body.toString('utf8'));
    // What that version sends: the plain amounts, no money sets anywhere.
    expect(delivery!.body.toString('utf8')).not.toMatch(/_set"/);
    expect(body.line_items.map((l: any) => typeof l.price)).toEqual(['string', 'string']);
    expect(typeof body.total_price).toBe('string');
    expect(typeof body.total_tax).toBe('string');

    const parsed = connector.parseWebhook({ rawBody: delivery!.body, headers: delivery!.headers });
    if (parsed.event.type !== 'order') throw new Error(`expected an order, got ${parsed.event.type}`);
    const read = await connector.fetchOrder(externalId);
    expect(parsed.event.order.externalId).toBe(externalId);
    expect(parsed.event.order.totals).toEqual(read!.totals);
    expect(Number(parsed.event.order.totals.total)).toBeGreaterThan(0);
    expect(parsed.event.order.lines.map((l) => [l.sku, l.quantity, l.unitPrice, l.tax])).toEqual(read!.lines.map((l) => [l.sku, l.quantity, l.unitPrice, l.tax]));
  });
});

/**
 * The WooCommerce simulator delivers like WordPress 6.1 + WooCommerce 7.9:
 * wp_http_validate_url refuses private hosts and ports other than
 * 80/443/8080 ("A valid URL was not provided.", nothing sent), the ping on
 * creation is the one captured (fixtures/woocommerce/captures/webhooks.json),
 * failures are counted and the webhook is disabled once the count exceeds 5.
 * The receiver is on 127.0.0.1 like the store, so only the port rule applies
 * (WordPress skips the private-host rule for its own host).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { MAX_WEBHOOK_DELIVERY_FAILURES, startWooCommerceSimulator, type WooCommerceSimulator } from '../../../connectors/woocommerce/simulator/index.ts';
import { wordpressUrlRefusal, wordpressUrlRefusals } from '../../../connectors/woocommerce/safe-url.ts';

const captured = JSON.parse(readFileSync(new URL('../../../../shared/fixtures/woocommerce/captures/webhooks.json', import.meta.url), 'utf8')) as {
  deliveries: Array<{ headers: Record<string, string>; rawBody: string }>;
};

let receiver: http.Server;
let hookUrl = '';
const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
const sims: WooCommerceSimulator[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
  receiver.close();
});

async function store(allowLocalWebhooks: boolean) {
  const sim = await startWooCommerceSimulator({ allowLocalWebhooks });
  sims.push(sim);
  await sim.createProduct({ sku: 'HOOK-1', title: 'Hook', price: '2.00', stock: 100 });
  return sim;
}

describe('WooCommerce simulator webhook delivery', () => {
  it('refuses a port other than 80/443/8080 the way WordPress does, and disables the webhook on the seventh failure in a row (count > 5)', async () => {
    const sim = await store(false);
    const before = received.length;
    // Made in the admin screen: no ping, deliveries only.
    const hook = sim.state.createWebhook({ topic: 'order.created', delivery_url: hookUrl, secret: sim.webhookSecret });
    for (let i = 1; i <= MAX_WEBHOOK_DELIVERY_FAILURES + 1; i++) {
      await sim.createOrder({ lines: [{ sku: 'HOOK-1', quantity: 1 }] });
      await sim.flushWebhooks();
      expect(hook.status, `after ${i} failures`).toBe('active');
    }
    await sim.createOrder({ lines: [{ sku: 'HOOK-1', quantity: 1 }] });
    await sim.flushWebhooks();
    expect(hook.status).toBe('disabled');
    // Disabled: no more attempts.
    await sim.createOrder({ lines: [{ sku: 'HOOK-1', quantity: 1 }] });
    await sim.flushWebhooks();
    expect(sim.deliveryLog.filter((l) => l.topic === 'order.created')).toHaveLength(MAX_WEBHOOK_DELIVERY_FAILURES + 2);
    expect(sim.deliveryLog.every((l) => l.responseCode === 'http_request_failed' && l.responseMessage === 'A valid URL was not provided.')).toBe(true);
    expect(received.length).toBe(before);
  });

  it('pings a new webhook with the captured request, only where WordPress may send', async () => {
    for (const allow of [false, true]) {
      const sim = await store(allow);
      const before = received.length;
      sim.setWebhookUrl(hookUrl);
      await sim.flushWebhooks();
      const pings = sim.deliveryLog.filter((l) => l.topic === 'ping');
      expect(pings).toHaveLength(3);
      const ids = [...sim.state.webhooks.keys()];
      if (!allow) {
        expect(pings.every((p) => p.responseCode === 'http_request_failed' && p.responseMessage === 'Error: Delivery URL cannot be reached: A valid URL was not provided.')).toBe(true);
        expect(received.length).toBe(before);
        expect([...sim.state.webhooks.values()].every((w) => w.pendingDelivery)).toBe(true);
        continue;
      }
      const got = received.slice(before);
      expect(got.map((r) => r.body).sort()).toEqual(ids.map((id) => `webhook_id=${id}`).sort());
      const real = captured.deliveries[0]!;
      expect(real.rawBody).toBe('webhook_id=1');
      expect(got[0]!.headers['content-type']).toBe(real.headers['content-type']);
      expect(got[0]!.headers['user-agent']).toBe(real.headers['user-agent']);
      expect(got[0]!.headers['x-wc-webhook-topic']).toBeUndefined();
      expect([...sim.state.webhooks.values()].some((w) => w.pendingDelivery)).toBe(false);
      sim.setWebhookUrl(null);
    }
  });
});

describe('WooCommerce simulator topics', () => {
  it('delivers a topic only to active webhooks subscribed to it', async () => {
    const sim = await store(true);
    const created = sim.state.createWebhook({ topic: 'order.created', delivery_url: hookUrl, secret: sim.webhookSecret });
    const paused = sim.state.createWebhook({ topic: 'order.updated', delivery_url: hookUrl, secret: sim.webhookSecret });
    paused.status = 'paused';
    const before = received.length;
    const { externalId } = await sim.createOrder({ lines: [{ sku: 'HOOK-1', quantity: 1 }] });
    await sim.touchOrder(externalId);
    await sim.cancelOrder(externalId);
    await sim.flushWebhooks();
    const got = received.slice(before).filter((r) => r.headers['x-wc-webhook-topic']);
    expect(got.map((r) => [r.headers['x-wc-webhook-topic'], r.headers['x-wc-webhook-id']])).toEqual([['order.created', String(created.id)]]);
  });
});

describe('WooCommerce simulator delivery ids (WC_Webhook::get_new_delivery_id)', () => {
  it('gives every copy of one delivery the same X-WC-Webhook-Delivery-ID, shaped like the captured one', async () => {
    const sim = await store(true);
    const a = sim.state.createWebhook({ topic: 'order.created', delivery_url: `${hookUrl}?a`, secret: sim.webhookSecret });
    const b = sim.state.createWebhook({ topic: 'order.created', delivery_url: `${hookUrl}?b`, secret: sim.webhookSecret });
    sim.setFaults({ duplicateWebhookRate: 1 });
    const before = received.length;
    await sim.createOrder({ lines: [{ sku: 'HOOK-1', quantity: 1 }] });
    await sim.flushWebhooks();
    const got = received.slice(before).filter((r) => r.headers['x-wc-webhook-topic'] === 'order.created');
    const idsOf = (hook: number) => got.filter((r) => r.headers['x-wc-webhook-id'] === String(hook)).map((r) => r.headers['x-wc-webhook-delivery-id']);
    // Two copies per webhook, one id per webhook: a receiver can tell a copy from a new delivery.
    expect(idsOf(a.id)).toHaveLength(2);
    expect(new Set(idsOf(a.id)).size).toBe(1);
    expect(new Set(idsOf(b.id)).size).toBe(1);
    // The id hashes the webhook id with the second, so another webhook's differs.
    expect(idsOf(a.id)[0]).not.toBe(idsOf(b.id)[0]);
    const real = captured.deliveries.find((d) => d.headers['x-wc-webhook-topic'])!.headers['x-wc-webhook-delivery-id']!;
    expect(idsOf(a.id)[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(real).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('wp_http_validate_url', () => {
  const home = 'https://shop.example.com';
  const resolve = async (host: string) => ({ 'hooks.example.net': '203.0.113.7', 'intranet.example.net': '10.1.2.3' } as Record<string, string>)[host] ?? null;

  it('sends to public hosts on 80, 443 and 8080, and to its own host at its own port', async () => {
    for (const url of ['https://hooks.example.net/webhooks/1', 'http://hooks.example.net:8080/w', 'https://hooks.example.net:443/w']) {
      expect(await wordpressUrlRefusal(url, home, { resolve }), url).toBeNull();
    }
    expect(await wordpressUrlRefusal('http://127.0.0.1:8089/x', 'http://127.0.0.1:8089', { resolve })).toBeNull();
  });

  it('names each rule an address breaks', async () => {
    expect((await wordpressUrlRefusal('https://hooks.example.net:3000/w', home, { resolve }))?.rule).toBe('port');
    expect((await wordpressUrlRefusal('https://intranet.example.net/w', home, { resolve }))?.detail).toMatch(/intranet\.example\.net \(10\.1\.2\.3\) is a private address \(10\.0\.0\.0\/8\)/);
    expect((await wordpressUrlRefusal('https://nowhere.invalid/w', home, { resolve }))?.rule).toBe('dns');
    expect((await wordpressUrlRefusal('https://[::1]/w', home, { resolve }))?.rule).toBe('invalid');
    expect((await wordpressUrlRefusals('http://192.168.1.20:3000/w', home, { resolve })).map((r) => r.rule)).toEqual(['private', 'port']);
    // A plugin's filters (http_request_host_is_external, http_allowed_safe_ports) allow them.
    expect(await wordpressUrlRefusal('http://192.168.1.20:3000/w', home, { resolve, allowPrivateHosts: true, allowAnyPort: true })).toBeNull();
  });
});

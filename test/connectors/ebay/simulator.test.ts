/**
 * The eBay simulator's own rules: destinations only for endpoints eBay could reach
 * (unless local webhooks are allowed), signed deliveries that verify with the key
 * it serves, and a statePath that survives a restart with the same credentials.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyNotification } from '../../../connectors/ebay/notifications.ts';
import { startEbaySimulator } from '../../../connectors/ebay/simulator/index.ts';
import { EbaySimError } from '../../../connectors/ebay/simulator/state.ts';

const dir = mkdtempSync(join(tmpdir(), 'ebay-sim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('eBay simulator', () => {
  it('refuses a destination eBay could not deliver to (http://, loopback) with 195017', async () => {
    const sim = await startEbaySimulator();
    try {
      const err = await sim.notifications
        .createDestination({ name: 'x', status: 'ENABLED', deliveryConfig: { endpoint: 'http://127.0.0.1:9/webhooks/1', verificationToken: 't'.repeat(32) } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EbaySimError);
      expect((err as EbaySimError).errorId).toBe(195017);
      expect((err as EbaySimError).message).toMatch(/HTTPS only/);
    } finally {
      await sim.close();
    }
  });

  it('signs deliveries over the exact bytes, verifiable with the key it serves, hash as it names it', async () => {
    for (const digest of ['SHA1', 'SHA256'] as const) {
      const sim = await startEbaySimulator({ digest });
      try {
        const { body, signature } = sim.signedDelivery('ORDER_CONFIRMATION', { orderId: '01-00001-00001' });
        const keys = {
          async getPublicKey(kid: string) {
            const res = await fetch(`${sim.url}/commerce/notification/v1/public_key/${kid}`, { headers: { authorization: `Bearer ${await appToken(sim)}` } });
            return res.ok ? ((await res.json()) as { algorithm: string; digest: string; key: string }) : null;
          },
        };
        const envelope = await verifyNotification(Buffer.from(body), { 'x-ebay-signature': signature }, keys);
        expect(envelope.notification.data).toEqual({ orderId: '01-00001-00001' });
        await expect(verifyNotification(Buffer.from(JSON.stringify(JSON.parse(body), null, 1)), { 'x-ebay-signature': signature }, keys)).rejects.toThrow(/does not match/);
      } finally {
        await sim.close();
      }
    }
  });

  it('keeps the seller and the app credentials in its statePath across a restart', async () => {
    const statePath = join(dir, 'ebay.json');
    const first = await startEbaySimulator({ statePath, orders: 3 });
    const config = first.channelConfig();
    const ids = [...first.state.orders.keys()];
    await first.close();
    const second = await startEbaySimulator({ statePath, orders: 3 });
    try {
      expect([...second.state.orders.keys()]).toEqual(ids);
      expect(second.channelConfig().credentials).toEqual(config.credentials);
      // No id handed out twice after the restart.
      await second.createProduct({ sku: 'NEW', title: 'New', price: '1.00', stock: 1 });
      const { externalId } = await second.createOrder({ lines: [{ sku: 'NEW', quantity: 1 }] });
      expect(ids).not.toContain(externalId);
    } finally {
      await second.close();
    }
  });
});

async function appToken(sim: Awaited<ReturnType<typeof startEbaySimulator>>): Promise<string> {
  const res = await fetch(`${sim.url}/identity/v1/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${sim.clientId}:${sim.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope',
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

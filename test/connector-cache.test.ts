import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { addChannel, setChannelEnabled } from '../src/db/channels.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

describe('connector cache', () => {
  it('gives jobs asking at once one connector, so per-store limits hold; an edited channel gets a new one', async () => {
    const { app } = t;
    const id = await addChannel(app.db, app.config.secretKey!, {
      kind: 'woocommerce',
      name: 'cache-shop',
      settings: { url: 'http://127.0.0.1:9' },
      credentials: { consumerKey: 'ck_x', consumerSecret: 'cs_x', webhookSecret: 'whsec' },
    });
    // Warm the pool so the lookups really run side by side, as jobs on a busy daemon do.
    await Promise.all(Array.from({ length: 8 }, () => sql`SELECT pg_sleep(0.05)`.execute(app.db)));
    const got = await Promise.all(Array.from({ length: 8 }, () => app.connectors.get(id)));
    expect(new Set(got.map((g) => g.connector)).size).toBe(1);

    await app.db.updateTable('channels').set({ settings: JSON.stringify({ url: 'http://127.0.0.1:10' }), updated_at: sql`now()` }).where('id', '=', id).execute();
    const edited = await app.connectors.get(id);
    expect(edited.connector).not.toBe(got[0]!.connector);
    expect(edited.channel.settings).toMatchObject({ url: 'http://127.0.0.1:10' });

    await setChannelEnabled(app.db, id, false);
    await expect(app.connectors.get(id)).rejects.toThrow(`channel ${id} is disabled`);
  });

  it('refuses a channel whose stored settings no longer validate, naming the problem', async () => {
    const { app } = t;
    const id = await addChannel(app.db, app.config.secretKey!, {
      kind: 'woocommerce',
      name: 'broken-shop',
      settings: { url: 'not a url' },
      credentials: { consumerKey: 'ck_x', consumerSecret: 'cs_x', webhookSecret: 'whsec' },
    });
    await expect(app.connectors.get(id)).rejects.toThrow(new RegExp(`channel ${id} settings: `));
  });
});

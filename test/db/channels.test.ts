import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createDb, type Db } from '../../src/db/index.ts';
import { addChannel, loadChannel, removeChannel, resolveChannelId } from '../../src/db/channels.ts';
import { saveOrders, order } from '../helpers/orders.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';

let database: TestDatabase;
let db: Db;
const key = randomBytes(32);
const secret = 'shpat_0123456789abcdef-very-secret';

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
});
afterAll(async () => {
  await db.destroy();
  await database.drop();
});

describe('channels', () => {
  it('stores credentials encrypted and opens them with the key', async () => {
    const id = await addChannel(db, key, { kind: 'shopify', name: 'main', settings: { shopDomain: 'x.myshopify.com' }, credentials: { accessToken: secret } });
    const raw = await db.selectFrom('channels').select('credentials_encrypted').where('id', '=', id).executeTakeFirstOrThrow();
    expect(raw.credentials_encrypted).toMatch(/^v1:/);
    expect(raw.credentials_encrypted).not.toContain(secret);
    expect(Buffer.from(raw.credentials_encrypted.slice(3), 'base64').toString('latin1')).not.toContain(secret);

    const loaded = await loadChannel(db, key, id);
    expect(loaded?.credentials).toEqual({ accessToken: secret });
    await expect(loadChannel(db, randomBytes(32), id)).rejects.toThrow(/not the key they were stored with/);
  });

  it('refuses credentials copied onto another channel row', async () => {
    const a = await addChannel(db, key, { kind: 'shopify', name: 'a', settings: {}, credentials: { accessToken: 'A' } });
    const b = await addChannel(db, key, { kind: 'shopify', name: 'b', settings: {}, credentials: { accessToken: 'B' } });
    const sealedA = await db.selectFrom('channels').select('credentials_encrypted').where('id', '=', a).executeTakeFirstOrThrow();
    await db.updateTable('channels').set({ credentials_encrypted: sealedA.credentials_encrypted }).where('id', '=', b).execute();
    await expect(loadChannel(db, key, b)).rejects.toThrow(/cannot be decrypted/);
  });

  it('refuses a duplicate name and keeps a channel that has orders unless purged', async () => {
    await expect(addChannel(db, key, { kind: 'shopify', name: 'main', settings: {}, credentials: {} })).rejects.toThrow(/exists already/);
    const id = await resolveChannelId(db, 'main');
    await saveOrders(db, id, [order()]);
    await expect(removeChannel(db, id, false)).rejects.toThrow(/has 1 orders.*--purge/);
    expect(await removeChannel(db, id, true)).toEqual({ ordersDeleted: 1 });
    await expect(resolveChannelId(db, 'main')).rejects.toThrow(/no channel with id or name "main"/);
  });
});

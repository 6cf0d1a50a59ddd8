/**
 * eBay refunds through issueRefund, signed as eBay requires for EU/UK sellers:
 * the signature reproduces eBay's published test vector; the simulator (an EBAY_GB
 * seller) refuses an unsigned, tampered or re-targeted request with eBay's errors;
 * the signing key is created through the Key Management API once and kept sealed
 * with the channel's credentials in Postgres; a refund pushed twice, or after a run
 * that died once eBay had accepted it, refunds once; eBay's refusals are given up or
 * retried as its error tables say; every body validates against the spec in ../shared.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ebayFactory } from '../../../connectors/ebay/index.ts';
import { EbaySignatureError, issueRefundBody } from '../../../connectors/ebay/refunds.ts';
import { keyManagementUrl } from '../../../connectors/ebay/signing-keys.ts';
import { signatureHeaders } from '../../../connectors/ebay/signing.ts';
import { startEbaySimulator, type EbaySimulator } from '../../../connectors/ebay/simulator/index.ts';
import type { Connector, RefundPush } from '../../../connectors/types.ts';
import { createDb, type Db } from '../../../src/db/index.ts';
import { line as unifiedLine, order as unifiedOrder, saveOrders } from '../../helpers/orders.ts';
import { addChannel, loadChannel, storeCredential } from '../../../src/db/channels.ts';
import { PermanentError, RetryableError } from '../../../src/domain/errors.ts';
import { refundPushOf } from '../../../src/fulfilment/refunds.ts';
import { RedisRateBudget, RedisSharedKV } from '../../../src/queue/shared-state.ts';
import { createTestDatabase, REDIS_URL, testPrefix, type TestDatabase } from '../../helpers/services.ts';
import { expectExchangesValid, expectValid, type CallSchema } from './spec-schemas.ts';

/**
 * eBay's test vector (README of eBay/digital-signature-verification-ebay-api, Apache-2.0):
 * the Ed25519 test key of the IETF draft, its JWE, and the headers of a valid request.
 */
const VECTOR = {
  privateKey: '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----',
  jwe: 'eyJ6aXAiOiJERUYiLCJlbmMiOiJBMjU2R0NNIiwidGFnIjoiSGdLcjNSSWFlZll0Mkd4blBUUTEwUSIsImFsZyI6IkEyNTZHQ01LVyIsIml2IjoiQTVOQXFYUXlITkNIT01GVSJ9.z3JcS0vvxrYboqpySAq_Znww-3V6AllxmJP5JEMkuLY.K1f4MVMEc8ylbfSS.fASwJyMCk2tXZsNWk13IcuVgSWTOcynSdAoJrK4WApZANlxAP9J0qr0Jz_4aFldFDSZ5tfuxLGqzJmWU7CiZWwNjk2XoVy8q5ogMrFNFwFXP4SrX1XORhNLZPTyS5DEqLDPYn2NX944xendEwfcxxXsTSeNCUnmSyfitiscUC04GYOfn0UWQ2buSWx7Yod0IR2GtTGUsM9o3J-riuNDKhw.rRsWM1Sl_2stTnZLJkWVmQ',
  created: 1659651955,
  body: '{"hello": "world"}',
  contentDigest: 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:',
  signatureInput: 'sig1=("content-digest" "x-ebay-signature-key" "@method" "@path" "@authority");created=1659651955',
  signature: 'sig1=:uunxYrXKC8KaoupD5D1DKdmQmrOhz6b4Xbhb3o9d4x4xFIpg++XzEZztOyeOI59rMMjM3NIcFgxBH0c1ckpfBw==:',
};

const CALLS: CallSchema[] = [
  ['GET', /^\/sell\/fulfillment\/v1\/order\/[^/]+$/, 'fulfillment', null, 'Order'],
  ['POST', /^\/sell\/fulfillment\/v1\/order\/[^/]+\/issue_refund$/, 'fulfillment', 'IssueRefundRequest', 'Refund'],
  ['POST', /^\/developer\/key_management\/v1\/signing_key$/, 'keyManagement', 'CreateSigningKeyRequest', 'SigningKey'],
];

describe('eBay HTTP message signatures', () => {
  it("reproduce eBay's published test vector byte for byte", () => {
    const h = signatureHeaders({ method: 'POST', url: 'http://localhost:8080/verifysignature', body: VECTOR.body }, VECTOR, VECTOR.created);
    expect(h).toEqual({ 'x-ebay-signature-key': VECTOR.jwe, 'content-digest': VECTOR.contentDigest, 'signature-input': VECTOR.signatureInput, signature: VECTOR.signature });
  });

  it('send the Key Management API to apiz, as eBay hosts it', () => {
    expect(keyManagementUrl('https://api.ebay.com')).toBe('https://apiz.ebay.com');
    expect(keyManagementUrl('https://api.sandbox.ebay.com')).toBe('https://apiz.sandbox.ebay.com');
    expect(keyManagementUrl('http://127.0.0.1:4100')).toBe('http://127.0.0.1:4100');
  });
});

describe('eBay signatures outside the EU and the UK', () => {
  it('are not required of an EBAY_US seller, and one sent is ignored, as the guide says', async () => {
    const sim = await startEbaySimulator({ log: pino({ level: 'silent' }) });
    try {
      await sim.createProduct({ sku: 'MUG', title: 'Mug', price: '12.50', stock: 5 });
      const { externalId } = await sim.createOrder({ lines: [{ sku: 'MUG', quantity: 2 }] });
      const basic = Buffer.from(`${sim.clientId}:${sim.clientSecret}`).toString('base64');
      const minted = await fetch(`${sim.url}/identity/v1/oauth2/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: sim.refreshToken }).toString(),
      });
      const token = ((await minted.json()) as { access_token: string }).access_token;
      const url = `${sim.url}/sell/fulfillment/v1/order/${externalId}/issue_refund`;
      const body = JSON.stringify({ reasonForRefund: 'BUYER_RETURN', orderLevelRefundAmount: { value: '1.00', currency: 'USD' } });
      const send = (headers: Record<string, string>) => fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body });
      expect((await send({})).status).toBe(200);
      // eBay's test key is not this app's: ignored all the same for a US seller.
      sim.refunds.settleMs = 0;
      expect((await send(signatureHeaders({ method: 'POST', url, body }, VECTOR))).status).toBe(200);
      expect(sim.state.orders.get(externalId)!.paymentSummary.refunds).toHaveLength(2);
    } finally {
      await sim.close();
    }
  });
});

describe('eBay refunds (an EBAY_GB seller)', () => {
  const keys = testPrefix();
  const secret = randomBytes(32);
  let database: TestDatabase;
  let db: Db;
  let sim: EbaySimulator;
  let redis: Redis;
  let channelId: number;
  let connector: Connector;

  /** A connector built as the daemon builds it: credentials from Postgres, and the store that seals them back. */
  async function build(): Promise<Connector> {
    const record = (await loadChannel(db, secret, channelId))!;
    return ebayFactory.create({
      channel: { ...record, settings: ebayFactory.settingsSchema.parse(record.settings), credentials: ebayFactory.credentialsSchema.parse(record.credentials) },
      budget: new RedisRateBudget(redis, keys.prefix),
      kv: new RedisSharedKV(redis, keys.prefix),
      log: pino({ level: 'silent' }),
      storeCredential: (name, value, replaces) => storeCredential(db, secret, channelId, name, value, replaces),
    });
  }

  async function order(lines: Array<{ sku: string; quantity: number }>) {
    const { externalId } = await sim.createOrder({ lines });
    return sim.state.orders.get(externalId)!;
  }

  function push(o: { orderId: string; lineItems: Array<{ lineItemId: string; total: { value: string } }> }, refundId: number, over: Partial<RefundPush> = {}): RefundPush {
    const line = o.lineItems[0]!;
    return {
      orderExternalId: o.orderId,
      refundId,
      amount: `${line.total.value}00`,
      shipping: '0.0000',
      currency: 'GBP',
      lines: [{ lineExternalId: line.lineItemId, quantity: 1, amount: `${line.total.value}00` }],
      reason: `return ${refundId}`,
      knownChannelRefunds: [],
      ...over,
    };
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url);
    redis = new Redis(REDIS_URL);
    sim = await startEbaySimulator({ marketplaceId: 'EBAY_GB', log: pino({ level: 'silent' }) });
    await sim.createProduct({ sku: 'MUG', title: 'Mug', price: '12.50', stock: 500 });
    await sim.createProduct({ sku: 'CAP', title: 'Cap', price: '7.25', stock: 500 });
    const { settings, credentials } = sim.channelConfig();
    channelId = await addChannel(db, secret, { kind: 'ebay', name: 'ebay-gb', settings, credentials });
    connector = await build();
  });
  afterAll(async () => {
    await connector?.close();
    await sim?.close();
    redis?.disconnect();
    await db?.destroy();
    await database?.drop();
    await keys.cleanup();
  });

  it('creates a signing key through the Key Management API once, keeps it sealed in Postgres, and refunds signed', async () => {
    const o = await order([{ sku: 'MUG', quantity: 1 }]);
    expect(connector.capabilities.refund).toBe(true);
    const out = await connector.refundOrder!(push(o, 1));
    expect(out.alreadyDone).toBe(false);
    expect(o.paymentSummary.refunds).toEqual([{ refundId: out.externalRef, refundStatus: 'PENDING', amount: { value: '12.50', currency: 'GBP' } }]);

    const stored = (await loadChannel(db, secret, channelId))!.credentials.signingKey as { signingKeyId: string; privateKey: string };
    expect(sim.signingKeys.keys.has(stored.signingKeyId)).toBe(true);
    // Sealed: the private key is nowhere in the row as stored.
    const raw = await db.selectFrom('channels').select('credentials_encrypted').where('id', '=', channelId).executeTakeFirstOrThrow();
    expect(raw.credentials_encrypted).not.toContain(stored.privateKey.slice(0, 20));

    // A process started later signs with the stored key: no second createSigningKey.
    const later = await build();
    try {
      const o2 = await order([{ sku: 'MUG', quantity: 1 }]);
      await later.refundOrder!(push(o2, 2));
      expect(sim.signingKeys.keys.size).toBe(1);
    } finally {
      await later.close();
    }
  });

  it('two processes storing a new key at once both end up with the one stored first', async () => {
    const other = await addChannel(db, secret, { kind: 'ebay', name: 'ebay-gb-2', settings: sim.channelConfig().settings, credentials: sim.channelConfig().credentials });
    const [a, b] = await Promise.all([
      storeCredential(db, secret, other, 'signingKey', { signingKeyId: 'a', jwe: 'x', privateKey: 'y' }),
      storeCredential(db, secret, other, 'signingKey', { signingKeyId: 'b', jwe: 'x', privateKey: 'y' }),
    ]);
    expect(a).toEqual(b);
    expect((await loadChannel(db, secret, other))!.credentials.signingKey).toEqual(a);
    // The other credentials are untouched.
    expect((await loadChannel(db, secret, other))!.credentials.refreshToken).toBe(sim.refreshToken);
  });

  it('is refused by eBay unsigned, with a tampered body, a tampered header or for another host', async () => {
    const o = await order([{ sku: 'MUG', quantity: 1 }]);
    const key = (await loadChannel(db, secret, channelId))!.credentials.signingKey as { jwe: string; privateKey: string };
    const token = await userToken();
    const url = `${sim.url}/sell/fulfillment/v1/order/${o.orderId}/issue_refund`;
    const body = JSON.stringify({ reasonForRefund: 'BUYER_RETURN', orderLevelRefundAmount: { value: '1.00', currency: 'GBP' } });
    const send = (headers: Record<string, string>, sent = body) =>
      fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body: sent }).then(async (r) => ({ status: r.status, body: (await r.json()) as { refundStatus?: string; errors?: Array<{ errorId: number; message: string }> } }));
    const signed = signatureHeaders({ method: 'POST', url, body }, key);
    const errorId = (r: { body: { errors?: Array<{ errorId: number; message: string }> } }) => r.body.errors?.[0]?.errorId;

    expect(errorId(await send({}))).toBe(215120);
    const tamperedBody = await send(signed, body.replace('1.00', '9.00'));
    expect([tamperedBody.status, errorId(tamperedBody)]).toEqual([403, 215122]);
    expect(errorId(await send({ ...signed, 'signature-input': signed['signature-input']!.replace(/created=\d+/, 'created=1') }))).toBe(215122);
    const otherHost = signatureHeaders({ method: 'POST', url: url.replace('127.0.0.1', 'localhost'), body }, key);
    expect(errorId(await send(otherHost))).toBe(215122);
    expect(o.paymentSummary.refunds).toEqual([]);
    // The same headers, untouched, are accepted.
    const ok = await send(signed);
    expect([ok.status, ok.body.refundStatus]).toEqual([200, 'PENDING']);
  });

  it('refunds once when pushed twice, and when a run died after eBay accepted it', async () => {
    const o = await order([{ sku: 'MUG', quantity: 2 }]);
    // One of the two mugs came back.
    const oneMug = { amount: '12.5000', lines: [{ lineExternalId: o.lineItems[0]!.lineItemId, quantity: 1, amount: '12.5000' }] };
    const first = await connector.refundOrder!(push(o, 10, oneMug));
    // The same push again, as after a run killed between eBay's answer and recording it.
    const again = await connector.refundOrder!(push(o, 10, oneMug));
    expect(again).toEqual({ externalRef: first.externalRef, alreadyDone: true });
    expect(o.paymentSummary.refunds).toHaveLength(1);
    // eBay shows the seller's net amount (eBay-collected VAT left out): the note of the attempt still finds it.
    o.paymentSummary.refunds[0]!.amount.value = '10.42';
    expect(await connector.refundOrder!(push(o, 10, oneMug))).toEqual({ externalRef: first.externalRef, alreadyDone: true });
    // Without the note (Redis lost), the same money still finds it.
    o.paymentSummary.refunds[0]!.amount.value = '12.50';
    await new RedisSharedKV(redis, keys.prefix).del(`ebay:${channelId}:refund-intent:10`);
    expect(await connector.refundOrder!(push(o, 10, oneMug))).toEqual({ externalRef: first.externalRef, alreadyDone: true });
    expect(o.paymentSummary.refunds).toHaveLength(1);

    // A second, different refund of the same money after the first was recorded is a new one.
    sim.refunds.settleMs = 0;
    const second = await connector.refundOrder!(push(o, 11, { ...oneMug, knownChannelRefunds: [first.externalRef!] }));
    expect(second.alreadyDone).toBe(false);
    expect(o.paymentSummary.refunds.map((r) => r.refundId)).toEqual([first.externalRef, second.externalRef]);
    sim.refunds.settleMs = 2000;
  });

  it('refunds what channelsync owes once, from the push the job builds, though the run dies before recording it', async () => {
    const o = await order([{ sku: 'MUG', quantity: 2 }]);
    const mug = o.lineItems[0]!;
    await saveOrders(db, channelId, [
      unifiedOrder({
        externalId: o.orderId,
        orderNumber: o.orderId,
        currency: 'GBP',
        totals: { subtotal: '25.00', shipping: '0.00', tax: '0.00', discount: '0.00', total: '25.00' },
        lines: [unifiedLine({ externalId: mug.lineItemId, sku: 'MUG', quantity: 2, unitPrice: '12.50', tax: '0.00' })],
      }),
    ]);
    const saved = await db.selectFrom('orders').innerJoin('order_lines', 'order_lines.order_id', 'orders.id').select(['orders.id', 'order_lines.id as lineId']).where('orders.external_id', '=', o.orderId).executeTakeFirstOrThrow();
    /** A refund of one mug that channelsync owes the channel, as approving a return writes it. */
    const owe = async () => {
      const r = await db.insertInto('refunds').values({ order_id: saved.id, external_id: null, amount: '12.50', shipping: '0', currency: 'GBP', reason: 'return', source: 'channelsync', return_id: null }).returning('id').executeTakeFirstOrThrow();
      await db.insertInto('refund_lines').values({ refund_id: r.id, order_line_id: saved.lineId, quantity: 1, amount: '12.50' }).execute();
      return r.id;
    };
    const first = await owe();
    const made = await connector.refundOrder!((await refundPushOf(db, first))!);
    // The run died before recording eBay's refund id: the retry finds it on eBay.
    expect(await connector.refundOrder!((await refundPushOf(db, first))!)).toEqual({ externalRef: made.externalRef, alreadyDone: true });
    await db.updateTable('refunds').set({ external_id: made.externalRef }).where('id', '=', first).execute();
    expect(await connector.refundOrder!((await refundPushOf(db, first))!)).toEqual({ externalRef: made.externalRef, alreadyDone: true });

    // The second mug comes back: the same money again, a new refund, since the first is recorded.
    const second = await owe();
    expect((await refundPushOf(db, second))!.knownChannelRefunds).toEqual([made.externalRef]);
    sim.refunds.settleMs = 0;
    const made2 = await connector.refundOrder!((await refundPushOf(db, second))!);
    sim.refunds.settleMs = 2000;
    expect(made2.alreadyDone).toBe(false);
    expect(o.paymentSummary.refunds.map((r) => [r.refundId, r.amount.value])).toEqual([
      [made.externalRef, '12.50'],
      [made2.externalRef, '12.50'],
    ]);
  });

  it('refunds a line of a multi-line order by line, shown in getOrder, and settles to REFUNDED', async () => {
    const o = await order([{ sku: 'MUG', quantity: 1 }, { sku: 'CAP', quantity: 1 }]);
    const cap = o.lineItems[1]!;
    const p = push(o, 20, { amount: '7.2500', lines: [{ lineExternalId: cap.lineItemId, quantity: 1, amount: '7.2500' }] });
    const out = await connector.refundOrder!(p);
    expect(cap.refunds).toEqual([{ refundId: out.externalRef, amount: { value: '7.25', currency: 'GBP' } }]);
    expect(await connector.refundOrder!(p)).toEqual({ externalRef: out.externalRef, alreadyDone: true });
    sim.refunds.settleMs = 0;
    const read = await connector.fetchOrder(o.orderId);
    sim.refunds.settleMs = 2000;
    expect(read?.financialStatus).toBe('partially_refunded');
    expect(cap.refunds?.[0]?.refundDate).toBeDefined();
  });

  it("gives up on eBay's refusals with its error id, and retries what eBay says to try later", async () => {
    const o = await order([{ sku: 'CAP', quantity: 1 }]);
    const tooMuch = connector.refundOrder!(push(o, 30, { amount: '99.0000', lines: [] }));
    await expect(tooMuch).rejects.toThrow(PermanentError);
    await expect(connector.refundOrder!(push(o, 30, { amount: '99.0000', lines: [] }))).rejects.toThrow(/34915 The refund amount exceeds order amount/);

    await connector.refundOrder!(push(o, 31, { amount: '1.0000', lines: [] }));
    // A refund still PENDING: eBay says 34922, which is retried later.
    const busy = await connector.refundOrder!(push(o, 32, { amount: '2.0000', lines: [], knownChannelRefunds: o.paymentSummary.refunds.map((r) => r.refundId) })).catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(RetryableError);
    expect((busy as RetryableError).retryAfterMs).toBeGreaterThan(0);
    expect((busy as Error).message).toMatch(/34922/);

    const unpaid = await sim.createOrder({ lines: [{ sku: 'CAP', quantity: 1 }], paid: false });
    const pending = await connector.refundOrder!(push(sim.state.orders.get(unpaid.externalId)!, 33)).catch((e: unknown) => e);
    expect(pending).toBeInstanceOf(RetryableError);
    expect((pending as Error).message).toMatch(/34929/);

    await expect(connector.refundOrder!(push({ orderId: '99-99999-99999', lineItems: o.lineItems }, 34))).rejects.toThrow(/does not exist/);
  });

  it('gives up, naming the key, when eBay refuses the signature', async () => {
    const o = await order([{ sku: 'MUG', quantity: 1 }]);
    const stored = (await loadChannel(db, secret, channelId))!.credentials.signingKey as Record<string, unknown>;
    // A key pair whose JWE this app was never issued (eBay's own test key).
    await storeCredential(db, secret, channelId, 'signingKey', { ...stored, jwe: VECTOR.jwe, privateKey: VECTOR.privateKey }, stored);
    const wrong = await build();
    try {
      const err = await wrong.refundOrder!(push(o, 40)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EbaySignatureError);
      expect((err as Error).message).toMatch(/215122 Signature validation failed.*signing key/);
      expect(o.paymentSummary.refunds).toEqual([]);
    } finally {
      await wrong.close();
      await storeCredential(db, secret, channelId, 'signingKey', stored, (await loadChannel(db, secret, channelId))!.credentials.signingKey);
    }
  });

  it("sends bodies that validate against eBay's spec, and the simulator answers in its shapes", async () => {
    const o = await order([{ sku: 'MUG', quantity: 1 }, { sku: 'CAP', quantity: 2 }]);
    expectValid('fulfillment', 'IssueRefundRequest', issueRefundBody(push(o, 50), o), 'line-level body');
    expectValid('fulfillment', 'IssueRefundRequest', issueRefundBody(push(o, 51, { shipping: '1.0000', amount: '13.5000' }), o), 'order-level body');
    const checked = expectExchangesValid(sim.exchanges, CALLS);
    expect([...checked].sort()).toEqual([
      'GET ^\\/sell\\/fulfillment\\/v1\\/order\\/[^/]+$',
      'POST ^\\/developer\\/key_management\\/v1\\/signing_key$',
      'POST ^\\/sell\\/fulfillment\\/v1\\/order\\/[^/]+\\/issue_refund$',
    ]);
    // getSigningKey: the pair without its private key.
    const token = await appToken();
    const id = [...sim.signingKeys.keys.keys()][0]!;
    const res = await fetch(`${sim.url}/developer/key_management/v1/signing_key/${id}`, { headers: { authorization: `Bearer ${token}` } });
    const key = (await res.json()) as { privateKey?: string };
    expectValid('keyManagement', 'SigningKey', key, 'getSigningKey');
    expect(key.privateKey).toBeUndefined();
    const missing = await fetch(`${sim.url}/developer/key_management/v1/signing_key/nope`, { headers: { authorization: `Bearer ${token}` } });
    expect([missing.status, ((await missing.json()) as { errors: Array<{ errorId: number }> }).errors[0]!.errorId]).toEqual([404, 210002]);
  });

  async function mint(form: Record<string, string>): Promise<string> {
    const basic = Buffer.from(`${sim.clientId}:${sim.clientSecret}`).toString('base64');
    const res = await fetch(`${sim.url}/identity/v1/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  }
  const userToken = () => mint({ grant_type: 'refresh_token', refresh_token: sim.refreshToken });
  const appToken = () => mint({ grant_type: 'client_credentials', scope: 'https://api.ebay.com/oauth/api_scope' });
});

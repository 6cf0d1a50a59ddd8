/**
 * issueRefund and the Key Management API in the eBay simulator, with the rules of
 * ../shared/fixtures/ebay/specs (sell_fulfillment_v1_oas3.json `issue_refund`,
 * developer_key_management_v1_oas3.json) and eBay's digital-signature guide.
 *
 * - createSigningKey makes an ED25519 or RSA pair (210001 for any other cipher) and
 *   returns it once with its JWE; getSigningKey(s) return it without the private key.
 *   The JWE is a real compact JWE (dir, A256GCM) under a secret derived from the app's
 *   client secret, carrying the public key (`pkey`, base64 SPKI DER) and `cipher`, the
 *   claims eBay's own verifier reads; so it survives a simulator restart with the app.
 *   (eBay's JWE uses A256GCMKW and DEFLATE; to the client it is an opaque string either way.)
 * - issueRefund for a seller on an EU or UK marketplace (the simulated seller is
 *   domiciled where it sells) is refused without a valid signature, 403 215120 when a
 *   signature header is missing or malformed and 215122 when it does not verify (both
 *   "Signature validation failed" in errors.json; eBay documents no difference). Other
 *   sellers' signatures are ignored, as the guide says.
 * - The body as the spec's 400/404/409 tables: 34902 empty, 34903 no reason, 34905 no
 *   amount, 34906-34909 amounts, 34910/34914 lines, 34913 no order, 34915 more than the
 *   order, 34924 more than a line, 34917 already refunded, 34921 comment, 34922 a refund
 *   still processing, 34929 not paid yet. The answer is `{refundId, refundStatus: PENDING}`;
 *   the refund shows in getOrder at once (`paymentSummary.refunds`, or `lineItems[].refunds`
 *   for line-level ones) and settles to REFUNDED after `settleMs`.
 */
import { createCipheriv, createDecipheriv, createHmac, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { signatureProblem, publicKeyOf } from '../signing.ts';
import { EbaySimError, fromCents, toCents, type SellerState, type SimOrder } from './state.ts';

/** Marketplaces whose sellers the simulator treats as domiciled in the EU or the UK. */
export const EU_UK_MARKETPLACES = new Set(['EBAY_GB', 'EBAY_DE', 'EBAY_FR', 'EBAY_IT', 'EBAY_ES', 'EBAY_AT', 'EBAY_BE', 'EBAY_NL', 'EBAY_IE', 'EBAY_PL']);

const THREE_YEARS_S = 3 * 365 * 86_400;

interface StoredKey {
  signingKeyId: string;
  signingKeyCipher: 'ED25519' | 'RSA';
  publicKey: string;
  jwe: string;
  creationTime: number;
  expirationTime: number;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** The app's signing keys (Key Management API) and the JWE they travel as. */
export class SimSigningKeys {
  readonly keys = new Map<string, StoredKey>();

  constructor(
    private readonly app: () => { clientId: string; clientSecret: string },
    private readonly now: () => Date,
  ) {}

  private secret(): Buffer {
    return createHmac('sha256', this.app().clientSecret).update('simulated eBay JWE key').digest();
  }

  /** POST /signing_key: the pair, the private key this once (bare base64 PKCS#8 DER, as eBay gives it). */
  create(body: unknown): Record<string, unknown> {
    const cipher = (body as { signingKeyCipher?: unknown } | null)?.signingKeyCipher;
    if (body === undefined || body === null || typeof body !== 'object') throw new EbaySimError(400, 210006, 'You must request for new signing key with valid request payload.', 'API_KEYS');
    if (cipher !== 'ED25519' && cipher !== 'RSA') throw new EbaySimError(400, 210001, 'You must supply a valid signing key cipher. Allowed values are ED25519 and RSA.', 'API_KEYS');
    const pair = cipher === 'ED25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicKey = pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const creationTime = Math.floor(this.now().getTime() / 1000);
    const key: StoredKey = {
      signingKeyId: randomUUID(),
      signingKeyCipher: cipher,
      publicKey,
      jwe: '',
      creationTime,
      expirationTime: creationTime + THREE_YEARS_S,
    };
    key.jwe = this.seal({ pkey: publicKey, cipher: cipher === 'ED25519' ? 'Ed25519' : 'RSA', appid: this.app().clientId, kid: key.signingKeyId, iat: creationTime, exp: key.expirationTime });
    this.keys.set(key.signingKeyId, key);
    return { ...key, privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64') };
  }

  /** GET /signing_key/{id}: 404 210002 for an id the app has none of. */
  get(id: string): StoredKey {
    const key = this.keys.get(id);
    if (!key) throw new EbaySimError(404, 210002, `The signing key with id ${id} was not found.`, 'API_KEYS');
    return key;
  }

  private seal(claims: Record<string, unknown>): string {
    const header = b64url(JSON.stringify({ alg: 'dir', enc: 'A256GCM' }));
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.secret(), iv);
    c.setAAD(Buffer.from(header));
    const body = Buffer.concat([c.update(JSON.stringify(claims)), c.final()]);
    return [header, '', b64url(iv), b64url(body), b64url(c.getAuthTag())].join('.');
  }

  /** The public key a JWE carries, when this app issued it and it has not expired; else null. */
  publicKeyOf(jwe: string): KeyObject | null {
    const [header, , iv, body, tag] = jwe.split('.');
    if (!header || !iv || !body || !tag) return null;
    try {
      const d = createDecipheriv('aes-256-gcm', this.secret(), Buffer.from(iv, 'base64url'));
      d.setAAD(Buffer.from(header));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      const claims = JSON.parse(Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8')) as { pkey?: string; appid?: string; exp?: number };
      if (!claims.pkey || claims.appid !== this.app().clientId) return null;
      if (claims.exp !== undefined && claims.exp * 1000 <= this.now().getTime()) return null;
      return publicKeyOf(claims.pkey);
    } catch {
      return null;
    }
  }
}

interface Money {
  value?: unknown;
  currency?: unknown;
}

interface IssueRefundBody {
  reasonForRefund?: unknown;
  comment?: unknown;
  orderLevelRefundAmount?: Money;
  refundItems?: Array<{ lineItemId?: unknown; legacyReference?: { legacyItemId?: unknown; legacyTransactionId?: unknown }; refundAmount?: Money }>;
}

export interface IssueRefundRequest {
  orderId: string;
  method: string;
  /** The URL as the request reached the simulator (host header + raw path): `@authority` and `@path`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  rawBody: string;
}

/** The seller's refunds: issueRefund, and their settling. */
export class SimRefunds {
  /** When each refund was made (eBay does not show it): it settles `settleMs` later. */
  private readonly createdAt = new Map<string, number>();

  constructor(
    private readonly state: SellerState,
    private readonly keys: SimSigningKeys,
    /** How long a refund stays PENDING, in the simulator's time. */
    public settleMs = 2000,
  ) {}

  /** issueRefund, as the spec and the signature guide say (see the module comment). */
  issue(req: IssueRefundRequest): { refundId: string; refundStatus: 'PENDING' } {
    const { state, keys } = this;
    if (EU_UK_MARKETPLACES.has(state.marketplaceId)) {
      const problem = signatureProblem({ method: req.method, url: req.url, body: req.rawBody }, req.headers, (jwe) => keys.publicKeyOf(jwe));
      if (problem) {
        // "missing"/"not of the form" problems are 215120, a signature that does not verify 215122.
        const id = /missing|not of the form|unknown pseudo|does not cover/.test(problem) ? 215120 : 215122;
        throw new EbaySimError(403, id, 'Signature validation failed', 'ACCESS', 'REQUEST', 'Signature validation failed to fulfill the request.');
      }
    }
    const order = state.orders.get(req.orderId);
    if (!order) throw new EbaySimError(404, 34913, 'Can not find the order.');
    const b = req.body as IssueRefundBody | undefined;
    if (!b || typeof b !== 'object' || Object.keys(b).length === 0) throw new EbaySimError(400, 34902, "Request can't be empty.");
    if (typeof b.reasonForRefund !== 'string' || !b.reasonForRefund) throw new EbaySimError(400, 34903, 'The refund reason must be specified.');
    if (b.comment !== undefined && (typeof b.comment !== 'string' || b.comment.length > 1000)) {
      throw new EbaySimError(400, 34921, "The comment exceeds the length limit, please make sure it doesn't exceed 1000 characters.");
    }
    if (!b.orderLevelRefundAmount && !b.refundItems?.length) throw new EbaySimError(400, 34905, 'Either orderLevelRefundAmount or refundItems must be specified.');
    if (order.orderPaymentStatus === 'PENDING') {
      throw new EbaySimError(409, 34929, 'You cannot refund this order yet since the buyer payment has not been processed. Please try again later.');
    }
    this.settle(order);
    const refunds = order.paymentSummary.refunds;
    const lineRefunds = order.lineItems.flatMap((l) => l.refunds ?? []);
    if ([...refunds.map((r) => r.refundId), ...lineRefunds.map((r) => r.refundId)].some((id) => !this.isSettled(id))) {
      throw new EbaySimError(400, 34922, "Refund can't be issued while previous refund is processing.");
    }
    const total = toCents(order.pricingSummary.total.value);
    const refunded = refundedCents(order);
    if (refunded >= total) throw new EbaySimError(400, 34917, 'This order was already refunded.', 'API_FULFILLMENT', 'BUSINESS');

    const refundId = String(5_000_000_000 + state.next());
    const now = state.now().toISOString();
    if (b.orderLevelRefundAmount) {
      const cents = amountOf(b.orderLevelRefundAmount, order.pricingSummary.total.currency);
      if (refunded + cents > total) throw new EbaySimError(400, 34915, 'The refund amount exceeds order amount.');
      refunds.push({ refundId, refundStatus: 'PENDING', amount: { value: fromCents(cents), currency: order.pricingSummary.total.currency } });
    } else {
      const planned: Array<[SimOrder['lineItems'][number], bigint]> = [];
      for (const item of b.refundItems!) {
        if (item.lineItemId === undefined && !item.legacyReference) throw new EbaySimError(400, 34910, 'Either legacyReference or lineItemId must be specified for item level refund.');
        if (item.legacyReference && item.lineItemId === undefined) {
          if (!item.legacyReference.legacyItemId) throw new EbaySimError(400, 34911, 'Legacy item id must be specified for item level refund if you use legacyReference.');
          if (!item.legacyReference.legacyTransactionId) throw new EbaySimError(400, 34912, 'Legacy transaction id must be specified for item level refund if you use legacyReference.');
        }
        const line = order.lineItems.find((l) => (item.lineItemId !== undefined ? l.lineItemId === item.lineItemId : l.legacyItemId === item.legacyReference?.legacyItemId));
        if (!line) throw new EbaySimError(400, 34914, "Can't find the item in the order.");
        const cents = amountOf(item.refundAmount ?? {}, order.pricingSummary.total.currency);
        const lineRefunded = (line.refunds ?? []).reduce((n, r) => n + toCents(r.amount.value), 0n);
        if (lineRefunded + cents > toCents(line.total.value)) throw new EbaySimError(409, 34924, 'The item refund amount exceeds the item remaining amount.', 'API_FULFILLMENT', 'BUSINESS');
        planned.push([line, cents]);
      }
      if (refunded + planned.reduce((n, [, c]) => n + c, 0n) > total) throw new EbaySimError(400, 34915, 'The refund amount exceeds order amount.');
      for (const [line, cents] of planned) (line.refunds ??= []).push({ refundId, amount: { value: fromCents(cents), currency: order.pricingSummary.total.currency } });
    }
    this.createdAt.set(refundId, Date.parse(now));
    state.touch(order);
    return { refundId, refundStatus: 'PENDING' };
  }

  private isSettled(refundId: string): boolean {
    const at = this.createdAt.get(refundId);
    return at === undefined || this.state.now().getTime() - at >= this.settleMs;
  }

  /** Refunds older than `settleMs` become REFUNDED (with their date and reference id); the payment status follows. */
  settle(order: SimOrder): void {
    const when = (id: string) => new Date((this.createdAt.get(id) ?? this.state.now().getTime() - this.settleMs) + this.settleMs).toISOString();
    let changed = false;
    for (const r of order.paymentSummary.refunds) {
      if (r.refundStatus === 'PENDING' && this.isSettled(r.refundId)) {
        r.refundStatus = 'REFUNDED';
        r.refundDate = when(r.refundId);
        r.refundReferenceId = `R${r.refundId}`;
        changed = true;
      }
    }
    for (const l of order.lineItems) {
      for (const r of l.refunds ?? []) {
        if (!r.refundDate && this.isSettled(r.refundId)) {
          r.refundDate = when(r.refundId);
          changed = true;
        }
      }
    }
    if (!changed) return;
    const refunded = refundedCents(order);
    if (refunded > 0n) order.orderPaymentStatus = refunded >= toCents(order.pricingSummary.total.value) ? 'FULLY_REFUNDED' : 'PARTIALLY_REFUNDED';
    this.state.touch(order);
  }
}

/** What has been refunded of the order, order-level and line-level, failed ones aside. */
function refundedCents(order: SimOrder): bigint {
  const orderLevel = order.paymentSummary.refunds.filter((r) => r.refundStatus !== 'FAILED').reduce((n, r) => n + toCents(r.amount.value), 0n);
  return orderLevel + order.lineItems.flatMap((l) => l.refunds ?? []).reduce((n, r) => n + toCents(r.amount.value), 0n);
}

/** A SimpleAmount in cents: 34906 no value, 34907 not positive with two decimals, 34908/34909 currency. */
function amountOf(m: Money, currency: string): bigint {
  if (m.value === undefined || m.value === null || m.value === '') throw new EbaySimError(400, 34906, 'The amount value must be specified.');
  if (typeof m.value !== 'string' || !/^\d+(\.\d{1,2})?$/.test(m.value) || toCents(m.value) <= 0n) throw new EbaySimError(400, 34907, 'The amount value must be positive and within two decimals.');
  if (m.currency === undefined || m.currency === '') throw new EbaySimError(400, 34908, 'The amount currency must be specified.');
  if (m.currency !== currency) throw new EbaySimError(400, 34909, "The amount currency isn't correct.");
  return toCents(m.value);
}


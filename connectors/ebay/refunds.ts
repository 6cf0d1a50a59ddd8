/**
 * Refunds on eBay: issueRefund
 * (https://developer.ebay.com/api-docs/sell/fulfillment/resources/order/methods/issueRefund),
 * signed with the seller's app key pair (./signing.ts, keys from ./signing-keys.ts).
 *
 * Once only. eBay's refunds carry no note channelsync could mark (getOrder shows
 * `refundId`, `amount`, `refundStatus`, `refundDate`: no comment), so the order is read
 * first and its refunds compared with `push.knownChannelRefunds`, the eBay ids
 * channelsync has already recorded for the order. A refund eBay shows that channelsync
 * has not recorded, of the same money (the order-level amount, or the same lines with
 * the same amounts), is this push's, made by a run that died before it was recorded:
 * it is returned as done instead of refunding again. The cost of the rule: a refund the
 * seller made by hand on eBay for exactly this money, not yet read into channelsync,
 * also counts as this one, so the buyer gets it once rather than twice.
 *
 * Amounts alone can miss: getOrder shows "the seller's net amount" (eBay-collected tax
 * left out), which can be less than what was sent. So before each call the ids of the
 * refunds eBay shows are noted in the shared KV (`ebay:<channel>:refund-intent:<refund>`,
 * 30 days); a retry that finds that note takes any unrecorded refund eBay made since as
 * this one, whatever its amount. Without the note (Redis lost) the amount rule remains.
 *
 * The body: line by line (`refundItems`, each line's own money) when the push is lines
 * only and the order has more than one line, as the spec asks; otherwise
 * `orderLevelRefundAmount` (a refund with shipping, or capped below its lines).
 * Amounts are strings in the order's currency, eBay's `SimpleAmount`.
 *
 * Failures: eBay's "later" answers (34922 a refund is still processing, 34929 the
 * buyer's payment is not processed yet, 34930 the payment method's limit) are retried
 * after a wait; every other refusal is given up with eBay's error id and message
 * (34915 more than was paid, 34917 already refunded, 34920 too late, 215120/215122 the
 * signature), which the push records for a person.
 */
import { z } from 'zod';
import { PermanentError, RetryableError } from '../../src/domain/errors.ts';
import { refundMarker } from '../../src/domain/order.ts';
import { toUnits } from '../../src/domain/money.ts';
import type { SharedKV } from '../../src/queue/shared-state.ts';
import type { PushOutcome, RefundPush } from '../types.ts';
import { EbayRequestError, type EbayClient } from './client.ts';
import { privateKeyOf, signatureHeaders } from './signing.ts';
import type { SigningKeys } from './signing-keys.ts';

const amount = z.object({ value: z.string(), currency: z.string() });
const orderRefundsSchema = z.looseObject({
  orderId: z.string(),
  pricingSummary: z.looseObject({ total: amount.partial().optional() }).optional(),
  paymentSummary: z
    .looseObject({ refunds: z.array(z.looseObject({ refundId: z.string().optional(), refundStatus: z.string().optional(), amount: amount.optional() })).optional() })
    .optional(),
  lineItems: z.array(z.looseObject({ lineItemId: z.string(), refunds: z.array(z.looseObject({ refundId: z.string().optional(), amount: amount.optional() })).optional() })).default([]),
});
type OrderRefunds = z.infer<typeof orderRefundsSchema>;

const refundAnswerSchema = z.looseObject({ refundId: z.string().optional(), refundStatus: z.string().optional() });

/** eBay's answers that mean "not now" (issueRefund's 400/409 tables), with how long to wait. */
const LATER: Record<number, number> = {
  34922: 5 * 60_000, // Refund can't be issued while previous refund is processing.
  34929: 60 * 60_000, // The buyer payment has not been processed. Please try again later.
  34930: 60 * 60_000, // Default payment method limit exceeded ... or try again later.
};
const SIGNATURE_ERRORS = [215120, 215122];
/** IssueRefundRequest.comment: "Max Length: 100". */
const COMMENT_MAX = 100;
/** How long the note of an attempt is kept: far longer than a push is retried. */
const INTENT_TTL_MS = 30 * 86_400_000;

/** The body issueRefund is sent for this push (exported for the spec test). */
export function issueRefundBody(push: RefundPush, order: { lineItems: readonly unknown[] }): Record<string, unknown> {
  const lineTotal = push.lines.reduce((n, l) => n + toUnits(l.amount), 0n);
  const byLines = push.lines.length > 0 && toUnits(push.shipping) === 0n && lineTotal === toUnits(push.amount) && order.lineItems.length > 1;
  const comment = `${refundMarker(push.refundId)}: ${push.reason}`.slice(0, COMMENT_MAX);
  return {
    // Every refund channelsync makes pays for a return it ran (src/fulfilment/refunds.ts).
    reasonForRefund: 'BUYER_RETURN',
    comment,
    ...(byLines
      ? { refundItems: push.lines.map((l) => ({ lineItemId: l.lineExternalId, refundAmount: { value: ebayMoney(l.amount), currency: push.currency } })) }
      : { orderLevelRefundAmount: { value: ebayMoney(push.amount), currency: push.currency } }),
  };
}

/** Two decimals, as eBay's amounts are written ("12.50"); channelsync's money has four. */
function ebayMoney(value: string): string {
  const units = toUnits(value);
  const cents = units / 100n;
  return `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;
}

/** eBay's refunds of the order channelsync has not recorded, each as its money: order-level, or per line. */
function unrecordedRefunds(order: OrderRefunds, known: ReadonlySet<string>): Map<string, { order: bigint | null; lines: Map<string, bigint> }> {
  const out = new Map<string, { order: bigint | null; lines: Map<string, bigint> }>();
  for (const r of order.paymentSummary?.refunds ?? []) {
    if (!r.refundId || known.has(r.refundId) || r.refundStatus === 'FAILED' || !r.amount) continue;
    out.set(r.refundId, { order: toUnits(r.amount.value), lines: new Map() });
  }
  for (const li of order.lineItems) {
    for (const r of li.refunds ?? []) {
      if (!r.refundId || known.has(r.refundId) || !r.amount) continue;
      const entry = out.get(r.refundId) ?? { order: null, lines: new Map<string, bigint>() };
      entry.lines.set(li.lineItemId, (entry.lines.get(li.lineItemId) ?? 0n) + toUnits(r.amount.value));
      out.set(r.refundId, entry);
    }
  }
  return out;
}

/** Every refund id eBay shows on the order, failed ones too. */
function refundIds(order: OrderRefunds): string[] {
  const ids = [...(order.paymentSummary?.refunds ?? []), ...order.lineItems.flatMap((l) => l.refunds ?? [])].map((r) => r.refundId);
  return [...new Set(ids.filter((id): id is string => !!id))];
}

/**
 * The refund of this push among those eBay shows and channelsync has not recorded, if
 * one is there: one made since `before` (the ids noted before an earlier attempt), or
 * else one of the same money.
 */
export function findOwnRefund(push: RefundPush, order: OrderRefunds, before: readonly string[] | null = null): string | null {
  const unrecorded = unrecordedRefunds(order, new Set(push.knownChannelRefunds ?? []));
  if (before) {
    const since = [...unrecorded.keys()].find((id) => !before.includes(id));
    if (since) return since;
  }
  const body = issueRefundBody(push, order);
  const items = body.refundItems as Array<{ lineItemId: string; refundAmount: { value: string } }> | undefined;
  for (const [id, r] of unrecorded) {
    if (!items && r.order !== null && r.order === toUnits(ebayMoney(push.amount))) return id;
    if (items && r.order === null && r.lines.size === items.length && items.every((i) => r.lines.get(i.lineItemId) === toUnits(i.refundAmount.value))) return id;
  }
  return null;
}

export interface RefundContext {
  client: EbayClient;
  keys: SigningKeys;
  kv: SharedKV;
  channelId: number;
}

export async function refundOrder({ client, keys, kv, channelId }: RefundContext, push: RefundPush): Promise<PushOutcome> {
  const id = push.orderExternalId;
  const intentKey = `ebay:${channelId}:refund-intent:${push.refundId}`;
  const noted = await kv.get(intentKey);
  const before = noted ? (JSON.parse(noted) as string[]) : null;
  const readOrder = async (): Promise<OrderRefunds> => {
    try {
      // getOrder (https://developer.ebay.com/api-docs/sell/fulfillment/resources/order/methods/getOrder): paymentSummary.refunds, lineItems[].refunds.
      const res = await client.call('GET', `/sell/fulfillment/v1/order/${encodeURIComponent(id)}`, { api: 'sell.fulfillment', what: `order ${id}` });
      const parsed = orderRefundsSchema.safeParse(res.body);
      if (!parsed.success) throw new RetryableError(`eBay order ${id} came without the fields a refund is checked against (${parsed.error.issues[0]?.message})`);
      return parsed.data;
    } catch (err) {
      if (err instanceof EbayRequestError && (err.status === 404 || err.errorIds.includes(32100))) throw new PermanentError(`eBay order ${id} does not exist: refund ${push.refundId} cannot be made there`);
      throw err;
    }
  };
  const order = await readOrder();
  const currency = order.pricingSummary?.total?.currency;
  if (currency && currency !== push.currency) {
    throw new PermanentError(`refund ${push.refundId} is in ${push.currency} but eBay order ${id} was paid in ${currency}: refund it on eBay`);
  }
  const own = findOwnRefund(push, order, before);
  if (own) return { externalRef: own, alreadyDone: true };

  const key = await keys.get();
  const signer = { jwe: key.jwe, privateKey: privateKeyOf(key.privateKey) };
  const body = issueRefundBody(push, order);
  // Noted before the call: a run that dies after eBay accepted finds its refund by this.
  await kv.set(intentKey, JSON.stringify(refundIds(order)), INTENT_TTL_MS);
  try {
    const res = await client.call('POST', `/sell/fulfillment/v1/order/${encodeURIComponent(id)}/issue_refund`, {
      body,
      api: 'sell.finances',
      what: `refund ${push.refundId} of order ${id}`,
      sign: (parts) => signatureHeaders(parts, signer),
    });
    const answer = refundAnswerSchema.parse(res.body ?? {});
    if (answer.refundStatus === 'FAILED' || !answer.refundId) {
      throw new PermanentError(`eBay did not issue refund ${push.refundId} of order ${id} (refundStatus ${answer.refundStatus ?? 'missing'}): look at the order in Seller Hub`);
    }
    return { externalRef: answer.refundId, alreadyDone: false };
  } catch (err) {
    if (!(err instanceof EbayRequestError)) throw err;
    const later = err.errorIds.map((e) => LATER[e]).find((w) => w !== undefined);
    if (later !== undefined) throw new RetryableError(`${err.message}; trying again later`, later, { cause: err });
    if (err.errorIds.some((e) => SIGNATURE_ERRORS.includes(e))) {
      throw new EbaySignatureError(
        `${err.message}: eBay did not accept the HTTP message signature made with signing key ${key.signingKeyId}. ` +
          'Check the key in the channel credentials (signingKey: signingKeyId, jwe, privateKey from createSigningKey), or remove it so channelsync creates a new one',
        { cause: err },
      );
    }
    if (err.errorIds.includes(34917)) {
      // "already refunded": a refund this push made may be what eBay means.
      const again = findOwnRefund(push, await readOrder(), refundIds(order));
      if (again) return { externalRef: again, alreadyDone: true };
    }
    throw err;
  }
}

/** eBay refused the request's HTTP message signature (215120/215122). */
export class EbaySignatureError extends PermanentError {
  override readonly code = 'EBAY_SIGNATURE';
}

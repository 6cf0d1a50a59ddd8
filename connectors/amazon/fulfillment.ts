/**
 * Shipments back to Amazon: confirmShipment, one package per channelsync
 * shipment, with `packageReferenceId` = the shipment id.
 * https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference#confirmshipment
 *
 * Idempotent by reading first: Orders API 2026-01-01 getOrder with
 * `includedData=PACKAGES,FULFILLMENT` lists the packages Amazon already has
 * (`packageReferenceId`), so a repeat (a retry after a lost 204, a second run)
 * finds its package and creates nothing. The same read refuses FBA orders
 * (`fulfilledBy: AMAZON`: Amazon ships them) and cancelled ones before
 * anything is sent. Success is a 204 with no body.
 *
 * Carrier codes: Amazon recognises its own carrier names (a code it does not
 * know is accepted but shows no tracking to the buyer, models#5232); ours are
 * mapped where the name is one Amazon lists, otherwise `Other` with the name
 * in `carrierName`, which the model requires for `Other`.
 */
import { z } from 'zod';
import { PermanentError } from '../../src/domain/errors.ts';
import type { FulfillmentPush, PushOutcome } from '../types.ts';
import { AmazonRequestError, type AmazonClient } from './client.ts';

/** Lower-cased carrier names channelsync uses -> Amazon's carrier code. */
const CARRIER_CODES: Record<string, string> = {
  ups: 'UPS',
  usps: 'USPS',
  fedex: 'FedEx',
  dhl: 'DHL',
  'dhl express': 'DHL',
  'royal mail': 'Royal Mail',
  'canada post': 'Canada Post',
  'deutsche post': 'Deutsche Post',
  'australia post': 'Australia Post',
  'japan post': 'Japan Post',
  dpd: 'DPD',
  gls: 'GLS',
  evri: 'Evri',
  ontrac: 'OnTrac',
};

export function carrierFields(carrier: string): { carrierCode: string; carrierName?: string } {
  const code = CARRIER_CODES[carrier.trim().toLowerCase()];
  return code ? { carrierCode: code } : { carrierCode: 'Other', carrierName: carrier.trim() || 'Other' };
}

const orderV2026Schema = z.looseObject({
  order: z.looseObject({
    orderId: z.string(),
    fulfillment: z.looseObject({ fulfillmentStatus: z.string(), fulfilledBy: z.string().nullish() }).nullish(),
    packages: z.array(z.looseObject({ packageReferenceId: z.string(), trackingNumber: z.string().nullish() })).nullish(),
  }),
});

export interface ShipOptions {
  client: AmazonClient;
  marketplaceId: string;
}

export async function confirmShipment(options: ShipOptions, push: FulfillmentPush): Promise<PushOutcome> {
  const { client } = options;
  const orderId = push.orderExternalId;
  const reference = String(push.shipmentId);
  // https://developer-docs.amazon.com/sp-api/docs/orders-api-v2026-01-01-reference#getorder
  const res = await client.call('getOrderV2026', {
    params: { orderId },
    query: { includedData: ['FULFILLMENT', 'PACKAGES'] },
    what: `order ${orderId}`,
  });
  const { order } = orderV2026Schema.parse(res.body);
  if (order.fulfillment?.fulfilledBy === 'AMAZON') {
    throw new PermanentError(`order ${orderId} is fulfilled by Amazon (FBA): Amazon ships it, channelsync must not`);
  }
  if (order.fulfillment?.fulfillmentStatus === 'CANCELLED') throw new PermanentError(`order ${orderId} was cancelled on Amazon: nothing to ship`);
  const existing = order.packages?.find((p) => p.packageReferenceId === reference);
  if (existing) return { externalRef: reference, alreadyDone: true };

  const lines = push.lines.filter((l) => l.quantity > 0);
  if (lines.length === 0) throw new PermanentError(`shipment ${reference} of order ${orderId} has no units to confirm`);
  const body = {
    marketplaceId: options.marketplaceId,
    packageDetail: {
      // The model's PackageReferenceId must be "a positive numeric value" (errors.json): our shipment id is.
      packageReferenceId: reference,
      ...carrierFields(push.carrier),
      ...(push.service ? { shippingMethod: push.service } : {}),
      trackingNumber: push.trackingNumber,
      shipDate: new Date().toISOString(),
      orderItems: lines.map((l) => ({ orderItemId: l.lineExternalId, quantity: l.quantity })),
    },
  };
  try {
    await client.call('confirmShipment', { params: { orderId }, body, what: `the shipment of order ${orderId}` });
  } catch (err) {
    // Amazon's 400s are terse ("OrderItemId  is invalid, please obtain the value through the getOrderItems API"):
    // say which shipment and order, and keep Amazon's words for the person who retries it.
    if (err instanceof AmazonRequestError) throw new PermanentError(`Amazon refused shipment ${reference} of order ${orderId}: ${err.amazonCode}: ${err.amazonMessage}`);
    throw err;
  }
  return { externalRef: reference, alreadyDone: false };
}

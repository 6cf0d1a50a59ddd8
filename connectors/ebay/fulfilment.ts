/**
 * Shipped back: createShippingFulfillment, one call per package
 * (https://developer.ebay.com/api-docs/sell/fulfillment/resources/order/shipping_fulfillment/methods/createShippingFulfillment).
 *
 * Idempotent by reading first: getShippingFulfillments lists the order's packages,
 * and eBay's fulfillment id equals the tracking number when one was given, so a
 * package already there (a retried push, a push whose answer was lost) is found
 * and nothing new is created. A 409 answer is read the same way.
 *
 * eBay takes tracking numbers of letters and digits only (ShippingFulfillmentDetails.
 * trackingNumber): spaces and hyphens carriers print are removed; anything else
 * left is refused here, with the number named, before eBay refuses it (32300).
 */
import { PermanentError } from '../../src/domain/errors.ts';
import type { FulfillmentPush, PushOutcome } from '../types.ts';
import { EbayRequestError, type EbayClient } from './client.ts';

interface Fulfillments {
  fulfillments?: Array<{ fulfillmentId?: string; shipmentTrackingNumber?: string; lineItems?: Array<{ lineItemId?: string }> }>;
}

/**
 * eBay's carrier codes (the Trading API's GeteBayDetails ShippingCarrierDetails) for
 * names people type; any other name is sent as written, without spaces.
 */
const CARRIER_CODES: Record<string, string> = {
  usps: 'USPS',
  ups: 'UPS',
  fedex: 'FedEx',
  dhl: 'DHL',
  'royal mail': 'RoyalMail',
  'deutsche post': 'DeutschePost',
  hermes: 'Hermes',
  dpd: 'DPD',
  gls: 'GLS',
  'canada post': 'CanadaPost',
  'australia post': 'AustraliaPost',
};

export function carrierCode(carrier: string): string {
  return CARRIER_CODES[carrier.trim().toLowerCase()] ?? carrier.replace(/\s+/g, '');
}

export function ebayTrackingNumber(tracking: string): string {
  const cleaned = tracking.replace(/[\s-]+/g, '');
  if (!/^[A-Za-z0-9]+$/.test(cleaned)) throw new PermanentError(`tracking number "${tracking}" has characters eBay refuses (only letters and digits)`);
  return cleaned;
}

export async function pushFulfillment(client: EbayClient, push: FulfillmentPush): Promise<PushOutcome> {
  const order = push.orderExternalId;
  const base = `/sell/fulfillment/v1/order/${encodeURIComponent(order)}/shipping_fulfillment`;
  const tracking = push.trackingNumber ? ebayTrackingNumber(push.trackingNumber) : null;
  const existing = async () => {
    const res = await client.call<Fulfillments>('GET', base, { api: 'sell.fulfillment', what: `fulfillments of order ${order}` });
    const lineIds = new Set(push.lines.map((l) => l.lineExternalId));
    return (res.body.fulfillments ?? []).find((f) =>
      tracking ? f.fulfillmentId === tracking || f.shipmentTrackingNumber === tracking : (f.lineItems ?? []).every((l) => l.lineItemId && lineIds.has(l.lineItemId)) && !f.shipmentTrackingNumber,
    );
  };
  const found = await existing();
  if (found) return { externalRef: found.fulfillmentId ?? tracking, alreadyDone: true };
  try {
    const res = await client.call('POST', base, {
      body: {
        lineItems: push.lines.map((l) => ({ lineItemId: l.lineExternalId, quantity: l.quantity })),
        ...(tracking ? { trackingNumber: tracking, shippingCarrierCode: carrierCode(push.carrier) } : {}),
      },
      api: 'sell.fulfillment',
      what: `shipment ${push.shipmentId} of order ${order}`,
    });
    // 201 Location: .../shipping_fulfillment/{fulfillmentId}
    const location = res.headers.get('location') ?? '';
    return { externalRef: decodeURIComponent(location.split('/').pop() ?? '') || tracking, alreadyDone: false };
  } catch (err) {
    if (err instanceof EbayRequestError && err.status === 409) {
      const again = await existing();
      if (again) return { externalRef: again.fulfillmentId ?? tracking, alreadyDone: true };
    }
    throw err;
  }
}

/**
 * The one channel setting every kind shares: who tells the customer that a
 * parcel shipped or arrived. Each connector's settings schema includes it, so
 * `channels add -s customerMessages=channelsync` is validated (and listed in
 * `--help`) like any other setting.
 *
 * - `channel` (default, what channelsync did before it sent mail): the push
 *   asks the channel to notify (Shopify `notifyCustomer: true`, a WooCommerce
 *   customer note, which WooCommerce e-mails); channelsync sends no shipping
 *   or delivery mail.
 * - `channelsync`: the push asks the channel not to (Shopify
 *   `notifyCustomer: false`, a private WooCommerce note) and channelsync sends
 *   the shipping confirmation and delivery notice itself. When this daemon has
 *   no SMTP_URL it cannot, so the channel is asked to notify after all: a
 *   customer gets one message, never none (see src/notify/policy.ts).
 *
 * The feedback request is channelsync's in either case: no channel sends one.
 */
import { z } from 'zod';

export const CUSTOMER_MESSAGES = ['channelsync', 'channel'] as const;
export type CustomerMessages = (typeof CUSTOMER_MESSAGES)[number];

export const customerMessagesSetting = z
  .enum(CUSTOMER_MESSAGES, { error: 'customerMessages must be "channelsync" (channelsync e-mails the customer) or "channel" (the channel does)' })
  .default('channel');

/** The setting of a stored channel row (raw `settings` JSON); a missing or unreadable value is the default. */
export function customerMessagesOf(settings: unknown): CustomerMessages {
  const value = (settings as { customerMessages?: unknown } | null)?.customerMessages;
  const parsed = customerMessagesSetting.safeParse(value);
  return parsed.success ? parsed.data : 'channel';
}

/**
 * The feedback request, per channel: `feedbackRequests` true or false. Unset,
 * it is on for storefronts and off for marketplaces: a marketplace buyer's
 * address is the marketplace's relay and its rules allow review requests only
 * through the marketplace itself (Amazon: the Solicitations API, once per
 * order), so a request e-mailed by channelsync would break the seller's terms.
 */
const MARKETPLACE_KINDS: ReadonlySet<string> = new Set(['amazon', 'ebay']);

export const feedbackRequestsSetting = z.preprocess(
  (v) => (v === 'true' ? true : v === 'false' ? false : v),
  z.boolean({ error: 'feedbackRequests must be true or false' }),
);

/** Whether channelsync may e-mail this channel's customers a feedback request (raw `settings` JSON and the channel's kind). */
export function feedbackRequestsOf(kind: string, settings: unknown): boolean {
  const parsed = feedbackRequestsSetting.safeParse((settings as { feedbackRequests?: unknown } | null)?.feedbackRequests);
  return parsed.success ? parsed.data : !MARKETPLACE_KINDS.has(kind);
}

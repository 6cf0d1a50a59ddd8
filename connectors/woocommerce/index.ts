/**
 * WooCommerce (REST API v3) as a channelsync connector.
 * https://woocommerce.github.io/woocommerce-rest-api-docs/
 */
import { z } from 'zod';
import type { ConnectorFactory, SimulatorOptions, ChannelSimulator } from '../types.ts';
import { WooCommerceConnector } from './connector.ts';
import { customerMessagesSetting, feedbackRequestsSetting } from '../customer-messages.ts';

/** `channels.settings` for a WooCommerce store. Frozen after validation. */
export const woocommerceSettingsSchema = z
  .object({
    /** Store base URL (`https://shop.example`, or the WordPress sub-folder). HTTPS uses Basic auth, HTTP OAuth 1.0a. */
    url: z
      .string()
      .url('url must be the store base URL, e.g. https://shop.example')
      .refine((u) => /^https?:\/\//i.test(u), 'url must start with http:// or https://'),
    /** Most requests in flight to this store. Default 4; small hosts may need 1-2. */
    concurrency: z.number().int().min(1).max(32).default(4),
    /** Per request, ms. Default 15000. */
    timeoutMs: z.number().int().min(100).max(300_000).default(15_000),
    /** First pull starts here (ISO 8601) when there is no cursor; all orders when unset. */
    initialSince: z.string().datetime({ offset: true }).optional(),
    /** Each pull re-reads this many seconds before the cursor (late commits, one-second timestamps). Default 120. */
    overlapSeconds: z.number().int().min(1).max(86_400).default(120),
    /** `auto`: use Shipment Tracking / Advanced Shipment Tracking when installed; `none`: order notes only. */
    tracking: z.enum(['auto', 'none']).default('auto'),
    /** Who e-mails the customer about shipping: `channel` (a customer note WooCommerce mails, default) or `channelsync`. */
    customerMessages: customerMessagesSetting,
    /** Whether channelsync e-mails a feedback request after delivery (default true). */
    feedbackRequests: feedbackRequestsSetting.optional(),
  })
  .transform((s) => Object.freeze(s));
export type WooCommerceSettings = z.output<typeof woocommerceSettingsSchema>;

/** Decrypted credentials: a REST API key (Read/Write) and the webhook secret. */
export const woocommerceCredentialsSchema = z
  .object({
    consumerKey: z.string().min(1, 'consumerKey is required (ck_...)'),
    consumerSecret: z.string().min(1, 'consumerSecret is required (cs_...)'),
    webhookSecret: z.string().min(1, 'webhookSecret is required to verify X-WC-Webhook-Signature'),
  })
  .transform((c) => Object.freeze(c));
export type WooCommerceCredentials = z.output<typeof woocommerceCredentialsSchema>;

export const woocommerceFactory: ConnectorFactory<WooCommerceSettings, WooCommerceCredentials> = {
  kind: 'woocommerce',
  displayName: 'WooCommerce',
  settingsSchema: woocommerceSettingsSchema,
  credentialsSchema: woocommerceCredentialsSchema,
  create: (ctx) => new WooCommerceConnector(ctx),
  // WooCommerce reduces stock when an order goes processing, completed or on-hold
  // (wc_maybe_reduce_stock_levels; the recorded processing order's lines carry
  // `_reduced_stock`), not for pending or failed. On-hold still waits for payment.
  // https://github.com/woocommerce/woocommerce/blob/7.9.0/plugins/woocommerce/includes/wc-stock-functions.php
  holdsStock: { financial: ['paid', 'partially_refunded'], fulfillment: ['on_hold'] },
  async simulate(options: SimulatorOptions): Promise<ChannelSimulator> {
    // The simulator stays out of the daemon's import graph until asked for.
    const { startWooCommerceSimulator } = await import('./simulator/index.ts');
    return startWooCommerceSimulator(options);
  },
};

export { WooCommerceConnector } from './connector.ts';

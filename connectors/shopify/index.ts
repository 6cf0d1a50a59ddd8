/**
 * Shopify: the factory the connector registry holds (`kind: 'shopify'`).
 *
 * Settings and credentials are validated here, once, at the boundary.
 */
import { z } from 'zod';
import { ApiVersion } from '@shopify/shopify-api';
import type { ChannelSimulator, ConnectorContext, ConnectorFactory, SimulatorOptions } from '../types.ts';
import { ShopifyConnector } from './connector.ts';
import { customerMessagesSetting, feedbackRequestsSetting } from '../customer-messages.ts';

export const shopifySettingsSchema = z.object({
  /** `my-shop.myshopify.com` (or `127.0.0.1:<port>` for the simulator). No scheme, no path. */
  shopDomain: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/, 'shopDomain must be a host such as "my-shop.myshopify.com" (no https://, no path)'),
  /** Admin API version. Default 2026-07. */
  apiVersion: z
    .string()
    .regex(/^\d{4}-(01|04|07|10)$/, 'apiVersion must look like "2026-07"')
    .default(ApiVersion.July26),
  /** Location whose stock is read and written (GID or numeric id). Default: the shop's first active location. */
  locationId: z.union([z.string().min(1), z.number().int().positive().transform(String)]).optional(),
  /** PEM of a private CA trusted for this shop only (the simulator's certificate). */
  caCertificate: z
    .string()
    .refine((pem) => pem.includes('-----BEGIN CERTIFICATE-----'), 'caCertificate must be a PEM certificate')
    .optional(),
  /** First pull (no cursor yet) starts here; default: every order. */
  initialSince: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'initialSince must be an ISO date such as "2026-01-01T00:00:00Z"')
    .optional(),
  /** Each pull re-reads this many seconds before the newest change seen. Default 120. */
  overlapSeconds: z.number().int().min(0).max(86_400).default(120),
  /** Per-request timeout in ms. Default 30 000. */
  requestTimeoutMs: z.number().int().positive().default(30_000),
  /** Who e-mails the customer about shipping and delivery: `channel` (Shopify, default) or `channelsync`. */
  customerMessages: customerMessagesSetting,
  /** Whether channelsync e-mails a feedback request after delivery (default true). */
  feedbackRequests: feedbackRequestsSetting.optional(),
});
export type ShopifySettings = z.infer<typeof shopifySettingsSchema>;

export const shopifyCredentialsSchema = z.union([
  z.object({
    /** Admin API access token (`shpat_…`). */
    accessToken: z.string().min(1),
    /** The app's client secret: the webhook HMAC key. */
    apiSecretKey: z.string().min(1),
  }),
  z.object({
    /** Client credentials grant: tokens last 24 h and are refreshed automatically. */
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    /** Webhook HMAC key; default: clientSecret (Shopify signs with the app's secret). */
    apiSecretKey: z.string().min(1).optional(),
  }),
]);
export type ShopifyCredentials = z.infer<typeof shopifyCredentialsSchema>;

export const shopifyFactory: ConnectorFactory<ShopifySettings, ShopifyCredentials> = {
  kind: 'shopify',
  displayName: 'Shopify',
  settingsSchema: shopifySettingsSchema as unknown as z.ZodType<ShopifySettings>,
  credentialsSchema: shopifyCredentialsSchema,
  create(ctx: ConnectorContext<ShopifySettings, ShopifyCredentials>) {
    return new ShopifyConnector(ctx);
  },
  // Shopify commits inventory when an order is created, whatever its payment
  // status (pending and authorized included): every open order holds stock.
  // https://help.shopify.com/en/manual/products/inventory/getting-started-with-inventory/inventory-states
  holdsStock: { financial: ['pending', 'authorized', 'partially_paid', 'paid', 'partially_refunded', 'unknown'], fulfillment: [] },
  async simulate(options: SimulatorOptions): Promise<ChannelSimulator> {
    // Loaded on demand: production never imports the simulator (and graphql-js's schema build).
    // The specifier is a variable so that type-checking does not depend on the
    // simulator being present (it is developed beside the connector).
    const modulePath = './simulator/index.ts';
    const simulator = (await import(modulePath)) as {
      startShopifySimulator(options: SimulatorOptions): Promise<ChannelSimulator>;
    };
    return simulator.startShopifySimulator(options);
  },
};

export { ShopifyConnector } from './connector.ts';
export { ShopifyClient } from './client.ts';

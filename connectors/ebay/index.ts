/**
 * eBay (Sell APIs): settings, credentials and the factory (registered in
 * connectors/index.ts; passes the conformance suite).
 */
import { z } from 'zod';
import { customerMessagesSetting, feedbackRequestsSetting } from '../customer-messages.ts';
import type { ConnectorFactory } from '../types.ts';
import { APP_SCOPE } from './client.ts';
import { EbayConnector } from './connector.ts';

/** Scopes channelsync asks the seller for. */
export const EBAY_SCOPES = ['sell.fulfillment', 'sell.inventory', 'commerce.notification.subscription', 'sell.finances'].map((s) => `${APP_SCOPE}/${s}`);

export const ebaySettingsSchema = z
  .object({
    /** https://api.ebay.com, https://api.sandbox.ebay.com, or a simulator. */
    apiUrl: z
      .string()
      .url('apiUrl must be a URL such as https://api.ebay.com or https://api.sandbox.ebay.com')
      .default('https://api.ebay.com')
      .transform((u) => u.replace(/\/+$/, '')),
    marketplaceId: z.string().regex(/^EBAY_[A-Z_]+$/, 'expected an eBay marketplace id such as EBAY_US').default('EBAY_US'),
    scopes: z.preprocess(
      // `channels add -s scopes=https://...sell.fulfillment,https://...sell.inventory` gives one comma-separated string.
      (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
      z.array(z.string().url('each scope must be a full scope URL, e.g. https://api.ebay.com/oauth/api_scope/sell.fulfillment')).min(1),
    ).default(EBAY_SCOPES),
    /** First pull starts here (ISO time); default eBay's own 90 days. */
    initialSince: z.string().datetime().optional(),
    /**
     * Daily call budgets (per application, shared by its channels, and per seller).
     * eBay raises them per app; getRateLimits shows the live numbers. Defaults are
     * channelsync's own conservative choice, not eBay's published limits.
     */
    appDailyCalls: z.number().int().positive().default(5000),
    userDailyCalls: z.number().int().positive().default(5000),
    /** The destination endpoint as registered with eBay, when it is not PUBLIC_URL/webhooks/<id>. */
    notificationEndpoint: z.string().url().optional(),
    /** Who tells the buyer a parcel shipped (default `channel`: eBay e-mails its buyers when a tracking number is added). */
    customerMessages: customerMessagesSetting.optional(),
    /** Off unless true: eBay buyers' addresses are relays and eBay's rules keep feedback requests on eBay. */
    feedbackRequests: feedbackRequestsSetting.optional(),
  })
  .strict();
export type EbaySettings = z.infer<typeof ebaySettingsSchema>;

export const ebayCredentialsSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  refreshToken: z.string().min(1),
  /** The destination's verification token (eBay: 32 to 80 characters), for the endpoint challenge. */
  verificationToken: z.string().min(1).optional(),
  /**
   * The key pair refunds are signed with (./signing-keys.ts): createSigningKey's
   * signingKeyId, jwe and privateKey. Kept as stored; created and stored by channelsync when absent.
   */
  signingKey: z.unknown().optional(),
});
export type EbayCredentials = z.infer<typeof ebayCredentialsSchema>;

export const ebayFactory: ConnectorFactory<EbaySettings, EbayCredentials> = {
  kind: 'ebay',
  displayName: 'eBay',
  settingsSchema: ebaySettingsSchema as unknown as z.ZodType<EbaySettings>,
  credentialsSchema: ebayCredentialsSchema,
  create: (ctx) => new EbayConnector(ctx),
  async simulate(options) {
    const { startEbaySimulator } = await import('./simulator/index.ts');
    return startEbaySimulator(options);
  },
};

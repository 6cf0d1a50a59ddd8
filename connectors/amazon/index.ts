/**
 * Amazon (Selling Partner API) as a channelsync connector: seller-fulfilled
 * (MFN) orders shipped by us, FBA orders imported as fulfilled by Amazon.
 * https://developer-docs.amazon.com/sp-api/docs/welcome
 */
import { z } from 'zod';
import { feedbackRequestsSetting } from '../customer-messages.ts';
import type { ChannelSimulator, ConnectorFactory, SimulatorOptions } from '../types.ts';
import { AmazonConnector } from './connector.ts';

/** SP-API hosts by region (the model's `host` is the NA one). */
export const REGION_ENDPOINTS = {
  na: 'https://sellingpartnerapi-na.amazon.com',
  eu: 'https://sellingpartnerapi-eu.amazon.com',
  fe: 'https://sellingpartnerapi-fe.amazon.com',
} as const;

export function regionEndpoint(region: keyof typeof REGION_ENDPOINTS): string {
  return REGION_ENDPOINTS[region];
}

/** `channels.settings` for an Amazon seller account. Frozen after validation. */
export const amazonSettingsSchema = z
  .object({
    /** SP-API region of the marketplaces: na, eu or fe. */
    region: z.enum(['na', 'eu', 'fe']).default('na'),
    /** Overrides the region's SP-API host (the simulator, a sandbox host). */
    endpoint: z.string().url('endpoint must be a URL such as https://sandbox.sellingpartnerapi-na.amazon.com').optional(),
    /** Login with Amazon token endpoint. */
    tokenUrl: z.string().url().default('https://api.amazon.com/auth/o2/token'),
    /** Marketplaces to read orders from (getOrders takes at most 50); the first is the one shipments are confirmed in. */
    marketplaceIds: z.preprocess(
      // `channels add -s marketplaceIds=ATVPDKIKX0DER,A2EUQ1WTGCTBG2` gives one comma-separated string.
      (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
      z.array(z.string().min(1)).min(1, 'marketplaceIds needs at least one marketplace, e.g. ATVPDKIKX0DER').max(50),
    ),
    /** The seller (merchant token) the refresh token was granted for. */
    sellerId: z.string().min(1, 'sellerId is required (Seller Central > Settings > Account info > Merchant token)'),
    /** First pull starts here (ISO 8601) when there is no cursor; 30 days back when unset. */
    initialSince: z.string().datetime({ offset: true }).optional(),
    /**
     * Each pull re-reads this many seconds before the cursor. At least 120:
     * Amazon's changes of the last two minutes may not be visible yet (the
     * two-minute rule of getOrders). Default 300.
     */
    overlapSeconds: z.number().int().min(120, 'overlapSeconds must be at least 120 (the two-minute rule)').max(86_400).default(300),
    /** How often a submitted stock feed is asked about, seconds. Default 30 (Amazon takes minutes). */
    feedPollSeconds: z.number().int().min(1).max(3600).default(30),
    /** Per request, ms. Default 20000. */
    timeoutMs: z.number().int().min(100).max(300_000).default(20_000),
    /** The SQS queue ORDER_CHANGE notifications are delivered to (its destination in the Notifications API); none: polling only. */
    sqsQueueUrl: z.string().url('sqsQueueUrl must be the queue URL, e.g. https://sqs.us-east-1.amazonaws.com/123456789012/orders').optional(),
    /** The queue's AWS region; read from a standard queue URL when unset. */
    sqsRegion: z.string().min(1).optional(),
    /** SQS endpoint override (the simulator). */
    sqsEndpoint: z.string().url().optional(),
    /** channelsync never e-mails Amazon buyers a feedback request unless this is true: Amazon allows review requests only through its Solicitations API. */
    feedbackRequests: feedbackRequestsSetting.optional(),
  })
  .refine((s) => !s.sqsQueueUrl || s.sqsRegion || /^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com\//.test(s.sqsQueueUrl), {
    message: 'sqsRegion is required when sqsQueueUrl is not a standard https://sqs.<region>.amazonaws.com/ URL',
    path: ['sqsRegion'],
  })
  .transform((s) => Object.freeze(s));
export type AmazonSettings = z.output<typeof amazonSettingsSchema>;

/** Decrypted credentials: the app's LWA client and the seller's refresh token; AWS keys for the queue. */
export const amazonCredentialsSchema = z
  .object({
    clientId: z.string().min(1, 'clientId is required (amzn1.application-oa2-client....)'),
    clientSecret: z.string().min(1, 'clientSecret is required'),
    refreshToken: z.string().min(1, 'refreshToken is required (Atzr|...)'),
    awsAccessKeyId: z.string().min(1).optional(),
    awsSecretAccessKey: z.string().min(1).optional(),
  })
  .transform((c) => Object.freeze(c));
export type AmazonCredentials = z.output<typeof amazonCredentialsSchema>;

export const amazonFactory: ConnectorFactory<AmazonSettings, AmazonCredentials> = {
  kind: 'amazon',
  displayName: 'Amazon',
  settingsSchema: amazonSettingsSchema,
  credentialsSchema: amazonCredentialsSchema,
  create: (ctx) => new AmazonConnector(ctx),
  // Amazon takes units out of the listing's quantity once the order is Unshipped (payment
  // authorised); a Pending order holds nothing yet, so channelsync reserves nothing for it.
  holdsStock: { financial: ['paid', 'partially_refunded'], fulfillment: [] },
  async simulate(options: SimulatorOptions): Promise<ChannelSimulator> {
    const { startAmazonSimulator } = await import('./simulator/index.ts');
    return startAmazonSimulator(options);
  },
};

export { AmazonConnector } from './connector.ts';

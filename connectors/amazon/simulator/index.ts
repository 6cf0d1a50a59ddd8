/**
 * A simulated Amazon seller account (Selling Partner API, Login with Amazon
 * and the SQS queue its notifications go to), driven through the
 * `ChannelSimulator` interface like the other simulators: tests, the demo
 * and `channelsync simulate`. Rules and shapes: server.ts, operations.ts.
 *
 * Amazon sends no webhooks: `setWebhookUrl` has nothing to configure; order
 * changes go to the simulated SQS queue as ORDER_CHANGE notifications.
 */
import type { ChannelSimulator, FaultSettings, SimulatedFulfillment, SimulatedOrderInput, SimulatedProduct, SimulatorOptions } from '../../types.ts';
import { loadSimulatorFile, persistSimulator, type SimulatorPersistence } from '../../simulator-file.ts';
import { trackingUrlFor } from '../../../src/fulfilment/carriers/urls.ts';
import type { OperationName } from '../rate-limits.ts';
import { AmazonSimServer } from './server.ts';
import { SIM_MARKETPLACE, SIM_SELLER, type SimFeed, type Snapshot } from './state.ts';

export interface AmazonSimulatorOptions extends SimulatorOptions {
  /** Rate and burst per operation (tests); Amazon's default usage plans when unset. */
  limits?: Partial<Record<OperationName, { rate: number; burst: number }>>;
  /** Amazon's static sandbox: only the models' x-amzn-api-sandbox cases answer. */
  sandbox?: boolean;
  /** Ms a feed waits in each of IN_QUEUE and IN_PROGRESS. Default 200. */
  feedDelayMs?: number;
  /** The app lacks the PII roles: no Restricted Data Tokens. */
  denyRdt?: boolean;
}

export interface AmazonOrderInput extends SimulatedOrderInput {
  /** AFN: fulfilled by Amazon (FBA). Default MFN. */
  fulfillmentChannel?: 'MFN' | 'AFN';
  /** The buyer asked to cancel (BuyerRequestedCancel on the items). */
  buyerCancelReason?: string;
}

const CREDENTIALS = {
  clientId: 'amzn1.application-oa2-client.simulator',
  clientSecret: 'amzn1.oa2-cs.v1.simulator-secret',
  refreshToken: 'Atzr|simulator-refresh-token',
  awsAccessKeyId: 'AKIASIMULATOR0000001',
  awsSecretAccessKey: 'simulator-aws-secret',
};

export class AmazonSimulator implements ChannelSimulator {
  readonly kind = 'amazon';
  private persistence: SimulatorPersistence | null = null;

  constructor(
    readonly server: AmazonSimServer,
    private readonly options: AmazonSimulatorOptions,
  ) {}

  get url(): string {
    return this.server.url;
  }

  async start(): Promise<void> {
    const saved = this.options.statePath ? loadSimulatorFile<Snapshot>(this.options.statePath, 'amazon') : null;
    if (saved) this.server.state.restore(saved.state, saved.clean);
    await this.server.listen(this.options.port ?? 0);
    if (!saved) {
      for (let i = 0; i < (this.options.orders ?? 0); i++) {
        const sku = `AMZ-SEED-${(i % 3) + 1}`;
        if (!this.server.state.listings.has(sku)) this.server.state.addListing(sku, `Seed item ${(i % 3) + 1}`, '19.99', 50);
        this.server.state.createOrder({ lines: [{ sku, quantity: 1 }] });
      }
    }
    if (this.options.statePath) this.persistence = persistSimulator(this.options.statePath, 'amazon', () => this.server.state.snapshot());
  }

  channelConfig() {
    return {
      settings: {
        region: 'na',
        endpoint: this.url,
        tokenUrl: `${this.url}/auth/o2/token`,
        marketplaceIds: [SIM_MARKETPLACE],
        sellerId: SIM_SELLER,
        // The simulator's feeds finish in well under a second (feedDelayMs).
        feedPollSeconds: 1,
        sqsQueueUrl: this.server.queueUrl(),
        sqsRegion: 'us-east-1',
        sqsEndpoint: this.url,
      },
      credentials: { ...CREDENTIALS },
    };
  }

  setWebhookUrl(): void {
    // Amazon has no webhooks: notifications go to the SQS queue (see the class comment).
  }

  async createProduct(product: SimulatedProduct): Promise<void> {
    this.server.state.addListing(product.sku, product.title, product.price, product.stock);
  }

  async createOrder(input: AmazonOrderInput): Promise<{ externalId: string; orderNumber: string }> {
    const order = this.server.state.createOrder(input);
    return { externalId: order.AmazonOrderId, orderNumber: order.AmazonOrderId };
  }

  async touchOrder(externalId: string): Promise<void> {
    this.server.state.touch(this.order(externalId));
  }

  async cancelOrder(externalId: string): Promise<void> {
    this.server.state.cancel(this.order(externalId));
  }

  /** The buyer asks to cancel (Amazon shows it on the items and sends BuyerRequestedChange). */
  async requestCancel(externalId: string, reason: string): Promise<void> {
    const order = this.order(externalId);
    for (const item of order.items) item.buyerCancelReason = reason;
    order.LastUpdateDate = this.server.state.stamp();
    this.server.state.notify(order, 'BuyerRequestedChange');
  }

  /** Payment authorised: Pending -> Unshipped, and Amazon takes the units from the listing. */
  async authorizePayment(externalId: string): Promise<void> {
    const order = this.order(externalId);
    if (order.OrderStatus !== 'Pending') return;
    order.OrderStatus = 'Unshipped';
    this.server.state.reserve(order, -1);
    this.server.state.touch(order);
  }

  async fulfillments(externalId: string): Promise<SimulatedFulfillment[]> {
    const order = this.order(externalId);
    return order.packages.map((p) => {
      const carrier = p.carrierCode === 'Other' ? (p.carrierName ?? 'Other') : p.carrierCode;
      return {
        trackingCompany: carrier,
        trackingNumber: p.trackingNumber,
        // Amazon keeps no URL: the buyer's page links the carrier's tracking page for a carrier code it knows.
        trackingUrl: p.carrierCode === 'Other' ? null : trackingUrlFor(p.carrierCode, p.trackingNumber),
        lineItems: p.items.map((i) => ({ sku: order.items.find((it) => it.OrderItemId === i.orderItemId)?.SellerSKU ?? null, quantity: i.quantity })),
        // Amazon e-mails the buyer about every confirmed shipment itself.
        customerNotified: true,
      };
    });
  }

  async stockOf(sku: string): Promise<number | null> {
    return this.server.state.listings.get(sku)?.quantity ?? null;
  }

  async setStock(sku: string, quantity: number): Promise<void> {
    const listing = this.server.state.listings.get(sku);
    if (!listing) throw new Error(`no listing with SKU ${sku}`);
    listing.quantity = quantity;
    listing.updatedAt = this.server.state.stamp();
  }

  setFaults(faults: FaultSettings): void {
    this.server.faults = { ...faults };
  }

  /** Feeds received so far (tests). */
  feeds(): SimFeed[] {
    return [...this.server.state.feeds.values()];
  }

  async close(): Promise<void> {
    await this.server.close();
    this.persistence?.close();
  }

  private order(externalId: string) {
    const order = this.server.state.orders.get(externalId);
    if (!order) throw new Error(`no order ${externalId}`);
    return order;
  }
}

export async function startAmazonSimulator(options: AmazonSimulatorOptions = {}): Promise<AmazonSimulator> {
  const server = new AmazonSimServer({
    ...CREDENTIALS,
    limits: options.limits,
    sandbox: options.sandbox,
    feedDelayMs: options.feedDelayMs,
    denyRdt: options.denyRdt,
    log: options.log,
  });
  const sim = new AmazonSimulator(server, options);
  await sim.start();
  return sim;
}

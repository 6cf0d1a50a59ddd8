/**
 * The simulated seller account: listings, orders, packages, feeds, tokens
 * and the SQS queue, as plain data (snapshots to a file for the demo).
 * Shapes follow Amazon's models (ordersV0, orders_2026-01-01, feeds,
 * listingsItems); the HTTP side (server.ts) turns them into answers.
 */
import { createHash, randomUUID } from 'node:crypto';

export const SIM_MARKETPLACE = 'ATVPDKIKX0DER';
export const SIM_SELLER = 'A2SIMSELLER0001';

export interface SimListing {
  sku: string;
  asin: string;
  title: string;
  price: string;
  productType: string;
  /** MFN quantity (`fulfillment_availability` DEFAULT). */
  quantity: number;
  updatedAt: string;
}

export interface SimOrderItem {
  OrderItemId: string;
  ASIN: string;
  SellerSKU: string;
  Title: string;
  QuantityOrdered: number;
  QuantityShipped: number;
  /** Unit price; ItemPrice on the wire is this times the quantity. */
  unitPrice: string;
  buyerCancelReason: string | null;
}

export interface SimPackage {
  packageReferenceId: string;
  carrierCode: string;
  carrierName: string | null;
  shippingMethod: string | null;
  trackingNumber: string;
  shipDate: string;
  items: Array<{ orderItemId: string; quantity: number }>;
}

export type SimOrderStatus = 'Pending' | 'Unshipped' | 'PartiallyShipped' | 'Shipped' | 'Canceled';

export interface SimOrder {
  AmazonOrderId: string;
  PurchaseDate: string;
  LastUpdateDate: string;
  OrderStatus: SimOrderStatus;
  FulfillmentChannel: 'MFN' | 'AFN';
  currency: string;
  buyerEmail: string;
  buyerName: string;
  address: { Name: string; AddressLine1: string; City: string; StateOrRegion: string; PostalCode: string; CountryCode: string };
  items: SimOrderItem[];
  packages: SimPackage[];
}

export interface SimFeed {
  feedId: string;
  feedType: string;
  marketplaceIds: string[];
  createdTime: string;
  processingStatus: 'CANCELLED' | 'DONE' | 'FATAL' | 'IN_PROGRESS' | 'IN_QUEUE';
  processingStartTime?: string;
  processingEndTime?: string;
  inputFeedDocumentId: string;
  resultFeedDocumentId?: string;
}

export interface SimDocument {
  feedDocumentId: string;
  contentType: string;
  content: string | null;
}

export interface SimMessage {
  MessageId: string;
  Body: string;
  MD5OfBody: string;
  /** Epoch ms until which a received message stays invisible. */
  invisibleUntil: number;
  /** The latest receipt handle; `receipts` holds every one ever issued for the message. */
  receipt: string | null;
  receipts?: string[];
}

export interface Snapshot {
  seq: number;
  listings: Map<string, SimListing>;
  orders: Map<string, SimOrder>;
  feeds: Map<string, SimFeed>;
  documents: Map<string, SimDocument>;
  queue: SimMessage[];
}

/** Amazon order ids look like 3-7-7 digits. */
function orderId(seq: number): string {
  const n = String(seq).padStart(14, '0');
  return `113-${n.slice(0, 7)}-${n.slice(7)}`;
}

export class AmazonState {
  seq = 1000;
  listings = new Map<string, SimListing>();
  orders = new Map<string, SimOrder>();
  feeds = new Map<string, SimFeed>();
  documents = new Map<string, SimDocument>();
  queue: SimMessage[] = [];
  /** Set when notifications go to the queue (the demo and tests turn it on). */
  queueEnabled = true;
  /** The latest LastUpdateDate handed out, ms (it may run a little ahead of the clock). */
  lastStamp = 0;

  next(): number {
    return ++this.seq;
  }

  /** A LastUpdateDate strictly after the previous one: Amazon's are millisecond-precise. */
  stamp(): string {
    const now = Math.max(Date.now(), this.lastStamp + 1);
    this.lastStamp = now;
    return new Date(now).toISOString();
  }

  addListing(sku: string, title: string, price: string, quantity: number): SimListing {
    const listing: SimListing = {
      sku,
      asin: `B0${String(this.next()).padStart(8, '0')}`,
      title,
      price,
      productType: 'PRODUCT',
      quantity,
      updatedAt: this.stamp(),
    };
    this.listings.set(sku, listing);
    return listing;
  }

  createOrder(input: {
    lines: Array<{ sku: string; quantity: number }>;
    email?: string;
    paid?: boolean;
    fulfillmentChannel?: 'MFN' | 'AFN';
    buyerCancelReason?: string;
  }): SimOrder {
    const id = orderId(this.next());
    const now = this.stamp();
    const items = input.lines.map((line) => {
      const listing = this.listings.get(line.sku);
      if (!listing) throw new Error(`no listing with SKU ${line.sku}`);
      return {
        OrderItemId: String(this.next()).padStart(14, '0'),
        ASIN: listing.asin,
        SellerSKU: line.sku,
        Title: listing.title,
        QuantityOrdered: line.quantity,
        QuantityShipped: input.fulfillmentChannel === 'AFN' ? line.quantity : 0,
        unitPrice: listing.price,
        buyerCancelReason: input.buyerCancelReason ?? null,
      };
    });
    const afn = input.fulfillmentChannel === 'AFN';
    const order: SimOrder = {
      AmazonOrderId: id,
      PurchaseDate: now,
      LastUpdateDate: now,
      OrderStatus: afn ? 'Shipped' : input.paid === false ? 'Pending' : 'Unshipped',
      FulfillmentChannel: afn ? 'AFN' : 'MFN',
      currency: 'USD',
      buyerEmail: input.email ?? `buyer${this.seq}@marketplace.amazon.com`,
      buyerName: 'Ada Buyer',
      address: { Name: 'Ada Buyer', AddressLine1: '410 Terry Ave N', City: 'Seattle', StateOrRegion: 'WA', PostalCode: '98109', CountryCode: 'US' },
      items,
      packages: [],
    };
    // Amazon takes MFN units out of the listing once payment is authorised (Unshipped); FBA stock is Amazon's.
    if (order.OrderStatus === 'Unshipped') this.reserve(order, -1);
    this.orders.set(id, order);
    this.notify(order, 'OrderStatusChange');
    return order;
  }

  /** Adds (-1) or gives back (+1) the order's units to its listings. */
  reserve(order: SimOrder, sign: 1 | -1): void {
    for (const item of order.items) {
      const listing = this.listings.get(item.SellerSKU);
      if (listing) {
        listing.quantity = Math.max(0, listing.quantity + sign * (item.QuantityOrdered - item.QuantityShipped));
        listing.updatedAt = this.stamp();
      }
    }
  }

  touch(order: SimOrder): void {
    order.LastUpdateDate = this.stamp();
    this.notify(order, 'OrderStatusChange');
  }

  cancel(order: SimOrder): void {
    if (order.OrderStatus === 'Canceled') return;
    if (order.OrderStatus === 'Unshipped' || order.OrderStatus === 'PartiallyShipped') this.reserve(order, 1);
    order.OrderStatus = 'Canceled';
    this.touch(order);
  }

  /** ORDER_CHANGE envelope (schemas/notifications/OrderChangeNotification.json) onto the queue. */
  notify(order: SimOrder, changeType: 'OrderStatusChange' | 'BuyerRequestedChange'): void {
    if (!this.queueEnabled) return;
    const id = randomUUID();
    const now = new Date().toISOString();
    const body = JSON.stringify({
      NotificationVersion: '1.0',
      NotificationType: 'ORDER_CHANGE',
      PayloadVersion: '1.0',
      EventTime: now,
      Payload: {
        OrderChangeNotification: {
          NotificationLevel: 'OrderLevel',
          SellerId: SIM_SELLER,
          AmazonOrderId: order.AmazonOrderId,
          OrderChangeType: changeType,
          OrderChangeTrigger: { TimeOfOrderChange: order.LastUpdateDate, ChangeReason: changeType === 'BuyerRequestedChange' ? 'Buyer Requested Cancel' : 'Order status changed' },
          Summary: {
            MarketplaceId: SIM_MARKETPLACE,
            OrderStatus: order.OrderStatus,
            PurchaseDate: order.PurchaseDate,
            FulfillmentType: order.FulfillmentChannel,
            OrderType: 'StandardOrder',
            OrderItems: order.items.map((i) => ({ OrderItemId: i.OrderItemId, SellerSKU: i.SellerSKU, Quantity: i.QuantityOrdered, QuantityShipped: i.QuantityShipped })),
          },
        },
      },
      NotificationMetadata: { ApplicationId: 'amzn1.sp.solution.simulator', SubscriptionId: 'sim-subscription-order-change', PublishTime: now, NotificationId: id },
    });
    this.queue.push({ MessageId: randomUUID(), Body: body, MD5OfBody: createHash('md5').update(body).digest('hex'), invisibleUntil: 0, receipt: null });
    // A queue nobody reads stays bounded (SQS keeps messages 4 days by default; the demo may run without a reader).
    if (this.queue.length > 10_000) this.queue.splice(0, this.queue.length - 10_000);
  }

  snapshot(): Snapshot {
    return { seq: this.seq, listings: this.listings, orders: this.orders, feeds: this.feeds, documents: this.documents, queue: this.queue };
  }

  /** Loads a snapshot; an unclean one moves the sequence past a margin (ids handed out after it are unknown). */
  restore(s: Snapshot, clean: boolean): void {
    this.seq = s.seq + (clean ? 0 : 10_000);
    this.listings = s.listings;
    this.orders = s.orders;
    this.feeds = s.feeds;
    this.documents = s.documents;
    this.queue = s.queue ?? [];
    // Feeds still IN_QUEUE / IN_PROGRESS are picked up again by the server (`resumeFeeds`).
  }
}

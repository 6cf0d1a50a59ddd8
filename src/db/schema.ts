/**
 * Kysely's view of the tables created in `migrations/`. Keep the two in step:
 * a column added by a migration is added here in the same commit.
 * bigint ids are read as numbers (see the type parser in `index.ts`);
 * numeric money columns are read as exact decimal strings.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
type Money = ColumnType<string, string | number, string | number>;
type Json<T = unknown> = ColumnType<T, string, string>;
type JsonDefault<T = unknown> = ColumnType<T, string | undefined, string>;

export type OrderState =
  | 'received'
  | 'allocated'
  | 'backordered'
  | 'partially_shipped'
  | 'shipped'
  | 'delivered'
  | 'on_hold'
  | 'cancelled'
  | 'needs_attention';

export type FulfillmentState =
  | 'allocated'
  | 'backordered'
  | 'picking'
  | 'packed'
  | 'shipped'
  | 'delivered'
  | 'on_hold'
  | 'cancelled';

export type PushKind = 'fulfillment' | 'stock' | 'cancel' | 'refund';
export type PushStatus = 'pending' | 'done' | 'failed';

export interface ChannelsTable {
  id: Generated<number>;
  kind: string;
  name: string;
  settings: JsonDefault<Record<string, unknown>>;
  credentials_encrypted: string;
  /** Fingerprint of the key the credentials are sealed under (`keyId`); null for rows older than migration 0014. */
  credential_key_id: Generated<string | null>;
  enabled: Generated<boolean>;
  /** Set when the channel was paused until a person reconnects it (0021); null when it runs. */
  paused_at: Generated<Date | null>;
  /** Why, in the channel's words; set exactly when `paused_at` is. */
  paused_reason: Generated<string | null>;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

export interface SyncCursorsTable {
  channel_id: number;
  resource: string;
  cursor: string;
  last_synced_at: CreatedAt;
  last_error: string | null;
  /** Start of the last pull that ran to its end: every order changed before it is saved. */
  caught_up_at: Date | null;
}

export interface SuppliersTable {
  id: Generated<number>;
  name: string;
  email: string | null;
  lead_time_days: Generated<number>;
  dropship: Generated<boolean>;
  created_at: CreatedAt;
}

export interface SkusTable {
  id: Generated<number>;
  sku: string;
  title: Generated<string>;
  supplier_id: number | null;
  dropship: Generated<boolean>;
  safety_stock: Generated<number>;
  created_at: CreatedAt;
}

export interface LocationsTable {
  id: Generated<number>;
  code: string;
  name: string;
  active: Generated<boolean>;
  priority: Generated<number>;
  created_at: CreatedAt;
}

export interface ChannelListingsTable {
  id: Generated<number>;
  channel_id: number;
  sku_id: number;
  product_external_id: string | null;
  variant_external_id: string | null;
  inventory_item_external_id: string | null;
  last_pushed_available: number | null;
  last_pushed_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface OrdersTable {
  id: Generated<number>;
  channel_id: number;
  external_id: string;
  order_number: string;
  state: ColumnType<OrderState, OrderState | undefined, OrderState>;
  channel_state: 'open' | 'cancelled' | 'closed';
  financial_status: string;
  fulfillment_status: string;
  currency: string;
  presentment_currency: string | null;
  subtotal: Money;
  shipping: Money;
  tax: Money;
  discount: Money;
  total: Money;
  customer_email: string | null;
  customer_name: string | null;
  customer: Json | null;
  billing_address: Json | null;
  shipping_address: Json | null;
  placed_at: Timestamp;
  channel_updated_at: Timestamp;
  cancelled_at: Timestamp | null;
  closed_at: Timestamp | null;
  flags: ColumnType<string[], string[] | undefined, string[]>;
  /** A customer's cancel request, for a person (migration 0022); null: none. */
  cancel_requested_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  cancel_request_reason: ColumnType<string | null, string | null | undefined, string | null>;
  cancel_request_dismissed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  cancel_request_dismissed_by: ColumnType<string | null, string | null | undefined, string | null>;
  raw: Json;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

export interface OrderLinesTable {
  id: Generated<number>;
  order_id: number;
  external_id: string;
  sku: string | null;
  sku_id: number | null;
  title: string;
  quantity: number;
  unit_price: Money;
  tax: Money;
  discount: ColumnType<string, string | number | undefined, string | number>;
  quantity_fulfilled: Generated<number>;
  quantity_refunded: Generated<number>;
  quantity_fulfilled_on_channel: Generated<number>;
  product_external_id: string | null;
  variant_external_id: string | null;
  inventory_item_external_id: string | null;
}

export interface StockMovementsTable {
  id: Generated<number>;
  sku_id: number;
  location_id: number;
  on_hand_delta: Generated<number>;
  reserved_delta: Generated<number>;
  reason: 'receipt' | 'adjustment' | 'count' | 'damage' | 'reservation' | 'release' | 'shipment' | 'return_restock' | 'transfer' | 'opening_balance';
  reference: string;
  note: string | null;
  actor: Generated<string>;
  created_at: CreatedAt;
}

export interface StockLevelsTable {
  sku_id: number;
  location_id: number;
  on_hand: Generated<number>;
  reserved: Generated<number>;
  updated_at: CreatedAt;
}

export interface FulfillmentsTable {
  id: Generated<number>;
  order_id: number;
  location_id: number | null;
  kind: ColumnType<'warehouse' | 'dropship', 'warehouse' | 'dropship' | undefined>;
  state: ColumnType<FulfillmentState, FulfillmentState | undefined, FulfillmentState>;
  created_at: CreatedAt;
  updated_at: CreatedAt;
  /** Parcels recorded at pack time, copied to the shipment (0002_fulfilment). */
  parcels: JsonDefault<unknown[]>;
  /** Dropship: the purchase order the supplier ships against (0002_fulfilment). */
  purchase_order_id: number | null;
}

export interface FulfillmentLinesTable {
  id: Generated<number>;
  fulfillment_id: number;
  order_line_id: number;
  quantity: number;
}

export interface ShipmentsTable {
  id: Generated<number>;
  fulfillment_id: number;
  carrier: string;
  service: string | null;
  tracking_number: string;
  tracking_url: string | null;
  parcels: JsonDefault<unknown[]>;
  shipped_at: CreatedAt;
  delivered_at: Timestamp | null;
  /** The carrier adapter that issued it (0002_fulfilment). */
  adapter: ColumnType<string, string | undefined, string>;
}

export interface ShipmentLinesTable {
  shipment_id: number;
  order_line_id: number;
  quantity: number;
}

export interface ChannelPushesTable {
  id: Generated<number>;
  channel_id: number;
  kind: PushKind;
  target: string;
  payload: JsonDefault<Record<string, unknown>>;
  status: ColumnType<PushStatus, PushStatus | undefined, PushStatus>;
  attempts: Generated<number>;
  last_error: string | null;
  external_ref: string | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
  completed_at: Timestamp | null;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  channel_id: number;
  delivery_key: string;
  topic: string;
  headers: Json<Record<string, string>>;
  raw_body: Buffer;
  status: ColumnType<'pending' | 'processed' | 'ignored' | 'failed', 'pending' | undefined, 'pending' | 'processed' | 'ignored' | 'failed'>;
  error: string | null;
  received_at: CreatedAt;
  processed_at: Timestamp | null;
}

export interface PurchaseOrdersTable {
  id: Generated<number>;
  supplier_id: number | null;
  location_id: number | null;
  kind: ColumnType<'stock' | 'dropship', 'stock' | 'dropship' | undefined>;
  status: ColumnType<
    'draft' | 'sent' | 'partially_received' | 'received' | 'cancelled',
    'draft' | 'sent' | undefined,
    'draft' | 'sent' | 'partially_received' | 'received' | 'cancelled'
  >;
  expected_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

export interface PurchaseOrderLinesTable {
  id: Generated<number>;
  purchase_order_id: number;
  sku_id: number;
  quantity: number;
  quantity_received: Generated<number>;
  order_line_id: number | null;
  unit_cost: Money | null;
}

export interface ReturnsTable {
  id: Generated<number>;
  order_id: number;
  status: ColumnType<string, string | undefined, string>;
  reason: string | null;
  /** The caller's reference (an RMA number), unique: the same one twice is the same return (0006). */
  reference: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

export interface ReturnLinesTable {
  id: Generated<number>;
  return_id: number;
  order_line_id: number;
  quantity: number;
  restock: Generated<boolean>;
  /** What became of the units (0017): back on the shelf, damaged (in and written off), or discarded (recorded only). */
  condition: ColumnType<ReturnCondition, ReturnCondition | undefined, ReturnCondition>;
}

export type ReturnCondition = 'restock' | 'damaged' | 'discard';

export interface RefundsTable {
  id: Generated<number>;
  order_id: number;
  external_id: string | null;
  amount: Money;
  currency: string;
  reason: string | null;
  created_at: CreatedAt;
  /** Read from the channel, or made by channelsync for a return it ran (0017). */
  source: ColumnType<'channel' | 'channelsync', 'channel' | 'channelsync' | undefined, 'channel' | 'channelsync'>;
  /** The part of `amount` that is shipping. */
  shipping: ColumnType<string, string | number | undefined, string | number>;
  return_id: number | null;
  /** The channel's time of the refund (null until the channel has it). */
  refunded_at: Timestamp | null;
  actor: Generated<string>;
}

export interface RefundLinesTable {
  id: Generated<number>;
  refund_id: number;
  order_line_id: number;
  quantity: number;
  amount: Money;
  /** The channel restocked these units in its own stock. */
  restock: Generated<boolean>;
  /** Units channelsync booked back on its shelf for this line (shipped ones only). */
  restocked: Generated<number>;
}

export interface OrderHistoryTable {
  id: Generated<number>;
  order_id: number;
  fulfillment_id: number | null;
  actor: string;
  from_state: string | null;
  to_state: string;
  reason: string | null;
  created_at: CreatedAt;
}

/** What a channel is shown: per channel (sku_id null) or per listing; NULL fields inherit (0003_stock). */
export interface StockRulesTable {
  id: Generated<number>;
  channel_id: number;
  sku_id: number | null;
  /** Units held back from the channel. */
  buffer: number | null;
  /** Share of what is left after the buffer, 0-100 (numeric: read as a string). */
  share_percent: ColumnType<string | null, string | number | null, string | number | null>;
  max_shown: number | null;
  /** Locations whose stock counts; null: every active location. */
  location_ids: number[] | null;
  updated_at: CreatedAt;
}

export interface StockDriftTable {
  id: Generated<number>;
  channel_id: number;
  sku_id: number;
  slot: string;
  expected: number;
  found: number | null;
  detected_at: CreatedAt;
  corrected_at: Timestamp | null;
  error: string | null;
}

export interface ReconcileRunsTable {
  slot: string;
  started_at: CreatedAt;
  finished_at: Timestamp | null;
  listings: Generated<number>;
  drift: Generated<number>;
  corrected: Generated<number>;
  error: string | null;
}

/** A view: what each listing should show on its channel (read only). */
export interface ChannelStockExpectedView {
  listing_id: number;
  channel_id: number;
  sku_id: number;
  sku: string;
  product_external_id: string | null;
  variant_external_id: string | null;
  inventory_item_external_id: string | null;
  last_pushed_available: number | null;
  location_ids: number[] | null;
  buffer: number;
  share_percent: string;
  max_shown: number | null;
  on_hand: number;
  reserved: number;
  available: number;
  expected: number;
}

/** Shared rate-limit buckets when there is no Redis (0005_shared_state). */
/** A waiting reservation's lease on a rate bucket (0012): renewed while its holder waits, dropped with its points given back once it runs out. */
export interface RateBudgetLeasesTable {
  bucket: string;
  id: string;
  cost: number;
  expires_at: Timestamp;
}

export interface RateBucketsTable {
  key: string;
  level: number;
  /** Points ever reserved: a waiter's ticket is this total just after its reservation (0007). */
  issued: Generated<number>;
  /** Points of reservations still waiting to be sent (0007). */
  pending: Generated<number>;
  updated_at: Timestamp;
  expires_at: Timestamp;
}

/** Small shared values with an expiry when there is no Redis (0005_shared_state). */
export interface SharedValuesTable {
  key: string;
  value: string;
  expires_at: Timestamp;
}

/** A job BullMQ gave up on, until a person retries it or it succeeds (0008_job_failures). */
export interface JobFailuresTable {
  id: Generated<number>;
  queue: string;
  job_id: string;
  /** The job's payload, so a retry can re-add it after Redis lost the job. */
  data: Json<Record<string, unknown>>;
  error: string;
  /** Attempts BullMQ made before giving up. */
  attempts: number;
  failed_at: CreatedAt;
}

/** An order set aside because it cannot be saved (migration 0013). */
export interface RejectedOrdersTable {
  id: Generated<number>;
  channel_id: number;
  external_id: string;
  source: 'poll' | 'webhook' | 'backfill';
  reason: string;
  /** The payload as JSON text, when there was one. */
  raw: string | null;
  occurrences: Generated<number>;
  first_seen_at: CreatedAt;
  last_seen_at: CreatedAt;
}

export type MessageKind = 'shipping' | 'delivery' | 'feedback';

/** A message owed to a customer: the mail outbox (migration 0015). */
export interface CustomerMessagesTable {
  id: Generated<number>;
  order_id: number;
  kind: MessageKind;
  /** The shipment id for shipping and delivery messages; '' for the order's feedback request. */
  subject: Generated<string>;
  to_address: string;
  status: ColumnType<'pending' | 'sent' | 'failed', 'pending' | 'sent' | 'failed' | undefined, 'pending' | 'sent' | 'failed'>;
  /** Not sent before this (a feedback request waits FEEDBACK_AFTER_DAYS). */
  due_at: CreatedAt;
  /** Stable Message-ID header: a resend after a crash carries the same one. */
  message_id: string;
  attempts: Generated<number>;
  /** Lease of the run sending it. */
  claimed_until: Timestamp | null;
  last_error: string | null;
  /** What the SMTP server answered when it accepted the message. */
  smtp_response: string | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
  sent_at: Timestamp | null;
}

/** A customer's rating of an order (migration 0015). */
export interface FeedbackTable {
  order_id: number;
  rating: number;
  comment: Generated<string>;
  flagged: Generated<boolean>;
  submissions: Generated<number>;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

/** The label PDF printed for a shipment (migration 0015). */
export interface ShipmentLabelsTable {
  shipment_id: number;
  pdf: Buffer;
  created_at: CreatedAt;
}

export interface Database {
  channels: ChannelsTable;
  sync_cursors: SyncCursorsTable;
  suppliers: SuppliersTable;
  skus: SkusTable;
  locations: LocationsTable;
  channel_listings: ChannelListingsTable;
  orders: OrdersTable;
  order_lines: OrderLinesTable;
  stock_movements: StockMovementsTable;
  stock_levels: StockLevelsTable;
  fulfillments: FulfillmentsTable;
  fulfillment_lines: FulfillmentLinesTable;
  shipments: ShipmentsTable;
  shipment_lines: ShipmentLinesTable;
  channel_pushes: ChannelPushesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  purchase_orders: PurchaseOrdersTable;
  purchase_order_lines: PurchaseOrderLinesTable;
  returns: ReturnsTable;
  return_lines: ReturnLinesTable;
  refunds: RefundsTable;
  refund_lines: RefundLinesTable;
  order_history: OrderHistoryTable;
  stock_rules: StockRulesTable;
  stock_drift: StockDriftTable;
  reconcile_runs: ReconcileRunsTable;
  channel_stock_expected: ChannelStockExpectedView;
  rate_buckets: RateBucketsTable;
  rate_budget_leases: RateBudgetLeasesTable;
  shared_values: SharedValuesTable;
  job_failures: JobFailuresTable;
  rejected_orders: RejectedOrdersTable;
  customer_messages: CustomerMessagesTable;
  feedback: FeedbackTable;
  shipment_labels: ShipmentLabelsTable;
}

export type Order = Selectable<OrdersTable>;
export type NewOrder = Insertable<OrdersTable>;
export type OrderUpdate = Updateable<OrdersTable>;
export type OrderLine = Selectable<OrderLinesTable>;
export type Channel = Selectable<ChannelsTable>;
export type ChannelPush = Selectable<ChannelPushesTable>;

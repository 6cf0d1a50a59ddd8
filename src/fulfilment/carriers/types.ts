/**
 * The carrier contract. An adapter turns a packed fulfilment into a shipment
 * with a carrier, service, tracking number and URL; label APIs (buy a label,
 * return its tracking and a label document) fit behind the same method.
 * Adapters are registered by name in `index.ts` (the `CARRIER` setting picks
 * the default).
 */

export interface Parcel {
  weightGrams: number | null;
  lengthCm: number | null;
  widthCm: number | null;
  heightCm: number | null;
}

/** A parcel nobody measured (pack without --parcel). */
export const DEFAULT_PARCEL: Parcel = { weightGrams: null, lengthCm: null, widthCm: null, heightCm: null };

/** What a person typed: required by the manual carrier, and for a dropship supplier's own shipment. */
export interface ManualTracking {
  carrier: string;
  service?: string | null;
  trackingNumber: string;
  trackingUrl?: string | null;
}

export interface ShipmentRequest {
  /** The idempotency anchor: an adapter asked twice for the same fulfilment returns the same label. */
  fulfilmentId: number;
  orderNumber: string;
  shipTo: unknown;
  parcels: Parcel[];
  lines: Array<{ sku: string | null; title: string; quantity: number }>;
  manual?: ManualTracking;
}

export interface Label {
  carrier: string;
  service: string | null;
  trackingNumber: string;
  trackingUrl: string | null;
  /** A printable label, when the carrier issues one (label APIs). */
  labelUrl?: string | null;
}

export interface DeliveryStatus {
  delivered: boolean;
  /** When not yet delivered: when to ask again. */
  checkAgainInMs?: number;
}

export interface CarrierAdapter {
  /** Stable identifier stored in `shipments.adapter`. */
  readonly name: string;
  /** True when it ships without a person typing tracking (label APIs, the simulator): auto mode can use it. */
  readonly automatic: boolean;
  createShipment(request: ShipmentRequest): Promise<Label>;
  /**
   * Delivery reporting: when set, channelsync asks this long after shipping
   * (`deliver.<shipment>` job) and again as told; absent, delivery is never reported.
   */
  readonly deliveryCheckAfterMs?: number;
  trackDelivery?(shipment: { trackingNumber: string; shippedAt: Date }): Promise<DeliveryStatus>;
}

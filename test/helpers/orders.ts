/** Builders for unified orders in tests, and saving them the way the product does (one transaction per write). */
import type { Db } from '../../src/db/index.ts';
import { upsertOrders, type UpsertOptions, type UpsertResult } from '../../src/db/orders.ts';
import type { UnifiedOrder, UnifiedOrderLine } from '../../src/domain/order.ts';

export function saveOrders(db: Db, channelId: number, orders: UnifiedOrder[], options?: UpsertOptions): Promise<UpsertResult[]> {
  return db.transaction().execute((trx) => upsertOrders(trx, channelId, orders, options));
}

export function line(overrides: Partial<UnifiedOrderLine> = {}): UnifiedOrderLine {
  return {
    externalId: 'L1',
    sku: 'MUG-BLUE',
    title: 'Blue Mug',
    quantity: 1,
    unitPrice: '12.50',
    tax: '2.50',
    discount: '0.00',
    productExternalId: null,
    variantExternalId: null,
    inventoryItemExternalId: null,
    quantityFulfilledOnChannel: 0,
    ...overrides,
  };
}

export function order(overrides: Partial<UnifiedOrder> = {}): UnifiedOrder {
  return {
    externalId: '1001',
    orderNumber: '#1001',
    channelState: 'open',
    financialStatus: 'paid',
    fulfillmentStatus: 'unfulfilled',
    currency: 'EUR',
    presentmentCurrency: null,
    totals: { subtotal: '12.50', shipping: '4.90', tax: '2.50', discount: '0.00', total: '19.90' },
    customer: { externalId: 'C1', email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', phone: null },
    billingAddress: null,
    shippingAddress: null,
    placedAt: new Date('2026-11-01T10:00:00Z'),
    updatedAt: new Date('2026-11-01T10:00:00Z'),
    cancelledAt: null,
    closedAt: null,
    lines: [line()],
    raw: { id: 1001 },
    ...overrides,
  };
}

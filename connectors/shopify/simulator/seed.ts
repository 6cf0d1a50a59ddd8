/**
 * Seed a shop with products and orders, fast: 10,000 orders in well under a
 * second, built straight into state (no GraphQL, no webhooks). A seeded
 * pseudo-random sequence makes every run the same shop.
 */
import type { Order, ShopState } from './state.ts';
import { emptyAddress } from './state.ts';

/** mulberry32: tiny, fast, good enough for test data (and for the chaos run's moments). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson'];

/** The seeded catalogue: SKUs `SIM-0001`… with stock. */
export function seedProducts(state: ShopState, count = 20): void {
  for (let i = 1; i <= count; i++) {
    const sku = `SIM-${String(i).padStart(4, '0')}`;
    state.addProduct({ title: `Simulated product ${i}`, vendor: 'channelsync', variants: [{ sku, priceCents: 500 + i * 250, stock: 1000 }] });
  }
}

/** `count` orders over the last 30 days, oldest first, updated after creation. */
export function seedOrders(state: ShopState, count: number, seed = 42): void {
  if (count <= 0) return;
  const random = rng(seed);
  const variants = [...state.variants.values()].filter((v) => v.sku);
  const now = Date.now();
  const span = 30 * 24 * 3600 * 1000;
  for (let i = 0; i < count; i++) {
    const createdAt = now - span + Math.floor((span * i) / count);
    const updatedAt = Math.min(now - 1000, createdAt + Math.floor(random() * 3600 * 1000));
    const n = 1 + Math.floor(random() * 3);
    const first = FIRST[Math.floor(random() * FIRST.length)]!;
    const last = LAST[Math.floor(random() * LAST.length)]!;
    const email = `${first}.${last}.${i}@example.com`.toLowerCase();
    const customer = state.addCustomerFast(email, first, last);
    const address = { ...emptyAddress(), firstName: first, lastName: last, address1: `${i + 1} Main St`, city: 'Springfield', province: 'Oregon', provinceCode: 'OR', country: 'United States', countryCode: 'US', zip: '97477' };
    const number = state.nextOrderNumber();
    const order: Order = {
      id: state.nextId(), number, name: `#${number}`, createdAt, updatedAt, processedAt: createdAt,
      cancelledAt: null, cancelReason: null, closedAt: null, email, phone: null, note: null, tags: [], currency: state.currency,
      presentmentCurrency: state.currency, test: false, financialStatus: random() < 0.9 ? 'PAID' : 'PENDING',
      lines: Array.from({ length: n }, () => {
        const v = variants[Math.floor(random() * variants.length)]!;
        const quantity = 1 + Math.floor(random() * 3);
        return {
          id: state.nextId(), sku: v.sku, title: state.products.get(v.productId)!.title, variantTitle: v.title, quantity, currentQuantity: quantity,
          unitCents: v.priceCents, discountCents: 0, taxCents: Math.round(v.priceCents * quantity * 0.1), variantId: v.id, productId: v.productId,
          taxable: true, requiresShipping: true, vendor: 'channelsync', attributes: [],
        };
      }),
      shippingCents: 500, shippingTitle: 'Standard', shippingAddress: address, billingAddress: address, customerId: customer.id,
      fulfillmentOrderIds: [], fulfillmentIds: [],
    };
    state.insertOrder(order, false);
  }
}

/**
 * Printable documents as self-contained HTML (inline CSS, print-ready A4):
 * the packing slip that goes in a fulfilment's parcel, and the order's
 * invoice. Every value from a channel is escaped.
 */
import type { Db } from '../db/index.ts';
import { PermanentError } from '../domain/errors.ts';
import type { Address } from '../domain/order.ts';

const escape = (value: unknown): string =>
  String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function address(a: Address | null): string {
  if (!a) return '<p class="muted">no address</p>';
  const lines = [a.name, a.company, a.address1, a.address2, [a.zip, a.city].filter(Boolean).join(' '), a.province, a.country ?? a.countryCode, a.phone];
  return `<p>${lines.filter(Boolean).map(escape).join('<br>')}</p>`;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>
  @page { size: A4; margin: 18mm; }
  body { font: 11pt/1.4 system-ui, sans-serif; color: #111; }
  h1 { font-size: 18pt; margin: 0 0 4mm; }
  .cols { display: flex; gap: 12mm; } .cols > div { flex: 1; }
  table { width: 100%; border-collapse: collapse; margin-top: 6mm; }
  th, td { text-align: left; padding: 2mm; border-bottom: 1px solid #ccc; } td.n, th.n { text-align: right; }
  .muted { color: #666; } .total td { font-weight: bold; border-bottom: none; }
</style></head><body>
${body}
</body></html>
`;
}

async function orderHead(db: Db, orderId: number) {
  const order = await db
    .selectFrom('orders')
    .select(['id', 'order_number', 'placed_at', 'currency', 'customer_name', 'customer_email', 'billing_address', 'shipping_address', 'subtotal', 'shipping', 'tax', 'discount', 'total'])
    .where('id', '=', orderId)
    .executeTakeFirst();
  if (!order) throw new PermanentError(`order ${orderId} does not exist`);
  return order;
}

/** The packing slip of one fulfilment: ship-to, what is in the parcel (no prices), the parcels. */
export async function packingSlipHtml(db: Db, fulfilmentId: number): Promise<string> {
  const f = await db
    .selectFrom('fulfillments')
    .leftJoin('locations', 'locations.id', 'fulfillments.location_id')
    .select(['fulfillments.id', 'fulfillments.order_id', 'fulfillments.kind', 'fulfillments.parcels', 'locations.name as location'])
    .where('fulfillments.id', '=', fulfilmentId)
    .executeTakeFirst();
  if (!f) throw new PermanentError(`fulfilment ${fulfilmentId} does not exist`);
  const order = await orderHead(db, f.order_id);
  const lines = await db
    .selectFrom('fulfillment_lines')
    .innerJoin('order_lines', 'order_lines.id', 'fulfillment_lines.order_line_id')
    .select(['order_lines.sku', 'order_lines.title', 'fulfillment_lines.quantity'])
    .where('fulfillment_id', '=', fulfilmentId)
    .orderBy('order_lines.id')
    .execute();
  const parcels = f.parcels as Array<{ weightGrams: number | null; lengthCm: number | null; widthCm: number | null; heightCm: number | null }>;
  const rows = lines.map((l) => `<tr><td>${escape(l.sku)}</td><td>${escape(l.title)}</td><td class="n">${l.quantity}</td></tr>`).join('\n');
  const parcelText = parcels.length
    ? parcels
        .map((p, i) => `Parcel ${i + 1}: ${p.weightGrams ? `${p.weightGrams} g` : 'weight not recorded'}${p.lengthCm ? `, ${p.lengthCm} x ${p.widthCm} x ${p.heightCm} cm` : ''}`)
        .map(escape)
        .join('<br>')
    : 'not packed yet';
  return page(
    `Packing slip ${order.order_number}`,
    `<h1>Packing slip</h1>
<div class="cols">
  <div><strong>Order</strong><p>${escape(order.order_number)}<br>${escape(order.placed_at.toISOString().slice(0, 10))}<br>Fulfilment ${f.id}${f.location ? ` from ${escape(f.location)}` : ''}</p></div>
  <div><strong>Ship to</strong>${address(order.shipping_address as Address | null)}</div>
</div>
<table><thead><tr><th>SKU</th><th>Item</th><th class="n">Qty</th></tr></thead><tbody>
${rows}
</tbody></table>
<p class="muted">${parcelText}</p>`,
  );
}

/** The order's invoice: billing address, every line with price and tax, the totals as the channel charged them. */
export async function invoiceHtml(db: Db, orderId: number): Promise<string> {
  const order = await orderHead(db, orderId);
  const lines = await db
    .selectFrom('order_lines')
    .select(['sku', 'title', 'quantity', 'unit_price', 'tax', 'discount'])
    .where('order_id', '=', orderId)
    .where('quantity', '>', 0)
    .orderBy('id')
    .execute();
  const money = (v: string) => `${escape(order.currency)} ${Number(v).toFixed(2)}`;
  const rows = lines
    .map(
      (l) =>
        `<tr><td>${escape(l.sku)}</td><td>${escape(l.title)}</td><td class="n">${l.quantity}</td><td class="n">${money(l.unit_price)}</td><td class="n">${money(l.tax)}</td></tr>`,
    )
    .join('\n');
  const total = (label: string, v: string, cls = '') => `<tr class="${cls}"><td colspan="4" class="n">${label}</td><td class="n">${money(v)}</td></tr>`;
  return page(
    `Invoice ${order.order_number}`,
    `<h1>Invoice ${escape(order.order_number)}</h1>
<div class="cols">
  <div><strong>Bill to</strong>${address(order.billing_address as Address | null)}<p>${escape(order.customer_name)}<br>${escape(order.customer_email)}</p></div>
  <div><strong>Date</strong><p>${escape(order.placed_at.toISOString().slice(0, 10))}</p></div>
</div>
<table><thead><tr><th>SKU</th><th>Item</th><th class="n">Qty</th><th class="n">Unit price</th><th class="n">Tax</th></tr></thead><tbody>
${rows}
${total('Subtotal', order.subtotal)}
${total('Discount', order.discount)}
${total('Shipping', order.shipping)}
${total('Tax', order.tax)}
${total('Total', order.total, 'total')}
</tbody></table>`,
  );
}

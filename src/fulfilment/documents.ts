/**
 * Printable documents: the packing slip that goes in a fulfilment's parcel,
 * and the order's invoice. Each is gathered once into a small document model
 * and rendered as self-contained HTML (inline CSS, print-ready A4) or as PDF
 * (pdfkit, pure JavaScript: no browser needed). Every value from a channel is
 * escaped in HTML.
 */
import PDFDocument from './pdf.ts';
import type { Db } from '../db/index.ts';
import { PermanentError } from '../domain/errors.ts';
import type { Address } from '../domain/order.ts';
import { money as exact } from '../domain/money.ts';

/** What a printed document says, independent of its format. */
export interface PrintDocument {
  title: string;
  heading: string;
  columns: Array<{ label: string; lines: string[] }>;
  table: { head: string[]; numeric: boolean[]; rows: string[][] };
  totals: Array<{ label: string; value: string; strong?: boolean }>;
  note: string | null;
}

const escape = (value: unknown): string =>
  String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function addressLines(a: Address | null): string[] {
  if (!a) return ['no address'];
  return [a.name, a.company, a.address1, a.address2, [a.zip, a.city].filter(Boolean).join(' '), a.province, a.country ?? a.countryCode, a.phone].filter(
    (l): l is string => !!l,
  );
}

export function renderHtml(doc: PrintDocument): string {
  const cols = doc.columns.map((c) => `  <div><strong>${escape(c.label)}</strong><p>${c.lines.map(escape).join('<br>')}</p></div>`).join('\n');
  const cell = (v: string, i: number, tag: 'td' | 'th') => `<${tag}${doc.table.numeric[i] ? ' class="n"' : ''}>${escape(v)}</${tag}>`;
  const rows = doc.table.rows.map((r) => `<tr>${r.map((v, i) => cell(v, i, 'td')).join('')}</tr>`).join('\n');
  const span = doc.table.head.length - 1;
  const totals = doc.totals
    .map((t) => `<tr class="${t.strong ? 'total' : ''}"><td colspan="${span}" class="n">${escape(t.label)}</td><td class="n">${escape(t.value)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(doc.title)}</title>
<style>
  @page { size: A4; margin: 18mm; }
  body { font: 11pt/1.4 system-ui, sans-serif; color: #111; }
  h1 { font-size: 18pt; margin: 0 0 4mm; }
  .cols { display: flex; gap: 12mm; } .cols > div { flex: 1; }
  table { width: 100%; border-collapse: collapse; margin-top: 6mm; }
  th, td { text-align: left; padding: 2mm; border-bottom: 1px solid #ccc; } td.n, th.n { text-align: right; }
  .muted { color: #666; } .total td { font-weight: bold; border-bottom: none; }
</style></head><body>
<h1>${escape(doc.heading)}</h1>
<div class="cols">
${cols}
</div>
<table><thead><tr>${doc.table.head.map((h, i) => cell(h, i, 'th')).join('')}</tr></thead><tbody>
${rows}
${totals}
</tbody></table>
${doc.note ? `<p class="muted">${doc.note.split('\n').map(escape).join('<br>')}</p>` : ''}
</body></html>
`;
}

/** The same document as an A4 PDF. */
export function renderPdf(doc: PrintDocument): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const pdf = new PDFDocument({ size: 'A4', margin: 51, info: { Title: doc.title, Producer: 'channelsync' } });
    const chunks: Buffer[] = [];
    pdf.on('data', (c: Buffer) => chunks.push(c));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);

    const left = pdf.page.margins.left;
    const width = pdf.page.width - left - pdf.page.margins.right;
    pdf.font('Helvetica-Bold').fontSize(18).text(doc.heading, left, pdf.y);
    pdf.moveDown(0.8);
    const top = pdf.y;
    const colWidth = width / Math.max(1, doc.columns.length);
    let bottom = top;
    doc.columns.forEach((c, i) => {
      pdf.font('Helvetica-Bold').fontSize(10).text(c.label, left + i * colWidth, top, { width: colWidth - 12 });
      pdf.font('Helvetica').text(c.lines.join('\n'), { width: colWidth - 12 });
      bottom = Math.max(bottom, pdf.y);
    });
    pdf.y = bottom + 16;

    // Columns: text columns share what the numeric ones leave.
    const numericWidth = 80;
    const numericCount = doc.table.numeric.filter(Boolean).length;
    const textCount = doc.table.head.length - numericCount;
    const textWidth = (width - numericWidth * numericCount) / Math.max(1, textCount);
    const widths = doc.table.numeric.map((n) => (n ? numericWidth : textWidth));
    const row = (cells: string[], bold: boolean) => {
      const y = pdf.y;
      let x = left;
      let height = 0;
      pdf.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(10);
      cells.forEach((v, i) => {
        const options = { width: widths[i]! - 6, align: doc.table.numeric[i] ? ('right' as const) : ('left' as const) };
        pdf.text(v, x, y, options);
        height = Math.max(height, pdf.heightOfString(v, options));
        x += widths[i]!;
      });
      pdf.y = y + height + 6;
      pdf.moveTo(left, pdf.y - 3).lineTo(left + width, pdf.y - 3).strokeColor('#cccccc').stroke();
    };
    row(doc.table.head, true);
    for (const r of doc.table.rows) row(r, false);
    for (const t of doc.totals) {
      const y = pdf.y;
      pdf.font(t.strong ? 'Helvetica-Bold' : 'Helvetica').fontSize(10);
      pdf.text(t.label, left, y, { width: width - numericWidth - 6, align: 'right' });
      pdf.text(t.value, left + width - numericWidth, y, { width: numericWidth - 6, align: 'right' });
      pdf.y = y + 16;
    }
    if (doc.note) pdf.moveDown().font('Helvetica').fontSize(9).fillColor('#666666').text(doc.note, left, pdf.y, { width });
    pdf.end();
  });
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
export async function packingSlip(db: Db, fulfilmentId: number): Promise<PrintDocument> {
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
  const parcelText = parcels.length
    ? parcels
        .map((p, i) => `Parcel ${i + 1}: ${p.weightGrams ? `${p.weightGrams} g` : 'weight not recorded'}${p.lengthCm ? `, ${p.lengthCm} x ${p.widthCm} x ${p.heightCm} cm` : ''}`)
        .join('\n')
    : 'not packed yet';
  return {
    title: `Packing slip ${order.order_number}`,
    heading: 'Packing slip',
    columns: [
      { label: 'Order', lines: [order.order_number, order.placed_at.toISOString().slice(0, 10), `Fulfilment ${f.id}${f.location ? ` from ${f.location}` : ''}`] },
      { label: 'Ship to', lines: addressLines(order.shipping_address as Address | null) },
    ],
    table: { head: ['SKU', 'Item', 'Qty'], numeric: [false, false, true], rows: lines.map((l) => [l.sku ?? '', l.title, String(l.quantity)]) },
    totals: [],
    note: parcelText,
  };
}

export const packingSlipHtml = async (db: Db, fulfilmentId: number): Promise<string> => renderHtml(await packingSlip(db, fulfilmentId));
export const packingSlipPdf = async (db: Db, fulfilmentId: number): Promise<Buffer> => renderPdf(await packingSlip(db, fulfilmentId));

/** The order's invoice: billing address, every line with price and tax, the totals as the channel charged them. */
export async function invoice(db: Db, orderId: number): Promise<PrintDocument> {
  const order = await orderHead(db, orderId);
  const lines = await db
    .selectFrom('order_lines')
    .select(['sku', 'title', 'quantity', 'unit_price', 'tax', 'discount'])
    .where('order_id', '=', orderId)
    .where('quantity', '>', 0)
    .orderBy('id')
    .execute();
  const amount = (v: string) => `${order.currency} ${exact(v)}`;
  return {
    title: `Invoice ${order.order_number}`,
    heading: `Invoice ${order.order_number}`,
    columns: [
      { label: 'Bill to', lines: [...addressLines(order.billing_address as Address | null), order.customer_name ?? '', order.customer_email ?? ''].filter(Boolean) },
      { label: 'Date', lines: [order.placed_at.toISOString().slice(0, 10)] },
    ],
    table: {
      head: ['SKU', 'Item', 'Qty', 'Unit price', 'Tax'],
      numeric: [false, false, true, true, true],
      rows: lines.map((l) => [l.sku ?? '', l.title, String(l.quantity), amount(l.unit_price), amount(l.tax)]),
    },
    totals: [
      { label: 'Subtotal', value: amount(order.subtotal) },
      { label: 'Discount', value: amount(order.discount) },
      { label: 'Shipping', value: amount(order.shipping) },
      { label: 'Tax', value: amount(order.tax) },
      { label: 'Total', value: amount(order.total), strong: true },
    ],
    note: null,
  };
}

export const invoiceHtml = async (db: Db, orderId: number): Promise<string> => renderHtml(await invoice(db, orderId));
export const invoicePdf = async (db: Db, orderId: number): Promise<Buffer> => renderPdf(await invoice(db, orderId));

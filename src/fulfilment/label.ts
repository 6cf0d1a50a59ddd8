/**
 * Shipping labels: a 4 x 6 in PDF, one page per parcel, with ship-from,
 * ship-to, carrier, service, the parcel's weight and the tracking number as a
 * Code 128 barcode (bwip-js draws it as SVG strokes; pdfkit strokes the same paths).
 *
 * Kept with the shipment: the PDF printed at ship time is stored in
 * `shipment_labels` (migration 0015), so a reprint is the same document the
 * parcel carries, even if SHIP_FROM or the order's address changed since. A
 * shipment without a stored label (shipped before labels existed, or the
 * process died between the shipment's commit and the label's) gets one
 * rendered from the shipment row and stored on first request.
 */
import bwipjs from 'bwip-js/node';
import PDFDocument from './pdf.ts';
import { sql } from 'kysely';
import type { App } from '../app.ts';
import type { Db } from '../db/index.ts';
import { PermanentError } from '../domain/errors.ts';
import type { Address } from '../domain/order.ts';
import type { Parcel } from './carriers/types.ts';

/** 4 x 6 inches in PDF points. */
export const LABEL_SIZE: [number, number] = [288, 432];

export interface LabelData {
  shipmentId: number;
  orderNumber: string;
  carrier: string;
  service: string | null;
  trackingNumber: string;
  shipFrom: string[];
  shipTo: string[];
  parcels: Parcel[];
  shippedAt: Date;
}

function addressLines(a: Address | null): string[] {
  if (!a) return ['(no shipping address on the order)'];
  return [a.name, a.company, a.address1, a.address2, [a.zip, a.city].filter(Boolean).join(' '), a.province, a.country ?? a.countryCode, a.phone].filter(
    (l): l is string => !!l && l.trim() !== '',
  );
}

/** SHIP_FROM is one line per `|` (or per `,` when it has no `|`). */
export function shipFromLines(setting: string | null, fallback: string): string[] {
  if (!setting) return [fallback];
  const parts = setting.includes('|') ? setting.split('|') : setting.split(',');
  return parts.map((p) => p.trim()).filter(Boolean);
}

function weight(p: Parcel): string {
  if (p.weightGrams === null) return 'weight not recorded';
  return p.weightGrams >= 1000 ? `${(p.weightGrams / 1000).toFixed(2)} kg` : `${p.weightGrams} g`;
}

function dimensions(p: Parcel): string | null {
  return p.lengthCm !== null && p.widthCm !== null && p.heightCm !== null ? `${p.lengthCm} x ${p.widthCm} x ${p.heightCm} cm` : null;
}

function barcodeOptions(trackingNumber: string) {
  return { bcid: 'code128', text: trackingNumber, scale: 3, height: 18, paddingwidth: 12, paddingheight: 4, includetext: false };
}

/**
 * The same barcode as vector strokes (bwip-js's SVG: one path of vertical
 * lines per bar width), for the PDF. A PNG cost more than the rest of the
 * label: bwip-js deflates it, pdfkit inflates it again to split the alpha
 * channel and deflates the pixels once more, all on the event loop (about a
 * third of the daemon's CPU in `npm run bench -- fulfilment`). Strokes are
 * also sharp at any printer's resolution.
 */
export function barcodeStrokes(trackingNumber: string): { width: number; height: number; paths: Array<{ lineWidth: number; d: string }> } {
  const svg = bwipjs.toSVG(barcodeOptions(trackingNumber));
  const box = /viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(svg);
  const paths = [...svg.matchAll(/<path stroke="#000000" stroke-width="([\d.]+)" d="([^"]+)"/g)].map((m) => ({ lineWidth: Number(m[1]), d: m[2]! }));
  if (!box || paths.length === 0) throw new Error(`bwip-js drew no bars for tracking number ${trackingNumber}`);
  return { width: Number(box[1]), height: Number(box[2]), paths };
}

export async function renderLabel(data: LabelData): Promise<Buffer> {
  const barcode = barcodeStrokes(data.trackingNumber);
  const parcels = data.parcels.length ? data.parcels : [{ weightGrams: null, lengthCm: null, widthCm: null, heightCm: null }];
  return new Promise((resolve, reject) => {
    const pdf = new PDFDocument({
      size: LABEL_SIZE,
      margin: 14,
      autoFirstPage: false,
      // Fixed dates: the same shipment renders the same document.
      info: { Title: `Label ${data.trackingNumber}`, Producer: 'channelsync', Creator: 'channelsync', CreationDate: data.shippedAt, ModDate: data.shippedAt },
    });
    const chunks: Buffer[] = [];
    pdf.on('data', (c: Buffer) => chunks.push(c));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
    const left = 14;
    const width = LABEL_SIZE[0] - 28;
    parcels.forEach((parcel, i) => {
      pdf.addPage();
      pdf.font('Helvetica-Bold').fontSize(7).text('FROM', left, 14);
      pdf.font('Helvetica').fontSize(8).text(data.shipFrom.join('\n'), left, pdf.y, { width });
      pdf.moveDown(0.6);
      pdf.moveTo(left, pdf.y).lineTo(left + width, pdf.y).lineWidth(0.8).stroke();
      pdf.moveDown(0.5);
      pdf.font('Helvetica-Bold').fontSize(8).text('SHIP TO', left, pdf.y);
      const [name, ...rest] = data.shipTo;
      pdf.font('Helvetica-Bold').fontSize(13).text(name ?? '', left, pdf.y, { width });
      pdf.font('Helvetica').fontSize(11).text(rest.join('\n'), left, pdf.y, { width });
      pdf.moveDown(0.6);
      pdf.moveTo(left, pdf.y).lineTo(left + width, pdf.y).lineWidth(2).stroke();
      pdf.moveDown(0.5);
      pdf.font('Helvetica-Bold').fontSize(16).text(data.carrier.toUpperCase(), left, pdf.y, { width });
      if (data.service) pdf.font('Helvetica').fontSize(11).text(data.service, left, pdf.y, { width });
      const dims = dimensions(parcel);
      pdf.font('Helvetica').fontSize(10).text(`Parcel ${i + 1} of ${parcels.length}   ${weight(parcel)}${dims ? `   ${dims}` : ''}`, left, pdf.y + 2, { width });
      // The barcode fills the width near the foot of the label, the number printed under it.
      const barcodeTop = LABEL_SIZE[1] - 14 - 30 - 90;
      const scale = Math.min(width / barcode.width, 90 / barcode.height);
      pdf.save().translate(left + (width - barcode.width * scale) / 2, barcodeTop + (90 - barcode.height * scale) / 2).scale(scale);
      for (const p of barcode.paths) pdf.path(p.d).lineWidth(p.lineWidth).stroke('#000000');
      pdf.restore();
      pdf.font('Helvetica-Bold').fontSize(12).text(data.trackingNumber, left, barcodeTop + 94, { width, align: 'center' });
      pdf.font('Helvetica').fontSize(7).text(`Order ${data.orderNumber} · shipment ${data.shipmentId}`, left, barcodeTop + 110, { width, align: 'center' });
    });
    pdf.end();
  });
}

/** What a label is drawn from: the shipment, its order's number and address, where it leaves from. */
export interface LabelSource {
  id: number;
  carrier: string;
  service: string | null;
  tracking_number: string;
  parcels: unknown;
  shipped_at: Date;
  order_number: string;
  shipping_address: unknown;
  location_name: string | null;
  kind: string;
}

/** What the label says, from its source rows and the SHIP_FROM setting. */
export function labelOf(s: LabelSource, shipFrom: string | null): LabelData {
  return {
    shipmentId: s.id,
    orderNumber: s.order_number,
    carrier: s.carrier,
    service: s.service,
    trackingNumber: s.tracking_number,
    shipFrom: shipFromLines(shipFrom, s.location_name ?? (s.kind === 'dropship' ? 'Dropship supplier' : 'Warehouse')),
    shipTo: addressLines(s.shipping_address as Address | null),
    parcels: s.parcels as Parcel[],
    shippedAt: s.shipped_at,
  };
}

/** What a shipment's label says, from Postgres. */
export async function labelData(db: Db, shipFrom: string | null, shipmentId: number): Promise<LabelData> {
  const s = await db
    .selectFrom('shipments')
    .innerJoin('fulfillments', 'fulfillments.id', 'shipments.fulfillment_id')
    .innerJoin('orders', 'orders.id', 'fulfillments.order_id')
    .leftJoin('locations', 'locations.id', 'fulfillments.location_id')
    .select([
      'shipments.id', 'shipments.carrier', 'shipments.service', 'shipments.tracking_number', 'shipments.parcels', 'shipments.shipped_at',
      'orders.order_number', 'orders.shipping_address', 'locations.name as location_name', 'fulfillments.kind',
    ])
    .where('shipments.id', '=', shipmentId)
    .executeTakeFirst();
  if (!s) throw new PermanentError(`shipment ${shipmentId} does not exist`);
  return labelOf(s, shipFrom);
}

/** Renders and stores the shipment's label unless one is stored; returns the stored one (the first stored wins). */
export async function printLabel(app: App, shipmentId: number): Promise<Buffer> {
  const stored = await app.db.selectFrom('shipment_labels').select('pdf').where('shipment_id', '=', shipmentId).executeTakeFirst();
  if (stored) return stored.pdf;
  return storeLabel(app, await labelData(app.db, app.config.shipFrom, shipmentId));
}

/**
 * Renders this label and stores it, unless a label is stored for the
 * shipment already: then that one is returned (the first stored wins). Ship
 * calls it with what it just wrote, so a new shipment's label costs no reads.
 */
export async function storeLabel(app: App, data: LabelData): Promise<Buffer> {
  const pdf = await renderLabel(data);
  const kept = await app.db.insertInto('shipment_labels').values({ shipment_id: data.shipmentId, pdf }).onConflict((oc) => oc.column('shipment_id').doNothing()).returning('shipment_id').executeTakeFirst();
  if (kept) return pdf;
  // Another run stored its copy first: that one is the label.
  const row = await app.db.selectFrom('shipment_labels').select('pdf').where('shipment_id', '=', data.shipmentId).executeTakeFirstOrThrow();
  return row.pdf;
}

/** The shipments of an order, oldest first (for `fulfil <order> label`). */
export async function orderShipments(db: Db, orderId: number): Promise<number[]> {
  const { rows } = await sql<{ id: number }>`
    SELECT s.id FROM shipments s JOIN fulfillments f ON f.id = s.fulfillment_id WHERE f.order_id = ${orderId} ORDER BY s.id`.execute(db);
  return rows.map((r) => r.id);
}

/**
 * Shipping labels: shipping prints a 4x6 in label per parcel and keeps it with
 * the shipment; the PDF's barcode, rendered to an image and scanned, reads back
 * as the tracking number (pdftoppm from poppler-utils, zbarimg from zbar-tools:
 * .ci/run installs both). The admin API and `fulfil <order> label` serve the
 * kept document.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adminServer } from '../helpers/admin-server.ts';
import { runInProcess } from '../helpers/in-process-cli.ts';
import { allocateOrder } from '../../src/fulfilment/allocate.ts';
import { packFulfilment, startPicking } from '../../src/fulfilment/pickpack.ts';
import { shipFulfilment } from '../../src/fulfilment/ship.ts';
import { registerFulfilmentCommands } from '../../src/fulfilment/cli.ts';
import { renderLabel, type LabelData } from '../../src/fulfilment/label.ts';
import { parsedFonts } from '../../src/fulfilment/pdf.ts';
import { channel, location, placeOrder, sku, stock } from './fixtures.ts';

const admin = adminServer('label-admin-token-0123456789', { CARRIER: 'simulated', SHIP_FROM: 'Acme Mugs Ltd|1 Kiln Road|Stoke ST1 1AA|GB' });
const BY = { actor: 'test' };

/** A system tool the test needs; missing, the test fails saying how to install it (never skips). */
function tool(name: string, pkg: string): string {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'pipe' });
    return name;
  } catch {
    throw new Error(`${name} is not installed: apt-get install -y ${pkg} (.ci/run installs it)`);
  }
}

/** Every page of the PDF as PNG at 300 dpi, scanned: the barcodes' contents, page by page. */
function scan(pdf: Buffer): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'cs-label-'));
  writeFileSync(join(dir, 'label.pdf'), pdf);
  execFileSync(tool('pdftoppm', 'poppler-utils'), ['-r', '300', '-png', join(dir, 'label.pdf'), join(dir, 'page')]);
  const pages = readdirSync(dir).filter((f) => f.startsWith('page')).sort();
  return pages.map((p) => execFileSync(tool('zbarimg', 'zbar-tools'), ['-q', '--raw', '-Scode128.enable', join(dir, p)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
}

function text(pdf: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'cs-label-'));
  writeFileSync(join(dir, 'label.pdf'), pdf);
  return execFileSync(tool('pdftotext', 'poppler-utils'), ['-layout', join(dir, 'label.pdf'), '-'], { encoding: 'utf8' });
}

async function shippedOrder(parcels: number) {
  const { app } = admin.t;
  const channelId = await channel(app, `label-shop-${parcels}`);
  const loc = await location(app, `LBL${parcels}`, 1);
  const skuId = await sku(app, `LBL-MUG-${parcels}`);
  await stock(app, skuId, loc, 5);
  const orderId = await placeOrder(app, channelId, [[`LBL-MUG-${parcels}`, 1]], {
    shippingAddress: { name: 'Ada Lovelace', company: null, address1: '12 Analytical St', address2: null, city: 'London', province: null, provinceCode: null, zip: 'N1 9GU', country: 'United Kingdom', countryCode: 'GB', phone: null },
  });
  await allocateOrder(app, orderId, BY);
  const f = await app.db.selectFrom('fulfillments').select('id').where('order_id', '=', orderId).executeTakeFirstOrThrow();
  await startPicking(app, f.id, BY);
  const all = [
    { weightGrams: 1200, lengthCm: 30, widthCm: 20, heightCm: 10 },
    { weightGrams: 450, lengthCm: null, widthCm: null, heightCm: null },
  ];
  await packFulfilment(app, f.id, all.slice(0, parcels), BY);
  const shipped = await shipFulfilment(app, f.id, {}, BY);
  return { orderId, shipmentId: shipped.shipmentId, tracking: shipped.label };
}

describe('shipping labels', () => {
  it('shipping prints a label per parcel, kept with the shipment, whose barcode scans as the tracking number', async () => {
    const { app } = admin.t;
    const { shipmentId, tracking } = await shippedOrder(2);
    const kept = await app.db.selectFrom('shipment_labels').select('pdf').where('shipment_id', '=', shipmentId).executeTakeFirst();
    expect(kept, 'the label is stored at ship time').toBeDefined();

    const res = await admin.server.inject({ method: 'GET', url: `/api/shipments/${shipmentId}/label`, headers: admin.auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    const pdf = res.rawPayload;
    expect(pdf.equals(kept!.pdf)).toBe(true);
    expect(scan(pdf)).toEqual([tracking.trackingNumber, tracking.trackingNumber]);

    const words = text(pdf);
    for (const expected of ['Acme Mugs Ltd', '1 Kiln Road', 'Ada Lovelace', '12 Analytical St', 'N1 9GU London', tracking.carrier.toUpperCase(), tracking.service!, 'Parcel 1 of 2', '1.20 kg', '30 x 20 x 10 cm', 'Parcel 2 of 2', '450 g']) {
      expect(words).toContain(expected);
    }
    // 4 x 6 inches.
    expect(pdf.toString('latin1')).toMatch(/\/MediaBox \[0 0 288 432\]/);
  });

  it('fulfil <order> label -o writes the kept label; a shipment without one gets it printed and kept', async () => {
    const { app } = admin.t;
    const { orderId, shipmentId, tracking } = await shippedOrder(1);
    await app.db.deleteFrom('shipment_labels').where('shipment_id', '=', shipmentId).execute();
    const file = join(mkdtempSync(join(tmpdir(), 'cs-label-')), 'label.pdf');
    const run = await runInProcess(app, registerFulfilmentCommands, 'fulfil', String(orderId), 'label', '-o', file);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`wrote ${file} (shipment ${shipmentId})`);
    const pdf = readFileSync(file);
    expect(scan(pdf)).toEqual([tracking.trackingNumber]);
    const kept = await app.db.selectFrom('shipment_labels').select('pdf').where('shipment_id', '=', shipmentId).executeTakeFirstOrThrow();
    expect(kept.pdf.equals(pdf)).toBe(true);
  });

  it('a label drawn with the font metrics parsed once is the same document as one that parses them itself', async () => {
    const data: LabelData = {
      shipmentId: 7, orderNumber: '#1007', carrier: 'Simulated', service: 'Standard', trackingNumber: 'SIM0000000007',
      shipFrom: ['Acme Mugs Ltd', '1 Kiln Road'], shipTo: ['Ada Lovelace', '12 Analytical St', 'N1 9GU London'],
      parcels: [{ weightGrams: 1200, lengthCm: 30, widthCm: 20, heightCm: 10 }, { weightGrams: 450, lengthCm: null, widthCm: null, heightCm: null }],
      shippedAt: new Date('2026-12-01T10:00:00Z'),
    };
    parsedFonts.clear();
    const parsing = await renderLabel(data);
    expect(parsedFonts.size, 'Helvetica and Helvetica-Bold parsed and kept').toBe(2);
    const kept = [...parsedFonts.values()];
    const reusing = await renderLabel(data);
    expect([...parsedFonts.values()], 'the second label parsed nothing new').toEqual(kept);
    expect(reusing.equals(parsing)).toBe(true);
  });

  it('says what is missing: no shipment yet, or no such shipment', async () => {
    const { app } = admin.t;
    const orderId = await placeOrder(app, await channel(app, 'label-unshipped'), [['LBL-NONE', 1]]);
    const run = await runInProcess(app, registerFulfilmentCommands, 'fulfil', String(orderId), 'label', '-o', join(tmpdir(), 'never.pdf'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/has no shipment to print a label for \(ship it first/);
    const missing = await admin.server.inject({ method: 'GET', url: '/api/shipments/999999/label', headers: admin.auth });
    expect(missing.statusCode).toBe(404);
  });
});

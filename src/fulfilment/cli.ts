/**
 * Fulfilment commands: `channelsync fulfil <order> [action]`, `channelsync po
 * list|receive`, `channelsync picklist`. Registered on the program by
 * src/cli.ts; each prints one clear line on failure like every command.
 */
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import type { App } from '../app.ts';
import { ConfigError } from '../domain/errors.ts';
import { DEFAULT_PARCEL, type ManualTracking, type Parcel } from './carriers/types.ts';
import type { PrintDocument } from './documents.ts';
import type { By } from './transitions.ts';
// The fulfilment modules (allocate, pickpack, ship, purchasing, documents and
// pdfkit) load inside the actions: registration stays light (see src/cli.ts).

type WithApp = (fn: (app: App) => Promise<void>) => Promise<void>;

const ACTIONS = ['status', 'allocate', 'pick', 'pack', 'ship', 'delivered', 'slip', 'invoice', 'label'] as const;
type Action = (typeof ACTIONS)[number];

interface FulfilOptions {
  fulfilment?: number;
  parcel: Parcel[];
  carrier?: string;
  service?: string;
  tracking?: string;
  url?: string;
  adapter?: string;
  out?: string;
}

/** The person at the terminal, for order history (`cli:<user>`). */
export function actor(): By {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (some containers): still record that a person did it.
  }
  return { actor: `cli:${name}` };
}

export function registerFulfilmentCommands(program: Command, withApp: WithApp): void {
  program
    .command('fulfil')
    .description('show an order\'s fulfilments, or confirm a step: allocate, pick, pack, ship, delivered; print its packing slip, invoice or shipping label')
    .argument('<order>', 'order id, or the order number the customer sees ("#1001")')
    .argument('[action]', `${ACTIONS.join(' | ')}`, 'status')
    .option('-f, --fulfilment <id>', 'only this fulfilment (default: every one ready for the step)', parseId)
    .option('--parcel <spec>', 'a parcel for pack, e.g. 1.2kg,30x20x10 (cm); repeatable', collectParcel, [])
    .option('--carrier <name>', 'ship: carrier name (manual carrier or dropship), e.g. UPS')
    .option('--service <name>', 'ship: carrier service, e.g. Ground')
    .option('--tracking <number>', 'ship: tracking number')
    .option('--url <url>', 'ship: tracking URL (derived for UPS, USPS, DHL, FedEx when omitted)')
    .option('--adapter <name>', 'ship: carrier adapter (manual, simulated); default CARRIER')
    .option('-o, --out <file>', 'slip/invoice: write it to this file instead of printing HTML (a .pdf name writes PDF); label: the PDF file (one per shipment: label-<shipment>.pdf beside it when the order has several)')
    .action(async (ref: string, action: string, opts: FulfilOptions) => {
      if (!(ACTIONS as readonly string[]).includes(action)) throw new ConfigError(`unknown action "${action}" (use ${ACTIONS.join(', ')})`);
      await withApp((app) => fulfil(app, ref, action as Action, opts));
    });

  program
    .command('picklist')
    .description('what to take from the shelves: open fulfilments batched by SKU, per location')
    .argument('[location]', 'location code (default: every location)')
    .action(async (code: string | undefined) => {
      const { pickList } = await import('./pickpack.ts');
      await withApp(async (app) => {
        let locationId: number | undefined;
        if (code) {
          const loc = await app.db.selectFrom('locations').select('id').where('code', '=', code).executeTakeFirst();
          if (!loc) throw new ConfigError(`no location with code "${code}"`);
          locationId = loc.id;
        }
        const list = await pickList(app.db, locationId);
        if (list.length === 0) console.log('nothing to pick');
        for (const e of list) {
          console.log(`${e.location}\t${e.sku}\t${e.quantity}\t${e.title}\t${e.fulfilments.map((f) => `${f.orderNumber}:${f.quantity} (f${f.fulfilmentId})`).join(', ')}`);
        }
      });
    });

  const po = program.command('po').description('purchase orders: backorders and dropship');
  po.command('list')
    .description('purchase orders, newest first')
    .option('-s, --status <status>', 'only this status (draft, sent, partially_received, received, cancelled)')
    .action(async (opts: { status?: string }) => {
      const { listPurchaseOrders } = await import('./purchasing.ts');
      await withApp(async (app) => {
        const list = await listPurchaseOrders(app.db, opts.status);
        if (list.length === 0) console.log('no purchase orders');
        for (const p of list) {
          console.log(
            `PO ${p.id}\t${p.kind}\t${p.status}\t${p.supplier ?? 'no supplier'}\t${p.location ?? '-'}\texpected ${p.expectedAt ? p.expectedAt.toISOString().slice(0, 10) : '-'}\t` +
              p.lines.map((l) => `${l.sku} ${l.received}/${l.quantity}`).join(', '),
          );
        }
      });
    });
  po.command('receive')
    .description('book a purchase order in (backorders get the stock, oldest first); for a dropship order, record the supplier\'s tracking')
    .argument('<po>', 'purchase order id', parseId)
    .option('--sku <sku=qty>', 'receive only this many of a SKU (repeatable; default everything outstanding)', collectQuantity, undefined)
    .option('--carrier <name>', 'dropship: the carrier the supplier used')
    .option('--service <name>', 'dropship: carrier service')
    .option('--tracking <number>', 'dropship: the tracking number the supplier reported')
    .option('--url <url>', 'dropship: tracking URL')
    .action(async (id: number, opts: { sku?: Record<string, number>; carrier?: string; service?: string; tracking?: string; url?: string }) => {
      const [{ receivePurchaseOrder }, { recordSupplierShipment }] = await Promise.all([import('./purchasing.ts'), import('./ship.ts')]);
      await withApp(async (app) => {
        if (opts.tracking || opts.carrier) {
          const shipped = await recordSupplierShipment(app, id, tracking(opts, `po receive ${id}`), actor());
          console.log(`${shipped.created ? 'shipped' : 'already shipped'}: shipment ${shipped.shipmentId}, ${shipped.label.carrier} ${shipped.label.trackingNumber}`);
          return;
        }
        const r = await receivePurchaseOrder(app, id, actor(), opts.sku);
        console.log(`PO ${r.purchaseOrderId} ${r.status}: ${Object.entries(r.received).map(([s, q]) => `${q} x ${s}`).join(', ')}`);
        console.log(r.allocated.length ? `${r.allocated.length} backordered fulfilment(s) allocated, oldest first: orders ${r.allocated.map((a) => a.orderId).join(', ')}` : 'no backorders were waiting');
      });
    });
}

async function fulfil(app: App, ref: string, action: Action, opts: FulfilOptions): Promise<void> {
  const [{ allocateOrder }, { packFulfilment, startPicking }, { fulfilmentsInState, shipFulfilment }, { invoice, packingSlip }] = await Promise.all([
    import('./allocate.ts'),
    import('./pickpack.ts'),
    import('./ship.ts'),
    import('./documents.ts'),
  ]);
  const orderId = await resolveOrder(app, ref);
  const by = actor();
  const only = async (states: Array<'allocated' | 'picking' | 'packed'>, what: string) => {
    if (opts.fulfilment) return [opts.fulfilment];
    const ids = await fulfilmentsInState(app, orderId, states);
    if (ids.length === 0) throw new ConfigError(`order ${ref} has no fulfilment ready to ${what} (see: channelsync fulfil ${ref})`);
    return ids;
  };
  switch (action) {
    case 'status':
      return printStatus(app, orderId);
    case 'allocate':
      console.log((await allocateOrder(app, orderId, by)).outcome);
      return printStatus(app, orderId);
    case 'pick':
      for (const id of await only(['allocated'], 'pick')) {
        await startPicking(app, id, by);
        console.log(`fulfilment ${id}: picking`);
      }
      return;
    case 'pack':
      for (const id of await only(['picking'], 'pack')) {
        await packFulfilment(app, id, opts.parcel.length ? opts.parcel : [DEFAULT_PARCEL], by);
        console.log(`fulfilment ${id}: packed (${opts.parcel.length || 1} parcel(s))`);
      }
      return;
    case 'ship': {
      const ids = opts.fulfilment ? [opts.fulfilment] : await readyToShip(app, orderId);
      if (ids.length === 0) throw new ConfigError(`order ${ref} has nothing packed to ship (see: channelsync fulfil ${ref})`);
      if (ids.length > 1 && opts.tracking) throw new ConfigError(`order ${ref} has ${ids.length} fulfilments ready (${ids.join(', ')}): choose one with --fulfilment`);
      const manual = opts.tracking || opts.carrier ? tracking(opts, `fulfil ${ref} ship`) : undefined;
      for (const id of ids) {
        const shipped = await shipFulfilment(app, id, { adapter: opts.adapter, manual }, by);
        console.log(`fulfilment ${id}: ${shipped.created ? 'shipped' : 'already shipped'}, shipment ${shipped.shipmentId}, ${shipped.label.carrier} ${shipped.label.trackingNumber} ${shipped.label.trackingUrl ?? ''}`.trim());
      }
      return;
    }
    case 'delivered': {
      // For carriers that report no delivery (manual, dropship): owes the delivery notice and feedback request.
      const { markDelivered } = await import('./ship.ts');
      const { orderShipments } = await import('./label.ts');
      let ids = await orderShipments(app.db, orderId);
      if (opts.fulfilment) {
        const s = await app.db.selectFrom('shipments').select('id').where('fulfillment_id', '=', opts.fulfilment).executeTakeFirst();
        ids = s && ids.includes(s.id) ? [s.id] : [];
      }
      if (ids.length === 0) throw new ConfigError(`order ${ref} has no shipment to confirm delivered (see: channelsync fulfil ${ref})`);
      for (const id of ids) {
        await markDelivered(app, id, { ...by, reason: 'delivery confirmed by a person' });
        console.log(`shipment ${id}: delivered`);
      }
      return printStatus(app, orderId);
    }
    case 'slip': {
      const ids = opts.fulfilment ? [opts.fulfilment] : await fulfilmentsInState(app, orderId, ['allocated', 'picking', 'packed', 'shipped', 'delivered']);
      if (ids.length === 0) throw new ConfigError(`order ${ref} has no fulfilment to print a packing slip for`);
      if (ids.length > 1 && opts.out) throw new ConfigError(`order ${ref} has ${ids.length} fulfilments (${ids.join(', ')}): choose one with --fulfilment`);
      for (const id of ids) await output(await packingSlip(app.db, id), opts.out);
      return;
    }
    case 'invoice':
      return output(await invoice(app.db, orderId), opts.out);
    case 'label':
      return writeLabels(app, ref, orderId, opts);
  }
}

/** `fulfil <order> label -o label.pdf`: each shipment's 4x6 label, as kept with the shipment. */
async function writeLabels(app: App, ref: string, orderId: number, opts: FulfilOptions): Promise<void> {
  const { orderShipments, printLabel } = await import('./label.ts');
  let ids = await orderShipments(app.db, orderId);
  if (opts.fulfilment) {
    const s = await app.db.selectFrom('shipments').select('id').where('fulfillment_id', '=', opts.fulfilment).executeTakeFirst();
    ids = s && ids.includes(s.id) ? [s.id] : [];
  }
  if (ids.length === 0) throw new ConfigError(`order ${ref} has no shipment to print a label for (ship it first: channelsync fulfil ${ref} ship)`);
  if (!opts.out) {
    if (process.stdout.isTTY) throw new ConfigError('a label is a PDF: write it to a file with -o label.pdf (or pipe the output)');
    if (ids.length > 1) throw new ConfigError(`order ${ref} has ${ids.length} shipments: write them with -o label.pdf, or choose one with --fulfilment`);
    process.stdout.write(await printLabel(app, ids[0]!));
    return;
  }
  for (const id of ids) {
    const file = ids.length === 1 ? opts.out : opts.out.replace(/(\.pdf)?$/i, `-${id}$1`);
    writeFileSync(file, await printLabel(app, id));
    console.log(`wrote ${file} (shipment ${id})`);
  }
}

async function readyToShip(app: App, orderId: number): Promise<number[]> {
  const rows = await app.db
    .selectFrom('fulfillments')
    .select('id')
    .where('order_id', '=', orderId)
    .where((eb) => eb.or([eb('state', '=', 'packed'), eb.and([eb('kind', '=', 'dropship'), eb('state', '=', 'allocated')])]))
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

async function printStatus(app: App, orderId: number): Promise<void> {
  const order = await app.db.selectFrom('orders').select(['id', 'order_number', 'state', 'channel_state', 'financial_status', 'flags']).where('id', '=', orderId).executeTakeFirstOrThrow();
  console.log(`order ${order.id} ${order.order_number}: ${order.state} (channel ${order.channel_state}, ${order.financial_status})${order.flags.length ? ` flags: ${order.flags.join(', ')}` : ''}`);
  const fs = await app.db
    .selectFrom('fulfillments as f')
    .leftJoin('locations as loc', 'loc.id', 'f.location_id')
    .leftJoin('shipments as s', 's.fulfillment_id', 'f.id')
    .select(['f.id', 'f.kind', 'f.state', 'loc.code', 'f.purchase_order_id', 's.carrier', 's.tracking_number'])
    .where('f.order_id', '=', orderId)
    .orderBy('f.id')
    .execute();
  for (const f of fs) {
    const lines = await app.db
      .selectFrom('fulfillment_lines')
      .innerJoin('order_lines', 'order_lines.id', 'fulfillment_lines.order_line_id')
      .select(['order_lines.sku', 'fulfillment_lines.quantity'])
      .where('fulfillment_id', '=', f.id)
      .execute();
    const where = f.kind === 'dropship' ? `dropship PO ${f.purchase_order_id}` : (f.code ?? '-');
    console.log(`  fulfilment ${f.id}\t${f.state}\t${where}\t${lines.map((l) => `${l.quantity} x ${l.sku}`).join(', ')}${f.tracking_number ? `\t${f.carrier} ${f.tracking_number}` : ''}`);
  }
}

async function output(doc: PrintDocument, file?: string): Promise<void> {
  const { renderHtml, renderPdf } = await import('./documents.ts');
  if (!file) {
    process.stdout.write(renderHtml(doc));
    return;
  }
  writeFileSync(file, /\.pdf$/i.test(file) ? await renderPdf(doc) : renderHtml(doc));
  console.log(`wrote ${file}`);
}

/** Order id, or order number ("#1001" or "1001") when it names exactly one order. */
export async function resolveOrder(app: App, ref: string): Promise<number> {
  if (/^\d+$/.test(ref)) {
    const byId = await app.db.selectFrom('orders').select('id').where('id', '=', Number(ref)).executeTakeFirst();
    if (byId) return byId.id;
  }
  const number = ref.startsWith('#') ? ref : `#${ref}`;
  const matches = await app.db.selectFrom('orders').select(['id', 'channel_id']).where('order_number', 'in', [ref, number]).execute();
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length === 0) throw new ConfigError(`no order with id or number "${ref}"`);
  throw new ConfigError(`order number "${ref}" exists on several channels (order ids ${matches.map((m) => m.id).join(', ')}): use the id`);
}

function tracking(opts: { carrier?: string; service?: string; tracking?: string; url?: string }, command: string): ManualTracking {
  if (!opts.carrier || !opts.tracking) throw new ConfigError(`${command} needs both --carrier and --tracking`);
  return { carrier: opts.carrier, service: opts.service ?? null, trackingNumber: opts.tracking, trackingUrl: opts.url ?? null };
}

function parseId(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

/** "1.2kg,30x20x10" or "500g" -> a parcel. */
export function parseParcel(spec: string): Parcel {
  const parcel: Parcel = { ...DEFAULT_PARCEL };
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const weight = /^(\d+(?:\.\d+)?)(kg|g)$/i.exec(part);
    const dims = /^(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)$/i.exec(part);
    if (weight) parcel.weightGrams = Math.round(Number(weight[1]) * (weight[2]!.toLowerCase() === 'kg' ? 1000 : 1));
    else if (dims) [parcel.lengthCm, parcel.widthCm, parcel.heightCm] = [Number(dims[1]), Number(dims[2]), Number(dims[3])];
    else throw new InvalidArgumentError(`expected a weight (500g, 1.2kg) and/or dimensions in cm (30x20x10), got "${part}"`);
  }
  return parcel;
}

function collectParcel(value: string, previous: Parcel[]): Parcel[] {
  return [...previous, parseParcel(value)];
}

function collectQuantity(value: string, previous: Record<string, number> | undefined): Record<string, number> {
  const m = /^(.+)=(\d+)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`expected SKU=quantity, got "${value}"`);
  return { ...(previous ?? {}), [m[1]!]: Number(m[2]) };
}

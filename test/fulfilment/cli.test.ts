import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runInProcess } from '../helpers/in-process-cli.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { allocateOrder } from '../../src/fulfilment/allocate.ts';
import { parseParcel, registerFulfilmentCommands } from '../../src/fulfilment/cli.ts';
import { channel, level, location, orderState, placeOrder, sku, stock, supplier } from './fixtures.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../bin/channelsync.js');

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

/** Runs the commands in this process, against the test app (the real binary is spawned once, below). */
const cli = (...args: string[]) => runInProcess(t.app, registerFulfilmentCommands, ...args);

async function spawnCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...t.env }, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('channelsync fulfil / po / picklist', () => {
  it('parses parcels', () => {
    expect(parseParcel('1.2kg,30x20x10')).toEqual({ weightGrams: 1200, lengthCm: 30, widthCm: 20, heightCm: 10 });
    expect(() => parseParcel('heavy')).toThrow(/expected a weight/);
  });

  it('a person picks, packs and ships an order with a manual carrier, prints its documents, and receives a purchase order', async () => {
    const { app } = t;
    const ch = await channel(app, 'cli');
    const loc = await location(app, 'CLI-WH', 1);
    const sup = await supplier(app, 'CLI Supplier', { leadTimeDays: 3 });
    const vase = await sku(app, 'VASE', { supplierId: sup });
    await stock(app, vase, loc, 1);
    const orderId = await placeOrder(app, ch, [['VASE', 1]]);
    const waiting = await placeOrder(app, ch, [['VASE', 2]]);
    await allocateOrder(app, orderId, { actor: 'test' });
    await allocateOrder(app, waiting, { actor: 'test' });

    const list = await cli('picklist', 'CLI-WH');
    expect(list.stdout).toMatch(/^CLI-WH\tVASE\t1\t/m);

    const skipped = await cli('fulfil', String(orderId), 'ship', '--carrier', 'UPS', '--tracking', '1Z999AA10123456784');
    expect(skipped.code).toBe(2);
    expect(skipped.stderr).toMatch(/nothing packed to ship/);

    expect((await cli('fulfil', String(orderId), 'pick')).stdout).toMatch(/picking/);
    expect((await cli('fulfil', String(orderId), 'pack', '--parcel', '1.2kg,30x20x10')).stdout).toMatch(/packed \(1 parcel/);
    const shipped = await cli('fulfil', String(orderId), 'ship', '--carrier', 'UPS', '--tracking', '1Z999AA10123456784');
    expect(shipped.stdout).toContain('shipped, shipment');
    expect(shipped.stdout).toContain('https://www.ups.com/track?tracknum=1Z999AA10123456784');
    expect(await orderState(app, orderId)).toBe('shipped');
    const actor = await app.db.selectFrom('order_history').select('actor').where('order_id', '=', orderId).where('to_state', '=', 'shipped').executeTakeFirstOrThrow();
    expect(actor.actor).toMatch(/^cli:/);

    const status = await cli('fulfil', String(orderId));
    expect(status.stdout).toMatch(/: shipped \(channel open, paid\)/);
    expect(status.stdout).toMatch(/shipped\tCLI-WH\t1 x VASE\tUPS 1Z999AA10123456784/);
    const slip = await cli('fulfil', String(orderId), 'slip');
    expect(slip.stdout).toContain('<h1>Packing slip</h1>');
    expect(slip.stdout).toContain('Parcel 1: 1200 g, 30 x 20 x 10 cm');
    const invoice = await cli('fulfil', String(orderId), 'invoice');
    expect(invoice.stdout).toContain('EUR 19.90');
    // The same documents as PDF, for printers and email.
    const pdfFile = join(mkdtempSync(join(tmpdir(), 'cs-slip-')), 'slip.pdf');
    expect((await cli('fulfil', String(orderId), 'slip', '-o', pdfFile)).stdout).toContain(`wrote ${pdfFile}`);
    const pdf = readFileSync(pdfFile);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.toString('latin1')).toContain('Packing slip');

    const pos = await cli('po', 'list', '--status', 'draft');
    const poId = /^PO (\d+)\tstock\tdraft\tCLI Supplier\tCLI-WH\texpected \d{4}-\d\d-\d\d\tVASE 0\/2$/m.exec(pos.stdout)?.[1];
    expect(poId, pos.stdout).toBeDefined();
    const received = await cli('po', 'receive', poId!);
    expect(received.stdout).toContain('received: 2 x VASE');
    expect(received.stdout).toContain(`allocated, oldest first: orders ${waiting}`);
    expect(await orderState(app, waiting)).toBe('allocated');
    expect(await level(app, vase, loc)).toEqual({ on_hand: 2, reserved: 2 });
    // The installed binary carries the same commands and reports a refusal in one line, exit 2.
    const again = await spawnCli('po', 'receive', poId!);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^channelsync: purchase order \d+ is received already\n$/);
  }, 60_000);
});

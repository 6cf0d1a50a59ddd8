/**
 * Locations: the first daemon start creates a default one and says so; the
 * CLI adds, lists, updates and deactivates them; the admin API does the same
 * with 400/404/409 where a person must fix something.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { runInProcess } from './helpers/in-process-cli.ts';
import { loadConfig } from '../src/config.ts';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { registerLocationCommands } from '../src/locations/cli.ts';
import { registerStockCommands } from '../src/stock/cli.ts';

const TOKEN = 'locations-test-token-0123456789';
let t: TestApp;
let daemon: Daemon;
const logged: string[] = [];
const locations = (...args: string[]) => runInProcess(daemon.app, (p, withApp) => registerLocationCommands(p, withApp), 'locations', ...args);
const stock = (...args: string[]) => runInProcess(daemon.app, registerStockCommands, 'stock', ...args);
const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
  daemon.server.inject({ method, url, payload: payload as object, headers: { authorization: `Bearer ${TOKEN}` } });

beforeAll(async () => {
  t = await createTestApp({ ADMIN_TOKEN: TOKEN });
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (logged.push(String(chunk)), done()) }));
  daemon = await startDaemon(loadConfig(t.env), { workers: false, log });
  await daemon.app.db.insertInto('skus').values({ sku: 'LOC-MUG', title: 'Mug' }).execute();
}, 30_000);
afterAll(async () => {
  await daemon?.stop();
  await t?.close();
});

describe('locations', () => {
  it('are created by default on the first start, and the log says so', async () => {
    expect(logged.join('')).toContain('no location existed: created the default location \\"MAIN\\"');
    expect((await locations('list')).stdout).toMatch(/^MAIN\s+Main warehouse\s+active\s+100\s+0\s+0$/m);
  });

  it('are added, updated and deactivated from the CLI, and stock can be booked at them', async () => {
    const added = await locations('add', 'LDN-1', '--name', 'London', '--priority', '10');
    expect(added.stdout).toContain('added location LDN-1 ("London", priority 10)');
    expect((await locations('add', 'LDN-1')).stderr).toMatch(/location "LDN-1" already exists/);
    expect((await locations('add', 'bad code!')).stderr).toMatch(/location code "bad code!" must be/);
    expect((await locations('update', 'LDN-1')).stderr).toMatch(/nothing to change/);
    expect((await locations('update', 'NOPE', '--priority', '1')).stderr).toMatch(/unknown location "NOPE"/);

    // The best location by priority is where stock goes when none is named.
    const booked = await stock('adjust', 'LOC-MUG', '5');
    expect(booked.code, booked.stderr).toBe(0);
    expect((await stock('show', 'LOC-MUG')).stdout).toMatch(/^LOC-MUG\s+LDN-1\s+5\s+0\s+5$/m);

    expect((await locations('update', 'LDN-1', '--name', 'London Bridge', '--priority', '200')).stdout)
      .toContain('location LDN-1: "London Bridge", priority 200, active');
    const off = await locations('deactivate', 'LDN-1');
    expect(off.stdout).toContain('location LDN-1: "London Bridge", priority 200, inactive');
    expect((await locations('list', '--active')).stdout).not.toContain('LDN-1');
    expect((await locations('deactivate', 'MAIN')).stderr).toMatch(/"MAIN" is the only active location: add another/);
    expect((await locations('update', 'LDN-1', '--activate')).stdout).toContain('active');
  });

  it('refuses to deactivate a location holding reserved units', async () => {
    const [sku, loc] = await Promise.all([
      daemon.app.db.selectFrom('skus').select('id').where('sku', '=', 'LOC-MUG').executeTakeFirstOrThrow(),
      daemon.app.db.selectFrom('locations').select('id').where('code', '=', 'LDN-1').executeTakeFirstOrThrow(),
    ]);
    await daemon.app.db.insertInto('stock_movements')
      .values({ sku_id: sku.id, location_id: loc.id, reserved_delta: 2, reason: 'reservation', reference: 'order:1' }).execute();
    expect((await locations('deactivate', 'LDN-1')).stderr).toMatch(/holds 2 units reserved for open orders/);
  });

  it('are managed through the admin API with 400, 404 and 409 for what a person must fix', async () => {
    const list = await api('GET', '/api/locations');
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((l: { code: string }) => l.code)).toEqual(['MAIN', 'LDN-1']);

    const created = await api('POST', '/api/locations', { code: 'NYC', name: 'New York', priority: 50 });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ code: 'NYC', name: 'New York', priority: 50, active: true, onHand: 0, reserved: 0 });
    expect((await api('POST', '/api/locations', { code: 'NYC' })).statusCode).toBe(409);
    const bad = await api('POST', '/api/locations', { code: '', priority: -1 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/code/);
    expect((await api('POST', '/api/locations', { code: 'X', colour: 'red' })).statusCode).toBe(400);

    expect((await api('GET', '/api/locations/NYC')).json()).toMatchObject({ code: 'NYC' });
    expect((await api('GET', '/api/locations/NOPE')).statusCode).toBe(404);
    expect((await api('PATCH', '/api/locations/NOPE', { priority: 1 })).statusCode).toBe(404);
    expect((await api('PATCH', '/api/locations/NYC', {})).statusCode).toBe(400);
    const patched = await api('PATCH', '/api/locations/NYC', { name: 'NYC Queens', priority: 5 });
    expect(patched.json()).toMatchObject({ name: 'NYC Queens', priority: 5 });

    expect((await api('POST', '/api/locations/LDN-1/deactivate')).statusCode).toBe(409);
    const off = await api('POST', '/api/locations/NYC/deactivate');
    expect(off.statusCode).toBe(200);
    expect(off.json().active).toBe(false);
    expect((await api('GET', '/api/locations?active=true')).json().items.map((l: { code: string }) => l.code)).toEqual(['MAIN', 'LDN-1']);
  });
});

/**
 * The simulated store's host runs at most `rateLimit.maxConcurrent` requests at
 * once (capacity.ts), and that limit is the store's: two simulator processes
 * serving one store (the same statePath) share it, and a process that dies
 * mid-request does not hold its place for good.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../../connectors/woocommerce/simulator/index.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'woo-capacity-'));
const children: ChildProcess[] = [];
const sims: WooCommerceSimulator[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(sims.splice(0).map((s) => s.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Another process serving the store kept at `statePath`, its requests held `latencyMs` each. */
function otherProcess(statePath: string, latencyMs: number): Promise<{ url: string; pid: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/run-ts.js'), join(ROOT, 'test/connectors/woocommerce/capacity-host.ts'), statePath, '1', String(latencyMs)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  return new Promise((ok, fail) => {
    child.once('message', (m: { url: string; pid: number }) => ok({ ...m, child }));
    child.once('exit', (code) => fail(new Error(`simulator process exited with ${code}`)));
  });
}

/** Resolves once a request of process `pid` is in flight on the store's host. */
async function inFlightOf(statePath: string, pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (existsSync(`${statePath}.inflight`) && readdirSync(`${statePath}.inflight`).some((f) => f.startsWith(`${pid}-`))) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no request of process ${pid} is counted in ${statePath}.inflight: the processes do not share the store's limit`);
}

/** Resolves once process `pid` holds no place on the store's host. */
async function placeFreedBy(statePath: string, pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (!readdirSync(`${statePath}.inflight`).some((f) => f.startsWith(`${pid}-`))) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`process ${pid} still holds its place in ${statePath}.inflight after answering`);
}

const index = (url: string) => fetch(`${url}/wp-json/`).then(async (r) => ({ status: r.status, text: await r.text() }));

describe('WooCommerce simulator host capacity', () => {
  it('refuses with 503 a request to one process while another process of the same store uses the only place', async () => {
    const statePath = join(dir, 'shared.json');
    const here = await startWooCommerceSimulator({ statePath, rateLimit: { maxConcurrent: 1 } });
    sims.push(here);
    const there = await otherProcess(statePath, 4000);
    const slow = index(there.url);
    await inFlightOf(statePath, there.pid);
    const refused = await index(here.url);
    expect(refused.status).toBe(503);
    expect(refused.text).toContain('Service Temporarily Unavailable');
    expect(here.stats.rejectedOverCapacity).toBe(1);
    expect((await slow).status).toBe(200);
    // The place is free again once that process has let it go (just after its answer left it).
    await placeFreedBy(statePath, there.pid);
    expect((await index(here.url)).status).toBe(200);
  }, 30_000);

  it('gives back the place of a process killed mid-request', async () => {
    const statePath = join(dir, 'crash.json');
    const here = await startWooCommerceSimulator({ statePath, rateLimit: { maxConcurrent: 1 } });
    sims.push(here);
    const there = await otherProcess(statePath, 60_000);
    void index(there.url).catch(() => undefined);
    await inFlightOf(statePath, there.pid);
    there.child.kill('SIGKILL');
    await new Promise((r) => there.child.once('exit', r));
    expect((await index(here.url)).status).toBe(200);
    expect(readdirSync(`${statePath}.inflight`).filter((f) => f.startsWith(`${there.pid}-`))).toEqual([]);
  }, 30_000);

  it('keeps the cap within one process when no statePath is given', async () => {
    const here = await startWooCommerceSimulator({ rateLimit: { maxConcurrent: 1 }, faults: { latencyMs: 1500 } });
    sims.push(here);
    const first = index(here.url);
    while (here.stats.requests === 0) await new Promise((r) => setTimeout(r, 10));
    expect((await index(here.url)).status).toBe(503);
    expect((await first).status).toBe(200);
  });
});

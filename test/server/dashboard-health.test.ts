/**
 * The dashboard says when a channel is not well and why: failed pushes or a
 * sync lagging several intervals make it "degraded" with the reason in words,
 * and every red number links to the list behind it. The chart shows each
 * channel as its own line (colour, dash, width, legend) with whole-number ticks.
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { adminServer } from '../helpers/admin-server.ts';
import { channel, placeOrder } from '../fulfilment/fixtures.ts';
import { integerStep, lineChart } from '../../src/server/admin/chart.ts';
import { shipOrder } from './seed.ts';

const TOKEN = 'dashboard-health-token-0123456789';
const admin = adminServer(TOKEN, { SYNC_INTERVAL_SECONDS: '60' });
const get = (url: string) => admin.server.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } });

async function syncedAgo(channelId: number, seconds: number): Promise<void> {
  await sql`INSERT INTO sync_cursors (channel_id, resource, cursor, last_synced_at) VALUES (${channelId}, 'orders', '0', now() - make_interval(secs => ${seconds}))
    ON CONFLICT (channel_id, resource) DO UPDATE SET last_synced_at = EXCLUDED.last_synced_at`.execute(admin.t.app.db);
}

describe('channel health', () => {
  it('turns degraded with failed pushes or a growing sync lag, says why, and links the red numbers', async () => {
    const { app } = admin.t;
    const well = await channel(app, 'well-shop');
    const pushing = await channel(app, 'pushing-shop');
    const slow = await channel(app, 'slow-shop');
    for (const c of [well, pushing]) await syncedAgo(c, 30);
    await syncedAgo(slow, 60 * 60);
    const id = await placeOrder(app, pushing, [['HEALTH-MUG', 1]]);
    const { pushId } = await shipOrder(app, id);
    await app.db.updateTable('channel_pushes').set({ status: 'failed', last_error: 'HTTP 503' }).where('id', '=', pushId).execute();

    const items = (await get('/api/channels')).json().items as Array<{ id: number; health: string; reasons: string[] }>;
    expect(items.find((c) => c.id === well)).toMatchObject({ health: 'ok', reasons: [] });
    expect(items.find((c) => c.id === pushing)).toMatchObject({ health: 'degraded', reasons: [expect.stringMatching(/^1 push to the channel failed for good/)] });
    expect(items.find((c) => c.id === slow)).toMatchObject({ health: 'degraded', reasons: [expect.stringMatching(/^last synced 60 min ago, more than 3 sync intervals \(1 min each\)/)] });

    const page = (await get('/admin')).body;
    const row = new RegExp(`<tr data-channel="${pushing}">[\\s\\S]*?</tr>`).exec(page)![0];
    expect(row).toContain('degraded');
    expect(row).toContain('1 push to the channel failed for good');
    expect(row).toContain(`href="/admin/orders?attention=1&#38;channel=${pushing}">1</a>`);
    // The list behind the link shows that order.
    expect((await get(`/admin/orders?attention=1&channel=${pushing}`)).body).toContain(`data-order="${id}"`);
  });
});

describe('the orders chart', () => {
  it('counts each channel\'s orders per hour over the last 24 hours', async () => {
    const { app } = admin.t;
    const a = await channel(app, 'chart-a');
    const b = await channel(app, 'chart-b');
    for (const minutesAgo of [0, 0, 120, 30 * 60]) await placeOrder(app, a, [['CHART-MUG', 1]], { minutesAgo });
    await placeOrder(app, b, [['CHART-MUG', 1]], { minutesAgo: 0 });
    const { ordersPerHour } = await import('../../src/server/admin/stats.ts');
    const hourly = await ordersPerHour(app);
    expect(hourly.hours).toHaveLength(24);
    const counts = (id: number) => hourly.series.find((s) => s.channelId === id)!.counts;
    expect(counts(a).reduce((x, y) => x + y, 0)).toBe(3);
    expect(counts(a)[23]).toBe(2);
    expect(counts(a)[21]! + counts(a)[20]!).toBe(1);
    expect(counts(b)).toEqual([...Array(23).fill(0), 1]);
  });

  it('draws each channel as its own line, even with the same counts, on whole-number ticks', () => {
    const same = [0, 1, 2, 3, 5, 2];
    const svg = lineChart(
      [
        { name: 'shop-a', values: same },
        { name: 'shop-b', values: same },
      ],
      { id: 'c', title: 't', labels: same.map((_, i) => String(i)) },
    );
    const lines = [...svg.matchAll(/<polyline [^>]*stroke="([^"]+)" stroke-width="([^"]+)"( stroke-dasharray="([^"]+)")?/g)];
    expect(lines).toHaveLength(2);
    expect(lines[0]![1]).not.toBe(lines[1]![1]);
    expect(Number(lines[1]![2])).toBeLessThan(Number(lines[0]![2]));
    expect(lines[0]![4]).toBeUndefined();
    expect(lines[1]![4]).toBeTruthy();
    expect(svg.match(/class="legend-item"><line [^>]*stroke-dasharray/g)).toHaveLength(1);
    const ticks = [...svg.matchAll(/text-anchor="end"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(ticks).toEqual(['0', '1', '2', '3', '4', '5']);
    expect([1, 4, 5, 6, 19, 38, 99, 101].map(integerStep)).toEqual([1, 1, 1, 2, 5, 10, 20, 50]);
  });
});

/**
 * GET /admin: one server-rendered page with what operations staff look at
 * first. Per channel: sync lag, orders today, orders in fulfilment, failed
 * pushes and stock drift; backorders, SKUs out of stock and what is on
 * order; customers' cancel requests waiting for a person; failed jobs per queue with links into the queue
 * UI; order cycle times; orders per hour per channel over the last day.
 * It refreshes itself every 30 s (a meta refresh: no script to load).
 */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../app.ts';
import { QUEUE_UI_PATH } from '../queue-ui.ts';
import { hasNotices } from '../../../connectors/types.ts';
import { lineChart } from './chart.ts';
import { esc, page } from './html.ts';
import { lowRatingsCard, satisfactionTable } from './satisfaction.ts';
import { satisfactionByChannel } from '../../feedback/store.ts';
import { channelHealth, cycleTimes, failedJobs, openCancelRequests, ordersPerHour, stockBacklog, type ChannelHealth, type CycleTimes, type StockBacklog } from './stats.ts';

export function dashboardRoutes(server: FastifyInstance, app: App): void {
  server.get('/admin', async (_request, reply) => {
    const [channels, cycles, hourly, failed, backlog, satisfaction, cancelRequests] = await Promise.all([
      channelHealth(app), cycleTimes(app), ordersPerHour(app), failedJobs(app), stockBacklog(app), satisfactionByChannel(app.db), openCancelRequests(app),
    ]);
    const notices = await channelNotices(app, channels);
    const labels = hourly.hours.map((h) => `${String(h.getUTCHours()).padStart(2, '0')}:00`);
    const chart = lineChart(
      hourly.series.map((s) => ({ name: s.name, values: s.counts })),
      { id: 'orders-per-hour', title: 'Orders per hour per channel, last 24 hours (UTC)', labels },
    );
    const totalFailed = failed.reduce((a, f) => a + f.failed, 0);
    const body = `
<h1>Operations</h1>
<section class="cards">
  <div class="card"><span class="muted">Orders today</span><b>${channels.reduce((a, c) => a + c.ordersToday, 0)}</b></div>
  <div class="card"><span class="muted">In fulfilment</span><b>${channels.reduce((a, c) => a + c.ordersInFulfilment, 0)}</b></div>
  <div class="card" id="backordered"><span class="muted">Backordered orders</span><b class="${backlog.backorderedOrders ? 'bad' : ''}">${redLink(backlog.backorderedOrders, '/admin/orders?state=backordered')}</b><span class="muted">${plural(backlog.backorderedFulfilments, 'fulfilment')} waiting for stock</span></div>
  <div class="card" id="stock-outs"><span class="muted">Out of stock</span><b class="${backlog.stockOuts.length ? 'bad' : ''}">${backlog.stockOuts.length ? `<a class="bad" href="/admin/stock?only=out">${plural(backlog.stockOuts.length, 'SKU')}</a>` : plural(0, 'SKU')}</b><span class="muted"><a href="/admin/purchase-orders">purchase orders</a>: ${backlog.purchaseOrders.draft} draft, ${backlog.purchaseOrders.sent} sent</span></div>
  <div class="card" id="cancel-requests"><span class="muted">Cancel requests to decide</span><b class="${cancelRequests ? 'bad' : ''}">${redLink(cancelRequests, '/admin/orders?attention=1')}</b><span class="muted">customers asked; nothing is cancelled until a person decides</span></div>
  <div class="card"><span class="muted">Failed jobs</span><b class="${totalFailed ? 'bad' : ''}">${redLink(totalFailed, '#failed-jobs')}</b></div>
  <div class="card"><span class="muted">Placed → shipped (median / p90)</span><b>${duration(cycles.shipped.medianSeconds)} / ${duration(cycles.shipped.p90Seconds)}</b><span class="muted">${plural(cycles.shipped.count, 'order')}, 30 days</span></div>
  <div class="card"><span class="muted">Placed → delivered (median / p90)</span><b>${duration(cycles.delivered.medianSeconds)} / ${duration(cycles.delivered.p90Seconds)}</b><span class="muted">${plural(cycles.delivered.count, 'order')}, 30 days</span></div>
  ${lowRatingsCard(satisfaction)}
</section>
<h2>Channels</h2>
${channelTable(channels, notices)}
${satisfactionTable(satisfaction)}
<h2>Out of stock</h2>
${stockOutTable(backlog)}
<h2>Orders per hour, last 24 hours (UTC)</h2>
<div class="panel">${chart}</div>
<h2>Failed jobs by queue</h2>
<table id="failed-jobs"><thead><tr><th>Queue</th><th class="num">Failed</th><th></th></tr></thead><tbody>
${failed
  .map(
    (f) => `<tr><td>${esc(f.queue)}</td><td class="num ${f.failed ? 'bad' : ''}">${redLink(f.failed, `${QUEUE_UI_PATH}/queue/${encodeURIComponent(f.queue)}?status=failed`)}</td>
<td><a href="${QUEUE_UI_PATH}/queue/${encodeURIComponent(f.queue)}?status=failed">open failed in queue UI</a></td></tr>`,
  )
  .join('')}
</tbody></table>
<p class="muted">Cycle times: ${cycleNote(cycles.shipped)} Updated ${esc(new Date().toISOString().slice(0, 19).replace('T', ' '))} UTC; this page refreshes every 30 s.</p>`;
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(page('Dashboard', body).replace('<head>', '<head><meta http-equiv="refresh" content="30">'));
  });
}

/**
 * What a channel's connector asks a person to read (eBay: a pause and what to do,
 * the day's quota), from shared state; a channel whose connector cannot be built
 * shows nothing here (its health column says why).
 */
async function channelNotices(app: App, channels: ChannelHealth[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  await Promise.all(
    channels.map(async (c) => {
      try {
        const { connector } = await app.connectors.get(c.id);
        if (hasNotices(connector)) out.set(c.id, await connector.notices());
      } catch {
        // unknown kind, bad credentials: not this table's to say
      }
    }),
  );
  return out;
}

function channelTable(channels: ChannelHealth[], notices: Map<number, string[]> = new Map()): string {
  if (channels.length === 0) return '<p class="muted">No channels yet: add one with <code>channelsync channels add</code>.</p>';
  const rows = channels
    .map(
      (c) => `<tr data-channel="${c.id}">
  <td>${esc(c.name)} <span class="muted">${esc(c.kind)}</span></td>
  <td class="wrap"><span class="${c.health === 'ok' ? 'ok' : 'bad'}">${esc(c.health)}</span>${c.reasons.length ? `<ul class="reasons">${c.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}</td>
  <td class="num">${c.syncLagSeconds === null ? '–' : duration(c.syncLagSeconds)}</td>
  <td class="num">${c.ordersToday}</td>
  <td class="num">${c.ordersInFulfilment}</td>
  <td class="num">${c.pendingPushes}</td>
  <td class="num ${c.failedPushes ? 'bad' : ''}">${redLink(c.failedPushes, `/admin/orders?attention=1&channel=${c.id}`)}</td>
  <td class="num">${c.stockDriftSkus === null ? '<span class="muted" title="stock reconciliation has not run yet">–</span>' : c.stockDriftSkus ? `<a href="/admin/stock#drift">${c.stockDriftSkus}</a>` : 0}</td>
</tr>${(notices.get(c.id) ?? []).map((n) => `<tr class="notice" data-channel-notice="${c.id}"><td colspan="8" class="${/^Paused/.test(n) ? 'bad' : 'muted'}">${esc(n)}</td></tr>`).join('')}`,
    )
    .join('');
  return `<table id="channels"><thead><tr><th>Channel</th><th>Health</th><th class="num">Sync lag</th><th class="num">Orders today</th>
<th class="num">In fulfilment</th><th class="num">Pending pushes</th><th class="num">Failed pushes</th><th class="num">Stock drift (SKUs)</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function stockOutTable(backlog: StockBacklog): string {
  if (backlog.stockOuts.length === 0) return '<p class="muted" id="stock-out-list">Every SKU with stock has some available.</p>';
  const rows = backlog.stockOuts
    .map(
      (o) => `<tr><td>${esc(o.sku)} <span class="muted">${esc(o.title)}</span></td><td class="num bad">${o.available}</td>
<td class="num">${o.backorderedUnits}</td><td class="num">${o.onOrder}</td>
<td>${o.nextDeliveryAt ? esc(o.nextDeliveryAt.slice(0, 16).replace('T', ' ')) : '<span class="muted">not sent yet</span>'}</td></tr>`,
    )
    .join('');
  return `<table id="stock-out-list"><thead><tr><th>SKU</th><th class="num">Available</th><th class="num">Backordered units</th>
<th class="num">On order</th><th>Next delivery (UTC)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function cycleNote(c: CycleTimes): string {
  return c.count === 0 ? 'no order placed in the last 30 days has shipped yet.' : `over ${plural(c.count, 'shipped order')} placed in the last 30 days.`;
}

/** 42 s, 5 m 3 s, 2 h 10 m, 3 d 4 h. */
export function duration(seconds: number | null): string {
  if (seconds === null) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A count that needs a person links to the list behind it; zero stays plain. */
const redLink = (n: number, href: string) => (n ? `<a class="bad" href="${esc(href)}">${n}</a>` : '0');

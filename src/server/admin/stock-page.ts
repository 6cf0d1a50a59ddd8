/**
 * GET /admin/stock: stock levels per SKU and location, what each channel is
 * shown (its rules applied: `channel_stock_expected`), warnings for SKUs out
 * of stock (nothing available) and low (at or below their safety stock), and
 * the drift the last reconciliations found. Pages of 100 SKUs by SKU (keyset).
 *
 * GET /admin/stock/:sku: one SKU's numbers explained: levels, the movements
 * that sum to them (with who made each), and each channel's shown quantity.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { z } from 'zod';
import type { App } from '../../app.ts';
import { driftReport, explainSku } from '../../stock/explain.ts';
import { esc } from './html.ts';
import { sendPage, stateBadge, when } from './console.ts';

const PAGE = 100;
const empty = (v: unknown) => (v === '' ? undefined : v);
const listQuery = z.object({
  sku: z.preprocess(empty, z.string().max(200).optional()),
  only: z.preprocess(empty, z.enum(['low', 'out']).optional()),
  after: z.preprocess(empty, z.string().max(200).optional()),
});

interface SkuRow {
  id: number;
  sku: string;
  title: string;
  safety_stock: number;
  available: number | null;
  levels: Array<{ location: string; on_hand: number; reserved: number; active: boolean }> | null;
  channels: Array<{ channel: string; expected: number; last_pushed: number | null }> | null;
  backordered: number;
}

export function stockPageRoutes(server: FastifyInstance, app: App): void {
  server.get('/admin/stock', async (request, reply) => {
    const parsed = listQuery.safeParse(request.query ?? {});
    if (!parsed.success) {
      return sendPage(reply, 'Stock', `<h1>Stock</h1><p class="alert" role="alert">Cannot filter by that: ${esc(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))}</p>`, 400);
    }
    const q = parsed.data;
    const escaped = q.sku?.replace(/[\\%_]/g, (c) => `\\${c}`);
    // Only SKUs with a ledger (a stock level row): a SKU never counted is unknown, not 0 (design.md).
    const { rows } = await sql<SkuRow>`
      WITH page AS (
        SELECT s.id, s.sku, s.title, s.safety_stock,
          (SELECT sum(CASE WHEN l.active THEN sl.on_hand - sl.reserved ELSE 0 END)::int FROM stock_levels sl JOIN locations l ON l.id = sl.location_id WHERE sl.sku_id = s.id) AS available
        FROM skus s
        WHERE EXISTS (SELECT 1 FROM stock_levels sl WHERE sl.sku_id = s.id)
          ${escaped ? sql`AND s.sku LIKE ${`${escaped}%`}` : sql``}
          ${q.after ? sql`AND s.sku > ${q.after}` : sql``}
      )
      SELECT p.*,
        (SELECT json_agg(json_build_object('location', l.code, 'on_hand', sl.on_hand, 'reserved', sl.reserved, 'active', l.active) ORDER BY l.priority, l.code)
          FROM stock_levels sl JOIN locations l ON l.id = sl.location_id WHERE sl.sku_id = p.id) AS levels,
        (SELECT json_agg(json_build_object('channel', c.name, 'expected', e.expected, 'last_pushed', e.last_pushed_available) ORDER BY c.name)
          FROM channel_stock_expected e JOIN channels c ON c.id = e.channel_id WHERE e.sku_id = p.id) AS channels,
        (SELECT coalesce(sum(fl.quantity), 0)::int FROM fulfillment_lines fl JOIN fulfillments f ON f.id = fl.fulfillment_id
          JOIN order_lines ol ON ol.id = fl.order_line_id WHERE f.state = 'backordered' AND ol.sku_id = p.id) AS backordered
      FROM page p
      WHERE ${q.only === 'out' ? sql`p.available <= 0` : q.only === 'low' ? sql`p.available <= p.safety_stock` : sql`true`}
      ORDER BY p.sku
      LIMIT ${PAGE + 1}`.execute(app.db);
    const more = rows.length > PAGE;
    const shown = rows.slice(0, PAGE);
    const drift = await driftReport(app.db, { limit: 20 });
    const params = new URLSearchParams();
    if (q.sku) params.set('sku', q.sku);
    if (q.only) params.set('only', q.only);
    const next = more ? `?${new URLSearchParams([...params, ['after', shown[shown.length - 1]!.sku]])}` : null;
    const body = `<h1>Stock</h1>
<form class="filters" method="get" action="/admin/stock" role="search">
  <label>SKU starts with<input type="search" name="sku" value="${esc(q.sku ?? '')}"></label>
  <label>Show<select name="only"><option value="">every SKU</option><option value="low"${q.only === 'low' ? ' selected' : ''}>low or out of stock</option><option value="out"${q.only === 'out' ? ' selected' : ''}>out of stock</option></select></label>
  <button type="submit">Show</button> <a href="/admin/stock">Clear</a>
</form>
${shown.length === 0 ? '<p class="muted">No SKU with stock matches.</p>' : skuTable(shown)}
<nav class="pager" aria-label="Pages">${q.after ? `<a href="?${params}">First SKUs</a>` : ''}${next ? `<a href="${esc(next)}" rel="next">More SKUs →</a>` : ''}</nav>
<h2 id="drift">Drift found by reconciliation</h2>
${
  drift.length === 0
    ? '<p class="muted">No drift recorded: every channel showed what the ledger expected (or reconciliation has not run yet).</p>'
    : `<table id="drift-list"><thead><tr><th scope="col">Found (UTC)</th><th scope="col">Channel</th><th scope="col">SKU</th><th scope="col" class="num">Expected</th><th scope="col" class="num">Channel showed</th><th scope="col">Corrected</th></tr></thead><tbody>${drift
        .map(
          (d) => `<tr><td>${esc(when(d.at))}</td><td>${esc(d.channel)}</td><td><a href="/admin/stock/${encodeURIComponent(d.sku)}">${esc(d.sku)}</a></td><td class="num">${d.expected}</td>
<td class="num">${d.found ?? '–'}</td><td>${d.correctedAt ? esc(when(d.correctedAt)) : d.error ? `<span class="bad">${esc(d.error)}</span>` : '<span class="warn">not yet</span>'}</td></tr>`,
        )
        .join('')}</tbody></table>`
}`;
    return sendPage(reply, 'Stock', body);
  });

  server.get<{ Params: { sku: string } }>('/admin/stock/:sku', async (request, reply) => {
    const sku = request.params.sku;
    const row = await app.db.selectFrom('skus').select(['id', 'title', 'safety_stock']).where('sku', '=', sku).executeTakeFirst();
    if (!row) return sendPage(reply, 'SKU not found', `<h1>SKU not found</h1><p>No SKU “${esc(sku)}”. <a href="/admin/stock">All stock</a>.</p>`, 404);
    const x = await explainSku(app.db, row.id, 100);
    const body = `<p><a href="/admin/stock">← Stock</a></p><h1>${esc(x.sku)} <span class="muted">${esc(row.title)}</span></h1>
<h2>Levels</h2>
<table id="levels"><thead><tr><th scope="col">Location</th><th scope="col" class="num">On hand</th><th scope="col" class="num">Reserved</th><th scope="col" class="num">Available</th></tr></thead><tbody>${x.levels
      .map((l) => `<tr><td>${esc(l.location)}</td><td class="num">${l.onHand}</td><td class="num">${l.reserved}</td><td class="num ${l.available <= 0 ? 'bad' : l.available <= row.safety_stock ? 'warn' : ''}">${l.available}</td></tr>`)
      .join('')}</tbody></table>
<h2>What each channel is shown</h2>
${
  x.channels.length === 0
    ? '<p class="muted">Not listed on any channel.</p>'
    : `<table id="channel-stock"><thead><tr><th scope="col">Channel</th><th scope="col">Locations</th><th scope="col" class="num">Available</th><th scope="col" class="num">Buffer</th><th scope="col" class="num">Share</th><th scope="col" class="num">Max shown</th><th scope="col" class="num">Shown</th><th scope="col" class="num">Last pushed</th><th scope="col">Push</th></tr></thead><tbody>${x.channels
        .map(
          (c) => `<tr><td>${esc(c.channel)}</td><td>${esc(c.locations)}</td><td class="num">${c.available}</td><td class="num">${c.buffer}</td><td class="num">${c.sharePercent}%</td>
<td class="num">${c.maxShown ?? '–'}</td><td class="num">${c.expected}</td><td class="num">${c.lastPushed ?? '–'} <span class="muted">${esc(when(c.lastPushedAt))}</span></td><td>${c.pushStatus ? stateBadge(c.pushStatus) : ''}</td></tr>`,
        )
        .join('')}</tbody></table>`
}
<h2>Movements</h2>
${x.omitted ? `<p class="muted">${x.omitted} older movements not shown; they sum to ${x.carried.map((c) => `${c.onHand} on hand, ${c.reserved} reserved at ${esc(c.location)}`).join('; ') || 'zero'}.</p>` : ''}
<table id="movements"><thead><tr><th scope="col">When (UTC)</th><th scope="col">Location</th><th scope="col">Why</th><th scope="col">Reference</th><th scope="col">By</th><th scope="col" class="num">On hand ±</th><th scope="col" class="num">Reserved ±</th><th scope="col" class="num">On hand after</th><th scope="col" class="num">Reserved after</th></tr></thead><tbody>${x.movements
      .map(
        (m) => `<tr><td>${esc(when(m.at))}</td><td>${esc(m.location)}</td><td>${esc(m.reason.replace(/_/g, ' '))}${m.note ? ` <span class="muted">${esc(m.note)}</span>` : ''}</td><td>${esc(m.reference)}</td><td>${esc(m.actor)}</td>
<td class="num">${signed(m.onHandDelta)}</td><td class="num">${signed(m.reservedDelta)}</td><td class="num">${m.onHand}</td><td class="num">${m.reserved}</td></tr>`,
      )
      .join('')}</tbody></table>`;
    return sendPage(reply, x.sku, body);
  });
}

function skuTable(rows: SkuRow[]): string {
  const body = rows
    .map((r) => {
      const available = r.available ?? 0;
      const warning = available <= 0 ? '<span class="bad">out of stock</span>' : available <= r.safety_stock ? '<span class="warn">low</span>' : '';
      return `<tr data-sku="${esc(r.sku)}"><td><a href="/admin/stock/${encodeURIComponent(r.sku)}">${esc(r.sku)}</a> <span class="muted">${esc(r.title)}</span></td>
<td class="wrap">${(r.levels ?? []).map((l) => `${esc(l.location)}: ${l.on_hand - l.reserved} <span class="muted">(${l.on_hand} on hand, ${l.reserved} reserved${l.active ? '' : ', inactive'})</span>`).join('<br>')}</td>
<td class="num ${available <= 0 ? 'bad' : ''}">${available}</td><td>${warning}</td>
<td class="num">${r.backordered ? `<a href="/admin/orders?state=backordered" class="bad">${r.backordered}</a>` : 0}</td>
<td class="wrap">${(r.channels ?? []).map((c) => `${esc(c.channel)}: ${c.expected}${c.last_pushed !== null && c.last_pushed !== c.expected ? ` <span class="warn">(shows ${c.last_pushed})</span>` : ''}`).join('<br>') || '<span class="muted">not listed</span>'}</td></tr>`;
    })
    .join('');
  return `<table id="stock"><thead><tr><th scope="col">SKU</th><th scope="col">Available per location</th><th scope="col" class="num">Available</th><th scope="col">Warning</th><th scope="col" class="num">Backordered units</th><th scope="col">Available per channel</th></tr></thead><tbody>${body}</tbody></table>`;
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

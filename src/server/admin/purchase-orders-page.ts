/**
 * GET /admin/purchase-orders: backorders and what they wait for. Each open
 * purchase order with its lines, received so far, expected date, and the
 * backordered orders waiting for its SKUs at its location (the ones receiving
 * it allocates, oldest order first: the same query `receivePurchaseOrder`
 * runs); then the last closed ones.
 *
 * POST /admin/purchase-orders/:id/send     draft -> sent, with the supplier's delivery date
 * POST /admin/purchase-orders/:id/receive  book everything outstanding in (`receivePurchaseOrder`, as `channelsync po receive`)
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { sql } from 'kysely';
import { z } from 'zod';
import type { App } from '../../app.ts';
import { ConfigError } from '../../domain/errors.ts';
import { listPurchaseOrders, receivePurchaseOrder, sendPurchaseOrder, type PurchaseOrderSummary } from '../../fulfilment/purchasing.ts';
import { esc } from './html.ts';
import { actionButton, formOf, refusal, sendPage, stateBadge, when } from './console.ts';

const OPEN = ['draft', 'sent', 'partially_received'];
const CLOSED = ['received', 'cancelled'];
const params = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

interface Waiting {
  purchase_order_id: number;
  order_id: number;
  order_number: string;
  channel: string;
  placed_at: Date;
  sku: string;
  quantity: number;
}

export function purchaseOrderPageRoutes(server: FastifyInstance, app: App): void {
  server.get<{ Querystring: { done?: string } }>('/admin/purchase-orders', async (request, reply) => render(app, reply, { done: request.query.done }));

  server.post('/admin/purchase-orders/:id/receive', async (request, reply) => {
    const p = params.safeParse(request.params);
    if (!p.success) return render(app, reply, { error: 'no such purchase order', status: 404 });
    try {
      const r = await receivePurchaseOrder(app, p.data.id, { actor: 'admin', reason: 'received in the operations console' });
      request.log.info({ po: r.purchaseOrderId, allocated: r.allocated.length }, 'admin: purchase order received');
      return reply.code(303).header('location', `/admin/purchase-orders?done=received-${r.purchaseOrderId}-${r.allocated.length}`).send();
    } catch (err) {
      const { status, message } = refusal(err);
      return render(app, reply, { error: message, status });
    }
  });

  server.post('/admin/purchase-orders/:id/send', async (request, reply) => {
    const p = params.safeParse(request.params);
    if (!p.success) return render(app, reply, { error: 'no such purchase order', status: 404 });
    const expected = formOf(request.body).expected ?? '';
    try {
      if (!/^\d{4}-\d\d-\d\d$/.test(expected) || Number.isNaN(Date.parse(expected))) throw new ConfigError('give the delivery date the supplier confirmed (a date like 2026-12-24)');
      await sendPurchaseOrder(app, p.data.id, { expectedAt: new Date(`${expected}T00:00:00Z`) });
      return reply.code(303).header('location', `/admin/purchase-orders?done=sent-${p.data.id}`).send();
    } catch (err) {
      const { status, message } = refusal(err);
      return render(app, reply, { error: message, status });
    }
  });
}

/** `received-12-3` -> a sentence; anything else -> nothing (the link cannot put words in the page). */
function doneText(code: string | undefined): string | null {
  const received = /^received-(\d{1,15})-(\d{1,9})$/.exec(code ?? '');
  if (received) return `Purchase order ${received[1]} received: ${received[2]} backordered fulfilment(s) got the stock and go on to be shipped.`;
  const sent = /^sent-(\d{1,15})$/.exec(code ?? '');
  return sent ? `Purchase order ${sent[1]} marked sent.` : null;
}

async function render(app: App, reply: FastifyReply, opts: { done?: string; error?: string; status?: number }): Promise<FastifyReply> {
  // Every open order (a working set), and only the newest closed ones: years of received orders stay off the page.
  const [open, closed] = await Promise.all([listPurchaseOrders(app.db, OPEN), listPurchaseOrders(app.db, CLOSED, 20)]);
  const waiting = await waitingFor(app, open.filter((p) => p.kind === 'stock').map((p) => p.id));
  const unplanned = await sql<{ n: number }>`SELECT count(*)::int AS n FROM fulfillments WHERE state = 'backordered'`.execute(app.db);
  const done = doneText(opts.done);
  const body = `<h1>Purchase orders and backorders</h1>
${done ? `<p class="notice" role="status">${esc(done)}</p>` : ''}${opts.error ? `<p class="alert" role="alert">${esc(opts.error)}</p>` : ''}
<p class="muted">${unplanned.rows[0]!.n} backordered fulfilment(s) in all · <a href="/admin/orders?state=backordered">backordered orders</a> · <a href="/admin/stock?only=out">out of stock</a></p>
<h2>Open</h2>
${open.length === 0 ? '<p class="muted">No open purchase orders.</p>' : open.map((p) => openPo(p, waiting.filter((w) => w.purchase_order_id === p.id))).join('')}
<h2>Closed</h2>
${closed.length === 0 ? '<p class="muted">None yet.</p>' : `<table id="closed-pos"><thead><tr><th scope="col">PO</th><th scope="col">Kind</th><th scope="col">State</th><th scope="col">Supplier</th><th scope="col">Lines</th></tr></thead><tbody>${closed
      .map((p) => `<tr><td>${p.id}</td><td>${esc(p.kind)}</td><td>${stateBadge(p.status)}</td><td>${esc(p.supplier ?? '–')}</td><td>${p.lines.map((l) => `${esc(l.sku)} ${l.received}/${l.quantity}`).join(', ')}</td></tr>`)
      .join('')}</tbody></table>`}`;
  return sendPage(reply, 'Purchase orders', body, opts.status ?? 200);
}

function openPo(p: PurchaseOrderSummary, waiting: Waiting[]): string {
  const actions =
    p.kind === 'dropship'
      ? '<p class="muted">A dropship order: the supplier ships to the customer; record its tracking with <code>channelsync po receive</code>.</p>'
      : `<p>${p.status === 'draft' ? `<form class="inline" method="post" action="/admin/purchase-orders/${p.id}/send"><label>Supplier delivers on <input type="date" name="expected" required></label><button type="submit" class="secondary">Mark sent</button></form> ` : ''}${actionButton(`/admin/purchase-orders/${p.id}/receive`, `Receive PO ${p.id}`)}</p>`;
  return `<section class="panel" id="po-${p.id}" aria-labelledby="po-${p.id}-title" style="margin-bottom:1rem">
<h3 id="po-${p.id}-title">PO ${p.id} ${stateBadge(p.status)} <span class="muted">${esc(p.kind)} · ${esc(p.supplier ?? 'no supplier')} · into ${esc(p.location ?? 'default location')} · expected ${esc(p.expectedAt ? when(p.expectedAt).slice(0, 10) : 'not sent yet')}</span></h3>
<table><thead><tr><th scope="col">SKU</th><th scope="col" class="num">Ordered</th><th scope="col" class="num">Received</th></tr></thead><tbody>${p.lines
    .map((l) => `<tr><td><a href="/admin/stock/${encodeURIComponent(l.sku)}">${esc(l.sku)}</a></td><td class="num">${l.quantity}</td><td class="num">${l.received}</td></tr>`)
    .join('')}</tbody></table>
<p><b>Waiting for it:</b> ${
    waiting.length === 0
      ? '<span class="muted">no backordered order</span>'
      : waiting.map((w) => `<a href="/admin/orders/${w.order_id}">${esc(w.order_number)}</a> <span class="muted">(${esc(w.channel)}, ${w.quantity} × ${esc(w.sku)})</span>`).join(', ')
  }</p>
${actions}</section>`;
}

/** Backordered warehouse fulfilments waiting for these stock purchase orders' SKUs at their location, oldest order first. */
async function waitingFor(app: App, poIds: number[]): Promise<Waiting[]> {
  if (poIds.length === 0) return [];
  const { rows } = await sql<Waiting>`
    SELECT po.id AS purchase_order_id, o.id AS order_id, o.order_number, c.name AS channel, o.placed_at, ol.sku, sum(fl.quantity)::int AS quantity
    FROM purchase_orders po
    JOIN purchase_order_lines pl ON pl.purchase_order_id = po.id AND pl.quantity_received < pl.quantity
    JOIN order_lines ol ON ol.sku_id = pl.sku_id
    JOIN fulfillment_lines fl ON fl.order_line_id = ol.id
    JOIN fulfillments f ON f.id = fl.fulfillment_id AND f.state = 'backordered' AND f.kind = 'warehouse'
      AND f.location_id = coalesce(po.location_id, (SELECT id FROM locations WHERE active ORDER BY priority, id LIMIT 1))
    JOIN orders o ON o.id = f.order_id
    JOIN channels c ON c.id = o.channel_id
    WHERE po.id = ANY(${poIds}::bigint[])
    GROUP BY po.id, o.id, o.order_number, c.name, o.placed_at, ol.sku
    ORDER BY po.id, o.placed_at, o.id
    LIMIT 500`.execute(app.db);
  return rows;
}

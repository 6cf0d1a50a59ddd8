/**
 * GET /admin/orders/:id: one order's story. Lines (SKUs link to their stock),
 * money, addresses, the timeline (order_history with who did each move, plus
 * shipments, deliveries, pushes, returns and refunds as they happened),
 * fulfilments and shipments with tracking links, every push owed to the
 * channel with its state and last error and a Retry button, and the channel's
 * raw payload folded away.
 *
 * The actions (POST, each answered with a 303 back to the order, or the page
 * with the refusal): allocate, pick, pack, ship a fulfilment, retry a failed
 * push, record a return, cancel the order, dismiss a customer's cancel
 * request (shown at the top while open: migration 0022). Each calls the
 * function the CLI or the admin API calls.
 *
 * Cancel (`cancelOrderHere`, as `channelsync cancel`, actor `admin`): the form
 * is shown only while the order can still be cancelled, else the reason it
 * cannot; it needs a reason and a ticked "yes" box, checked again on the
 * server (the confirmation step, without JavaScript). The domain decides: the
 * page's check only chooses what to show. A second submit (a double click, a
 * back button) changes nothing and says so with a 409.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.ts';
import { retryPush } from '../../../jobs/channel-push.ts';
import { allocateOrder } from '../../fulfilment/allocate.ts';
import { DEFAULT_PARCEL, packFulfilment, startPicking } from '../../fulfilment/pickpack.ts';
import { shipFulfilment } from '../../fulfilment/ship.ts';
import { recordReturn } from '../../fulfilment/returns.ts';
import { cancelOrderHere, dismissCancelRequest } from '../../fulfilment/cancel.ts';
import { SHIPPED_STATES } from '../../fulfilment/states.ts';
import type { By } from '../../fulfilment/transitions.ts';
import { ConfigError, IllegalTransitionError } from '../../domain/errors.ts';
import { orderDetail } from './api/orders.ts';
import { SETTLED_REQUEST_STATES } from './order-list.ts';
import { money } from '../../domain/money.ts';
import { esc } from './html.ts';
import { actionButton, formOf, notice, refusal, safeUrl, sendPage, stateBadge, when } from './console.ts';

type Detail = NonNullable<Awaited<ReturnType<typeof orderDetail>>>;

const BY: By = { actor: 'admin', reason: 'operations console' };

const DONE: Record<string, string> = {
  allocated: 'Allocation ran: see the fulfilments below.',
  picked: 'Picking started.',
  packed: 'Packed.',
  shipped: 'Shipped: the channel is told in the background (see Channel pushes).',
  retried: 'The push is back in the queue: it is delivered in the background.',
  returned: 'Return recorded.',
  cancelled: 'Cancelled: its stock is released and it will not ship; the channel is told in the background (see Channel pushes).',
  'cancelled-nothing-sent': 'Cancelled: its stock is released and it will not ship; the channel had cancelled it already, so nothing is sent.',
  'request-dismissed': 'Cancel request dismissed: the order goes on as before.',
};

/** The API's limit for a cancel reason (POST /api/orders/{id}/cancel). */
const REASON_MAX = 500;

const idParam = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const params = z.object({ id: idParam });
const childParams = z.object({ id: idParam, child: idParam });

export function orderPageRoutes(server: FastifyInstance, app: App): void {
  server.get<{ Params: { id: string }; Querystring: { done?: string } }>('/admin/orders/:id', async (request, reply) => {
    const p = params.safeParse(request.params);
    if (!p.success) return notFound(reply, request.params.id);
    return render(app, reply, p.data.id, { notice: request.query.done });
  });

  server.post('/admin/orders/:id/allocate', async (request, reply) => {
    const p = params.safeParse(request.params);
    if (!p.success) return notFound(reply, String((request.params as { id?: unknown }).id));
    return act(app, reply, p.data.id, 'allocated', async () => {
      await allocateOrder(app, p.data.id, BY);
    });
  });

  for (const step of ['pick', 'pack', 'ship'] as const) {
    server.post(`/admin/orders/:id/fulfilments/:child/${step}`, async (request, reply) => {
      const p = childParams.safeParse(request.params);
      if (!p.success) return notFound(reply, String((request.params as { id?: unknown }).id));
      const { id, child } = p.data;
      const owned = await app.db.selectFrom('fulfillments').select('id').where('id', '=', child).where('order_id', '=', id).executeTakeFirst();
      if (!owned) return render(app, reply, id, { error: `fulfilment ${child} is not one of this order's`, status: 404 });
      const form = formOf(request.body);
      return act(app, reply, id, step === 'pick' ? 'picked' : step === 'pack' ? 'packed' : 'shipped', async () => {
        if (step === 'pick') await startPicking(app, child, BY);
        else if (step === 'pack') await packFulfilment(app, child, [DEFAULT_PARCEL], BY);
        else {
          const carrier = form.carrier?.trim();
          const tracking = form.tracking?.trim();
          const manual = carrier || tracking ? { carrier: carrier ?? '', service: null, trackingNumber: tracking ?? '', trackingUrl: safeUrl(form.url?.trim()) } : undefined;
          if (manual && (!manual.carrier || !manual.trackingNumber)) throw new ConfigError('give both the carrier and the tracking number, or neither (the carrier adapter then buys a label)');
          await shipFulfilment(app, child, { manual }, BY);
        }
      });
    });
  }

  server.post('/admin/orders/:id/pushes/:child/retry', async (request, reply) => {
    const p = childParams.safeParse(request.params);
    if (!p.success) return notFound(reply, String((request.params as { id?: unknown }).id));
    const { id, child } = p.data;
    const detail = await orderDetail(app, id);
    if (!detail) return notFound(reply, String(id));
    if (!detail.pushes.some((push) => push.id === child)) return render(app, reply, id, { error: `push ${child} is not one of this order's`, status: 404 });
    return act(app, reply, id, 'retried', () => retryPush(app, child));
  });

  server.post('/admin/orders/:id/cancel', async (request, reply) => {
    const p = params.safeParse(request.params);
    if (!p.success) return notFound(reply, String((request.params as { id?: unknown }).id));
    const form = formOf(request.body);
    const reason = form.reason?.trim() ?? '';
    if (!reason) return render(app, reply, p.data.id, { error: 'say why the order is cancelled (it is kept in the history and sent to the channel): nothing was cancelled', status: 400 });
    if (reason.length > REASON_MAX) return render(app, reply, p.data.id, { error: `the reason is ${reason.length} characters, at most ${REASON_MAX} fit: nothing was cancelled`, status: 400 });
    if (form.confirm !== '1') return render(app, reply, p.data.id, { error: 'tick “Yes, cancel it” to confirm: nothing was cancelled', status: 400 });
    return act(app, reply, p.data.id, 'cancelled', async () => {
      const result = await cancelOrderHere(app, p.data.id, reason, { actor: 'admin', reason });
      if (!result.cancelled) throw new IllegalTransitionError('this order was cancelled already: nothing changed');
      return result.pushId === null ? 'cancelled-nothing-sent' : 'cancelled';
    });
  });

  server.post('/admin/orders/:id/cancel-request/dismiss', async (request, reply) => {
    const p = params.safeParse(request.params);
    if (!p.success) return notFound(reply, String((request.params as { id?: unknown }).id));
    return act(app, reply, p.data.id, 'request-dismissed', () => dismissCancelRequest(app, p.data.id, BY));
  });

  server.post('/admin/orders/:id/returns', async (request, reply) => {
    const p = params.safeParse(request.params);
    if (!p.success) return notFound(reply, String((request.params as { id?: unknown }).id));
    const form = formOf(request.body);
    const lines: Array<{ orderLineId: number; quantity: number }> = [];
    for (const [key, value] of Object.entries(form)) {
      const m = /^qty_(\d{1,15})$/.exec(key);
      if (!m || value.trim() === '' || value.trim() === '0') continue;
      const quantity = Number(value);
      if (!Number.isInteger(quantity) || quantity < 0) return render(app, reply, p.data.id, { error: `a quantity must be a whole number, got “${value}”`, status: 400 });
      lines.push({ orderLineId: Number(m[1]), quantity });
    }
    if (lines.length === 0) return render(app, reply, p.data.id, { error: 'type how many of at least one line came back', status: 400 });
    return act(app, reply, p.data.id, 'returned', async () => {
      await recordReturn(
        app,
        p.data.id,
        lines,
        { restock: form.restock === '1', reason: form.reason?.trim() || null, reference: form.reference?.trim() || null },
        BY,
      );
    });
  });
}

/**
 * Runs an action: 303 back to the order with a notice, or the page with the
 * domain's refusal. An action may name its own notice (a key of `DONE`).
 */
async function act(app: App, reply: FastifyReply, orderId: number, done: string, action: () => Promise<unknown>): Promise<FastifyReply> {
  const exists = await app.db.selectFrom('orders').select('id').where('id', '=', orderId).executeTakeFirst();
  if (!exists) return notFound(reply, String(orderId));
  try {
    const named = await action();
    if (typeof named === 'string' && named in DONE) done = named;
  } catch (err) {
    const { status, message } = refusal(err);
    return render(app, reply, orderId, { error: message, status });
  }
  return reply.code(303).header('location', `/admin/orders/${orderId}?done=${done}`).send();
}

function notFound(reply: FastifyReply, id: string): FastifyReply {
  return sendPage(reply, 'Order not found', `<h1>Order not found</h1><p>There is no order ${esc(id)}. <a href="/admin/orders">Find it in the order list</a>.</p>`, 404);
}

async function render(app: App, reply: FastifyReply, id: number, opts: { notice?: string; error?: string; status?: number }): Promise<FastifyReply> {
  const [detail, rawRow, refunds] = await Promise.all([
    orderDetail(app, id),
    app.db.selectFrom('orders').select('raw').where('id', '=', id).executeTakeFirst(),
    app.db.selectFrom('refunds').selectAll().where('order_id', '=', id).orderBy('id').execute(),
  ]);
  if (!detail) return notFound(reply, String(id));
  const o = detail;
  const cancelBlocker = await whyNotCancellable(app, o);
  const body = `<p><a href="/admin/orders">← Orders</a></p>
<h1>Order ${esc(o.order_number)} <span class="muted">${esc(o.channel_name)}</span> ${stateBadge(o.state)}</h1>
${notice(opts.notice, DONE)}${opts.error ? `<p class="alert" role="alert">${esc(opts.error)}</p>` : ''}
<p class="muted">Placed ${esc(when(o.placed_at))} UTC · payment ${esc(o.financial_status)} · on the channel: ${esc(o.channel_state)}, ${esc(o.fulfillment_status)} · channel id ${esc(o.external_id)}${o.flags.length ? ` · <span class="warn">${o.flags.map((f) => esc(f.replace(/_/g, ' '))).join(', ')}</span>` : ''}</p>
${cancelRequest(o, cancelBlocker)}${orderActions(o)}
<h2>Lines</h2>${linesTable(o)}
<div class="grid2">
  <section><h2>Customer</h2><div class="panel">${esc(o.customer_name ?? '')}<br>${o.customer_email ? `<a href="mailto:${esc(o.customer_email)}">${esc(o.customer_email)}</a>` : ''}</div></section>
  <section><h2>Ship to</h2><div class="panel">${address(o.shipping_address)}</div></section>
  <section><h2>Bill to</h2><div class="panel">${address(o.billing_address)}</div></section>
</div>
<h2>Timeline</h2>${timeline(o, refunds)}
<h2>Fulfilments</h2>${fulfilments(o)}
<h2>Shipments</h2>${shipments(o)}
<h2>Channel pushes</h2>${pushes(o)}
<h2>Returns</h2>${returns(o)}
<h2>Cancel</h2>${cancelSection(o, cancelBlocker)}
<details><summary>Channel payload (as ${esc(o.channel_name)} sent it)</summary><pre>${esc(JSON.stringify(rawRow?.raw ?? null, null, 2))}</pre></details>`;
  return sendPage(reply, `Order ${o.order_number}`, body, opts.status ?? 200);
}

/**
 * The customer's open cancel request, for a person: cancel the order (the
 * form below, when the channel can; else where to cancel it, after which the
 * channel's cancellation comes in and releases the stock) or dismiss it and
 * ship. Never acted on by itself.
 */
function cancelRequest(o: Detail, blocker: string | null): string {
  if (!o.cancel_requested_at || o.cancel_request_dismissed_at || SETTLED_REQUEST_STATES.includes(o.state)) return '';
  const how = blocker
    ? `It cannot be cancelled here: ${esc(blocker)}.`
    : '<a href="#cancel-form">Cancel it below</a> (its stock is released), or dismiss the request to ship it.';
  return `<section class="panel alert" id="cancel-request" role="alert"><h2>The customer asked to cancel</h2>
<p>On ${esc(o.channel_name)}, seen ${esc(when(o.cancel_requested_at))} UTC${o.cancel_request_reason ? `: “${esc(o.cancel_request_reason)}”` : ' (no reason given)'}. ${how}</p>
<p>${actionButton(`/admin/orders/${o.id}/cancel-request/dismiss`, 'Dismiss the request and ship', {}, true)}</p></section>`;
}

function orderActions(o: Detail): string {
  const canAllocate = ['received', 'backordered', 'needs_attention', 'partially_shipped'].includes(o.state);
  return canAllocate ? `<p>${actionButton(`/admin/orders/${o.id}/allocate`, 'Allocate stock now')}</p>` : '';
}

/**
 * Why the order cannot be cancelled from here, or null when it can. Mirrors
 * `cancelOrderHere`'s refusals, only to choose between the form and the
 * reason: the domain checks again under the order's lock when it is submitted.
 */
async function whyNotCancellable(app: App, o: Detail): Promise<string | null> {
  if (o.state === 'cancelled') return null;
  if (o.state === 'needs_attention') return 'it needs attention: resolve that first, then cancel it';
  const shipped = o.fulfillments.filter((f) => SHIPPED_STATES.includes(f.state)).length;
  if (shipped > 0) return `it has ${shipped} shipment${shipped === 1 ? '' : 's'} already: record a return instead`;
  try {
    const { connector } = await app.connectors.get(o.channel_id);
    if (!connector.capabilities.cancel || !connector.cancelOrder) return `${o.channel_kind} channels cannot cancel orders through channelsync: cancel it on ${o.channel_name}, and the cancellation comes in with the order`;
  } catch (err) {
    // A disabled or misconfigured channel: the push could not be delivered either. The page still renders.
    return err instanceof Error ? err.message : String(err);
  }
  return null;
}

function cancelSection(o: Detail, blocker: string | null): string {
  if (o.state === 'cancelled') {
    const here = [...o.history].reverse().find((h) => h.fulfillment_id === null && h.to_state === 'cancelled');
    return `<p id="cancel-state">Cancelled${here ? ` ${esc(when(here.created_at))} UTC by ${esc(here.actor)}` : o.cancelled_at ? ` on ${esc(o.channel_name)}` : ''}: see the timeline${o.pushes.some((p) => p.kind === 'cancel') ? ', and Channel pushes for telling the channel' : ''}.</p>`;
  }
  if (blocker) return `<p class="muted" id="cancel-blocked">This order cannot be cancelled here: ${esc(blocker)}.</p>`;
  // The ticked box is the confirmation: required in the browser and checked again by the server.
  return `<form method="post" action="/admin/orders/${o.id}/cancel" class="panel filters" id="cancel-form"><fieldset class="filters"><legend>Cancel this order</legend>
<label>Reason (kept in the history, sent to ${esc(o.channel_name)})<input name="reason" required maxlength="${REASON_MAX}"></label>
<label class="check"><input type="checkbox" name="confirm" value="1" required> Yes, cancel it here and on ${esc(o.channel_name)}: its stock is released and it will not ship</label>
<button type="submit">Cancel order</button></fieldset></form>`;
}

function linesTable(o: Detail): string {
  const rows = o.lines
    .map(
      (l) => `<tr><td>${l.sku ? `<a href="/admin/stock/${encodeURIComponent(l.sku)}">${esc(l.sku)}</a>` : '<span class="muted">no SKU</span>'}</td>
<td class="wrap">${esc(l.title)}</td><td class="num">${l.quantity}</td><td class="num">${esc(money(l.unit_price))}</td><td class="num">${esc(money(l.discount))}</td><td class="num">${esc(money(l.tax))}</td>
<td class="num">${l.quantity_fulfilled}</td><td class="num">${l.quantity_refunded}</td></tr>`,
    )
    .join('');
  const sum = (label: string, v: string) => `<tr><th scope="row" colspan="7" class="num">${label}</th><td class="num">${esc(money(v))} ${esc(o.currency)}</td></tr>`;
  return `<table id="lines"><thead><tr><th scope="col">SKU</th><th scope="col">Item</th><th scope="col" class="num">Qty</th><th scope="col" class="num">Unit price</th>
<th scope="col" class="num">Discount</th><th scope="col" class="num">Tax</th><th scope="col" class="num">Shipped</th><th scope="col" class="num">Refunded</th></tr></thead>
<tbody>${rows}</tbody><tfoot>${sum('Subtotal', o.subtotal)}${sum('Shipping', o.shipping)}${sum('Discount', o.discount)}${sum('Tax', o.tax)}${sum('Total', o.total)}</tfoot></table>`;
}

function address(a: unknown): string {
  if (!a || typeof a !== 'object') return '<span class="muted">none</span>';
  const r = a as Record<string, string | null>;
  const lines = [r.name, r.company, r.address1, r.address2, [r.zip, r.city].filter(Boolean).join(' '), [r.province, r.country].filter(Boolean).join(', '), r.phone];
  return lines.filter((l) => l).map(esc).join('<br>');
}

interface Event {
  at: Date;
  what: string;
  who: string;
}

/** Every dated thing that happened to the order, oldest first. */
function timeline(o: Detail, refunds: Array<{ created_at: Date; amount: string; currency: string; reason: string | null }>): string {
  const events: Event[] = [{ at: o.placed_at, what: 'Placed', who: o.channel_name }];
  for (const h of o.history) {
    const move = h.from_state ? `${h.from_state.replace(/_/g, ' ')} → ${h.to_state.replace(/_/g, ' ')}` : h.to_state.replace(/_/g, ' ');
    events.push({ at: h.created_at, what: `${h.fulfillment_id ? `Fulfilment ${h.fulfillment_id}: ` : 'Order: '}${move}${h.reason ? ` (${h.reason})` : ''}`, who: h.actor });
  }
  for (const s of o.shipments) {
    events.push({ at: s.shipped_at, what: `Shipment ${s.id} handed to ${s.carrier}, tracking ${s.tracking_number}`, who: s.adapter });
    if (s.delivered_at) events.push({ at: s.delivered_at, what: `Shipment ${s.id} delivered`, who: s.carrier });
  }
  for (const p of o.pushes) {
    if (p.status === 'done' && p.completed_at) events.push({ at: p.completed_at, what: `Pushed ${p.kind} to ${o.channel_name}`, who: 'channel-push job' });
    if (p.status === 'failed') events.push({ at: p.updated_at, what: `Push of ${p.kind} to ${o.channel_name} failed: ${p.last_error ?? 'no reason recorded'}`, who: 'channel-push job' });
  }
  for (const r of o.returns) events.push({ at: r.created_at, what: `Return ${r.id} ${r.status}${r.reason ? ` (${r.reason})` : ''}`, who: r.reference ? `reference ${r.reference}` : 'admin or channel' });
  for (const r of refunds) events.push({ at: r.created_at, what: `Refunded ${r.amount} ${r.currency}${r.reason ? ` (${r.reason})` : ''}`, who: o.channel_name });
  if (o.cancel_requested_at) events.push({ at: o.cancel_requested_at, what: `The customer asked to cancel${o.cancel_request_reason ? ` (${o.cancel_request_reason})` : ''}`, who: o.channel_name });
  if (o.cancel_request_dismissed_at) events.push({ at: o.cancel_request_dismissed_at, what: 'Cancel request dismissed', who: o.cancel_request_dismissed_by ?? 'admin' });
  // The channel's own cancellation time (a cancellation in channelsync is the history's move to cancelled, above).
  if (o.cancelled_at) events.push({ at: o.cancelled_at, what: `Cancelled on ${o.channel_name}`, who: o.channel_name });
  events.sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime());
  return `<ol class="timeline" id="timeline">${events
    .map((e) => `<li><time datetime="${esc(new Date(e.at).toISOString())}">${esc(when(e.at))}</time><span>${esc(e.what)} <span class="muted">by ${esc(e.who)}</span></span></li>`)
    .join('')}</ol>`;
}

function fulfilments(o: Detail): string {
  if (o.fulfillments.length === 0) return '<p class="muted">None yet: the order is allocated once it is payable.</p>';
  const skuOf = new Map(o.lines.map((l) => [l.id, l.sku ?? l.title]));
  const rows = o.fulfillments
    .map((f) => {
      const base = `/admin/orders/${o.id}/fulfilments/${f.id}`;
      const action =
        f.state === 'allocated'
          ? actionButton(`${base}/pick`, 'Start picking', {}, false, `Start picking fulfilment ${f.id}`)
          : f.state === 'picking'
            ? actionButton(`${base}/pack`, 'Confirm packed', {}, false, `Confirm fulfilment ${f.id} packed`)
            : f.state === 'packed'
              ? `<form class="inline" method="post" action="${base}/ship"><label>Carrier <input name="carrier" placeholder="adapter's own"></label><label>Tracking <input name="tracking"></label><button type="submit" aria-label="Ship fulfilment ${f.id}">Ship</button></form>`
              : f.state === 'backordered' && f.purchase_order_id === null
                ? '<a href="/admin/purchase-orders">see purchase orders</a>'
                : '';
      return `<tr data-fulfilment="${f.id}"><td>${f.id}</td><td>${esc(f.kind)}</td><td>${stateBadge(f.state)}</td>
<td class="wrap">${f.lines.map((l) => `${l.quantity} × ${esc(skuOf.get(l.order_line_id) ?? l.order_line_id)}`).join(', ')}</td>
<td>${f.purchase_order_id ? `<a href="/admin/purchase-orders#po-${f.purchase_order_id}">PO ${f.purchase_order_id}</a>` : ''}</td><td>${action}</td></tr>`;
    })
    .join('');
  return `<table id="fulfilments"><thead><tr><th scope="col">#</th><th scope="col">Kind</th><th scope="col">State</th><th scope="col">Lines</th><th scope="col">Purchase order</th><th scope="col">Next step</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function shipments(o: Detail): string {
  if (o.shipments.length === 0) return '<p class="muted">Nothing shipped yet.</p>';
  const rows = o.shipments
    .map((s) => {
      const url = safeUrl(s.tracking_url);
      return `<tr data-shipment="${s.id}"><td>${s.id}</td><td>${esc(s.carrier)}${s.service ? ` ${esc(s.service)}` : ''}</td>
<td>${url ? `<a href="${esc(url)}" rel="noreferrer noopener" target="_blank">${esc(s.tracking_number)}</a>` : esc(s.tracking_number)}</td>
<td>${esc(when(s.shipped_at))}</td><td>${s.delivered_at ? esc(when(s.delivered_at)) : '<span class="muted">in transit</span>'}</td></tr>`;
    })
    .join('');
  return `<table id="shipments"><thead><tr><th scope="col">#</th><th scope="col">Carrier</th><th scope="col">Tracking</th><th scope="col">Shipped (UTC)</th><th scope="col">Delivered</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function pushes(o: Detail): string {
  if (o.pushes.length === 0) return '<p class="muted">Nothing owed to the channel yet.</p>';
  const rows = o.pushes
    .map(
      (p) => `<tr data-push="${p.id}"><td>${p.id}</td><td>${esc(p.kind)} ${p.kind === 'fulfillment' ? `(shipment ${esc(p.target)})` : ''}</td><td>${esc(o.channel_name)}</td>
<td>${stateBadge(p.status)}</td><td class="num">${p.attempts}</td><td class="wrap">${p.last_error ? `<span class="bad">${esc(p.last_error)}</span>` : ''}</td>
<td>${p.status === 'failed' ? actionButton(`/admin/orders/${o.id}/pushes/${p.id}/retry`, 'Retry', {}, false, `Retry push ${p.id} (${p.kind})`) : p.status === 'done' ? esc(when(p.completed_at)) : 'in the queue'}</td></tr>`,
    )
    .join('');
  return `<table id="pushes"><thead><tr><th scope="col">#</th><th scope="col">What</th><th scope="col">Channel</th><th scope="col">State</th><th scope="col" class="num">Attempts</th><th scope="col">Last error</th><th scope="col"></th></tr></thead><tbody>${rows}</tbody></table>`;
}

function returns(o: Detail): string {
  const shipped = o.lines.filter((l) => l.quantity_fulfilled > 0 || o.shipments.some((s) => s.lines.some((sl) => sl.order_line_id === l.id)));
  const list = o.returns.length
    ? `<ul>${o.returns.map((r) => `<li>Return ${r.id}: ${esc(r.status)} · ${r.lines.map((l) => `${l.quantity} × line ${l.order_line_id}${l.restock ? ', restocked' : ''}`).join(', ')}${r.reason ? ` · ${esc(r.reason)}` : ''}</li>`).join('')}</ul>`
    : '<p class="muted">No returns.</p>';
  if (shipped.length === 0) return list;
  // A fresh reference per rendered form: submitting the same form twice records one return.
  const form = `<form method="post" action="/admin/orders/${o.id}/returns" class="panel filters" id="return-form"><fieldset class="filters"><legend>Open a return</legend>
<input type="hidden" name="reference" value="console-${randomUUID()}">
${shipped.map((l) => `<label>${esc(l.sku ?? l.title)} returned<input type="number" name="qty_${l.id}" min="0" max="${l.quantity}" value="0"></label>`).join(' ')}
<label class="check"><input type="checkbox" name="restock" value="1" checked> Put back on the shelf</label>
<label>Reason<input name="reason" maxlength="500"></label>
<button type="submit">Record return</button></fieldset></form>`;
  return list + form;
}

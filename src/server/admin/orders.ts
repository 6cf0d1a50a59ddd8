/**
 * GET /admin/orders: every channel's orders, newest first, with a search box
 * (order number, e-mail, SKU, tracking number), filters (channel, state, placed
 * from/to, needs attention) and keyset pages ("Older orders"). The filters are
 * a plain GET form, so a filtered list is a URL a person can bookmark or send.
 * A bad filter value is named on the page (400), never a 500.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.ts';
import type { OrderState } from '../../db/schema.ts';
import { ORDER_STATES } from './api/orders.ts';
import { esc } from './html.ts';
import { money } from '../../domain/money.ts';
import { decodeCursor, encodeCursor, listOrders, type OrderListFilter, type OrderListRow } from './order-list.ts';
import { sendPage, stateBadge, when } from './console.ts';

const empty = (v: unknown) => (v === '' ? undefined : v);
const dateField = z.preprocess(
  empty,
  z.iso
    .date({ error: 'must be a date like 2026-11-01' })
    .refine((d) => d >= '1970-01-01' && d <= '9998-12-31', { error: 'must be between 1970 and 9998' })
    .optional(),
);

const listQuery = z.object({
  q: z.preprocess(empty, z.string().max(200).optional()),
  channel: z.preprocess(empty, z.coerce.number().int().positive().optional()),
  state: z.preprocess(empty, z.enum(ORDER_STATES).optional()),
  from: dateField,
  to: dateField,
  attention: z.preprocess(empty, z.enum(['1']).optional()),
  after: z.preprocess(empty, z.string().max(100).optional()),
});

export function ordersPageRoutes(server: FastifyInstance, app: App): void {
  server.get('/admin/orders', async (request, reply) => {
    const channels = await app.db.selectFrom('channels').select(['id', 'name']).orderBy('name').execute();
    const parsed = listQuery.safeParse(request.query ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      return sendPage(reply, 'Orders', `<h1>Orders</h1>${filterForm({}, channels)}<p class="alert" role="alert">Cannot filter by that: ${esc(problems)}</p>`, 400);
    }
    const q = parsed.data;
    const filter: OrderListFilter = {
      q: q.q,
      channelId: q.channel,
      state: q.state as OrderState | undefined,
      from: q.from ? new Date(`${q.from}T00:00:00Z`) : undefined,
      // "to" is the last day shown, inclusive.
      to: q.to ? new Date(new Date(`${q.to}T00:00:00Z`).getTime() + 86_400_000) : undefined,
      needsAttention: q.attention === '1',
      after: decodeCursor(q.after),
    };
    const result = await listOrders(app, filter);
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && k !== 'after') params.set(k, String(v));
    const nextLink = result.next ? `?${new URLSearchParams([...params, ['after', encodeCursor(result.next)]])}` : null;
    const body = `<h1>Orders</h1>
${filterForm(q, channels)}
${result.rows.length === 0 ? `<p class="muted" id="no-orders">No orders match${q.q ? ` “${esc(q.q)}”` : ''}.</p>` : orderTable(result.rows)}
<nav class="pager" aria-label="Pages">${filter.after ? `<a href="?${params}">Newest orders</a>` : ''}${nextLink ? `<a href="${esc(nextLink)}" rel="next">Older orders →</a>` : ''}</nav>`;
    return sendPage(reply, 'Orders', body);
  });
}

function filterForm(q: Partial<z.output<typeof listQuery>>, channels: Array<{ id: number; name: string }>): string {
  const option = (value: string, label: string, selected: boolean) => `<option value="${esc(value)}"${selected ? ' selected' : ''}>${esc(label)}</option>`;
  return `<form class="filters" method="get" action="/admin/orders" role="search">
  <label>Search<input type="search" name="q" value="${esc(q.q ?? '')}" placeholder="order number, e-mail, SKU, tracking" autofocus></label>
  <label>Channel<select name="channel">${option('', 'all channels', !q.channel)}${channels.map((c) => option(String(c.id), c.name, q.channel === c.id)).join('')}</select></label>
  <label>State<select name="state">${option('', 'any state', !q.state)}${ORDER_STATES.map((s) => option(s, s.replace(/_/g, ' '), q.state === s)).join('')}</select></label>
  <label>Placed from<input type="date" name="from" value="${esc(q.from ?? '')}"></label>
  <label>to<input type="date" name="to" value="${esc(q.to ?? '')}"></label>
  <label class="check"><input type="checkbox" name="attention" value="1"${q.attention ? ' checked' : ''}> Needs attention</label>
  <button type="submit">Find</button>
  <a href="/admin/orders">Clear</a>
</form>`;
}

function orderTable(rows: OrderListRow[]): string {
  const body = rows
    .map(
      (o) => `<tr data-order="${o.id}">
  <td><a href="/admin/orders/${o.id}">${esc(o.order_number)}</a></td>
  <td>${esc(o.channel_name)}</td>
  <td>${esc(when(o.placed_at))}</td>
  <td>${esc(o.customer_name ?? '')} <span class="muted">${esc(o.customer_email ?? '')}</span></td>
  <td class="num">${esc(money(o.total))} ${esc(o.currency)}</td>
  <td>${stateBadge(o.state)} <span class="muted">${esc(o.financial_status)}</span></td>
  <td>${[...o.flags.map((f) => `<span class="warn">${esc(f.replace(/_/g, ' '))}</span>`), o.cancel_requested ? '<span class="warn">cancel requested</span>' : '', o.failed_pushes ? `<span class="bad">${o.failed_pushes} failed push${o.failed_pushes === 1 ? '' : 'es'}</span>` : ''].filter(Boolean).join(' ')}</td>
</tr>`,
    )
    .join('');
  return `<table id="orders"><caption class="muted" style="text-align:left">Newest first</caption><thead><tr><th scope="col">Order</th><th scope="col">Channel</th><th scope="col">Placed (UTC)</th><th scope="col">Customer</th>
<th scope="col" class="num">Total</th><th scope="col">State</th><th scope="col">Attention</th></tr></thead><tbody>${body}</tbody></table>`;
}

/**
 * The operations console: server-rendered pages under /admin for orders, one
 * order's story, stock and purchase orders, and the forms a person submits
 * there. No script and no build step: every action is a plain HTML form that
 * POSTs and is answered with a redirect back to the page (303), or with the
 * page and the reason when the action was refused (4xx).
 *
 * Registered inside the authenticated admin scope (./index.ts). CSRF: a form
 * is sent with the SameSite=Strict session cookie, and `auth.require` refuses
 * a cookie-authenticated POST whose Origin / Sec-Fetch-Site names another
 * site; so no other site can make a browser submit these forms.
 *
 * Actions call the same domain functions as the CLI and the admin API
 * (src/fulfilment/*, `retryPush`), recording `admin` as who did it.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { App } from '../../app.ts';
import { ChannelsyncError, ConfigError } from '../../domain/errors.ts';
import { esc, page } from './html.ts';
import { nulAt } from './api/validate.ts';
import { ordersPageRoutes } from './orders.ts';
import { orderPageRoutes } from './order-page.ts';
import { stockPageRoutes } from './stock-page.ts';
import { purchaseOrderPageRoutes } from './purchase-orders-page.ts';

export function consoleRoutes(server: FastifyInstance, app: App): void {
  server.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    // Postgres text cannot hold NUL and refuses a query binding one: such input is named here, for every page.
    scope.addHook('preHandler', async (request, reply) => {
      const where = nulAt({ query: request.query, params: request.params, form: request.body });
      if (where !== null) return sendPage(reply, 'Bad input', `<h1>Bad input</h1><p class="alert" role="alert">${esc(where)} contains a NUL character.</p>`, 400);
    });
    ordersPageRoutes(scope, app);
    orderPageRoutes(scope, app);
    stockPageRoutes(scope, app);
    purchaseOrderPageRoutes(scope, app);
  });
}

/** A submitted form's fields (strings only; anything else counts as missing). */
export function formOf(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (body && typeof body === 'object') for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Sends a console page (never cached: it shows live state). */
export function sendPage(reply: FastifyReply, title: string, body: string, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page(title, body));
}

/** A POST button (a one-field form), keyboard reachable like any button; `describedAs` tells a screen reader which of many "Retry" it is. */
export function actionButton(action: string, label: string, fields: Record<string, string> = {}, secondary = false, describedAs?: string): string {
  const hidden = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('');
  return `<form class="inline" method="post" action="${esc(action)}">${hidden}<button type="submit"${secondary ? ' class="secondary"' : ''}${describedAs ? ` aria-label="${esc(describedAs)}"` : ''}>${esc(label)}</button></form>`;
}

/**
 * What a refused action tells the person: the domain's own sentence for an
 * input or a move it refuses (400 / 409). Anything else is a bug or an outage
 * and is rethrown (a 500 with the log), not dressed up as advice.
 */
export function refusal(err: unknown): { status: number; message: string } {
  if (err instanceof ConfigError) return { status: 400, message: err.message };
  if (err instanceof ChannelsyncError && !err.retryable) return { status: 409, message: err.message };
  throw err;
}

/** `2026-11-01 10:00` (UTC). */
export function when(d: Date | string | null | undefined): string {
  if (!d) return '–';
  const date = d instanceof Date ? d : new Date(d);
  return Number.isNaN(date.getTime()) ? '–' : date.toISOString().slice(0, 16).replace('T', ' ');
}

/** A state as a small badge, red for states a person must act on. */
export function stateBadge(state: string): string {
  const bad = ['failed', 'needs_attention', 'on_hold', 'backordered', 'cancelled'].includes(state);
  const ok = ['done', 'shipped', 'delivered', 'received'].includes(state);
  return `<span class="state${bad ? ' bad' : ok ? ' ok' : ''}">${esc(state.replace(/_/g, ' '))}</span>`;
}

/** Only http(s) URLs become links (a channel's data must not be able to put `javascript:` in a page). */
export function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

/** The message for a `done=` code in a redirect (fixed texts, so a link cannot put words in the page). */
export function notice(code: string | undefined, messages: Record<string, string>): string {
  const text = code ? messages[code] : undefined;
  return text ? `<p class="notice" role="status">${esc(text)}</p>` : '';
}

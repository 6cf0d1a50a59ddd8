/**
 * The REST routes of the simulated store: /wp-json/wc/v3 (orders, notes,
 * refunds, products, variations, batch, webhooks), the namespace index and
 * the optional tracking extensions, with WordPress's validation errors.
 */
import { randomBytes } from 'node:crypto';
import { type Json, JsonText, type SimOrder, type SimProduct, type SimWebhook, type StoreState, WooError, invalidEnum, invalidParam } from './state.ts';

export type TrackingExtension = 'none' | 'shipment-tracking' | 'ast';

export interface RouteRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: Json;
}

export interface RouteResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

type Handler = (req: RouteRequest, params: string[]) => RouteResponse | Promise<RouteResponse>;
interface Route {
  pattern: RegExp;
  methods: Record<string, Handler>;
  /** Needs auth: list | view | create | edit | delete | batch per method. */
  public?: boolean;
}


/** What an orders list without `status` leaves out. */
const HIDDEN_STATUSES = new Set(['trash', 'checkout-draft', 'auto-draft']);

export function notFoundRoute(): WooError {
  return new WooError(404, 'rest_no_route', 'No route was found matching the URL and request method.');
}

function intParam(q: URLSearchParams, name: string, def: number, min: number, max?: number): number {
  const raw = q.get(name);
  if (raw === null) return def;
  const n = Number(raw);
  const bounds = max === undefined ? `${name} must be greater than or equal to ${min}` : `${name} must be between ${min} (inclusive) and ${max} (inclusive)`;
  if (!Number.isInteger(n)) throw invalidParam(name, 'rest_invalid_type', `${name} is not of type integer.`);
  if (n < min || (max !== undefined && n > max)) throw invalidParam(name, 'rest_out_of_bounds', bounds);
  return n;
}

function boolParam(q: URLSearchParams, name: string): boolean {
  const raw = q.get(name);
  if (raw === null || raw === '') return false;
  if (['true', '1'].includes(raw)) return true;
  if (['false', '0'].includes(raw)) return false;
  throw invalidParam(name, 'rest_invalid_type', `${name} is not of type boolean.`);
}

/**
 * A `format: date-time` parameter as WordPress 6.1 validates it
 * (`rest_validate_value_from_schema` -> `rest_parse_date`): the RFC 3339 regex
 * below, then PHP's `strtotime`, then `! $timestamp`. So a value is refused
 * when it does not match the regex (lower-case `z`, `+0100` without a colon,
 * a bare date), when strtotime cannot read a field (month 13, day 32, hour 25,
 * minute 60, second 61), and when it is exactly the Unix epoch: strtotime
 * returns 0, which PHP treats as false. (WordPress 6.5 tests `false ===`
 * instead; the store this simulates does not.) Without a zone the value is
 * UTC, PHP's default in WordPress. strtotime lets days overflow (Feb 31 is
 * Mar 3), hour 24 and second 60 roll over, as Date.UTC does. The zone the
 * regex lets through must also be one strtotime reads (timelib's
 * `tzcorrection`: hours 0-24, minutes 0-59), so `+25:00` and `+01:60` are
 * refused too. PCRE's `$` (no D modifier) also matches before one final
 * newline, which strtotime skips: `...:00%0A` is accepted.
 * https://developer.wordpress.org/reference/functions/rest_parse_date/
 * https://developer.wordpress.org/reference/functions/rest_validate_value_from_schema/
 * https://github.com/derickr/timelib/blob/master/parse_date.re (hour24, minute, tzcorrection)
 */
const WP_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}(?::\d{2})?)?\n?$/;

/** Epoch seconds of a WordPress `date-time` value, or null where WordPress answers "Invalid date.". */
export function wpParseDate(raw: string): number | null {
  const m = WP_DATE_TIME.exec(raw);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month > 12 || day > 31 || hour > 24 || minute > 59 || second > 60) return null;
  let offsetMinutes = 0;
  const zone = m[7];
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const [hours, minutes] = [Number(zone.slice(1, 3)), Number(zone.slice(4, 6) || 0)];
    if (hours > 24 || minutes > 59) return null;
    offsetMinutes = sign * (hours * 60 + minutes);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, 0);
  const seconds = Math.floor(utc.getTime() / 1000) - offsetMinutes * 60;
  return seconds === 0 ? null : seconds;
}

function dateParam(q: URLSearchParams, name: string): number | null {
  const raw = q.get(name);
  if (raw === null) return null;
  const seconds = wpParseDate(raw);
  if (seconds === null) throw invalidParam(name, 'rest_invalid_date', 'Invalid date.');
  return seconds;
}

/**
 * WP_REST_Request::has_valid_params validates every argument of the route, in
 * the order the controller registers them, and answers one 400 naming all the
 * invalid ones ("Invalid parameter(s): after, modified_after", with `params`
 * and `details` for each). `take` runs one check and keeps its refusal;
 * `done` throws them together.
 * https://developer.wordpress.org/reference/classes/wp_rest_request/has_valid_params/
 */
function paramChecks() {
  const refused: WooError[] = [];
  return {
    take<T>(check: () => T, fallback: T): T {
      try {
        return check();
      } catch (err) {
        if (!(err instanceof WooError) || err.code !== 'rest_invalid_param') throw err;
        refused.push(err);
        return fallback;
      }
    },
    done(): void {
      if (refused.length === 0) return;
      if (refused.length === 1) throw refused[0]!;
      const part = (key: 'params' | 'details') => Object.assign({}, ...refused.map((e) => (e.data as Record<string, Json>)[key])) as Json;
      const params = part('params');
      throw new WooError(400, 'rest_invalid_param', `Invalid parameter(s): ${Object.keys(params).join(', ')}`, { status: 400, params, details: part('details') });
    },
  };
}

function listParam(q: URLSearchParams, name: string): string[] {
  const values = [...q.getAll(name), ...q.getAll(`${name}[]`)];
  for (const [k, v] of q) if (k.startsWith(`${name}[`) && k !== `${name}[]`) values.push(v);
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/** Pagination headers as WordPress sends them (Link carries prev/next when there are pages). */
function paginate<T>(items: T[], req: RouteRequest, baseUrl: string): { page: T[]; headers: Record<string, string> } {
  const perPage = intParam(req.query, 'per_page', 10, 1, 100);
  const pageNo = intParam(req.query, 'page', 1, 1);
  const offsetRaw = req.query.get('offset');
  const offset = offsetRaw === null ? (pageNo - 1) * perPage : intParam(req.query, 'offset', 0, 0);
  const total = items.length;
  const totalPages = Math.ceil(total / perPage);
  const headers: Record<string, string> = { 'x-wp-total': String(total), 'x-wp-totalpages': String(totalPages) };
  const link = (p: number): string => {
    const q = new URLSearchParams(req.query);
    q.set('page', String(p));
    return `${baseUrl}${req.path}?${q.toString()}`;
  };
  const links: string[] = [];
  if (pageNo > 1 && totalPages > 0) links.push(`<${link(Math.min(pageNo - 1, totalPages))}>; rel="prev"`);
  if (pageNo < totalPages) links.push(`<${link(pageNo + 1)}>; rel="next"`);
  if (links.length) headers.link = links.join(', ');
  return { page: items.slice(offset, offset + perPage), headers };
}

function orderOr404(state: StoreState, id: string): SimOrder {
  const o = state.orders.get(Number(id));
  if (!o) throw new WooError(404, 'woocommerce_rest_shop_order_invalid_id', 'Invalid ID.');
  return o;
}

function productOr404(state: StoreState, id: string, status = 404): SimProduct {
  const p = state.products.get(Number(id));
  if (!p || p.type === 'variation') throw new WooError(status, 'woocommerce_rest_product_invalid_id', 'Invalid ID.');
  return p;
}

function variationOr404(state: StoreState, parent: SimProduct, id: string | number, status = 404): SimProduct {
  const v = state.products.get(Number(id));
  if (!v || v.parentId !== parent.id) {
    throw new WooError(status, 'woocommerce_rest_product_variation_invalid_id', 'Invalid ID.');
  }
  return v;
}

function batch(
  req: RouteRequest,
  update: (item: Json) => Json,
  create: (item: Json) => Json,
): RouteResponse {
  const creates = Array.isArray(req.body.create) ? (req.body.create as Json[]) : [];
  const updates = Array.isArray(req.body.update) ? (req.body.update as Json[]) : [];
  const deletes = Array.isArray(req.body.delete) ? (req.body.delete as unknown[]) : [];
  if (creates.length + updates.length + deletes.length > 100) {
    throw new WooError(413, 'woocommerce_rest_request_entity_too_large', 'Unable to accept more than 100 items for this request.');
  }
  const run = (item: Json, fn: (item: Json) => Json): Json => {
    try {
      return fn(item);
    } catch (err) {
      if (!(err instanceof WooError)) throw err;
      return { id: item.id ?? 0, error: { code: err.code, message: err.message, data: { status: 400 } } };
    }
  };
  const body: Json = {};
  if (creates.length) body.create = creates.map((c) => run(c, create));
  if (updates.length) body.update = updates.map((u) => run(u, update));
  return { status: 200, body };
}

export interface RouteOptions {
  tracking: () => TrackingExtension;
  /** WC_Webhook::deliver_ping: resolves once the ping was answered (or refused). */
  ping: (webhook: SimWebhook) => Promise<void>;
}

export function buildRoutes(state: StoreState, opts: RouteOptions): Route[] {
  const base = (): string => state.baseUrl;
  // Advanced Shipment Tracking also answers on the Shipment Tracking namespace.
  const serves = (namespace: string): boolean =>
    namespace === 'wc-ast/v3' ? opts.tracking() === 'ast' : opts.tracking() !== 'none';
  const trackingRoutes = (namespace: string): Route => ({
    pattern: new RegExp(`^/wp-json/${namespace.replace('/', '\\/')}/orders/(\\d+)/shipment-trackings/?$`),
    methods: {
      GET: (_req, [id]) => {
        if (!serves(namespace)) throw notFoundRoute();
        orderOr404(state, id!);
        return { status: 200, body: (state.trackings.get(Number(id)) ?? []).map((t) => trackingJson({ ...t }, id!)) };
      },
      POST: (req, [id]) => {
        if (!serves(namespace)) throw notFoundRoute();
        const o = orderOr404(state, id!);
        const b = req.body;
        const number = String(b.tracking_number ?? '');
        const provider = String(b.tracking_provider ?? b.custom_tracking_provider ?? '');
        if (!number) throw new WooError(400, 'rest_missing_callback_param', 'Missing parameter(s): tracking_number', { status: 400, params: ['tracking_number'] });
        if (!provider) throw new WooError(400, 'woocommerce_rest_shipment_tracking_invalid_provider', 'Tracking provider is required.');
        const link = String(b.custom_tracking_link ?? '').replace('%1$s', number);
        const item = {
          tracking_id: randomBytes(16).toString('hex'),
          tracking_provider: provider,
          tracking_link: link,
          tracking_number: number,
          date_shipped: String(b.date_shipped ?? new Date().toISOString().slice(0, 10)),
        };
        const list = b.replace_tracking === 1 || b.replace_tracking === true ? [] : (state.trackings.get(o.id) ?? []);
        list.push(item);
        state.trackings.set(o.id, list);
        if (Number(b.status_shipped ?? 0) === 1) state.setStatus(o, 'completed');
        return { status: 201, body: trackingJson(item, id!) };
      },
    },
  });
  const trackingJson = (t: Json, orderId: string): Json => ({
    ...t,
    _links: {
      self: [{ href: `${base()}/wp-json/wc/v3/orders/${orderId}/shipment-trackings/${String(t.tracking_id)}` }],
      collection: [{ href: `${base()}/wp-json/wc/v3/orders/${orderId}/shipment-trackings` }],
      up: [{ href: `${base()}/wp-json/wc/v3/orders/${orderId}` }],
    },
  });

  const productUpdate = (item: Json): Json => {
    const p = productOr404(state, String(item.id), 400);
    return state.productJson(state.updateProduct(p, item), true);
  };
  const variationUpdate = (parent: SimProduct) => (item: Json): Json => {
    const v = variationOr404(state, parent, String(item.id), 400);
    return state.variationJson(state.updateProduct(v, item));
  };

  return [
    {
      pattern: /^\/wp-json\/?$/,
      public: true,
      methods: {
        GET: () => {
          const namespaces = ['oembed/1.0', 'wc/store', 'wc/store/v1', 'wc-admin', 'wc-analytics', 'wc/v1', 'wc/v2', 'wc/v3', 'wc-telemetry', 'wp/v2', 'wp-site-health/v1', 'wp-block-editor/v1'];
          const ext = opts.tracking();
          // Advanced Shipment Tracking registers both its own namespace and the Shipment Tracking one.
          if (ext === 'shipment-tracking') namespaces.push('wc-shipment-tracking/v3');
          if (ext === 'ast') namespaces.push('wc-ast/v3', 'wc-shipment-tracking/v3');
          return {
            status: 200,
            body: {
              name: 'channelsync simulated store', description: '', url: base(), home: base(),
              gmt_offset: '0', timezone_string: '', namespaces, authentication: [], routes: {},
            },
          };
        },
      },
    },
    {
      pattern: /^\/wp-json\/wc\/v3\/orders\/?$/,
      methods: {
        GET: (req) => {
          const q = req.query;
          // In the order WooCommerce's get_collection_params registers them (page,
          // per_page, search, after, before, modified_after, modified_before,
          // dates_are_gmt, exclude, include, offset, order, orderby, ...).
          const checks = paramChecks();
          checks.take(() => intParam(q, 'page', 1, 1), 1);
          const perPage = checks.take(() => intParam(q, 'per_page', 10, 1, 100), 10);
          const after = checks.take(() => dateParam(q, 'after'), null);
          const before = checks.take(() => dateParam(q, 'before'), null);
          const modAfter = checks.take(() => dateParam(q, 'modified_after'), null);
          const modBefore = checks.take(() => dateParam(q, 'modified_before'), null);
          // The simulated store runs on UTC: local and GMT times are the same.
          checks.take(() => boolParam(q, 'dates_are_gmt'), false);
          const order = q.get('order') ?? 'desc';
          checks.take(() => {
            if (!['asc', 'desc'].includes(order)) throw invalidEnum('order', ['asc', 'desc']);
          }, undefined);
          const orderby = q.get('orderby') ?? 'date';
          const ORDERBY = ['date', 'id', 'include', 'title', 'slug', 'modified'];
          checks.take(() => {
            if (!ORDERBY.includes(orderby)) throw invalidEnum('orderby', ORDERBY);
          }, undefined);
          checks.done();
          const statuses = listParam(q, 'status');
          const include = new Set(listParam(q, 'include').map(Number));
          const exclude = new Set(listParam(q, 'exclude').map(Number));
          const wantAny = statuses.length === 0 || statuses.includes('any');
          // Sorted by modified: skip the orders at or before modified_after instead of testing each.
          const byModified = state.ordersByModified();
          let from = 0;
          if (modAfter !== null) {
            for (let hi = byModified.length; from < hi; ) {
              const mid = (from + hi) >>> 1;
              if (byModified[mid]!.modified > modAfter) hi = mid;
              else from = mid + 1;
            }
          }
          let rows = byModified.slice(from).filter(
            (o) =>
              (wantAny ? !HIDDEN_STATUSES.has(o.status) : statuses.includes(o.status)) &&
              (modAfter === null || o.modified > modAfter) &&
              (modBefore === null || o.modified < modBefore) &&
              (after === null || o.created > after) &&
              (before === null || o.created < before) &&
              (include.size === 0 || include.has(o.id)) &&
              !exclude.has(o.id),
          );
          const key = (o: SimOrder): number => (orderby === 'modified' ? o.modified : orderby === 'id' ? o.id : o.created);
          if (orderby !== 'modified' || order !== 'asc') {
            rows = [...rows].sort((a, b) => (key(a) - key(b) || a.id - b.id) * (order === 'asc' ? 1 : -1));
          }
          void perPage;
          const { page, headers } = paginate(rows, req, base());
          return { status: 200, body: new JsonText(`[${page.map((o) => state.orderText(o)).join(',')}]`), headers };
        },
        POST: (req) => {
          const o = state.createOrder(req.body);
          return {
            status: 201,
            body: state.orderJson(o),
            headers: { location: `${base()}/wp-json/wc/v3/orders/${o.id}` },
          };
        },
      },
    },
    {
      pattern: /^\/wp-json\/wc\/v3\/orders\/(\d+)\/?$/,
      methods: {
        GET: (_req, [id]) => ({ status: 200, body: new JsonText(state.orderText(orderOr404(state, id!))) }),
        PUT: (req, [id]) => ({ status: 200, body: state.orderJson(state.updateOrder(orderOr404(state, id!), req.body)) }),
        POST: (req, [id]) => ({ status: 200, body: state.orderJson(state.updateOrder(orderOr404(state, id!), req.body)) }),
        DELETE: (req, [id]) => ({ status: 200, body: state.trashOrder(orderOr404(state, id!), boolParam(req.query, 'force')) }),
      },
    },
    {
      pattern: /^\/wp-json\/wc\/v3\/orders\/(\d+)\/notes\/?$/,
      methods: {
        GET: (req, [id]) => {
          const o = orderOr404(state, id!);
          const type = req.query.get('type') ?? 'any';
          if (!['any', 'customer', 'internal'].includes(type)) throw invalidEnum('type', ['any', 'customer', 'internal']);
          const notes = state.notesOf(o.id).filter((n) => type === 'any' || (type === 'customer') === n.customerNote);
          return { status: 200, body: notes.map((n) => state.noteJson(n)) };
        },
        POST: (req, [id]) => {
          const o = orderOr404(state, id!);
          if (typeof req.body.note !== 'string' || req.body.note === '') {
            throw new WooError(400, 'rest_missing_callback_param', 'Missing parameter(s): note', { status: 400, params: ['note'] });
          }
          const n = state.addNote(o.id, req.body.note, req.body.customer_note === true, req.body.added_by_user === true ? 'admin' : 'WooCommerce');
          // A note is a comment on the order: date_modified does not move.
          return {
            status: 201,
            body: state.noteJson(n),
            headers: { location: `${base()}/wp-json/wc/v3/orders/${o.id}/notes/${n.id}` },
          };
        },
      },
    },
    {
      pattern: /^\/wp-json\/wc\/v3\/orders\/(\d+)\/refunds\/?$/,
      methods: {
        GET: (_req, [id]) => {
          const o = orderOr404(state, id!);
          return { status: 200, body: o.refunds.map((r) => state.refundJson(o, r)) };
        },
        POST: (req, [id]) => {
          const o = orderOr404(state, id!);
          const r = state.createRefund(o, req.body);
          return {
            status: 201,
            body: state.refundJson(o, r),
            headers: { location: `${base()}/wp-json/wc/v3/orders/(?P<order_id>[\\d]+)/refunds/${r.id}` },
          };
        },
      },
    },
    {
      pattern: /^\/wp-json\/wc\/v3\/products\/?$/,
      methods: {
        GET: (req) => {
          const skus = listParam(req.query, 'sku');
          const type = req.query.get('type');
          const include = new Set(listParam(req.query, 'include').map(Number));
          intParam(req.query, 'per_page', 10, 1, 100);
          // A SKU search finds variations too; a plain listing shows only parents.
          let rows = skus.length
            ? [...new Set(skus)].flatMap((sku) => state.bySku(sku) ?? [])
            : [...state.products.values()].filter((p) => p.type !== 'variation');
          if (type) rows = rows.filter((p) => p.type === type);
          if (include.size) rows = rows.filter((p) => include.has(p.id));
          rows.sort((a, b) => b.created - a.created || b.id - a.id);
          const { page, headers } = paginate(rows, req, base());
          return { status: 200, body: page.map((p) => state.productJson(p)), headers };
        },
        POST: (req) => {
          const p = state.createProduct(req.body);
          return { status: 201, body: state.productJson(p, true), headers: { location: `${base()}/wp-json/wc/v3/products/${p.id}` } };
        },
      },
    },
    {
      pattern: /^\/wp-json\/wc\/v3\/products\/batch\/?$/,
      methods: {
        POST: (req) => batch(req, productUpdate, (item) => state.productJson(state.createProduct(item), true)),
        PUT: (req) => batch(req, productUpdate, (item) => state.productJson(state.createProduct(item), true)),
      },
    },
    {
      pattern: /^\/wp-json\/wc\/v3\/products\/(\d+)\/?$/,
      methods: {
        GET: (_req, [id]) => {
          const p = state.products.get(Number(id));
          if (!p) throw new WooError(404, 'woocommerce_rest_product_invalid_id', 'Invalid ID.');
          return { status: 200, body: state.productJson(p) };
        },
        PUT: (req, [id]) => ({ status: 200, body: state.productJson(state.updateProduct(productOr404(state, id!), req.body), true) }),
      },
    },
    {
      pattern: /^\/wp-json\/wc\/v3\/products\/(\d+)\/variations\/?$/,
      methods: {
        GET: (req, [id]) => {
          const parent = productOr404(state, id!);
          const rows = parent.variations.map((v) => state.products.get(v)!).filter(Boolean);
          const { page, headers } = paginate(rows, req, base());
          return { status: 200, body: page.map((v) => state.variationJson(v)), headers };
        },
        POST: (req, [id]) => {
          const parent = productOr404(state, id!);
          const v = state.createProduct(req.body, parent);
          return {
            status: 201,
            body: state.variationJson(v),
            headers: { location: `${base()}/wp-json/wc/v3/products/(?P<product_id>[\\d]+)/variations/${v.id}` },
          };
        },
      },
    },
    {
      pattern: /^\/wp-json\/wc\/v3\/products\/(\d+)\/variations\/batch\/?$/,
      methods: {
        POST: (req, [id]) => {
          const parent = productOr404(state, id!);
          return batch(req, variationUpdate(parent), (item) => state.variationJson(state.createProduct(item, parent)));
        },
      },
    },
    {
      pattern: /^\/wp-json\/wc\/v3\/products\/(\d+)\/variations\/(\d+)\/?$/,
      methods: {
        GET: (_req, [pid, vid]) => ({ status: 200, body: state.variationJson(variationOr404(state, productOr404(state, pid!), vid!)) }),
        PUT: (req, [pid, vid]) => {
          const v = variationOr404(state, productOr404(state, pid!), vid!);
          return { status: 200, body: state.variationJson(state.updateProduct(v, req.body)) };
        },
      },
    },
    {
      pattern: /^\/wp-json\/wc\/v3\/webhooks\/?$/,
      methods: {
        GET: (req) => {
          const rows = [...state.webhooks.values()].sort((a, b) => b.id - a.id);
          const { page, headers } = paginate(rows, req, base());
          return { status: 200, body: page.map((w) => state.webhookJson(w)), headers };
        },
        POST: async (req) => {
          const TOPICS = /^(order|product|customer|coupon)\.(created|updated|deleted|restored)$|^action\./;
          if (typeof req.body.topic !== 'string' || !TOPICS.test(req.body.topic)) {
            throw new WooError(400, 'woocommerce_rest_webhook_invalid_topic', 'Webhook topic is required and must be valid.');
          }
          if (typeof req.body.delivery_url !== 'string' || !/^https?:\/\//.test(req.body.delivery_url)) {
            throw new WooError(400, 'woocommerce_rest_webhook_invalid_delivery_url', 'Webhook delivery URL must be a valid URL starting with http:// or https://.');
          }
          const w = state.createWebhook(req.body);
          const body = state.webhookJson(w);
          // WC_REST_Webhooks_V1_Controller::create_item prepares the response, then
          // sends the ping before answering; a failed ping changes nothing in the answer.
          if (w.status === 'active') await opts.ping(w);
          return { status: 201, body, headers: { location: `${base()}/wp-json/wc/v3/webhooks/${w.id}` } };
        },
      },
    },
    {
      pattern: /^\/wp-json\/wc\/v3\/webhooks\/(\d+)\/?$/,
      methods: {
        GET: (_req, [id]) => {
          const w = state.webhooks.get(Number(id));
          if (!w) throw new WooError(404, 'woocommerce_rest_webhook_invalid_id', 'Invalid ID.');
          return { status: 200, body: state.webhookJson(w) };
        },
        PUT: async (req, [id]) => {
          const w = state.webhooks.get(Number(id));
          if (!w) throw new WooError(404, 'woocommerce_rest_webhook_invalid_id', 'Invalid ID.');
          // failure_count is left as it is: only a successful delivery resets it (WC_Webhook::log_delivery).
          if (req.body.status === 'active' || req.body.status === 'paused' || req.body.status === 'disabled') w.status = req.body.status;
          if (typeof req.body.secret === 'string') w.secret = req.body.secret;
          const urlChanged = typeof req.body.delivery_url === 'string' && req.body.delivery_url !== w.deliveryUrl;
          if (typeof req.body.delivery_url === 'string') w.deliveryUrl = req.body.delivery_url;
          w.modified = state.now();
          // WC_Webhook_Data_Store::update pings an active webhook whose delivery URL changed or whose
          // ping never got a 200 (pending_delivery).
          if (w.status === 'active' && (urlChanged || w.pendingDelivery)) await opts.ping(w);
          return { status: 200, body: state.webhookJson(w) };
        },
        DELETE: (_req, [id]) => {
          const w = state.webhooks.get(Number(id));
          if (!w) throw new WooError(404, 'woocommerce_rest_webhook_invalid_id', 'Invalid ID.');
          state.webhooks.delete(w.id);
          return { status: 200, body: state.webhookJson(w) };
        },
      },
    },
    trackingRoutes('wc-shipment-tracking/v3'),
    trackingRoutes('wc-ast/v3'),
  ];
}

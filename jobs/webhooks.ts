/**
 * webhooks: process one stored delivery from the inbox. The HTTP route has
 * already verified and stored it; this job maps it and saves the order with
 * the newer-wins rule, so a stale or repeated delivery changes nothing.
 *
 * One transaction saves the order (header and lines) and marks the delivery
 * processed: a crash leaves either both or neither, and the retry redoes the
 * whole delivery. Channel calls (a re-fetch) happen before it, never inside.
 *
 * Batches: a job saves its delivery together with up to BATCH - 1 other
 * pending ones that need no channel call, in one transaction (`saveBatch`).
 * One at a time, a daemon took 200 deliveries a second at ~45 statements and
 * a commit each and fell minutes behind (`npm run bench -- webhooks`); the
 * other deliveries' own jobs then find them processed. Rows are claimed with
 * `FOR UPDATE SKIP LOCKED` (a job waits only for its own delivery, holding
 * nothing), so two batches never take one delivery. Anything unusual (a
 * re-fetch, a deletion, eBay's resolve, a second delivery of one order in the
 * batch, an error) is left to the delivery's own job and the one-at-a-time path.
 */
import { sql, type Selectable } from 'kysely';
import type { App } from '../src/app.ts';
import type { JobDefinition } from '../src/queue/job.ts';
import { jobId } from '../src/queue/queues.ts';
import { differsAtSameTime, markOrderDeleted, saveOrdersSettingAside, type UpsertResult } from '../src/db/orders.ts';
import { ordersChanged } from '../src/fulfilment/steps.ts';
import { hasNotificationEndpoint, hasWebhooks } from '../connectors/types.ts';
import { PermanentError } from '../src/domain/errors.ts';
import type { WebhookDeliveriesTable } from '../src/db/schema.ts';
import type { Db, Trx } from '../src/db/index.ts';
import type { UnifiedOrder } from '../src/domain/order.ts';

export interface WebhookData {
  deliveryId: number;
}

export const webhookJob: JobDefinition<WebhookData> = {
  queue: 'webhooks',
  handle: processDelivery,
  async onFailed(app, data, error) {
    await app.db
      .updateTable('webhook_deliveries')
      .set({ status: 'failed', error: error.message, processed_at: sql`now()` })
      .where('id', '=', data.deliveryId)
      .execute();
  },
  async sweep(app, before) {
    const rows = await app.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('received_at', '<', before)
      .orderBy('id')
      .limit(10_000)
      .execute();
    return rows.map((r) => ({ jobId: webhookJobId(r.id), data: { deliveryId: r.id } }));
  },
};

export const webhookJobId = (deliveryId: number) => jobId('webhook', deliveryId);

/** Deliveries saved in one transaction at most. */
const BATCH = 50;

type Delivery = Selectable<WebhookDeliveriesTable>;

export async function processDelivery(app: App, data: WebhookData): Promise<{ outcome: string; channelId?: number; ingested?: Array<{ channelId: number; inserted: number; updated: number }> }> {
  const delivery = await app.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', data.deliveryId).executeTakeFirst();
  if (!delivery) return { outcome: 'gone' };
  if (delivery.status !== 'pending') return { outcome: `already ${delivery.status}` };
  const batched = await saveBatch(app, delivery).catch((err) => {
    // A deadlock with another batch, a connection lost: this delivery alone, the careful way.
    app.log.warn({ delivery: delivery.id, err: (err as Error).message }, 'could not save a batch of webhook deliveries; saving this one alone');
    return null;
  });
  return batched ?? processOne(app, delivery);
}

/** A delivery the batch can save as it is: an order whose body says everything, or one the connector ignores. */
interface Plain {
  delivery: Delivery;
  order: UnifiedOrder | null;
  ignored?: string;
}

/**
 * Reads a delivery the way `processOne` would, or null when it needs more than its body (or does not parse).
 * `via`: inside the batch's transaction, the transaction itself: a query on another pool connection while
 * the transaction is open never finishes in embedded mode (one Postgres session, src/embedded/session-scheduler.ts).
 */
async function plainOf(app: App, delivery: Delivery, via: Db = app.db, checked?: Map<number, ReturnType<App['connectors']['get']>>): Promise<Plain | null> {
  try {
    // One channel check a batch per channel, not one a delivery (49 queries in a batch of 50 from one store).
    let check = checked?.get(delivery.channel_id);
    if (!check) {
      check = app.connectors.get(delivery.channel_id, via);
      checked?.set(delivery.channel_id, check);
    }
    const { connector } = await check;
    if (hasNotificationEndpoint(connector) || !hasWebhooks(connector)) return null;
    const { event } = connector.parseWebhook({ rawBody: delivery.raw_body, headers: delivery.headers });
    if (event.type === 'ignored') return { delivery, order: null, ignored: event.reason };
    if (event.type !== 'order') return null;
    const order = event.order;
    if (order.lines.some((l) => !l.sku) || (order.refunds === undefined && connector.capabilities.refund)) return null;
    return { delivery, order };
  } catch {
    return null;
  }
}

const keyOf = (p: Plain) => (p.order ? `${p.delivery.channel_id}:${p.order.externalId}` : null);

/**
 * Saves `first` and other plain pending deliveries in one transaction, or
 * returns null (saving nothing) when `first` is not plain. The batch is
 * `first` (waited for) and up to BATCH - 1 pending rows no other run holds
 * (skipped), read and parsed inside the transaction (parsing is pure: no
 * channel call). One delivery per order: a second one stays for its own job.
 */
async function saveBatch(app: App, first: Delivery): Promise<{ outcome: string; ingested: Array<{ channelId: number; inserted: number; updated: number }> } | null> {
  const head = await plainOf(app, first);
  if (!head) return null;
  const saved = await app.db.transaction().execute(async (trx) => {
    const own = await trx.selectFrom('webhook_deliveries').select('status').where('id', '=', first.id).forUpdate().executeTakeFirst();
    if (own?.status !== 'pending') return { outcome: `already ${own?.status ?? 'gone'}`, changed: [] as UpsertResult[], ingested: [] };
    const others = await trx
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where('id', '<>', first.id)
      .orderBy('id')
      .limit(BATCH - 1)
      .forUpdate()
      .skipLocked()
      .execute();
    const plain = [head];
    const seen = new Set([keyOf(head)]);
    const checked = new Map<number, ReturnType<App['connectors']['get']>>();
    for (const d of others) {
      const p = await plainOf(app, d, trx, checked);
      const key = p && keyOf(p);
      if (!p || (key && seen.has(key))) continue;
      seen.add(key);
      plain.push(p);
    }
    // A second change within the channel's timestamp resolution needs the channel's copy: the delivery's own job fetches it.
    const differing = await differingAtSameTime(trx, plain.filter((p) => p.order).map((p) => ({ channelId: p.delivery.channel_id, order: p.order! })));
    if (differing.has(keyOf(head)!)) return null;
    const batch = plain.filter((p) => !p.order || !differing.has(keyOf(p)!));

    const outcomes = new Map<number, { status: 'processed' | 'failed' | 'ignored'; outcome: string; error: string | null }>();
    const changed: UpsertResult[] = [];
    const ingested: Array<{ channelId: number; inserted: number; updated: number }> = [];
    const byChannel = new Map<number, Plain[]>();
    for (const p of batch) {
      if (!p.order) outcomes.set(p.delivery.id, { status: 'ignored', outcome: `ignored: ${p.ignored}`, error: null });
      else byChannel.set(p.delivery.channel_id, [...(byChannel.get(p.delivery.channel_id) ?? []), p]);
    }
    // In key order (channel, then order): two batches lock the order rows they share in the same order.
    for (const channelId of [...byChannel.keys()].sort((a, b) => a - b)) {
      const list = byChannel.get(channelId)!.sort((a, b) => (a.order!.externalId < b.order!.externalId ? -1 : a.order!.externalId > b.order!.externalId ? 1 : 0));
      const { results, rejected } = await saveOrdersSettingAside(trx, channelId, list.map((p) => p.order!), { sameTimestamp: 'keep', source: 'webhook' });
      const result = new Map(results.map((r) => [r.externalId, r]));
      const refused = new Map(rejected.map((r) => [r.externalId, r.reason]));
      for (const p of list) {
        const reason = refused.get(p.order!.externalId) ?? null;
        const r = result.get(p.order!.externalId);
        outcomes.set(p.delivery.id, { status: reason ? 'failed' : 'processed', outcome: reason ? `rejected: ${reason}` : (r?.outcome ?? 'stale'), error: reason });
        if (r && !reason) changed.push(r);
      }
      const count = (o: string) => results.filter((r) => r.outcome === o && !refused.has(r.externalId)).length;
      ingested.push({ channelId, inserted: count('inserted'), updated: count('updated') });
    }
    const ids = [...outcomes.keys()];
    await sql`
      UPDATE webhook_deliveries d SET status = u.status, processed_at = now(), error = u.error
      FROM unnest(${ids}::bigint[], ${ids.map((id) => outcomes.get(id)!.status)}::text[], ${ids.map((id) => outcomes.get(id)!.error)}::text[]) AS u(id, status, error)
      WHERE d.id = u.id`.execute(trx);
    return { outcome: outcomes.get(first.id)!.outcome, changed, ingested };
  });
  if (!saved) return null;
  await ordersChanged(app, saved.changed);
  // `ingested` counts the batch's orders for the metrics (the other deliveries' jobs find them processed).
  return { outcome: saved.outcome, ingested: saved.ingested };
}

/** `differsAtSameTime` for many orders in one query: the `channel:externalId` of those whose saved copy has the same time and another body. */
async function differingAtSameTime(db: Trx, orders: Array<{ channelId: number; order: UnifiedOrder }>): Promise<Set<string>> {
  if (orders.length === 0) return new Set();
  const { rows } = await sql<{ channel_id: number; external_id: string }>`
    SELECT o.channel_id, o.external_id
    FROM unnest(${orders.map((o) => o.channelId)}::bigint[], ${orders.map((o) => o.order.externalId)}::text[],
                ${orders.map((o) => o.order.updatedAt)}::timestamptz[], ${orders.map((o) => JSON.stringify(o.order.raw ?? null))}::jsonb[]) AS i(channel_id, external_id, updated_at, raw)
    JOIN orders o ON o.channel_id = i.channel_id AND o.external_id = i.external_id AND o.channel_updated_at = i.updated_at
    WHERE o.raw IS DISTINCT FROM i.raw`.execute(db);
  return new Set(rows.map((r) => `${r.channel_id}:${r.external_id}`));
}

/** One delivery on its own: re-fetches, deletions and eBay's resolve included. */
async function processOne(app: App, delivery: Delivery): Promise<{ outcome: string; channelId?: number }> {
  const { connector } = await app.connectors.get(delivery.channel_id);
  const request = { rawBody: delivery.raw_body, headers: delivery.headers };
  // eBay: verified again with the cached key, and an order topic re-fetched (a hint, not a body).
  let parsed;
  if (hasNotificationEndpoint(connector)) parsed = await connector.resolveWebhook(request);
  else if (hasWebhooks(connector)) parsed = connector.parseWebhook(request);
  else throw new PermanentError(`channel ${delivery.channel_id} (${connector.kind}) receives no webhooks: delivery ${delivery.id} cannot be read`);
  const event = parsed.event;
  let order = event.type === 'order' ? event.order : null;
  let fetched = false;
  // A body without SKUs (WooCommerce lines of deleted products), a second change within the
  // channel's timestamp resolution, or refunds the body does not detail (their lines and restocks
  // are read from the channel: `UnifiedOrder.refunds` undefined): ask the channel for the order as it is now.
  if (order && (order.lines.some((l) => !l.sku) || (order.refunds === undefined && connector.capabilities.refund) || (await differsAtSameTime(app.db, delivery.channel_id, order)))) {
    const current = await connector.fetchOrder(order.externalId);
    if (current) {
      order = current;
      fetched = true;
    }
  }
  // Channels sign the body, not the topic: any captured order body replayed under
  // orders/delete (order.deleted) reads as a deletion. So a deletion is only what the
  // channel itself says: gone (null), or the order as it is now, saved like a fetch.
  let gone = false;
  if (event.type === 'order_deleted') {
    const current = await connector.fetchOrder(event.externalId);
    if (current) {
      order = current;
      fetched = true;
    } else {
      gone = true;
    }
  }

  const saved = await app.db.transaction().execute(async (trx) => {
    // Another run of this delivery finished while we read the channel: nothing more to do.
    const still = await trx.selectFrom('webhook_deliveries').select('status').where('id', '=', delivery.id).forUpdate().executeTakeFirst();
    if (still?.status !== 'pending') return { outcome: `already ${still?.status ?? 'gone'}`, changed: [] as UpsertResult[] };
    let outcome: string;
    let refused: string | null = null;
    const changed: UpsertResult[] = [];
    if (order) {
      // An order the database refuses is set aside (rejected_orders) and the delivery marked
      // failed with the reason: retrying the same body cannot help, and nothing half-saves.
      const { results: [result], rejected } = await saveOrdersSettingAside(trx, delivery.channel_id, [order], { sameTimestamp: fetched ? 'replace' : 'keep', source: 'webhook' });
      refused = rejected[0]?.reason ?? null;
      outcome = refused ? `rejected: ${refused}` : (result?.outcome ?? 'stale');
      if (event.type === 'order_deleted' && !refused) outcome = `not deleted: the channel still has the order (${outcome})`;
      if (result) changed.push(result);
    } else if (event.type === 'order_deleted' && gone) {
      const deleted = await markOrderDeleted(trx, delivery.channel_id, event.externalId);
      outcome = deleted ? 'deleted' : 'stale';
      if (deleted) changed.push({ orderId: deleted, externalId: event.externalId, outcome: 'updated' });
    } else {
      outcome = event.type === 'ping' ? 'ping' : `ignored: ${event.type === 'ignored' ? event.reason : event.type}`;
    }
    await trx
      .updateTable('webhook_deliveries')
      .set({ status: refused ? 'failed' : event.type === 'ignored' ? 'ignored' : 'processed', processed_at: sql`now()`, error: refused })
      .where('id', '=', delivery.id)
      .execute();
    return { outcome, changed };
  });
  // After the commit: start allocation (the sweeper finds it if this is lost).
  await ordersChanged(app, saved.changed);
  // The channel rides along for the orders-ingested metric.
  return { outcome: saved.outcome, channelId: delivery.channel_id };
}

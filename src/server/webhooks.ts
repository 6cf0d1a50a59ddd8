/**
 * POST /webhooks/<channel id>: verify, store in the inbox, answer fast.
 * Processing happens in the `webhooks` queue. The delivery is stored before
 * the 200, so an acknowledged delivery is never lost; a duplicate delivery
 * (same dedupe key) is acknowledged and stored once. The inbox writes use
 * their own small pool (`app.inbox`), never waiting behind the jobs' queries;
 * deliveries arriving together share one INSERT and one enqueue
 * (`inbox-writer.ts`), and a channel's check is shared for a second.
 */
import type { FastifyInstance } from 'fastify';
import type { App } from '../app.ts';
import { ChannelsyncError, WebhookRejectedError } from '../domain/errors.ts';
import { hasNotificationEndpoint, hasWebhooks } from '../../connectors/types.ts';
import { webhookJobId } from '../../jobs/webhooks.ts';
import { InboxWriter } from './inbox-writer.ts';
import { noteIngest } from '../queue/ingest-first.ts';
import type { Connector } from '../../connectors/types.ts';

/** Pings stored per channel at most (they prove delivery to `channels webhooks`). */
const MAX_PINGS = 100;

/** How long accepts reuse a channel's check (see `recentConnector`). */
const CHANNEL_CHECK_MS = 1_000;

export function webhookRoutes(server: FastifyInstance, app: App): void {
  const inbox = new InboxWriter(app.inbox, app.queues, app.log, { jobIdOf: webhookJobId });
  server.register(async (scope) => {
    // Signatures are computed over the exact bytes: keep the raw body, whatever its content type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 5 * 1024 * 1024 }, (_req, body, done) => done(null, body));
    // A channel reads our answer: fastify's own 4xx (a body over the limit) keep their
    // status and words; anything else is ours to fix, logged here, and the body names
    // no internal detail (a database or driver message is no business of the sender's).
    scope.setErrorHandler((err: { statusCode?: number; message: string }, request, reply) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status < 500) return reply.code(status).send({ error: err.message });
      app.log.error({ err, url: request.url }, 'webhook delivery failed');
      return reply.code(500).send({ error: 'the delivery could not be stored; send it again later' });
    });

    /**
     * The channel check (exists, enabled, not paused, its connector current) is a query; at 200 deliveries
     * a second, one an accept queued the inbox's three connections past the store's 5 s. So accepts of one
     * channel share one check for up to CHANNEL_CHECK_MS (and one in flight). A channel disabled or paused
     * within that window gets a few more deliveries stored: its job then refuses them as it would have
     * (disabled: marked failed; paused: retried after the reconnect), so nothing is lost or done twice.
     */
    const recent = new Map<number, { at: number; connector: Promise<Connector> }>();
    function recentConnector(channelId: number): Promise<Connector> {
      const hit = recent.get(channelId);
      if (hit && performance.now() - hit.at < CHANNEL_CHECK_MS) return hit.connector;
      const connector = app.connectors.get(channelId, app.inbox).then((r) => r.connector);
      recent.set(channelId, { at: performance.now(), connector });
      // A failed check is not remembered: the next accept asks again.
      connector.catch(() => recent.get(channelId)?.connector === connector && recent.delete(channelId));
      return connector;
    }

    /** The channel's connector, or null after answering 404 (no such channel). */
    async function connectorOf(param: string, reply: { code(n: number): { send(b: unknown): unknown } }): Promise<{ channelId: number; connector: Connector } | null> {
      const channelId = Number(param);
      if (!Number.isSafeInteger(channelId) || channelId <= 0) {
        reply.code(404).send({ error: `no channel "${param}"` });
        return null;
      }
      try {
        return { channelId, connector: await recentConnector(channelId) };
      } catch (err) {
        if (err instanceof ChannelsyncError && !err.retryable) {
          reply.code(404).send({ error: err.message });
          return null;
        }
        throw err;
      }
    }

    // eBay's endpoint validation: before it registers a destination (and now and then after),
    // eBay calls GET <endpoint>?challenge_code=... and expects the hash of code, token and
    // endpoint. Channels without such a challenge have no GET here.
    scope.get<{ Params: { channelId: string }; Querystring: { challenge_code?: string } }>('/webhooks/:channelId', async (request, reply) => {
      const found = await connectorOf(request.params.channelId, reply);
      if (!found) return reply;
      if (!hasNotificationEndpoint(found.connector)) return reply.code(404).send({ error: 'this channel takes no GET on its webhook address' });
      const code = request.query.challenge_code;
      if (typeof code !== 'string' || !code) return reply.code(400).send({ error: 'challenge_code is required' });
      const endpoint = `${app.config.publicUrl}/webhooks/${found.channelId}`;
      try {
        return reply.code(200).header('content-type', 'application/json').send(found.connector.answerChallenge(code, endpoint));
      } catch (err) {
        if (err instanceof WebhookRejectedError) return reply.code(err.status).send({ error: err.message });
        throw err;
      }
    });

    scope.post<{ Params: { channelId: string } }>('/webhooks/:channelId', async (request, reply) => {
      const found = await connectorOf(request.params.channelId, reply);
      if (!found) return reply;
      const { channelId, connector } = found;
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : v]),
      );
      let parsed: { deliveryKey: string; topic: string; event?: { type: string } };
      try {
        // eBay: verification fetches the signing key by id (async); the others are pure.
        if (hasNotificationEndpoint(connector)) parsed = await connector.acceptWebhook({ rawBody, headers });
        else if (hasWebhooks(connector)) parsed = connector.parseWebhook({ rawBody, headers });
        // A channel without a webhook role (Amazon: notifications come through SQS) takes no deliveries.
        else return reply.code(404).send({ error: `channel ${channelId} (${found.connector.kind}) receives no webhooks; its notifications come another way` });
      } catch (err) {
        if (err instanceof WebhookRejectedError) {
          app.log.warn({ channel: channelId, status: err.status, reason: err.message }, 'webhook rejected');
          return reply.code(err.status).send({ error: err.message });
        }
        throw err;
      }
      if (parsed.event?.type === 'ping') {
        // Recorded (already processed, no job) so `channels webhooks` can tell that the channel's
        // test delivery reached this server: the ping is the proof PUBLIC_URL works from the store.
        // Pings are unsigned: anyone can send one, so a channel keeps at most MAX_PINGS of them
        // (a store has a handful of webhooks); beyond that they are answered and not stored. Counted,
        // not locked: pings arriving at once may pass it by a few, which is all it must bound.
        const { n } = await app.inbox
          .selectFrom('webhook_deliveries')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('channel_id', '=', channelId)
          .where('topic', '=', 'ping')
          .executeTakeFirstOrThrow();
        if (Number(n) >= MAX_PINGS) return reply.code(200).send({ ok: true, ping: true });
        // Rows are inserted pending; one left so by a crash is a harmless `ping` for the webhooks job.
        const ping = await app.inbox
          .insertInto('webhook_deliveries')
          .values({ channel_id: channelId, delivery_key: parsed.deliveryKey, topic: 'ping', headers: JSON.stringify(headers), raw_body: rawBody })
          .onConflict((oc) => oc.columns(['channel_id', 'delivery_key']).doUpdateSet({ received_at: new Date() }))
          .returning('id')
          .executeTakeFirstOrThrow();
        await app.inbox.updateTable('webhook_deliveries').set({ status: 'processed', processed_at: new Date() }).where('id', '=', ping.id).execute();
        return reply.code(200).send({ ok: true, ping: true });
      }

      // Fulfilment in this process yields while the loop lags and deliveries come in (ingest-first.ts).
      noteIngest();
      // Committed before the 2xx; deliveries arriving together share one INSERT and one enqueue (inbox-writer.ts).
      const stored = await inbox.store({ channelId, deliveryKey: parsed.deliveryKey, topic: parsed.topic, headers, rawBody });
      if (stored === null) return reply.code(200).send({ ok: true, duplicate: true });
      return reply.code(200).send({ ok: true });
    });
  });
}

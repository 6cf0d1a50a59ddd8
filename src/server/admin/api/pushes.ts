/**
 * The outbox, for admins: what each channel is still owed, what failed and why.
 * GET  /api/pushes            (status default failed; channel, kind; keyset pages)
 * GET  /api/pushes/:id
 * POST /api/pushes/:id/retry   put one failed push back to work
 * POST /api/pushes/retry-failed  every failed push (optionally of one channel or kind)
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../../app.ts';
import { retryPush } from '../../../../jobs/channel-push.ts';
import { PermanentError } from '../../../domain/errors.ts';
import { ApiError, before, idParams, limit, page, parse, documented } from './validate.ts';
import { resolveChannel } from './orders.ts';

const KINDS = ['fulfillment', 'stock', 'cancel', 'refund'] as const;

const listQuery = z.object({
  status: z.enum(['pending', 'failed', 'done']).default('failed'),
  channel: z.string().min(1).optional(),
  kind: z.enum(KINDS).optional(),
  limit,
  before,
});

const retryAllBody = z
  .object({
    channel: z.union([z.string().min(1), z.number().int().positive()]).optional(),
    kind: z.enum(KINDS).optional(),
  })
  .strict();

/** At most this many pushes per retry-failed call; call again for more. */
export const RETRY_ALL_LIMIT = 1_000;

export function pushRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/pushes', documented({ query: listQuery }), async (request) => {
    const q = parse(listQuery, request.query, 'query');
    let query = app.db
      .selectFrom('channel_pushes')
      .innerJoin('channels', 'channels.id', 'channel_pushes.channel_id')
      .selectAll('channel_pushes')
      .select('channels.name as channel_name')
      .where('channel_pushes.status', '=', q.status)
      .orderBy('channel_pushes.id', 'desc')
      .limit(q.limit);
    if (q.channel) query = query.where('channel_pushes.channel_id', '=', await resolveChannel(app, q.channel));
    if (q.kind) query = query.where('channel_pushes.kind', '=', q.kind);
    if (q.before) query = query.where('channel_pushes.id', '<', q.before);
    return page(await query.execute(), q.limit);
  });

  server.get('/api/pushes/:id', documented({ params: idParams }), async (request) => {
    const { id } = parse(idParams, request.params, 'path');
    const push = await app.db.selectFrom('channel_pushes').selectAll().where('id', '=', id).executeTakeFirst();
    if (!push) throw new ApiError(404, `push ${id} does not exist`);
    return push;
  });

  server.post('/api/pushes/:id/retry', documented({ params: idParams }), async (request, reply) => {
    const { id } = parse(idParams, request.params, 'path');
    const exists = await app.db.selectFrom('channel_pushes').select('status').where('id', '=', id).executeTakeFirst();
    if (!exists) throw new ApiError(404, `push ${id} does not exist`);
    try {
      await retryPush(app, id);
    } catch (err) {
      if (err instanceof PermanentError) throw new ApiError(409, err.message);
      throw err;
    }
    request.log.info({ push: id }, 'admin: push retried');
    return reply.code(202).send({ id, status: 'pending' });
  });

  server.post('/api/pushes/retry-failed', documented({ body: retryAllBody }), async (request, reply) => {
    const body = parse(retryAllBody, request.body, 'body');
    let query = app.db.selectFrom('channel_pushes').select('id').where('status', '=', 'failed').orderBy('id').limit(RETRY_ALL_LIMIT);
    if (body.channel !== undefined) query = query.where('channel_id', '=', await resolveChannel(app, String(body.channel)));
    if (body.kind) query = query.where('kind', '=', body.kind);
    const rows = await query.execute();
    let retried = 0;
    for (const row of rows) {
      // A push may have been retried by someone else in between: that is fine, skip it.
      await retryPush(app, row.id).then(
        () => (retried += 1),
        (err) => {
          if (!(err instanceof PermanentError)) throw err;
        },
      );
    }
    request.log.info({ retried }, 'admin: failed pushes retried');
    return reply.code(202).send({ retried, more: rows.length === RETRY_ALL_LIMIT });
  });
}

/**
 * Jobs that failed for good, in every queue, from `job_failures` (Postgres:
 * still there after Redis loses its failed set). The sweeper never revives
 * them; a person does, here.
 * GET  /api/failed-jobs            (queue; keyset pages)
 * POST /api/failed-jobs/:id/retry  clear the record and run the job again
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { App } from '../../../app.ts';
import { retryPush } from '../../../../jobs/channel-push.ts';
import { getFailure, listFailures, retryJob } from '../../../queue/failures.ts';
import { reopenMessage } from '../../../notify/deliver.ts';
import { QUEUE_NAMES, type QueueName } from '../../../queue/queues.ts';
import { ApiError, before, idParams, limit, page, parse, documented } from './validate.ts';

const listQuery = z.object({ queue: z.enum(QUEUE_NAMES).optional(), limit, before });

export function jobRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/failed-jobs', documented({ query: listQuery }), async (request) => {
    const q = parse(listQuery, request.query, 'query');
    return page(await listFailures(app.db, q), q.limit);
  });

  server.post('/api/failed-jobs/:id/retry', documented({ params: idParams }), async (request, reply) => {
    const { id } = parse(idParams, request.params, 'path');
    const failure = await getFailure(app.db, id);
    if (!failure) throw new ApiError(404, `failed job ${id} does not exist (retried already, or it succeeded since)`);
    if (!(QUEUE_NAMES as readonly string[]).includes(failure.queue)) throw new ApiError(409, `failed job ${id} is in queue ${failure.queue}, which this version does not run`);
    const queue = failure.queue as QueueName;
    // Retried from the queue UI meanwhile: it is running again, not failed.
    if (await app.queues.isLive(queue, failure.job_id)) throw new ApiError(409, `job ${failure.job_id} in ${queue} is not failed: it is waiting or running again`);
    const pushId = queue === 'channel-push' ? Number(failure.data.pushId) : NaN;
    const push = Number.isInteger(pushId)
      ? await app.db.selectFrom('channel_pushes').select('status').where('id', '=', pushId).executeTakeFirst()
      : undefined;
    // A failed push is retried as the pushes route does, so its outbox row is pending again
    // (a Redis flush during the retry then loses nothing: the sweeper finds the pending row).
    if (push?.status === 'failed') await retryPush(app, pushId);
    else {
      // A failed customer message is pending again first, for the same reason.
      if (queue === 'notify' && Number.isInteger(Number(failure.data.messageId))) await reopenMessage(app, Number(failure.data.messageId));
      await retryJob(app, queue, failure.job_id, failure.data);
    }
    request.log.info({ queue, jobId: failure.job_id }, 'admin: failed job retried');
    return reply.code(202).send({ id, queue, job_id: failure.job_id, status: 'queued' });
  });
}

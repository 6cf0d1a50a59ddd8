/**
 * The queue UI at /admin/queues (bull-board): every queue, each job's data,
 * error and stack trace, retry one, retry all failed, clean. Registered inside
 * the admin scope, so it never renders without authentication.
 *
 * Retrying a channel-push job here is the same as POST /api/pushes/:id/retry:
 * the handler re-reads the outbox row and marks it done once the channel accepts.
 *
 * Workers: with Redis the board lists them from `CLIENT LIST`. With the queues
 * in Postgres (embedded mode) there is no such list and the board would say
 * "No workers" while they run, so it shows no worker status there at all;
 * the dashboard and /metrics show that jobs complete.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';
import type { App } from '../app.ts';

export const QUEUE_UI_PATH = '/admin/queues';

export async function queueUiRoutes(server: FastifyInstance, app: App): Promise<void> {
  const adapter = new FastifyAdapter();
  adapter.setBasePath(QUEUE_UI_PATH);
  createBullBoard({
    queues: app.queues.all().map((queue) => new BullMQAdapter(queue, { allowRetries: true, readOnlyMode: false })),
    serverAdapter: adapter,
    options: {
      uiConfig: {
        boardTitle: 'channelsync',
        showWorkers: app.backend.kind === 'redis',
        miscLinks: [
          { text: 'Dashboard', url: '/admin' },
          { text: 'Log out', url: '/admin/logout' },
        ],
      },
    },
  });
  await server.register(adapter.registerPlugin(), { prefix: QUEUE_UI_PATH });
}

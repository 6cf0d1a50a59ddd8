/**
 * GET /api/channels      every channel with sync lag, health and its backlog
 * GET /api/channels/:id  one channel, with its sync cursors and recent failures
 * Credentials are never returned.
 */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../../app.ts';
import { channelHealth } from '../stats.ts';
import { ApiError, idParams, parse, documented } from './validate.ts';

export function channelRoutes(server: FastifyInstance, app: App): void {
  server.get('/api/channels', async () => ({ items: await channelHealth(app) }));

  server.get('/api/channels/:id', documented({ params: idParams }), async (request) => {
    const { id } = parse(idParams, request.params, 'path');
    const health = (await channelHealth(app)).find((c) => c.id === id);
    if (!health) throw new ApiError(404, `channel ${id} does not exist`);
    const [settings, cursors, recentFailures] = await Promise.all([
      app.db.selectFrom('channels').select(['settings', 'created_at', 'updated_at']).where('id', '=', id).executeTakeFirstOrThrow(),
      app.db.selectFrom('sync_cursors').select(['resource', 'cursor', 'last_synced_at', 'last_error']).where('channel_id', '=', id).execute(),
      app.db
        .selectFrom('channel_pushes')
        .select(['id', 'kind', 'target', 'attempts', 'last_error', 'updated_at'])
        .where('channel_id', '=', id)
        .where('status', '=', 'failed')
        .orderBy('id', 'desc')
        .limit(20)
        .execute(),
    ]);
    return { ...health, ...settings, cursors, recentFailures };
  });
}

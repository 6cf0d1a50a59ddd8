/** GET /healthz: 200 when Postgres and Redis answer, 503 naming the one that does not. */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { App } from '../app.ts';
import { pingRedis, withTimeout } from '../queue/connection.ts';

export interface HealthReport {
  status: 'ok' | 'degraded';
  postgres: string;
  redis: string;
}

export async function checkHealth(app: App, timeoutMs = 2_000): Promise<HealthReport> {
  const [postgres, redis] = await Promise.all([
    withTimeout(sql`SELECT 1`.execute(app.db), timeoutMs, 'postgres').then(
      () => 'ok',
      (err: Error) => `down: ${err.message}`,
    ),
    pingRedis(app.config.redisUrl, timeoutMs).then(
      () => 'ok',
      (err: Error) => `down: ${err.message}`,
    ),
  ]);
  return { status: postgres === 'ok' && redis === 'ok' ? 'ok' : 'degraded', postgres, redis };
}

export function healthRoutes(server: FastifyInstance, app: App): void {
  server.get('/healthz', async (_request, reply) => {
    const report = await checkHealth(app);
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
}

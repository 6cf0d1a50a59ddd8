/**
 * GET /healthz: 200 when Postgres and the queue backend answer, 503 naming the
 * one that does not. The queue backend is Redis (`redis` in the report), or
 * Postgres itself in embedded mode (`queues`, with `queueBackend: "postgres"`).
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { App } from '../app.ts';
import { withTimeout } from '../queue/connection.ts';

export interface HealthReport {
  status: 'ok' | 'degraded';
  postgres: string;
  /** Present when the queues are on Redis. */
  redis?: string;
  /** Present when the queues are on Postgres (embedded mode). */
  queues?: string;
  queueBackend?: 'postgres';
}

export async function checkHealth(app: App, timeoutMs = 2_000): Promise<HealthReport> {
  const [postgres, queues] = await Promise.all([
    withTimeout(sql`SELECT 1`.execute(app.db), timeoutMs, 'postgres').then(
      () => 'ok',
      (err: Error) => `down: ${err.message}`,
    ),
    withTimeout(app.backend.ping(timeoutMs), timeoutMs, app.backend.kind).then(
      () => 'ok',
      (err: Error) => `down: ${err.message}`,
    ),
  ]);
  const status = postgres === 'ok' && queues === 'ok' ? 'ok' : 'degraded';
  return app.backend.kind === 'redis' ? { status, postgres, redis: queues } : { status, postgres, queues, queueBackend: 'postgres' };
}

export function healthRoutes(server: FastifyInstance, app: App): void {
  server.get('/healthz', async (_request, reply) => {
    const report = await checkHealth(app);
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
}

/**
 * The admin API's OpenAPI document as text, generated without a database: the
 * routes are registered on a bare server (handlers never run), and the
 * document is what GET /api/openapi.json serves.
 */
import Fastify from 'fastify';
import type { App } from '../../../app.ts';
import { apiRoutes } from './index.ts';

export async function generateOpenapi(): Promise<string> {
  const server = Fastify();
  try {
    // Route registration reads nothing from the app; only handlers do, and none runs here.
    await apiRoutes(server, {} as App);
    await server.ready();
    const res = await server.inject({ url: '/api/openapi.json' });
    if (res.statusCode !== 200) throw new Error(`GET /api/openapi.json answered ${res.statusCode}: ${res.body}`);
    return `${JSON.stringify(res.json(), null, 2)}\n`;
  } finally {
    await server.close();
  }
}

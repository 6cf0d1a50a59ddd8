/**
 * A test app with the HTTP server built on it and the admin API open with a
 * token, set up and torn down around the file's tests. Returns a holder whose
 * fields are filled in `beforeAll`.
 */
import { afterAll, beforeAll } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/index.ts';
import { createTestApp, type TestApp } from './app.ts';

export interface AdminServer {
  t: TestApp;
  server: FastifyInstance;
  /** The token's Authorization header. */
  auth: { authorization: string };
}

export function adminServer(token: string, env: Record<string, string> = {}): AdminServer {
  const holder = { auth: { authorization: `Bearer ${token}` } } as AdminServer;
  beforeAll(async () => {
    holder.t = await createTestApp({ ADMIN_TOKEN: token, ...env });
    holder.server = await buildServer(holder.t.app);
  });
  afterAll(async () => {
    await holder.server?.close();
    await holder.t?.close();
  });
  return holder;
}

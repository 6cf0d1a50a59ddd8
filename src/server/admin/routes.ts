/**
 * Every route the server registers, recorded as it is added, so a test can
 * check that all of /admin and /api is behind authentication, including
 * routes added later by other modules.
 */
import type { FastifyInstance } from 'fastify';

export interface RouteEntry {
  method: string;
  url: string;
}

const tracked = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Call first thing after creating the server. */
export function trackRoutes(server: FastifyInstance): void {
  const list: RouteEntry[] = [];
  tracked.set(server, list);
  server.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) list.push({ method, url: route.url });
  });
}

export function registeredRoutes(server: FastifyInstance): readonly RouteEntry[] {
  return tracked.get(server) ?? [];
}

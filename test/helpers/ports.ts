/** Ports and addresses where nothing answers, for tests of what the daemon does when a service is not there. */
import { createServer } from 'node:net';

/** A port nothing listens on: one the OS just handed out, closed again. */
export async function unusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

/** A Postgres and a Redis URL on unused ports: what a machine without the services answers when probed. */
export async function closedServices(): Promise<{ databaseUrl: string; redisUrl: string }> {
  return { databaseUrl: `postgres://postgres@127.0.0.1:${await unusedPort()}/x`, redisUrl: `redis://127.0.0.1:${await unusedPort()}` };
}

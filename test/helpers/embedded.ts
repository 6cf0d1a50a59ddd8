/**
 * Embedded mode for the test suite (`CHANNELSYNC_TEST_MODE=embedded`): each
 * test app gets its own in-memory PGlite, started from a migrated template
 * (our migrations and BullMQ's schema) kept on disk, because creating and
 * migrating a cluster takes about ten seconds and loading one about two.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { pino } from 'pino';
import { createDb, migrate } from '../../src/db/index.ts';
import { postgresBackend } from '../../src/queue/backend.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/embedded/postgres.ts';
import { templateName } from './services.ts';

export const EMBEDDED = process.env.CHANNELSYNC_TEST_MODE === 'embedded';

function templatePath(): string {
  const bullmq = (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
  return join(tmpdir(), `${templateName()}-pglite-bullmq${bullmq}.tar`);
}

/** Builds the migrated template once (cached across runs until a migration changes). */
export async function ensureEmbeddedTemplate(): Promise<string> {
  const path = templatePath();
  if (existsSync(path)) return path;
  const server = await startEmbeddedPostgres();
  try {
    const db = createDb(server.url, { max: 2 });
    await migrate(db);
    await db.destroy();
    const backend = postgresBackend(server.url, { prefix: 'template', max: 2 });
    await backend.prepare();
    await backend.close();
    const tmp = `${path}.${process.pid}`;
    writeFileSync(tmp, Buffer.from(await (await server.dump()).arrayBuffer()));
    renameSync(tmp, path); // atomic: parallel runs never read half a file
  } finally {
    await server.close();
  }
  return path;
}

/** A fresh in-memory embedded Postgres, already migrated. */
export async function startTestEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const path = await ensureEmbeddedTemplate();
  return startEmbeddedPostgres({ loadDataDir: new Blob([readFileSync(path)]), log: pino({ level: 'silent' }) });
}

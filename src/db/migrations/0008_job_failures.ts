/**
 * Jobs BullMQ gave up on, one row per (queue, job id), kept in Postgres
 * because Redis loses its failed set on a flush: the sweeper and `ensure`
 * must not revive work that failed for good, and admins see and retry it
 * here. A person's retry deletes the row; a later success of the same job id
 * deletes it too (a retry from the queue UI), a new final failure rewrites it.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE job_failures (
      id bigserial PRIMARY KEY,
      queue text NOT NULL,
      job_id text NOT NULL,
      data jsonb NOT NULL,
      error text NOT NULL,
      attempts integer NOT NULL,
      failed_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (queue, job_id)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE job_failures`.execute(db);
}

/**
 * Ratings: one per order (1-5 and a comment). A second submission from the
 * same link replaces the first (the customer changed their mind; the order
 * still counts once in every figure) and counts `submissions`. A rating of
 * `LOW_RATING` or less is flagged for a person: the dashboard counts them,
 * `GET /api/feedback?flagged=true` lists them, and resolving clears the flag
 * (a later low submission flags it again).
 */
import { sql } from 'kysely';
import type { Db, Trx } from '../db/index.ts';

/** Ratings at or below this are flagged for a person. */
export const LOW_RATING = 2;
/** Longest comment kept, in characters. */
export const MAX_COMMENT = 2000;

export interface FeedbackRow {
  order_id: number;
  rating: number;
  comment: string;
  flagged: boolean;
  submissions: number;
  created_at: Date;
  updated_at: Date;
}

export async function recordFeedback(trx: Trx, input: { orderId: number; rating: number; comment: string }): Promise<FeedbackRow> {
  const flagged = input.rating <= LOW_RATING;
  return trx
    .insertInto('feedback')
    .values({ order_id: input.orderId, rating: input.rating, comment: input.comment, flagged })
    .onConflict((oc) =>
      oc.column('order_id').doUpdateSet({
        rating: input.rating,
        comment: input.comment,
        flagged,
        submissions: sql`feedback.submissions + 1`,
        updated_at: sql`now()`,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function feedbackOf(db: Db, orderId: number): Promise<FeedbackRow | undefined> {
  return db.selectFrom('feedback').selectAll().where('order_id', '=', orderId).executeTakeFirst();
}

/** A person dealt with a low rating. Returns false when the order has no flagged rating. */
export async function resolveFeedback(db: Db, orderId: number): Promise<boolean> {
  const r = await db.updateTable('feedback').set({ flagged: false }).where('order_id', '=', orderId).where('flagged', '=', true).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export interface ChannelSatisfaction {
  channel_id: number;
  name: string;
  ratings: number;
  /** Mean rating, 1-5, two decimals; null with no ratings. */
  average: number | null;
  /** Share of ratings of 4 or 5, 0-100. */
  satisfied_percent: number | null;
  flagged: number;
}

/** Per channel: how many rated, the mean, the share satisfied, and low ratings waiting for a person. */
export async function satisfactionByChannel(db: Db): Promise<ChannelSatisfaction[]> {
  const { rows } = await sql<ChannelSatisfaction>`
    SELECT c.id AS channel_id, c.name,
      count(f.order_id)::int AS ratings,
      round(avg(f.rating), 2)::float8 AS average,
      round(100.0 * count(*) FILTER (WHERE f.rating >= 4) / NULLIF(count(f.order_id), 0))::int AS satisfied_percent,
      (count(*) FILTER (WHERE f.flagged))::int AS flagged
    FROM channels c
    LEFT JOIN orders o ON o.channel_id = c.id
    LEFT JOIN feedback f ON f.order_id = o.id
    GROUP BY c.id, c.name
    ORDER BY c.id`.execute(db);
  return rows;
}

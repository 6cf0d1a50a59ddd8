/**
 * Group commit for the webhook inbox. Each accept asks to store its delivery
 * and answers only once its row is committed (`store` resolves after the
 * commit), but the deliveries that arrive while a write is under way go
 * together in the next one: one multi-row `INSERT` (a statement of its own,
 * so it commits or fails as one) and one `addBulk` of their jobs. At 200
 * deliveries a second, one statement and one Redis round trip each kept the
 * inbox's three connections busy past the store's 5 s on a loaded machine
 * (`npm run bench -- webhooks`); a lone delivery still goes at once.
 *
 * A write that fails (a row Postgres refuses) is retried one row at a time,
 * so one bad delivery fails alone and the others are stored.
 */
import type { Db } from '../db/index.ts';
import type { QueueSet } from '../queue/queues.ts';
import { REQUEST_REDIS_TIMEOUT_MS, withTimeout } from '../queue/connection.ts';
import type { Logger } from '../log.ts';

export interface InboxDelivery {
  channelId: number;
  deliveryKey: string;
  topic: string;
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
}

interface Waiting {
  delivery: InboxDelivery;
  /** The new row's id, or null for a delivery stored before (same channel and key). */
  resolve(id: number | null): void;
  reject(err: Error): void;
}

export interface InboxWriterOptions {
  /** Writes under way at once; default 2 (the inbox pool has 3 connections, one is left for pings and channel reads). */
  inFlight?: number;
  /** Deliveries in one write at most; default 200. */
  maxRows?: number;
  /** The job id of a stored delivery (`webhookJobId`). */
  jobIdOf(deliveryId: number): string;
}

export class InboxWriter {
  private readonly waiting: Waiting[] = [];
  private writing = 0;
  private readonly inFlight: number;
  private readonly maxRows: number;

  constructor(
    private readonly db: Db,
    private readonly queues: QueueSet,
    private readonly log: Logger,
    private readonly options: InboxWriterOptions,
  ) {
    this.inFlight = options.inFlight ?? 2;
    this.maxRows = options.maxRows ?? 200;
  }

  /**
   * Stores the delivery (committed when this resolves) and enqueues its job
   * (bounded: past `REQUEST_REDIS_TIMEOUT_MS` the sweeper enqueues it). Resolves
   * with the row's id, or null when the delivery was stored before.
   */
  store(delivery: InboxDelivery): Promise<number | null> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ delivery, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.writing < this.inFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxRows);
      this.writing++;
      void this.write(batch).finally(() => {
        this.writing--;
        this.pump();
      });
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    const first = new Map<string, Waiting>();
    for (const w of batch) {
      const key = `${w.delivery.channelId}\n${w.delivery.deliveryKey}`;
      const original = first.get(key);
      if (!original) {
        first.set(key, w);
        continue;
      }
      // A copy sent at the same time: answered as a duplicate once the first is stored, failed if it fails.
      const { resolve, reject } = original;
      original.resolve = (id) => {
        resolve(id);
        w.resolve(null);
      };
      original.reject = (err) => {
        reject(err);
        w.reject(err);
      };
    }
    const unique = [...first.values()];
    let stored: Array<{ waiting: Waiting; id: number | null }>;
    try {
      stored = await this.insert(unique);
    } catch (err) {
      // Postgres refused a row (a data or constraint error, SQLSTATE class 22 or 23): the others are
      // retried one at a time, so only that one fails. Anything else (Postgres away) fails them all at once.
      const code = String((err as { code?: unknown }).code ?? '');
      if (unique.length === 1 || !/^2[23]/.test(code)) {
        for (const w of unique) w.reject(err as Error);
        return;
      }
      stored = [];
      for (const w of unique) {
        try {
          stored.push(...(await this.insert([w])));
        } catch (one) {
          w.reject(one as Error);
        }
      }
    }
    // Answered after the enqueue (as before the grouping), which is bounded; the writer's slot is free already.
    void this.enqueue(stored.flatMap((s) => (s.id === null ? [] : [s.id]))).finally(() => {
      for (const s of stored) s.waiting.resolve(s.id);
    });
  }

  private async insert(rows: Waiting[]): Promise<Array<{ waiting: Waiting; id: number | null }>> {
    const inserted = await this.db
      .insertInto('webhook_deliveries')
      .values(rows.map(({ delivery: d }) => ({ channel_id: d.channelId, delivery_key: d.deliveryKey, topic: d.topic, headers: JSON.stringify(d.headers), raw_body: d.rawBody })))
      .onConflict((oc) => oc.columns(['channel_id', 'delivery_key']).doNothing())
      .returning(['id', 'channel_id', 'delivery_key'])
      .execute();
    const ids = new Map(inserted.map((r) => [`${r.channel_id}\n${r.delivery_key}`, Number(r.id)]));
    return rows.map((w) => ({ waiting: w, id: ids.get(`${w.delivery.channelId}\n${w.delivery.deliveryKey}`) ?? null }));
  }

  /**
   * The delivery is safe in Postgres: its job gets a short bound. Past it the add may still land when
   * Redis is back (BullMQ's connection queues it), and the sweeper enqueues the pending delivery anyway
   * (same job id, so never twice).
   */
  private async enqueue(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    const jobs = ids.map((id) => ({ id: this.options.jobIdOf(id), data: { deliveryId: id } }));
    await withTimeout(this.queues.addBulk('webhooks', jobs), REQUEST_REDIS_TIMEOUT_MS, 'redis').catch((err) => {
      this.log.warn({ deliveries: ids, err: (err as Error).message }, 'could not enqueue webhooks; the sweeper will');
    });
  }
}

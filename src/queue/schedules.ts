/**
 * Recurring work through BullMQ job schedulers: a scheduler fires once per
 * slot however many daemons declare it, because it lives in Redis under a
 * fixed id. Declaring is idempotent, so every daemon re-declares them on a
 * timer: after a Redis flush the schedules come back by themselves.
 */
import type { App } from '../app.ts';
import { sql } from 'kysely';
import { jobId } from './queues.ts';

/** How often a channel's notification queue is read (jobs/order-notifications.ts). */
export const NOTIFICATION_POLL_MS = 5_000;

export interface ScheduleHandle {
  stop(): void;
}

/** Declares every schedule now and again every `everyMs` (default: the sweep interval). */
export function keepSchedules(app: App, everyMs = app.config.sweepIntervalSeconds * 1000): ScheduleHandle {
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = declareSchedules(app)
      .catch((err) => app.log.warn({ err: (err as Error).message }, 'could not declare schedules; retrying'))
      .finally(() => {
        running = null;
      });
  };
  tick();
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

export async function declareSchedules(app: App): Promise<void> {
  await app.queues
    .get('sweeper')
    .upsertJobScheduler('sweep', { every: app.config.sweepIntervalSeconds * 1000 }, { name: 'sweep', data: {} });

  // A paused channel is not polled (every run would only fail, asking for the same person): its
  // scheduler comes back once new credentials end the pause.
  const channels = await app.db.selectFrom('channels').select(['id', 'enabled', 'paused_at']).execute();
  const syncQueue = app.queues.get('sync-orders');
  for (const channel of channels) {
    const id = jobId('sync', channel.id);
    if (channel.enabled && !channel.paused_at) {
      await syncQueue.upsertJobScheduler(id, { every: app.config.syncIntervalSeconds * 1000 }, { name: 'sync', data: { channelId: channel.id } });
    } else {
      await syncQueue.removeJobScheduler(id);
    }
  }
  // Channels whose settings name a notification queue (Amazon's SQS) have it read every few seconds.
  const notifyQueue = app.queues.get('order-notifications');
  const queued = new Set(
    (await app.db.selectFrom('channels').select('id').where('enabled', '=', true).where('paused_at', 'is', null).where(sql<boolean>`settings ? 'sqsQueueUrl'`).execute()).map((c) => c.id),
  );
  for (const channel of channels) {
    const id = jobId('notify', channel.id);
    if (queued.has(channel.id)) await notifyQueue.upsertJobScheduler(id, { every: NOTIFICATION_POLL_MS }, { name: 'notify', data: { channelId: channel.id } });
    else await notifyQueue.removeJobScheduler(id);
  }
  // Schedulers of channels removed since.
  const known = new Set(channels.map((c) => jobId('sync', c.id)));
  for (const scheduler of await syncQueue.getJobSchedulers()) {
    if (scheduler.key && scheduler.key.startsWith('sync.') && !known.has(scheduler.key)) await syncQueue.removeJobScheduler(scheduler.key);
  }
  const notifying = new Set([...queued].map((id) => jobId('notify', id)));
  for (const scheduler of await notifyQueue.getJobSchedulers()) {
    if (scheduler.key && !notifying.has(scheduler.key)) await notifyQueue.removeJobScheduler(scheduler.key);
  }
}

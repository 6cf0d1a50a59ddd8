/** Every job module, in one list: the workers, the sweeper and the queue UI read it. */
import type { JobDefinition } from '../src/queue/job.ts';
import { syncOrdersJob } from './sync-orders.ts';
import { webhookJob } from './webhooks.ts';
import { channelPushJob } from './channel-push.ts';
import { sweeperJob } from './sweeper.ts';
import { reconcileStockJob } from './reconcile-stock.ts';
import { fulfilmentJob } from './fulfilment.ts';
import { notifyJob } from './notify.ts';
import { orderNotificationsJob } from './order-notifications.ts';

export const JOBS: JobDefinition[] = [syncOrdersJob, webhookJob, channelPushJob, reconcileStockJob, fulfilmentJob, notifyJob, orderNotificationsJob, sweeperJob(() => JOBS)];

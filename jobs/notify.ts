/**
 * notify: send one customer message recorded in the outbox
 * (`customer_messages`, see src/notify). Job ids come from the row's natural
 * key (`mail.<kind>.<order>[.<shipment>]`); the row is marked sent right after
 * the SMTP server accepts it. SMTP 4xx and lost connections retry; 5xx gives
 * up, and the row is marked failed for a person (`/api/failed-jobs`).
 */
import type { JobDefinition } from '../src/queue/job.ts';
import { markMessageFailed, sendMessage } from '../src/notify/deliver.ts';
import { pendingMessages } from '../src/notify/outbox.ts';

export interface NotifyData {
  messageId: number;
}

export const notifyJob: JobDefinition<NotifyData> = {
  queue: 'notify',
  handle: (app, data) => sendMessage(app, data.messageId),
  onFailed: (app, data, error) => markMessageFailed(app, data.messageId, error.message),
  sweep: (app, before) => pendingMessages(app.db, before),
};

/**
 * ORDER_CHANGE notifications from the seller's SQS queue, read with the AWS
 * SDK's SQS client (ReceiveMessage long poll, DeleteMessage once recorded).
 * https://developer-docs.amazon.com/sp-api/docs/notifications-api-v1-use-case-guide
 *
 * SP-API notifications are not signed: authenticity rests on the queue's
 * policy (only Amazon's notification account may send) and the AWS
 * credentials that read it. So a message is a hint: it names an order, the
 * job fetches that order from the API and acts on Amazon's answer; nothing
 * a message says cancels, deletes or dates anything. The inbox de-duplicates
 * on `NotificationMetadata.NotificationId` (SQS delivers at least once).
 * Polling getOrders stays the safety net: delivery order is no contract.
 *
 * The SDK is loaded lazily: channels without a queue never load it.
 */
import { z } from 'zod';
import type { Logger } from 'pino';
import { PermanentError, RetryableError } from '../../src/domain/errors.ts';
import type { QueuedNotification } from '../types.ts';

/** The envelope's required fields (schemas/notifications/OrderChangeNotification.json). */
export const orderChangeSchema = z.looseObject({
  NotificationVersion: z.string(),
  NotificationType: z.string(),
  PayloadVersion: z.string(),
  EventTime: z.string(),
  Payload: z.looseObject({
    OrderChangeNotification: z.looseObject({ AmazonOrderId: z.string().min(1), SellerId: z.string(), OrderChangeType: z.string().nullish() }).optional(),
  }),
  NotificationMetadata: z.looseObject({ NotificationId: z.string().min(1), SubscriptionId: z.string().nullish(), PublishTime: z.string().nullish() }),
});

export interface QueueOptions {
  queueUrl: string;
  region: string;
  /** SQS endpoint override (the simulator's); the region's endpoint when unset. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  sellerId: string;
  log: Logger;
}

/** Reads one message body into a notification, or null when it is not one (logged, then deleted: it can never become one). */
export function readNotification(body: string, receipt: string, sellerId: string): QueuedNotification | null {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }
  const parsed = orderChangeSchema.safeParse(json);
  if (!parsed.success) return null;
  const change = parsed.data.Payload.OrderChangeNotification;
  // A notification for another seller's order is not ours to fetch.
  if (change && change.SellerId !== sellerId) return null;
  return {
    notificationId: parsed.data.NotificationMetadata.NotificationId,
    orderExternalId: change?.AmazonOrderId ?? null,
    topic: parsed.data.NotificationType,
    receipt,
    raw: json,
  };
}

type Sqs = import('@aws-sdk/client-sqs').SQSClient;

/** Seconds a received message stays hidden from other readers. */
export const VISIBILITY_TIMEOUT_S = 300;

export class NotificationQueue {
  private client: Sqs | null = null;
  private sdk: typeof import('@aws-sdk/client-sqs') | null = null;

  constructor(private readonly options: QueueOptions) {}

  private async sqs(): Promise<{ client: Sqs; sdk: typeof import('@aws-sdk/client-sqs') }> {
    if (!this.sdk || !this.client) {
      this.sdk = await import('@aws-sdk/client-sqs');
      this.client = new this.sdk.SQSClient({
        region: this.options.region,
        ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
        ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
        maxAttempts: 3,
      });
    }
    return { client: this.client, sdk: this.sdk };
  }

  async poll(waitSeconds: number): Promise<QueuedNotification[]> {
    const { client, sdk } = await this.sqs();
    let out;
    try {
      out = await client.send(
        new sdk.ReceiveMessageCommand({
          QueueUrl: this.options.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: Math.max(0, Math.min(20, waitSeconds)),
          // Long enough for the fetches of a batch (getOrder refills 0.5/s); a message not deleted by then comes back.
          VisibilityTimeout: VISIBILITY_TIMEOUT_S,
        }),
      );
    } catch (err) {
      throw classify(err, 'reading the notification queue');
    }
    const notes: QueuedNotification[] = [];
    const junk: string[] = [];
    for (const m of out.Messages ?? []) {
      if (!m.ReceiptHandle) continue;
      const note = m.Body ? readNotification(m.Body, m.ReceiptHandle, this.options.sellerId) : null;
      if (note) notes.push(note);
      else junk.push(m.ReceiptHandle);
    }
    if (junk.length) {
      this.options.log.warn({ count: junk.length }, 'amazon queue: messages that are not ORDER_CHANGE notifications of this seller, deleted');
      await this.ack(junk);
    }
    return notes;
  }

  async ack(receipts: string[]): Promise<void> {
    const { client, sdk } = await this.sqs();
    for (const receipt of receipts) {
      try {
        await client.send(new sdk.DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: receipt }));
      } catch (err) {
        // Not deleted: the message comes back after its visibility timeout and the inbox knows it. Never a reason to give up.
        const e = classify(err, 'deleting a notification');
        throw e instanceof RetryableError ? e : new RetryableError(e.message);
      }
    }
  }

  close(): void {
    this.client?.destroy();
  }
}

function classify(err: unknown, what: string): Error {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (status && status >= 400 && status < 500 && status !== 429) {
    return new PermanentError(`Amazon SQS refused ${what} (${e.name ?? status}: ${e.message ?? ''}): check the queue URL and the AWS credentials of this channel`);
  }
  return new RetryableError(`Amazon SQS ${what} failed: ${e.name ?? ''} ${e.message ?? String(err)}`);
}

/**
 * Who tells the customer what: decided in one place so the push and the mail
 * outbox can never both (or neither) notify.
 *
 * - Mail is on when SMTP_URL (or MAIL_DIR, files instead of SMTP) is set; MAIL_FROM is then required by config.
 * - Shipping confirmation and delivery notice: channelsync sends them when mail
 *   is on and the channel's `customerMessages` is `channelsync`; otherwise the
 *   channel is asked to (`notifyCustomer: true` on the push).
 * - Feedback request: channelsync, whenever mail is on (no channel sends one).
 */
import type { Config } from '../config.ts';
import { customerMessagesOf } from '../../connectors/customer-messages.ts';

type MailConfig = Pick<Config, 'smtpUrl' | 'mailDir' | 'mailFrom'>;

export function mailEnabled(config: MailConfig): boolean {
  return (config.smtpUrl !== null || config.mailDir !== null) && config.mailFrom !== null;
}

/** True when channelsync, not the channel, sends this channel's shipping and delivery messages. */
export function channelsyncNotifies(config: MailConfig, channelSettings: unknown): boolean {
  return mailEnabled(config) && customerMessagesOf(channelSettings) === 'channelsync';
}

/** One line at daemon start saying where customer e-mail goes, or that it is off and how to turn it on. */
export function mailStatusLine(config: Pick<Config, 'smtpUrl' | 'mailDir' | 'mailFrom' | 'feedbackAfterDays'>): { on: boolean; where: string | null; message: string } {
  if (!mailEnabled(config)) {
    return {
      on: false,
      where: null,
      message:
        'customer e-mails are off: set SMTP_URL and MAIL_FROM to send shipping confirmations, delivery notices and feedback requests (the channels keep notifying their customers meanwhile)',
    };
  }
  const where = config.smtpUrl ? smtpWhere(config.smtpUrl) : `files in ${config.mailDir}`;
  return { on: true, where, message: `customer e-mails go to ${where}; feedback requests ${config.feedbackAfterDays} days after delivery` };
}

/** `smtp://user:pass@host:587` -> `smtp://host:587`: what the log may say. */
export function smtpWhere(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
}

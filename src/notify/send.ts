/**
 * Handing one message to the mail system: SMTP through nodemailer (SMTP_URL),
 * or a `.eml` file per message in MAIL_DIR (the demo; nothing leaves the
 * machine). One transporter per process, no connection pool: a message opens
 * its own connection and closes it, so nothing lingers between jobs.
 *
 * SMTP answers are classified like channel answers: a 4xx reply (greylisting,
 * mailbox busy, server throttling) and a lost connection or timeout are
 * `RetryableError`; a 5xx reply (no such mailbox, refused sender, failed
 * authentication) is `PermanentError`: recorded for a person, never retried by
 * itself.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Config } from '../config.ts';
import { PermanentError, RetryableError } from '../domain/errors.ts';
import { smtpWhere } from './policy.ts';

export interface OutgoingMail {
  messageId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Accepted {
  /** The server's reply to the message ("250 2.0.0 Ok: queued as ..."), or the file written. */
  response: string;
}

export interface MailSender {
  /** Where messages go, for the log (no credentials). */
  readonly describe: string;
  send(mail: OutgoingMail): Promise<Accepted>;
}

type MailConfig = Pick<Config, 'smtpUrl' | 'mailDir' | 'mailFrom'>;

const senders = new WeakMap<object, MailSender>();

/** The sender for this configuration (one per frozen config object, so per app); null when mail is off. */
export function mailSender(config: MailConfig): MailSender | null {
  if (!config.mailFrom || (!config.smtpUrl && !config.mailDir)) return null;
  let sender = senders.get(config);
  if (!sender) {
    sender = config.smtpUrl ? smtpSender(config.smtpUrl, config.mailFrom) : dirSender(config.mailDir!, config.mailFrom);
    senders.set(config, sender);
  }
  return sender;
}


function smtpSender(url: string, from: string): MailSender {
  const transport = nodemailer.createTransport({
    url,
    // nodemailer's defaults (2 min to connect, 10 min of socket silence) outlast a job's lock and the
    // message's claim; a server that slow is "try later".
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
  });
  return {
    describe: smtpWhere(url),
    async send(mail) {
      try {
        const info = await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, messageId: mail.messageId });
        if (info.rejected.length > 0 && info.accepted.length === 0) {
          throw new PermanentError(`the SMTP server refused the recipient ${mail.to}: ${info.response}`);
        }
        return { response: info.response };
      } catch (err) {
        throw classifySmtpError(err);
      }
    },
  };
}

/** An SMTP failure as retry-later or give-up (see the file comment). */
export function classifySmtpError(err: unknown): Error {
  if (err instanceof PermanentError || err instanceof RetryableError) return err;
  const e = err as { message?: string; code?: string; responseCode?: number; response?: string };
  const said = e.response ? `: ${e.response}` : e.message ? `: ${e.message}` : '';
  if (typeof e.responseCode === 'number' && e.responseCode >= 500) {
    return new PermanentError(`the SMTP server refused the message (${e.responseCode})${said}`, { cause: err });
  }
  if (typeof e.responseCode === 'number' && e.responseCode >= 400) {
    return new RetryableError(`the SMTP server asked to try later (${e.responseCode})${said}`, undefined, { cause: err });
  }
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH' || e.code === 'ECONFIG') {
    return new PermanentError(`SMTP_URL does not work (${e.code})${said}`, { cause: err });
  }
  // Refused before anything was sent: an address nodemailer cannot use (the channel's customer e-mail is not one).
  if (e.code === 'EENVELOPE') return new PermanentError(`the message cannot be addressed${said}`, { cause: err });
  return new RetryableError(`could not reach the SMTP server (${e.code ?? 'error'})${said}`, undefined, { cause: err });
}

function dirSender(dir: string, from: string): MailSender {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    describe: `files in ${dir}`,
    async send(mail) {
      const info = await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, messageId: mail.messageId });
      mkdirSync(dir, { recursive: true });
      const name = `${mail.messageId.replace(/[^A-Za-z0-9.@-]/g, '')}.eml`;
      const file = join(dir, name);
      // Written whole, then renamed: a reader never sees half a message.
      writeFileSync(`${file}.tmp`, info.message as Buffer);
      renameSync(`${file}.tmp`, file);
      return { response: `written to ${file}` };
    },
  };
}

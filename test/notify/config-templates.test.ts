/**
 * The mail settings and templates: SMTP_URL needs MAIL_FROM and is never
 * echoed; mail off means the channels keep notifying; a merchant's template
 * folder replaces parts of the built-in templates, and a template with a typo
 * is refused naming the file, never mailed with blanks.
 */
import { mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { pruneMailDir } from '../../src/demo.ts';
import { simpleParser } from 'mailparser';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { channelsyncNotifies, mailStatusLine } from '../../src/notify/policy.ts';
import { DEFAULT_TEMPLATES, loadTemplates, render, type MessageValues } from '../../src/notify/templates.ts';
import { classifySmtpError, mailSender } from '../../src/notify/send.ts';
import { PermanentError, RetryableError } from '../../src/domain/errors.ts';

const values: MessageValues = {
  shop: 'Mugs & <Co>', order_number: '#1001', customer_name: 'Ada', carrier: 'UPS', service: '', tracking_number: '1Z1',
  tracking_url: 'https://www.ups.com/track?tracknum=1Z1&x=<y>', items: '1 x Mug', feedback_url: '', feedback_expires: '',
};

describe('mail settings', () => {
  it('wants MAIL_FROM with SMTP_URL, and never echoes SMTP_URL (it may hold a password)', () => {
    expect(() => loadConfig({ SMTP_URL: 'smtp://u:secret-pw@mail.example:587' })).toThrow(/^MAIL_FROM must be set with SMTP_URL/);
    let message = '';
    try {
      loadConfig({ SMTP_URL: 'http://u:secret-pw@mail.example' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^SMTP_URL must be a URL starting with smtp:\/\/ or smtps:\/\//);
    expect(message).not.toContain('secret-pw');
    expect(() => loadConfig({ FEEDBACK_AFTER_DAYS: '-1' })).toThrow(/^FEEDBACK_AFTER_DAYS must be a number of days from 0 to 365/);
    expect(() => loadConfig({ MAIL_FROM: 'not an address' })).toThrow(/^MAIL_FROM must be an address/);
    expect(loadConfig({ FEEDBACK_AFTER_DAYS: '0.001' }).feedbackAfterDays).toBe(0.001);
  });

  it('with no SMTP_URL, channelsync sends nothing, lets every channel notify, and says so', () => {
    const off = loadConfig({});
    expect(channelsyncNotifies(off, { customerMessages: 'channelsync' })).toBe(false);
    expect(mailStatusLine(off)).toMatchObject({ on: false, message: expect.stringMatching(/customer e-mails are off: set SMTP_URL and MAIL_FROM/) });
    const on = loadConfig({ SMTP_URL: 'smtp://u:secret-pw@mail.example:587', MAIL_FROM: 'shop@example.com' });
    expect(channelsyncNotifies(on, { customerMessages: 'channelsync' })).toBe(true);
    expect(channelsyncNotifies(on, { customerMessages: 'channel' })).toBe(false);
    expect(channelsyncNotifies(on, {})).toBe(false);
    expect(mailStatusLine(on).message).toBe('customer e-mails go to smtp://mail.example:587; feedback requests 7 days after delivery');
    expect(mailStatusLine(on).message).not.toContain('secret-pw');
  });

  it('classifies SMTP answers: 4xx and lost connections retry, 5xx and bad credentials give up', () => {
    expect(classifySmtpError(Object.assign(new Error('greylisted'), { responseCode: 451, response: '451 4.7.1 try later' }))).toBeInstanceOf(RetryableError);
    expect(classifySmtpError(Object.assign(new Error('nope'), { responseCode: 550, response: '550 5.1.1 no such user' }))).toBeInstanceOf(PermanentError);
    expect(classifySmtpError(Object.assign(new Error('Invalid login'), { code: 'EAUTH', responseCode: 535 }))).toBeInstanceOf(PermanentError);
    expect(classifySmtpError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }))).toBeInstanceOf(RetryableError);
    expect(classifySmtpError(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }))).toBeInstanceOf(RetryableError);
    expect(classifySmtpError(Object.assign(new Error('No recipients defined'), { code: 'EENVELOPE' }))).toBeInstanceOf(PermanentError);
  });
});

describe('MAIL_DIR', () => {
  it('writes each message as a whole .eml file a mail client can open', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cs-maildir-')), 'mail');
    const sender = mailSender(loadConfig({ MAIL_DIR: dir, MAIL_FROM: 'Shop <shop@shop.example>' }))!;
    expect(sender.describe).toBe(`files in ${dir}`);
    const accepted = await sender.send({ messageId: '<cs.shipping.1.2.abc@shop.example>', to: 'ada@customer.example', subject: 'Shipped', text: 'plain', html: '<p>html</p>' });
    const files = readdirSync(dir);
    expect(files).toEqual(['cs.shipping.1.2.abc@shop.example.eml']);
    expect(accepted.response).toBe(`written to ${join(dir, files[0]!)}`);
    const mail = await simpleParser(readFileSync(join(dir, files[0]!)));
    expect(mail).toMatchObject({ subject: 'Shipped', text: 'plain', html: '<p>html</p>', messageId: '<cs.shipping.1.2.abc@shop.example>' });
    expect(mail.to).toMatchObject({ value: [{ address: 'ada@customer.example' }] });
  });
});

describe('the demo keeps its mail folder bounded', () => {
  it('deletes all but the newest .eml files, and nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-demomail-'));
    for (let i = 0; i < 5; i++) {
      writeFileSync(join(dir, `m${i}.eml`), 'x');
      utimesSync(join(dir, `m${i}.eml`), 1_000 + i, 1_000 + i);
    }
    writeFileSync(join(dir, 'notes.txt'), 'keep me');
    expect(pruneMailDir(dir, 2)).toBe(3);
    expect(readdirSync(dir).sort()).toEqual(['m3.eml', 'm4.eml', 'notes.txt']);
    expect(pruneMailDir(join(dir, 'missing'), 2)).toBe(0);
  });
});

describe('mail templates', () => {
  it('renders the built-in parts, escaping values in HTML and keeping sections only with a value', () => {
    const mail = render(DEFAULT_TEMPLATES.shipping, values, 'shipping');
    expect(mail.subject).toBe('Your order #1001 has shipped');
    expect(mail.text).toContain('on its way with UPS.\n');
    expect(mail.text).toContain('Track it here: https://www.ups.com/track?tracknum=1Z1&x=<y>');
    expect(mail.html).toContain('<a href="https://www.ups.com/track?tracknum=1Z1&amp;x=&lt;y&gt;">Track your parcel</a>');
    expect(mail.html).toContain('Mugs &amp; &lt;Co&gt;');
    expect(render(DEFAULT_TEMPLATES.shipping, { ...values, tracking_url: '' }, 'shipping').html).not.toContain('Track your parcel');
  });

  it('takes the parts a merchant puts in MAIL_TEMPLATES_DIR and keeps the built-in ones for the rest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-templates-'));
    writeFileSync(join(dir, 'shipping.subject.txt'), '{{shop}}: {{order_number}}\nis on its way');
    writeFileSync(join(dir, 'shipping.txt'), 'Hi {{customer_name}}, {{tracking_number}}{{#service}} ({{service}}){{/service}}');
    const t = loadTemplates(dir);
    const mail = render(t.shipping, values, 'shipping');
    expect(mail.subject).toBe('Mugs & <Co>: #1001 is on its way');
    expect(mail.text).toBe('Hi Ada, 1Z1');
    expect(mail.html).toBe(render(DEFAULT_TEMPLATES.shipping, values, 'shipping').html);
    expect(t.feedback).toEqual(DEFAULT_TEMPLATES.feedback);
  });

  it('refuses a template with an unknown value or an open section, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-templates-'));
    writeFileSync(join(dir, 'delivery.html'), '<p>{{tracking_numbr}}</p>');
    expect(() => loadTemplates(dir)).toThrow(/^mail template delivery\.html: unknown value \{\{tracking_numbr\}\} \(known: shop, order_number/);
    const open = mkdtempSync(join(tmpdir(), 'cs-templates-'));
    writeFileSync(join(open, 'feedback.txt'), '{{#feedback_url}}rate us');
    expect(() => loadTemplates(open)).toThrow(/feedback\.txt: \{\{#feedback_url\}\} is never closed/);
  });
});

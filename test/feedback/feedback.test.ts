/**
 * The customer's feedback page: a signed link rates its one order, until it
 * expires; a second submission replaces the first; a low rating is flagged
 * for a person and shows on the dashboard, with the channel's satisfaction.
 */
import { describe, expect, it } from 'vitest';
import { adminServer } from '../helpers/admin-server.ts';
import { channel, placeOrder } from '../fulfilment/fixtures.ts';
import { feedbackKey, signFeedbackToken } from '../../src/feedback/token.ts';

const TOKEN = 'feedback-admin-token-0123456789';
const admin = adminServer(TOKEN);
const form = { 'content-type': 'application/x-www-form-urlencoded' };

const link = (orderId: number, expires = new Date(Date.now() + 86_400_000)) =>
  `/feedback/${signFeedbackToken(feedbackKey(admin.t.app.config.secretKey!), orderId, expires)}`;

const ratingOf = (orderId: number) => admin.t.app.db.selectFrom('feedback').selectAll().where('order_id', '=', orderId).executeTakeFirst();

describe('feedback page', () => {
  it('shows the form for the order its link names, and records a rating', async () => {
    const { app } = admin.t;
    const channelId = await channel(app, 'Shop <b>&</b> Co');
    const orderId = await placeOrder(app, channelId, [['FB-1', 1]]);
    const { order_number } = await app.db.selectFrom('orders').select('order_number').where('id', '=', orderId).executeTakeFirstOrThrow();
    const page = await admin.server.inject({ method: 'GET', url: link(orderId) });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`How was your order ${order_number} from Shop &#60;b&#62;&#38;&#60;/b&#62; Co?`);
    expect(page.body).toContain(`action="${link(orderId).replace(/&/g, '&#38;')}"`);

    const sent = await admin.server.inject({ method: 'POST', url: link(orderId), headers: form, payload: 'rating=5&comment=Great%20mug%21%0D%0AThanks' });
    expect(sent.statusCode).toBe(200);
    expect(sent.body).toContain('Your rating of 5 of 5');
    expect(await ratingOf(orderId)).toMatchObject({ rating: 5, comment: 'Great mug!\nThanks', flagged: false, submissions: 1 });
    const again = await admin.server.inject({ method: 'GET', url: link(orderId) });
    expect(again.body).toContain('You rated it 5 of 5');
    expect(again.body).toContain('value="5" checked');
  });

  it('a second submission replaces the rating (one per order); a low one is flagged and on the dashboard', async () => {
    const { app } = admin.t;
    const channelId = await channel(app, 'second-shop');
    const orderId = await placeOrder(app, channelId, [['FB-2', 1]]);
    await admin.server.inject({ method: 'POST', url: link(orderId), headers: form, payload: 'rating=4' });
    const low = await admin.server.inject({ method: 'POST', url: link(orderId), headers: form, payload: 'rating=1&comment=Broken' });
    expect(low.statusCode).toBe(200);
    expect(low.body).toContain('someone will look at your order');
    expect(await ratingOf(orderId)).toMatchObject({ rating: 1, comment: 'Broken', flagged: true, submissions: 2 });
    expect(await app.db.selectFrom('feedback').select('order_id').where('order_id', '=', orderId).execute()).toHaveLength(1);

    const dashboard = await admin.server.inject({ method: 'GET', url: '/admin', headers: admin.auth });
    expect(dashboard.body).toMatch(/id="low-ratings"><span class="muted">Low ratings to look at<\/span><b class="bad">1<\/b>/);
    expect(dashboard.body).toMatch(new RegExp(`<tr data-channel="${channelId}"><td>second-shop</td><td class="num">1</td>\\s*<td class="num">1\\.00 / 5</td><td class="num">0%</td>\\s*<td class="num bad">1</td>`));

    const flagged = await admin.server.inject({ method: 'GET', url: '/api/feedback?flagged=true', headers: admin.auth });
    expect(flagged.json().items).toEqual([expect.objectContaining({ order_id: orderId, rating: 1, comment: 'Broken', flagged: true })]);
    const detail = await admin.server.inject({ method: 'GET', url: `/api/orders/${orderId}`, headers: admin.auth });
    expect(detail.json().feedback).toMatchObject({ rating: 1, flagged: true });
    const satisfaction = await admin.server.inject({ method: 'GET', url: '/api/feedback/satisfaction', headers: admin.auth });
    expect(satisfaction.json().channels).toContainEqual({ channel_id: channelId, name: 'second-shop', ratings: 1, average: 1, satisfied_percent: 0, flagged: 1 });

    const resolved = await admin.server.inject({ method: 'POST', url: `/api/feedback/${orderId}/resolve`, headers: admin.auth });
    expect(resolved.statusCode).toBe(200);
    expect((await ratingOf(orderId))!.flagged).toBe(false);
    expect((await admin.server.inject({ method: 'POST', url: `/api/feedback/${orderId}/resolve`, headers: admin.auth })).statusCode).toBe(404);
  });

  it('refuses a tampered link (403), an expired one (410), and never rates another order', async () => {
    const { app } = admin.t;
    const channelId = await channel(app, 'third-shop');
    const mine = await placeOrder(app, channelId, [['FB-3', 1]]);
    const other = await placeOrder(app, channelId, [['FB-3', 1]]);
    const good = link(mine).slice('/feedback/'.length);
    const [, expires, sig] = good.split('.');
    const flipped = sig!.slice(0, -2) + (sig!.at(-2) === 'A' ? 'B' : 'A') + sig!.at(-1);
    const tampered = [`${other}.${expires}.${sig}`, `${mine}.${Number(expires) + 86_400}.${sig}`, `${mine}.${expires}.${flipped}`, `${mine}.${expires}`, good.toUpperCase()];
    for (const token of tampered) {
      const get = await admin.server.inject({ method: 'GET', url: `/feedback/${token}` });
      expect(get.statusCode, token).toBe(403);
      expect(get.body).toContain('This feedback link is not valid');
      const post = await admin.server.inject({ method: 'POST', url: `/feedback/${token}`, headers: form, payload: 'rating=1' });
      expect(post.statusCode, token).toBe(403);
    }
    const expired = link(mine, new Date(Date.now() - 1000));
    const old = await admin.server.inject({ method: 'POST', url: expired, headers: form, payload: 'rating=1' });
    expect(old.statusCode).toBe(410);
    expect(old.body).toContain('expired');
    expect(await ratingOf(mine)).toBeUndefined();
    expect(await ratingOf(other)).toBeUndefined();
    // A link made with another key (another shop's channelsync) is not valid here.
    const foreign = signFeedbackToken(feedbackKey(Buffer.alloc(32, 7)), mine, new Date(Date.now() + 86_400_000));
    expect((await admin.server.inject({ method: 'GET', url: `/feedback/${foreign}` })).statusCode).toBe(403);
  });

  it('answers a bad rating or comment with the form again (400), keeping what was typed', async () => {
    const { app } = admin.t;
    const orderId = await placeOrder(app, await channel(app, 'fourth-shop'), [['FB-4', 1]]);
    for (const payload of ['', 'rating=6', 'rating=0', 'rating=4.5', 'rating=%205', 'rating=1e0', 'rating=5&rating=1', `rating=3&comment=${'x'.repeat(2001)}`, 'rating=3&comment=a%00b']) {
      const res = await admin.server.inject({ method: 'POST', url: link(orderId), headers: form, payload });
      if (payload === 'rating=5&rating=1') {
        // URLSearchParams takes the first: a valid 5, one rating.
        expect(res.statusCode).toBe(200);
        continue;
      }
      expect(res.statusCode, payload).toBe(400);
      expect(res.body).toMatch(/Please|cannot store/);
    }
    const kept = await admin.server.inject({ method: 'POST', url: link(orderId), headers: form, payload: 'rating=9&comment=%3Cscript%3Ealert(1)%3C%2Fscript%3E' });
    expect(kept.body).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(kept.body).not.toContain('<script>');
    expect(await ratingOf(orderId)).toMatchObject({ rating: 5, submissions: 1 });
  });
});

/**
 * Hostile input on the customer feedback page, which is open without login:
 * every hostile token and every hostile body gets a clean 4xx page (or the
 * form), never a 500, never an internal message, and never a rating it should
 * not write.
 */
import { describe, expect, it } from 'vitest';
import { adminServer } from '../helpers/admin-server.ts';
import { channel, placeOrder } from '../fulfilment/fixtures.ts';
import { feedbackKey, signFeedbackToken } from '../../src/feedback/token.ts';

const admin = adminServer('hostile-feedback-token-0123456789');
const INTERNAL = /TypeError|RangeError|ZodError|SyntaxError|postgres|relation "|column "|violates|invalid input syntax|out of range for type|\bat .+\.ts:\d+/i;

/** Path values, URL-encoded as a client would send them. */
const TOKENS = ['%00', 'a%00b', '1.1.1', '0.0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '99999999999999999999.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '-1.1.x', 'x'.repeat(5000), '%E0%A4%A', '%F0%9F%92%A9', "'%3B%20DROP%20TABLE%20feedback%3B--", '..%2F..%2Fetc%2Fpasswd', '1e3.1.a', ''];
const BODIES: Array<{ type: string; body: string | Buffer }> = [
  { type: 'application/x-www-form-urlencoded', body: 'rating=%E0%A4%A&comment=%FF%FE' },
  { type: 'application/x-www-form-urlencoded', body: 'rating=3&comment=%C0%AF%ED%A0%80' },
  { type: 'application/x-www-form-urlencoded', body: '%00=%00&rating=%00' },
  { type: 'application/x-www-form-urlencoded', body: 'rating=99999999999999999999999' },
  { type: 'application/x-www-form-urlencoded', body: `rating=3&comment=${'%F0%9F%92%A9'.repeat(600)}` },
  { type: 'application/x-www-form-urlencoded', body: 'a'.repeat(20 * 1024) },
  { type: 'application/x-www-form-urlencoded', body: Buffer.from([0xff, 0xfe, 0x00, 0x72, 0x61]) },
  { type: 'application/json', body: '{"rating":5}' },
  { type: 'text/plain', body: 'rating=5' },
  { type: 'multipart/form-data; boundary=x', body: '--x\r\nContent-Disposition: form-data; name="rating"\r\n\r\n5\r\n--x--' },
];

describe('feedback page: hostile input', () => {
  it('refuses hostile tokens with a clean 4xx page', async () => {
    for (const token of TOKENS) {
      for (const method of ['GET', 'POST'] as const) {
        const res = await admin.server.inject({ method, url: `/feedback/${token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: method === 'POST' ? 'rating=5' : undefined });
        expect(res.statusCode, `${method} ${token.slice(0, 80)}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, `${method} ${token.slice(0, 80)}`).toBeLessThan(500);
        expect(res.body).not.toMatch(INTERNAL);
      }
    }
    expect(await admin.t.app.db.selectFrom('feedback').select('order_id').execute()).toEqual([]);
  });

  it('answers hostile bodies on a valid link without a 500, storing only a valid rating', async () => {
    const { app } = admin.t;
    const orderId = await placeOrder(app, await channel(app, 'hostile-feedback-shop'), [['HF-1', 1]]);
    const url = `/feedback/${signFeedbackToken(feedbackKey(app.config.secretKey!), orderId, new Date(Date.now() + 86_400_000))}`;
    for (const { type, body } of BODIES) {
      const res = await admin.server.inject({ method: 'POST', url, headers: { 'content-type': type }, payload: body });
      expect(res.statusCode, `${type} ${String(body).slice(0, 60)}`).toBeLessThan(500);
      expect(res.body).not.toMatch(INTERNAL);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
    }
    const rows = await app.db.selectFrom('feedback').selectAll().where('order_id', '=', orderId).execute();
    // Only the bodies with a real rating of 3 and a readable comment could be stored.
    for (const r of rows) expect(r.rating).toBe(3);
    expect(rows.length).toBeLessThanOrEqual(1);
  });
});

/**
 * The customer's feedback page, open without login: the link itself is the
 * credential (src/feedback/token.ts), naming one order until it expires.
 *
 * GET  /feedback/:token  the form (with the rating given so far, if any)
 * POST /feedback/:token  rating=1..5&comment=... (a form post)
 *
 * A tampered or malformed link is a 403 page, an expired one 410, an order
 * that no longer exists 404; a bad rating or comment is a 400 page that keeps
 * what was typed. Nothing here answers 500 for anything a client sends
 * (test/hostile/feedback.test.ts).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { App } from '../app.ts';
import { feedbackKey, verifyFeedbackToken } from '../feedback/token.ts';
import { feedbackOf, MAX_COMMENT, recordFeedback } from '../feedback/store.ts';
import { feedbackForm, refusalPage, thanksPage } from '../feedback/page.ts';

/** Nothing a link carries can be longer than this; a longer one is refused before any work. */
const MAX_TOKEN = 120;

export function feedbackRoutes(server: FastifyInstance, app: App): void {
  const key = app.config.secretKey ? feedbackKey(app.config.secretKey) : null;

  server.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
      done(null, new URLSearchParams(body as string));
    });
    scope.setErrorHandler((err, request, reply) => {
      const status = (err as { statusCode?: number }).statusCode;
      if (status && status >= 400 && status < 500) return html(reply, status, refusalPage(status === 415 ? 'Please send the form from the page.' : 'The request could not be read.'));
      request.log.error({ err }, 'feedback page error');
      return html(reply, 500, refusalPage('Something went wrong on our side. Please try again later.'));
    });

    const open = async (token: string, reply: FastifyReply) => {
      if (!key) {
        await html(reply, 404, refusalPage('Feedback is not set up on this shop.'));
        return null;
      }
      const check = token.length <= MAX_TOKEN ? verifyFeedbackToken(key, token) : ({ ok: false, reason: 'invalid' } as const);
      if (!check.ok) {
        await (check.reason === 'expired'
          ? html(reply, 410, refusalPage('This feedback link has expired. Thank you all the same.'))
          : html(reply, 403, refusalPage('This feedback link is not valid. Please use the link from your e-mail as it is.')));
        return null;
      }
      const order = await app.db
        .selectFrom('orders')
        .innerJoin('channels', 'channels.id', 'orders.channel_id')
        .select(['orders.id', 'orders.order_number', 'channels.name as shop'])
        .where('orders.id', '=', check.orderId)
        .executeTakeFirst();
      if (!order) {
        await html(reply, 404, refusalPage('We cannot find this order any more.'));
        return null;
      }
      return { ...order, action: `/feedback/${token}` };
    };

    scope.get<{ Params: { token: string } }>('/feedback/:token', async (request, reply) => {
      const order = await open(request.params.token, reply);
      if (!order) return reply;
      const given = await feedbackOf(app.db, order.id);
      return html(reply, 200, feedbackForm({ shop: order.shop, orderNumber: order.order_number, action: order.action, rating: given?.rating, comment: given?.comment }));
    });

    scope.post<{ Params: { token: string } }>('/feedback/:token', async (request, reply) => {
      const order = await open(request.params.token, reply);
      if (!order) return reply;
      const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
      const ratingText = form.get('rating') ?? '';
      const comment = (form.get('comment') ?? '').replace(/\r\n/g, '\n').trim();
      const again = (error: string) =>
        html(reply, 400, feedbackForm({ shop: order.shop, orderNumber: order.order_number, action: order.action, comment, error }));
      if (!/^[1-5]$/.test(ratingText)) return again('Please choose a rating from 1 to 5.');
      if (comment.length > MAX_COMMENT) return again(`Please keep the comment under ${MAX_COMMENT} characters.`);
      // Postgres text cannot hold NUL; other control characters are dropped, line breaks and tabs kept.
      if (comment.includes('\u0000')) return again('The comment contains characters we cannot store.');
      const clean = comment.replace(/[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
      const rating = Number(ratingText);
      const saved = await app.db.transaction().execute((trx) => recordFeedback(trx, { orderId: order.id, rating, comment: clean }));
      if (saved.flagged) request.log.warn({ order: order.id, rating }, 'low customer rating: flagged for a person');
      return html(reply, 200, thanksPage({ shop: order.shop, orderNumber: order.order_number, rating }));
    });
  });
}

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send(body);
}

/**
 * The customer's feedback page: the shop's name, the order number, five
 * choices and a comment box. Self-contained HTML (no scripts, no external
 * resources), every value escaped; the same layout answers refusals (a bad or
 * expired link) with the status code that says why.
 */
const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2433; background: #f6f7f9; }
  main { max-width: 520px; margin: 3rem auto; background: #fff; border: 1px solid #e3e6ec; padding: 1.5rem 2rem; }
  h1 { font-size: 1.3rem; margin: 0 0 1rem; } .muted { color: #687083; } .error { color: #b42318; }
  fieldset { border: 0; padding: 0; margin: 1rem 0; display: flex; gap: .5rem; }
  label.star { flex: 1; text-align: center; border: 1px solid #c9ced8; padding: .6rem 0; cursor: pointer; }
  label.star input { display: block; margin: 0 auto .2rem; }
  textarea { font: inherit; width: 100%; box-sizing: border-box; min-height: 6rem; padding: .5rem; border: 1px solid #c9ced8; }
  button { font: inherit; margin-top: 1rem; padding: .6rem 1.2rem; border: 0; background: #2f5bea; color: #fff; cursor: pointer; }
`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

const LABELS = ['', 'Very poor', 'Poor', 'OK', 'Good', 'Excellent'];

export function feedbackForm(input: { shop: string; orderNumber: string; action: string; rating?: number; comment?: string; error?: string }): string {
  const stars = [1, 2, 3, 4, 5]
    .map((n) => `<label class="star"><input type="radio" name="rating" value="${n}"${input.rating === n ? ' checked' : ''} required>${n}<br><span class="muted">${LABELS[n]}</span></label>`)
    .join('');
  return layout(
    `Your order ${input.orderNumber}`,
    `<h1>How was your order ${esc(input.orderNumber)} from ${esc(input.shop)}?</h1>
${input.error ? `<p class="error">${esc(input.error)}</p>` : ''}
${input.rating && !input.error ? `<p class="muted">You rated it ${input.rating} of 5. You may change your rating.</p>` : ''}
<form method="post" action="${esc(input.action)}">
<fieldset>${stars}</fieldset>
<label for="comment">Anything you would like to tell us? (optional)</label>
<textarea id="comment" name="comment" maxlength="2000">${esc(input.comment ?? '')}</textarea>
<button type="submit">Send</button>
</form>`,
  );
}

export function thanksPage(input: { shop: string; orderNumber: string; rating: number }): string {
  return layout(
    'Thank you',
    `<h1>Thank you!</h1><p>Your rating of ${input.rating} of 5 for order ${esc(input.orderNumber)} reached ${esc(input.shop)}.</p>
<p class="muted">${input.rating <= 2 ? 'We are sorry it was not better: someone will look at your order.' : 'You can close this page.'}</p>`,
  );
}

export function refusalPage(message: string): string {
  return layout('Feedback', `<h1>This link does not work</h1><p class="error">${esc(message)}</p>`);
}

/** Small helpers for the server-rendered admin pages: escaping and one shared layout. */

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
  :root { color-scheme: light; --ink: #1d2433; --muted: #687083; --line: #e3e6ec; --bad: #b42318; --ok: #067647; --accent: #2f5bea; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f6f7f9; }
  header { display: flex; gap: 1.5rem; align-items: center; padding: .75rem 1.5rem; background: #111827; color: #fff; }
  header a { color: #c7d2fe; text-decoration: none; } header a:hover { color: #fff; }
  header .brand { font-weight: 600; color: #fff; margin-right: auto; }
  main { max-width: 1200px; margin: 0 auto; padding: 1.25rem 1.5rem 3rem; }
  h1 { font-size: 1.25rem; margin: 0 0 1rem; } h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
  table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
  th, td { text-align: left; padding: .45rem .7rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .bad { color: var(--bad); font-weight: 600; } .ok { color: var(--ok); } .muted { color: var(--muted); }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: .75rem; }
  .card { background: #fff; border: 1px solid var(--line); padding: .75rem 1rem; }
  .card b { display: block; font-size: 1.4rem; font-variant-numeric: tabular-nums; }
  .panel { background: #fff; border: 1px solid var(--line); padding: 1rem; }
  form.login { max-width: 340px; margin: 4rem auto; background: #fff; border: 1px solid var(--line); padding: 1.5rem; display: grid; gap: .6rem; }
  input { font: inherit; padding: .45rem .55rem; border: 1px solid #c9ced8; width: 100%; }
  button { font: inherit; padding: .5rem .9rem; border: 0; background: var(--accent); color: #fff; cursor: pointer; }
  .error { color: var(--bad); }
  a { color: var(--accent); }
  :focus-visible { outline: 3px solid #f59f00; outline-offset: 2px; }
  .skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: .5rem; background: #fff; color: var(--ink); padding: .3rem .6rem; z-index: 2; }
  form.filters { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; margin: 0 0 1rem; }
  fieldset.filters { border: 0; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; } fieldset legend { font-weight: 600; margin-bottom: .4rem; }
  form.filters label { display: grid; gap: .15rem; font-size: 12px; color: var(--muted); }
  form.filters input, form.filters select { width: auto; min-width: 9rem; }
  form.filters input[type=search] { min-width: 20rem; }
  form.filters label.check { display: flex; align-items: center; gap: .35rem; color: var(--ink); font-size: 14px; }
  form.filters label.check input { min-width: 0; width: auto; }
  form.inline { display: inline-flex; gap: .4rem; align-items: center; margin: 0; }
  form.inline input { width: 8rem; }
  select { font: inherit; padding: .4rem; border: 1px solid #c9ced8; background: #fff; }
  button.secondary { background: #fff; color: var(--accent); border: 1px solid var(--accent); }
  .notice { background: #ecfdf3; border: 1px solid #abefc6; padding: .5rem .8rem; margin: 0 0 1rem; }
  .alert { background: #fef3f2; border: 1px solid #fecdca; padding: .5rem .8rem; margin: 0 0 1rem; color: var(--bad); }
  .warn { color: #b54708; font-weight: 600; }
  .state { display: inline-block; padding: 0 .45rem; border-radius: 3px; background: #eef2f6; font-size: 12px; }
  .state.bad { background: #fef3f2; } .state.ok { background: #ecfdf3; }
  .grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
  ol.timeline { list-style: none; margin: 0; padding: 0; background: #fff; border: 1px solid var(--line); }
  ol.timeline li { padding: .4rem .7rem; border-bottom: 1px solid var(--line); display: grid; grid-template-columns: 11rem 1fr; gap: .7rem; }
  details pre { max-height: 28rem; overflow: auto; background: #0f172a; color: #e2e8f0; padding: .8rem; font-size: 12px; }
  nav.pager { margin: .8rem 0; display: flex; gap: 1rem; }
  td.wrap { white-space: normal; }
  ul.reasons { margin: .2rem 0 0; padding-left: 1rem; font-size: 12px; color: var(--bad); max-width: 22rem; }
`;

export function page(title: string, body: string, options: { nav?: boolean } = {}): string {
  const nav = options.nav ?? true;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · channelsync</title><style>${STYLE}</style></head>
<body><a class="skip" href="#main">Skip to content</a><header><span class="brand">channelsync</span>${
    nav
      ? `<a href="/admin">Dashboard</a><a href="/admin/orders">Orders</a><a href="/admin/stock">Stock</a><a href="/admin/purchase-orders">Purchase orders</a><a href="/admin/queues">Queues</a><a href="/api/docs">API</a><a href="/admin/logout">Log out</a>`
      : ''
  }</header>
<main id="main" tabindex="-1">${body}</main></body></html>`;
}

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
`;

export function page(title: string, body: string, options: { nav?: boolean } = {}): string {
  const nav = options.nav ?? true;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · channelsync</title><style>${STYLE}</style></head>
<body><header><span class="brand">channelsync</span>${
    nav
      ? `<a href="/admin">Dashboard</a><a href="/admin/queues">Queues</a><a href="/api/docs">API</a><a href="/admin/logout">Log out</a>`
      : ''
  }</header>
<main>${body}</main></body></html>`;
}

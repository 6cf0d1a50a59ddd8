/**
 * Customer message templates: a subject, a plain-text part and an HTML part
 * per kind. The defaults are below (in code, so the bundled `dist/` carries
 * them); a merchant overrides any of them with files in MAIL_TEMPLATES_DIR
 * named `<kind>.subject.txt`, `<kind>.txt` and `<kind>.html` (a missing file
 * keeps the default for that part).
 *
 * The syntax is deliberately tiny: `{{name}}` inserts a value (HTML-escaped in
 * `.html` templates, line breaks removed in subjects), and
 * `{{#name}}...{{/name}}` keeps its content only when the value is not empty
 * (a tracking link when there is one). An unknown name is an error naming the
 * template and the names it may use, so a typo is found at the first send
 * (a permanent failure, shown to a person), not mailed to customers as blanks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageKind } from '../db/schema.ts';
import { ConfigError } from '../domain/errors.ts';

/** The values a template may use. Every value is text; an absent one is ''. */
export interface MessageValues {
  shop: string;
  order_number: string;
  customer_name: string;
  carrier: string;
  service: string;
  tracking_number: string;
  tracking_url: string;
  items: string;
  feedback_url: string;
  feedback_expires: string;
}

export const VALUE_NAMES: ReadonlyArray<keyof MessageValues> = [
  'shop', 'order_number', 'customer_name', 'carrier', 'service', 'tracking_number', 'tracking_url', 'items', 'feedback_url', 'feedback_expires',
];

export interface Template {
  subject: string;
  text: string;
  html: string;
}

const HTML_HEAD = '<!doctype html><html><body style="font-family: system-ui, sans-serif; color: #111; max-width: 560px">';
const HTML_FOOT = '<p style="color: #666; font-size: 90%">{{shop}}</p></body></html>\n';

export const DEFAULT_TEMPLATES: Readonly<Record<MessageKind, Template>> = {
  shipping: {
    subject: 'Your order {{order_number}} has shipped',
    text: `Hello {{customer_name}},

your order {{order_number}} is on its way with {{carrier}}{{#service}} ({{service}}){{/service}}.
Tracking number: {{tracking_number}}
{{#tracking_url}}Track it here: {{tracking_url}}
{{/tracking_url}}
In this parcel:
{{items}}

Thank you for your order,
{{shop}}
`,
    html: `${HTML_HEAD}
<p>Hello {{customer_name}},</p>
<p>your order <strong>{{order_number}}</strong> is on its way with {{carrier}}{{#service}} ({{service}}){{/service}}.</p>
<p>Tracking number: <strong>{{tracking_number}}</strong>{{#tracking_url}}<br><a href="{{tracking_url}}">Track your parcel</a>{{/tracking_url}}</p>
<p>In this parcel:</p><pre style="font-family: inherit">{{items}}</pre>
<p>Thank you for your order.</p>
${HTML_FOOT}`,
  },
  delivery: {
    subject: 'Your order {{order_number}} has arrived',
    text: `Hello {{customer_name}},

{{carrier}} reports that your parcel {{tracking_number}} for order {{order_number}} was delivered.
{{#tracking_url}}Details: {{tracking_url}}
{{/tracking_url}}
If anything is missing or wrong, reply to this e-mail.

{{shop}}
`,
    html: `${HTML_HEAD}
<p>Hello {{customer_name}},</p>
<p>{{carrier}} reports that your parcel <strong>{{tracking_number}}</strong> for order <strong>{{order_number}}</strong> was delivered.{{#tracking_url}} <a href="{{tracking_url}}">Details</a>{{/tracking_url}}</p>
<p>If anything is missing or wrong, reply to this e-mail.</p>
${HTML_FOOT}`,
  },
  feedback: {
    subject: 'How was your order {{order_number}}?',
    text: `Hello {{customer_name}},

your order {{order_number}} arrived a little while ago. Are you happy with it?
Rate it from 1 to 5 (one question, no account needed):
{{feedback_url}}

The link works until {{feedback_expires}}.

{{shop}}
`,
    html: `${HTML_HEAD}
<p>Hello {{customer_name}},</p>
<p>your order <strong>{{order_number}}</strong> arrived a little while ago. Are you happy with it?</p>
<p><a href="{{feedback_url}}" style="display: inline-block; padding: 8px 16px; background: #1a56db; color: #fff; text-decoration: none; border-radius: 4px">Rate your order</a></p>
<p style="color: #666">One question, no account needed. The link works until {{feedback_expires}}.</p>
${HTML_FOOT}`,
  },
};

const PARTS = [
  ['subject', 'subject.txt'],
  ['text', 'txt'],
  ['html', 'html'],
] as const;

/** The templates in use: the defaults, with the files found in `dir` (MAIL_TEMPLATES_DIR) in their place. */
export function loadTemplates(dir: string | null): Record<MessageKind, Template> {
  const out = { ...DEFAULT_TEMPLATES } as Record<MessageKind, Template>;
  if (!dir) return out;
  for (const kind of Object.keys(DEFAULT_TEMPLATES) as MessageKind[]) {
    const t = { ...DEFAULT_TEMPLATES[kind] };
    for (const [part, ext] of PARTS) {
      const file = join(dir, `${kind}.${ext}`);
      try {
        t[part] = readFileSync(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`MAIL_TEMPLATES_DIR: cannot read ${file}: ${(err as Error).message}`);
      }
      check(t[part], `${kind}.${ext}`);
    }
    out[kind] = t;
  }
  return out;
}

const TOKEN = /\{\{([#/]?)\s*([a-z_]+)\s*\}\}/g;

/** Throws `ConfigError` naming the template when it uses a name that does not exist or a section left open. */
export function check(template: string, name: string): void {
  const open: string[] = [];
  for (const m of template.matchAll(TOKEN)) {
    const [, sigil, key] = m;
    if (!(VALUE_NAMES as readonly string[]).includes(key!)) {
      throw new ConfigError(`mail template ${name}: unknown value {{${key}}} (known: ${VALUE_NAMES.join(', ')})`);
    }
    if (sigil === '#') open.push(key!);
    if (sigil === '/' && open.pop() !== key) throw new ConfigError(`mail template ${name}: {{/${key}}} closes a section that is not open`);
  }
  if (open.length) throw new ConfigError(`mail template ${name}: {{#${open[0]}}} is never closed with {{/${open[0]}}}`);
}

const escapeHtml = (v: string) => v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Fills one template part. `mode` decides how values are written: as HTML, as a one-line subject, or as text. */
export function fill(template: string, values: MessageValues, mode: 'html' | 'subject' | 'text', name = 'template'): string {
  check(template, name);
  const write = (v: string) => (mode === 'html' ? escapeHtml(v) : mode === 'subject' ? v.replace(/[\r\n]+/g, ' ') : v);
  // Sections first, innermost by construction of the lazy match; nesting the same name is not supported.
  let out = template;
  for (let guard = 0; guard < 20 && /\{\{#/.test(out); guard++) {
    out = out.replace(/\{\{#\s*([a-z_]+)\s*\}\}([\s\S]*?)\{\{\/\s*\1\s*\}\}/g, (_m, key: string, body: string) => (values[key as keyof MessageValues] ? body : ''));
  }
  out = out.replace(TOKEN, (_m, _sigil, key: string) => write(values[key as keyof MessageValues] ?? ''));
  // A subject is one header line: a template's own line breaks (a file ending in a newline) become spaces.
  return mode === 'subject' ? out.replace(/\s*[\r\n]+\s*/g, ' ').trim() : out;
}

export function render(template: Template, values: MessageValues, kind: string): Template {
  return {
    subject: fill(template.subject, values, 'subject', `${kind}.subject.txt`),
    text: fill(template.text, values, 'text', `${kind}.txt`),
    html: fill(template.html, values, 'html', `${kind}.html`),
  };
}

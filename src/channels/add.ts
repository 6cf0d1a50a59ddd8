/**
 * `channelsync channels add <kind> <name>`: validates settings and
 * credentials by the kind's schemas (naming what is missing), makes one read
 * call against the store (`Connector.verify`) and saves the channel only when
 * the store accepted them. `--no-verify` saves without asking the store.
 *
 * Loads fast: connectors and the app are imported when the command runs (or
 * when its help is asked for, which lists every kind's settings).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { App } from '../app.ts';

type WithApp = (fn: (app: App) => Promise<void>) => Promise<void>;

interface AddOptions {
  setting: Record<string, unknown>;
  credential: Record<string, unknown>;
  credentialsFile?: string;
  credentialsStdin?: boolean;
  registerWebhooks?: boolean;
  verify: boolean;
}

/** Adds `add` to the `channels` command group. */
export function registerChannelAddCommand(channels: Command, withApp: WithApp): void {
  let kindsHelp = '';
  const add = channels
    .command('add')
    .description("add a channel: settings and credentials are checked by the channel kind, then against the store with one read call")
    .argument('<kind>', 'channel kind (listed below)')
    .argument('<name>', 'a unique name, e.g. "main-shopify"')
    .option('-s, --setting <key=value>', 'a setting (repeatable)', collectPairs, {})
    .option('-c, --credential <key=value>', 'a credential, stored encrypted (repeatable; visible in ps and shell history: prefer the two below)', collectPairs, {})
    .option('--credentials-file <path>', 'read credentials from a file: a JSON object, or key=value lines (-c values override)')
    .option('--credentials-stdin', 'read credentials from standard input, same formats as --credentials-file')
    .option('--no-verify', 'save without checking the credentials against the store')
    .option('--register-webhooks', "create the channel's webhooks pointing at PUBLIC_URL/webhooks/<id> and check that they arrive (see channels webhooks)")
    .action(async (kind: string, name: string, opts: AddOptions) => {
      await withApp((app) => addChannelCommand(app, kind, name, opts));
    });
  add.addHelpText('after', () => kindsHelp);
  // Help is printed synchronously: the registry is loaded just before `add` parses its options.
  channels.hook('preSubcommand', async (_parent, sub) => {
    if (sub !== add) return;
    const [{ connectorFactories }, { describeKinds }] = await Promise.all([import('../../connectors/index.ts'), import('../../connectors/describe.ts')]);
    kindsHelp = describeKinds(connectorFactories.values());
  });
}

async function addChannelCommand(app: App, kind: string, name: string, opts: AddOptions): Promise<void> {
  const [{ connectorFactory }, { missingFields }, { ConfigError, RetryableError }, { addChannel }, { requireSecretKey }, { hasWebhooks }] = await Promise.all([
    import('../../connectors/index.ts'), import('../../connectors/describe.ts'), import('../domain/errors.ts'), import('../db/channels.ts'), import('../config.ts'),
    import('../../connectors/types.ts'),
  ]);
  const factory = connectorFactory(kind);
  opts = { ...opts, credential: { ...(await readCredentials(opts, ConfigError)), ...opts.credential } };
  const settings = factory.settingsSchema.safeParse(opts.setting);
  if (!settings.success) {
    throw new ConfigError(`settings for ${kind}: ${missingFields(factory.settingsSchema, opts.setting) ?? formatIssue(settings.error.issues[0])} (see "channelsync channels add --help")`);
  }
  const credentials = factory.credentialsSchema.safeParse(opts.credential);
  if (!credentials.success) {
    throw new ConfigError(`credentials for ${kind}: ${missingFields(factory.credentialsSchema, opts.credential) ?? formatIssue(credentials.error.issues[0])} (see "channelsync channels add --help")`);
  }
  // Built from the values as given, before anything is saved: a refused key leaves no channel behind.
  const connector = factory.create({
    channel: { id: 0, kind, name, settings: settings.data, credentials: credentials.data },
    budget: app.budget,
    kv: app.kv,
    log: app.log,
  });
  // Channels whose notifications come another way (Amazon: SQS) get no webhook URL to configure.
  const webhooks = hasWebhooks(connector);
  try {
    if (opts.verify) {
      try {
        const found = await connector.verify();
        console.log(`verified: ${found.detail}`);
      } catch (err) {
        const message = (err as Error).message;
        if (err instanceof RetryableError) {
          throw new Error(`channel not added: could not reach the store (${message}); try again, or add it with --no-verify`, { cause: err });
        }
        throw new ConfigError(`channel not added: the store refused the settings or credentials: ${message}`, { cause: err });
      }
    }
  } finally {
    await connector.close();
  }
  const id = await addChannel(app.db, requireSecretKey(app.config), { kind, name, settings: opts.setting, credentials: opts.credential });
  console.log(`added channel ${id} (${kind} "${name}")${opts.verify ? '' : ', not verified against the store'}`);
  if (webhooks) console.log(`webhook URL: ${app.config.publicUrl}/webhooks/${id}`);
  if (opts.registerWebhooks) {
    // The channel stays saved either way: the fix is PUBLIC_URL, then `channels webhooks <id>`.
    const { printWebhookCheck } = await import('./webhooks.ts');
    await printWebhookCheck(app, id, `channel ${id} was added, but`);
  }
}

export function collectPairs(value: string, previous: Record<string, unknown>): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: scalar(value.slice(eq + 1)) };
}

/** Numbers and booleans arrive as such; everything else stays text. */
function scalar(raw: string): unknown {
  return /^(-?\d+(\.\d+)?|true|false)$/.test(raw) ? JSON.parse(raw) : raw;
}

/**
 * Credentials from `--credentials-file` or `--credentials-stdin`, so secrets
 * stay out of `ps` and shell history (`-c` puts them in both). Either format:
 * a JSON object of strings, numbers and booleans, or `key=value` lines (blank
 * lines and `#` comments skipped; the value is the rest of the line, as text).
 */
export async function readCredentials(opts: Pick<AddOptions, 'credentialsFile' | 'credentialsStdin'>, ConfigError: new (message: string) => Error): Promise<Record<string, unknown>> {
  if (opts.credentialsFile !== undefined && opts.credentialsStdin) throw new ConfigError('use --credentials-file or --credentials-stdin, not both');
  let text: string;
  let source: string;
  if (opts.credentialsFile !== undefined) {
    source = `--credentials-file ${opts.credentialsFile}`;
    const { readFile } = await import('node:fs/promises');
    try {
      text = await readFile(opts.credentialsFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  } else if (opts.credentialsStdin) {
    source = '--credentials-stdin';
    if (process.stdin.isTTY) process.stderr.write('credentials (JSON, or key=value lines), then Ctrl-D:\n');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    return {};
  }
  return parseCredentials(text, source, ConfigError);
}

function parseCredentials(text: string, source: string, ConfigError: new (message: string) => Error): Record<string, unknown> {
  const trimmed = text.trim();
  if (trimmed === '') throw new ConfigError(`${source}: no credentials in it`);
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      // The parser's message, never the text: it holds secrets.
      throw new ConfigError(`${source}: not valid JSON (${(err as Error).message.replace(/"[^"]*"/g, '"…"')})`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`${source}: expected a JSON object of credentials`);
    for (const [key, value] of Object.entries(parsed)) {
      if (!['string', 'number', 'boolean'].includes(typeof value)) throw new ConfigError(`${source}: "${key}" must be a string, number or boolean`);
    }
    return parsed as Record<string, unknown>;
  }
  const credentials: Record<string, unknown> = {};
  for (const [i, line] of trimmed.split(/\r?\n/).entries()) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${source}: line ${i + 1} is not key=value`);
    // Text as written: a secret of digits stays a string.
    credentials[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return credentials;
}

export function formatIssue(issue: { path: PropertyKey[]; message: string } | undefined): string {
  if (!issue) return 'invalid';
  return issue.path.length ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message;
}

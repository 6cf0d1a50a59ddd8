/**
 * `channelsync channels credentials <channel>`: replaces a channel's credentials
 * (the ones given, merged over the stored ones, so reconnecting eBay needs only the
 * new refreshToken), checks them against the store with one read call, and saves
 * them. Saving ends a pause (src/db/channels.ts `replaceCredentials`): it is how a
 * person reconnects an account whose access was revoked, and the only thing that
 * revives a paused channel.
 */
import type { Command } from 'commander';
import type { App } from '../app.ts';
import { collectPairs, formatIssue, readCredentials } from './add.ts';

type WithApp = (fn: (app: App) => Promise<void>) => Promise<void>;

interface CredentialsOptions {
  credential: Record<string, unknown>;
  credentialsFile?: string;
  credentialsStdin?: boolean;
  verify: boolean;
}

export function registerChannelCredentialsCommand(channels: Command, withApp: WithApp): void {
  channels
    .command('credentials')
    .description("replace a channel's credentials (merged over the stored ones), checked against the store; ends a pause (reconnecting the account)")
    .argument('<channel>', 'channel id or name')
    .option('-c, --credential <key=value>', 'a credential (repeatable; visible in ps and shell history: prefer the two below)', collectPairs, {})
    .option('--credentials-file <path>', 'read credentials from a file: a JSON object, or key=value lines (-c values override)')
    .option('--credentials-stdin', 'read credentials from standard input, same formats as --credentials-file')
    .option('--no-verify', 'save without checking the credentials against the store')
    .action(async (ref: string, opts: CredentialsOptions) => {
      await withApp((app) => replaceCredentialsCommand(app, ref, opts));
    });
}

async function replaceCredentialsCommand(app: App, ref: string, opts: CredentialsOptions): Promise<void> {
  const [{ connectorFactory }, { missingFields }, { ConfigError, RetryableError }, channels, { requireSecretKey }] = await Promise.all([
    import('../../connectors/index.ts'), import('../../connectors/describe.ts'), import('../domain/errors.ts'), import('../db/channels.ts'), import('../config.ts'),
  ]);
  const key = requireSecretKey(app.config);
  const id = await channels.resolveChannelId(app.db, ref);
  const given = { ...(await readCredentials(opts, ConfigError)), ...opts.credential };
  if (Object.keys(given).length === 0) throw new ConfigError('no credentials given: use --credentials-stdin, --credentials-file or -c key=value');
  const record = (await channels.loadChannel(app.db, key, id))!;
  const factory = connectorFactory(record.kind);
  const merged = { ...record.credentials, ...given };
  const credentials = factory.credentialsSchema.safeParse(merged);
  if (!credentials.success) {
    throw new ConfigError(`credentials for ${record.kind}: ${missingFields(factory.credentialsSchema, merged) ?? formatIssue(credentials.error.issues[0])} (nothing was changed)`);
  }
  const settings = factory.settingsSchema.safeParse(record.settings);
  if (!settings.success) throw new ConfigError(`channel ${id} settings: ${formatIssue(settings.error.issues[0])}`);
  if (opts.verify) {
    // Built from the new values before anything is saved: refused credentials leave the old ones (and the pause) in place.
    const connector = factory.create({ channel: { id, kind: record.kind, name: record.name, settings: settings.data, credentials: credentials.data }, budget: app.budget, kv: app.kv, log: app.log });
    try {
      const found = await connector.verify();
      console.log(`verified: ${found.detail}`);
    } catch (err) {
      const message = (err as Error).message;
      if (err instanceof RetryableError) throw new Error(`credentials not changed: could not reach the store (${message}); try again, or save them with --no-verify`, { cause: err });
      throw new ConfigError(`credentials not changed: the store refused them: ${message}`, { cause: err });
    } finally {
      await connector.close();
    }
  }
  const ended = await channels.replaceCredentials(app.db, key, id, merged);
  console.log(`channel ${id} (${record.kind} "${record.name}"): credentials replaced${opts.verify ? '' : ', not verified against the store'}`);
  if (ended) console.log(`the pause since ${ended.at.toISOString().slice(0, 19).replace('T', ' ')} UTC has ended (${ended.reason}); syncing resumes with the next schedule`);
}

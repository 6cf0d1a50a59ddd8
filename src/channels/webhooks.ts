/**
 * `channelsync channels webhooks <channel>`: registers the channel's webhooks
 * at PUBLIC_URL (safe to repeat: existing ones are kept, disabled ones turned
 * back on) and checks that deliveries reach channelsync
 * (`checkChannelWebhooks`). Exits 2 naming what to change when they do not.
 *
 * Loads fast: the check and the connectors are imported when it runs.
 */
import type { Command } from 'commander';
import type { App } from '../app.ts';

type WithApp = (fn: (app: App) => Promise<void>) => Promise<void>;

/** Adds `webhooks` to the `channels` command group. */
export function registerChannelWebhooksCommand(channels: Command, withApp: WithApp): void {
  channels
    .command('webhooks')
    .description("register the channel's webhooks at PUBLIC_URL/webhooks/<id> and check that the channel's deliveries arrive")
    .argument('<channel>', 'channel id or name')
    .action(async (ref: string) => {
      await withApp(async (app) => {
        const { resolveChannelId } = await import('../db/channels.ts');
        await printWebhookCheck(app, await resolveChannelId(app.db, ref));
      });
    });
}

/**
 * Runs the check and prints it; throws `ConfigError` with the reasons and the
 * fix when deliveries do not reach channelsync. `prefix` leads the error (e.g.
 * "channel 3 was added, but").
 */
export async function printWebhookCheck(app: App, channelId: number, prefix = ''): Promise<void> {
  const [{ checkChannelWebhooks }, { ConfigError }] = await Promise.all([import('./webhook-check.ts'), import('../domain/errors.ts')]);
  let check;
  try {
    check = await checkChannelWebhooks(app, channelId);
  } catch (err) {
    if (prefix && err instanceof ConfigError) throw new ConfigError(`${prefix} ${err.message}`, { cause: err });
    throw err;
  }
  if (check.ok) {
    for (const line of check.lines) console.log(line);
    return;
  }
  // What was registered goes to stdout; why deliveries fail and the fix, to the error.
  const state = check.lines.filter((l, i) => i === 0 || l.startsWith('  '));
  for (const line of state) console.log(line);
  const reasons = check.lines.filter((l) => !state.includes(l));
  throw new ConfigError(`${prefix ? `${prefix} ` : ''}webhooks do not reach channelsync:\n  ${reasons.join('\n  ')}`);
}

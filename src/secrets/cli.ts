/**
 * `channelsync secrets rotate`: re-seal every channel's credentials under a
 * new secret key. Registered by src/cli.ts.
 *
 * The new key never comes from argv (it would show in `ps` and shell
 * history): `--new-key-file <path>` or CHANNELSYNC_NEW_SECRET_KEY. The old
 * key is CHANNELSYNC_SECRET_KEY, as for every command.
 *
 * Loads fast: only commander and node built-ins at the top; config, the
 * database and crypto are imported inside the action.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../domain/errors.ts';

/** Adds the `secrets` command group. */
export function registerSecretsCommands(program: Command): void {
  const secrets = program.command('secrets').description('the key channel credentials are encrypted with');

  secrets
    .command('rotate')
    .description(
      're-encrypt every channel credential under a new key (CHANNELSYNC_SECRET_KEY is the current one; the new one from ' +
        '--new-key-file or CHANNELSYNC_NEW_SECRET_KEY, never the command line). Safe to run again after an interruption. ' +
        'Stop the daemons first, and start them with the new key after',
    )
    .option('--new-key-file <path>', 'file holding the new key (64 hex characters or base64 of 32 bytes)')
    .action(async (opts: { newKeyFile?: string }) => {
      const [{ loadConfig, requireSecretKey, decodeKey }, { createDb }, { rotateCredentials }, { keyId }] = await Promise.all([
        import('../config.ts'),
        import('../db/index.ts'),
        import('../db/channels.ts'),
        import('../crypto.ts'),
      ]);
      const config = loadConfig();
      const oldKey = requireSecretKey(config);
      const text = opts.newKeyFile !== undefined ? readKeyFile(opts.newKeyFile) : process.env.CHANNELSYNC_NEW_SECRET_KEY?.trim();
      if (!text) throw new ConfigError('no new key: give --new-key-file <path> or set CHANNELSYNC_NEW_SECRET_KEY (generate one with: openssl rand -hex 32)');
      const newKey = decodeKey(text);
      if (!newKey) throw new ConfigError('the new key must be 32 random bytes as 64 hex characters or base64 (generate one with: openssl rand -hex 32)');
      const db = createDb(config.databaseUrl, { max: 2 });
      try {
        const report = await rotateCredentials(db, oldKey, newKey, (id) => console.log(`channel ${id}: re-encrypted under key ${keyId(newKey)}`));
        console.log(
          `${report.rotated} channels re-encrypted, ${report.alreadyNew} already under key ${keyId(newKey)}. ` +
            'Set CHANNELSYNC_SECRET_KEY to the new key for every process now.',
        );
      } finally {
        await db.destroy();
      }
    });
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`cannot read the new key from ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

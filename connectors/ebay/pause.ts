/**
 * A channel paused because the seller took channelsync's access away
 * (AUTHORIZATION_REVOCATION, or the refresh token refused with invalid_grant).
 * While paused every call the client would make fails at once with a
 * PermanentError that says what to do, so jobs stop (recorded in job_failures,
 * shown on the dashboard) instead of spending the daily quota on refusals.
 *
 * Kept in the shared KV (every process sees it), tied to the refresh token that
 * was revoked: reconnecting the account (`channels` credentials with a new
 * refresh token) ends the pause by itself. If the KV is flushed the
 * flag is lost, but nothing is retried forever: eBay itself refuses the revoked
 * refresh token with invalid_grant, which pauses the channel again.
 */
import { createHash } from 'node:crypto';
import type { SharedKV } from '../../src/queue/shared-state.ts';

export interface PauseState {
  /** In plain words, with what to do. */
  reason: string;
  at: string;
  /** Fingerprint of the refresh token the pause is about. */
  credential: string;
}

/** A short, non-reversible fingerprint of a refresh token (never the token itself). */
export function credentialFingerprint(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('hex').slice(0, 16);
}

/** How long a pause is kept: longer than a refresh token lives (18 months). */
const PAUSE_TTL_MS = 550 * 24 * 3600 * 1000;

export class ChannelPause {
  constructor(
    private readonly kv: SharedKV,
    private readonly channelId: number,
    /** Fingerprint of the channel's current refresh token. */
    private readonly credential: string,
  ) {}

  private get key(): string {
    return `ebay:${this.channelId}:paused`;
  }

  /** The pause of the current credentials; null when none (or the account was reconnected since). */
  async get(): Promise<PauseState | null> {
    const raw = await this.kv.get(this.key);
    if (!raw) return null;
    const state = JSON.parse(raw) as PauseState;
    return state.credential === this.credential ? state : null;
  }

  async pause(reason: string, at = new Date()): Promise<void> {
    const state: PauseState = { reason, at: at.toISOString(), credential: this.credential };
    await this.kv.set(this.key, JSON.stringify(state), PAUSE_TTL_MS);
  }

  async clear(): Promise<void> {
    await this.kv.del(this.key);
  }
}

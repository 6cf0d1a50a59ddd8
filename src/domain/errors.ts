/**
 * Error kinds with stable codes. Every failure that crosses a module boundary
 * is one of these, so that jobs know whether to retry and admins know what to
 * do next.
 */
export abstract class ChannelsyncError extends Error {
  abstract readonly code: string;
  /** Whether trying the same thing again later can succeed. */
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Try again later: 429, 5xx, timeouts, connection resets. `retryAfterMs` when the channel says. */
export class RetryableError extends ChannelsyncError {
  readonly code = 'RETRYABLE';
  readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Will never succeed as sent: validation errors, a cancelled order, a missing permission. */
export class PermanentError extends ChannelsyncError {
  readonly code: string = 'PERMANENT';
  readonly retryable = false;
}

/** A webhook that must be refused (bad signature, unknown topic, malformed body). */
export class WebhookRejectedError extends PermanentError {
  override readonly code = 'WEBHOOK_REJECTED';
  constructor(
    message: string,
    /** HTTP status to answer with: 401 for a bad signature, 400 for a malformed body. */
    readonly status: 400 | 401 | 404 = 400,
  ) {
    super(message);
  }
}

/** Bad configuration or input from a person: names the thing and the fix. */
export class ConfigError extends PermanentError {
  override readonly code = 'CONFIG';
}

/** The channel is paused until a person reconnects it; the message names the command. */
export class ChannelPausedError extends PermanentError {
  override readonly code = 'CHANNEL_PAUSED';
}

/** A state transition that the state machine refuses. */
export class IllegalTransitionError extends PermanentError {
  override readonly code = 'ILLEGAL_TRANSITION';
}

export function isRetryable(err: unknown): boolean {
  if (err instanceof ChannelsyncError) return err.retryable;
  // Unknown errors (bugs, driver hiccups) are retried: BullMQ's attempts bound them.
  return true;
}

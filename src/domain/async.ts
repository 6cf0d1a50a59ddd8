/** Waiting, with an end: small helpers with no dependencies, shared by connectors, queues and the HTTP side. */

/** A wait that ends early (rejecting with the signal's reason) when `signal` aborts: `close()` during a back-off. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** `promise`, or a rejection naming `what` once `ms` have passed without an answer. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Iterates `source` one item ahead: while the caller works on an item (saves
 * a page), the next one is already being fetched (the channel's answer), so
 * the two waits overlap instead of adding up. Items still arrive in order.
 * When the caller stops early, the fetch in flight is let finish (its result
 * dropped) and the source is closed.
 */
export async function* aheadByOne<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let next = it.next();
  let finished = false;
  try {
    for (;;) {
      const r = await next;
      if (r.done) {
        finished = true;
        return;
      }
      next = it.next();
      // Not awaited until the caller asks again; a failure then is thrown there, not left unhandled.
      next.catch(() => {});
      yield r.value;
    }
  } finally {
    if (!finished) {
      await next.catch(() => {});
      await it.return?.();
    }
  }
}

/** Delays between retries: exponential with full jitter, capped; a server's `Retry-After` wins. */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Throttling without a `Retry-After` (the Management Activity API's AF429) starts here. */
  readonly throttledInitialMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: 5_000,
  maxMs: 5 * 60_000,
  throttledInitialMs: 30_000,
};

/** `attempt` counts from 1. `random` is injectable so tests are exact. */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  throttled: boolean,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(retryAfterMs, 0), policy.maxMs * 4);
  const base = throttled ? policy.throttledInitialMs : policy.initialMs;
  const ceiling = Math.min(policy.maxMs, base * 2 ** Math.min(attempt - 1, 20));
  // Half fixed, half jitter: never hammers, never synchronises many connectors.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

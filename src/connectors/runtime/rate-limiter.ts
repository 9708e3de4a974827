import { sleep } from './backoff.js';

/**
 * Spaces request starts so that at most `perMinute` start in any minute (a leaky bucket with a small
 * burst). Shared by every stream calling one tenant's API, since the quota is the tenant's.
 */
export class RateLimiter {
  private next = 0;
  private readonly intervalMs: number;

  constructor(
    perMinute: number,
    private readonly burst = 10,
  ) {
    this.intervalMs = 60_000 / perMinute;
  }

  async take(signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    // Allow up to `burst` requests ahead of the steady rate.
    const earliest = Math.max(this.next, now - this.burst * this.intervalMs);
    this.next = earliest + this.intervalMs;
    const wait = earliest - now;
    if (wait > 0) await sleep(wait, signal);
  }
}

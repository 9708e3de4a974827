import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, parseRetryAfter } from './backoff.js';
import { MANAGEMENT_ACTIVITY_OUTCOMES } from './o365-management/api.js';
import { classifyOutcome } from './outcomes.js';

const classify = (status: number, code?: string) =>
  classifyOutcome(MANAGEMENT_ACTIVITY_OUTCOMES, status, code);

describe('Management Activity API error table', () => {
  it.each([
    [403, 'AF429', 'rateLimited', 'Throttled'],
    [429, 'AF429', 'rateLimited', 'Throttled'],
    [429, undefined, 'rateLimited', 'Throttled'],
    [400, 'AF20024', 'ignore', 'SubscriptionAlreadyEnabled'],
    [400, 'AF20022', 'startSubscription', 'SubscriptionMissing'],
    [400, 'AF20023', 'startSubscription', 'SubscriptionDisabled'],
    [404, 'AF20051', 'contentGone', 'ContentExpired'],
    [400, 'AF20050', 'contentGone', 'ContentMissing'],
    [400, 'AF20031', 'restartPaging', 'PagingTokenInvalid'],
    [401, 'AF10001', 'fail', 'MissingPermission'],
    [403, 'AF20010', 'fail', 'TenantMismatch'],
    [400, 'AF20013', 'fail', 'TenantInvalid'],
    [500, 'AF50000', 'retry', 'SourceInternalError'],
    [503, undefined, 'retry', 'SourceError'],
    [408, undefined, 'retry', 'SourceTimeout'],
    [401, undefined, 'retry', 'TokenRejected'],
    [403, undefined, 'fail', 'Forbidden'],
    [400, 'AF20055', 'fail', 'RequestRejected'],
  ])('HTTP %i %s → %s (%s)', (status, code, action, reason) => {
    expect(classify(status, code)).toMatchObject({ action, reason });
  });

  it('treats a content URI answering 404 or 410 without a code as content gone, other calls not', () => {
    expect(classifyOutcome(MANAGEMENT_ACTIVITY_OUTCOMES, 404, undefined, 'content')).toMatchObject({
      action: 'contentGone',
      reason: 'ContentMissing',
    });
    expect(classifyOutcome(MANAGEMENT_ACTIVITY_OUTCOMES, 410, undefined, 'content').reason).toBe(
      'ContentExpired',
    );
    expect(
      classifyOutcome(MANAGEMENT_ACTIVITY_OUTCOMES, 404, undefined, 'subscriptions/content').action,
    ).toBe('fail');
  });

  it('gives config failures a hint a person can act on', () => {
    expect(classify(401, 'AF10001').hint).toMatch(/ActivityFeed\.Read/);
  });
});

describe('back-off', () => {
  it('honours Retry-After in seconds and as a date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThan(8000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(backoffDelay(DEFAULT_BACKOFF, 1, true, 2000)).toBe(2000);
  });

  it('grows exponentially within [ceiling/2, ceiling] and caps', () => {
    const p = { initialMs: 1000, maxMs: 8000, throttledInitialMs: 4000 };
    expect(backoffDelay(p, 1, false, undefined, () => 0)).toBe(500);
    expect(backoffDelay(p, 1, false, undefined, () => 1)).toBe(1000);
    expect(backoffDelay(p, 3, false, undefined, () => 1)).toBe(4000);
    expect(backoffDelay(p, 10, false, undefined, () => 1)).toBe(8000);
    expect(backoffDelay(p, 1, true, undefined, () => 1)).toBe(4000);
  });
});

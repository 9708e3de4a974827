import type { OutcomeRule } from '../outcomes.js';

/**
 * The Office 365 Management Activity API as data (source-apis.md §2): limits, and the error table that
 * decides what each answer means. The client and the feed poller read these; nothing else hard-codes them.
 */
export const MANAGEMENT_ACTIVITY_API = {
  /** One listing request covers at most this much `contentCreated` time. */
  maxWindowMs: 24 * 3600_000,
  /**
   * How far back a listing may start: the API refuses starts older than 7 days; a few minutes of margin
   * keep a request built now from being refused when it arrives (Elastic keeps 167 h 55 min).
   */
  maxLookbackMs: 7 * 24 * 3600_000 - 10 * 60_000,
  /** Content stays retrievable this long after it became available. */
  contentRetentionMs: 7 * 24 * 3600_000,
  /** Documented baseline per tenant (scaled by seats); the runtime stays under it. */
  requestsPerMinute: 2000,
  /** The page header carrying the next page; matched case-insensitively (docs also misspell it). */
  nextPageHeaders: ['nextpageuri', 'nextpageurl'],
  paths: {
    start: 'subscriptions/start',
    list: 'subscriptions/list',
    content: 'subscriptions/content',
  },
} as const;

/** Answers of the Management Activity API, first match wins (source-apis.md §2.5). */
export const MANAGEMENT_ACTIVITY_OUTCOMES: readonly OutcomeRule[] = [
  { code: 'AF429', action: 'rateLimited', kind: 'transient', reason: 'Throttled' },
  { status: 429, action: 'rateLimited', kind: 'transient', reason: 'Throttled' },
  { code: 'AF20024', action: 'ignore', kind: 'transient', reason: 'SubscriptionAlreadyEnabled' },
  { code: 'AF20022', action: 'startSubscription', kind: 'transient', reason: 'SubscriptionMissing' },
  { code: 'AF20023', action: 'startSubscription', kind: 'transient', reason: 'SubscriptionDisabled' },
  { code: 'AF20050', action: 'contentGone', kind: 'dataLoss', reason: 'ContentMissing' },
  { code: 'AF20051', action: 'contentGone', kind: 'dataLoss', reason: 'ContentExpired' },
  { code: 'AF20052', action: 'contentGone', kind: 'dataLoss', reason: 'ContentIdInvalid' },
  { code: 'AF20031', action: 'restartPaging', kind: 'transient', reason: 'PagingTokenInvalid' },
  {
    code: 'AF10001',
    action: 'fail',
    kind: 'config',
    reason: 'MissingPermission',
    hint: "Grant the app the Office 365 Management APIs application permission ActivityFeed.Read and an administrator's consent.",
  },
  {
    code: 'AF20010',
    action: 'fail',
    kind: 'config',
    reason: 'TenantMismatch',
    hint: "The token's tenant differs from the tenant in the URL: check the tenant connection's tenant id.",
  },
  {
    codePrefix: 'AF2001',
    action: 'fail',
    kind: 'config',
    reason: 'TenantInvalid',
    hint: 'Check the tenant id, and that unified audit logging is turned on for the tenant.',
  },
  { code: 'AF20020', action: 'fail', kind: 'config', reason: 'ContentTypeInvalid' },
  { codePrefix: 'AF5', action: 'retry', kind: 'transient', reason: 'SourceInternalError' },
  { status: 401, action: 'retry', kind: 'transient', reason: 'TokenRejected' },
  {
    status: 403,
    action: 'fail',
    kind: 'config',
    reason: 'Forbidden',
    hint: 'The app lacks a permission on the Office 365 Management APIs, or the tenant is not licensed for auditing.',
  },
  { status: 408, action: 'retry', kind: 'transient', reason: 'SourceTimeout' },
  // A content URI answered 404 / 410 without an AF code (a proxy, an emulator): the content is gone.
  { operation: 'content', status: 404, action: 'contentGone', kind: 'dataLoss', reason: 'ContentMissing' },
  { operation: 'content', status: 410, action: 'contentGone', kind: 'dataLoss', reason: 'ContentExpired' },
  { status: [500, 599], action: 'retry', kind: 'transient', reason: 'SourceError' },
  // AF20001-AF20003, AF20030, AF20055 and anything else: a request Vigil built wrongly; fail loudly.
  { status: [400, 499], action: 'fail', kind: 'config', reason: 'RequestRejected' },
];

/** `YYYY-MM-DDTHH:MM:SS`, the documented time format (UTC, no zone, whole seconds). */
export function apiTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

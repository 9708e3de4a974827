/**
 * What the runtime does with an answer from a source API: one table per API (data), read top to bottom,
 * first match wins. Actions say what to do now; kinds say how the failure is reported (a config failure is
 * shown on the connector page and retried slowly, a transient one retried with back-off).
 */
export type OutcomeAction =
  /** Try again after a back-off. */
  | 'retry'
  /** Try again after the server's `Retry-After`, or a throttling back-off; never skip the work. */
  | 'rateLimited'
  /** Stop this poll; the connector shows the failure until a later poll succeeds. */
  | 'fail'
  /** Treat as success (e.g. "subscription already enabled"). */
  | 'ignore'
  /** The subscription for the content is missing or disabled: start it, then retry. */
  | 'startSubscription'
  /** The content is gone for good (expired, deleted): record the loss in health and move on. */
  | 'contentGone'
  /** A paging token went stale: list the window again from its first page. */
  | 'restartPaging';

export type FailureKind = 'config' | 'transient' | 'dataLoss';

export interface OutcomeRule {
  /** Only answers to this operation (e.g. `content`, the blob GET); any operation when absent. */
  readonly operation?: string;
  /** HTTP status, or an inclusive range. */
  readonly status?: number | readonly [number, number];
  /** The API's error code from the body (exact). */
  readonly code?: string;
  /** Matches codes starting with this. */
  readonly codePrefix?: string;
  readonly action: OutcomeAction;
  readonly kind: FailureKind;
  /** Stable reason code shown in health rows and metrics. */
  readonly reason: string;
  /** What a person should do about it (config failures). */
  readonly hint?: string;
}

export interface Outcome {
  readonly action: OutcomeAction;
  readonly kind: FailureKind;
  readonly reason: string;
  readonly hint?: string;
}

/** Transport failures (no complete answer): always worth another try. */
export const TRANSPORT_OUTCOME: Outcome = { action: 'retry', kind: 'transient', reason: 'SourceUnreachable' };

export function classifyOutcome(
  rules: readonly OutcomeRule[],
  status: number,
  code: string | undefined,
  operation?: string,
): Outcome {
  for (const rule of rules) {
    if (rule.operation !== undefined && rule.operation !== operation) continue;
    if (rule.status !== undefined) {
      const [lo, hi] = typeof rule.status === 'number' ? [rule.status, rule.status] : rule.status;
      if (status < lo || status > hi) continue;
    }
    if (rule.code !== undefined && rule.code !== code) continue;
    if (rule.codePrefix !== undefined && !code?.startsWith(rule.codePrefix)) continue;
    return {
      action: rule.action,
      kind: rule.kind,
      reason: rule.reason,
      ...(rule.hint ? { hint: rule.hint } : {}),
    };
  }
  return status >= 500
    ? { action: 'retry', kind: 'transient', reason: 'SourceError' }
    : { action: 'fail', kind: 'config', reason: 'UnexpectedResponse' };
}

/** A failed call to a source API, classified. Messages never hold tokens or secrets. */
export class SourceError extends Error {
  constructor(
    readonly outcome: Outcome,
    message: string,
    readonly httpStatus?: number,
    readonly sourceCode?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

import crypto from 'node:crypto';
import type { IngestService } from '../../ingest/service.js';

/** Identifies what health is reported for: one data type of one connector resource. */
export interface HealthSubject {
  readonly connectorName: string;
  readonly connectorKind: string;
  readonly dataType: string;
  readonly table: string;
  readonly tenantId: string;
}

export interface FailureReport {
  readonly reason: string;
  readonly message: string;
  readonly httpStatus?: number;
  readonly kind: string;
  readonly hint?: string;
}

/** What the status API shows for a data type. */
export interface HealthState {
  status: 'Success' | 'Failure' | 'Pending';
  since: string;
  lastSuccessAt?: string;
  lastFailure?: FailureReport & { at: string };
  consecutiveFailures: number;
  /** Content the source no longer had when it was fetched (records lost at the source). */
  contentLost: number;
  /** The reason of the last Failure row written (a new reason writes a new row). */
  lastFailureReasonWritten?: string;
}

export const HEALTH_TABLE = 'SentinelHealth';

/**
 * Connector health: a `SentinelHealth` row whenever a data type's status changes (Success ↔ Failure), one
 * for every loss of content (never passed over silently), and a periodic `Data fetch failure summary`. The
 * rows go through the ingest pipeline like any other data, so health is queryable with KQL.
 */
export class HealthReporter {
  private readonly states = new Map<string, HealthState>();
  private readonly failuresSinceSummary = new Map<
    string,
    Map<string, { status: number; message: string; count: number }>
  >();

  constructor(
    private readonly ingest: IngestService,
    private readonly workspaceId: string,
    private readonly resourceId: (connectorName: string) => string,
    private readonly onWriteError: (err: unknown) => void,
  ) {}

  private key(s: HealthSubject): string {
    return `${s.connectorName}/${s.dataType}`;
  }

  state(subject: HealthSubject): HealthState {
    let state = this.states.get(this.key(subject));
    if (!state) {
      state = { status: 'Pending', since: new Date().toISOString(), consecutiveFailures: 0, contentLost: 0 };
      this.states.set(this.key(subject), state);
    }
    return state;
  }

  forget(connectorName: string): void {
    for (const k of [...this.states.keys()]) if (k.startsWith(`${connectorName}/`)) this.states.delete(k);
  }

  async success(subject: HealthSubject): Promise<void> {
    const state = this.state(subject);
    const now = new Date().toISOString();
    state.lastSuccessAt = now;
    state.consecutiveFailures = 0;
    if (state.status === 'Success') return;
    state.status = 'Success';
    state.since = now;
    await this.write(subject, 'Data fetch status change', 'Success', '', 'Data fetched successfully.', {
      DestinationTable: subject.table,
    });
  }

  async failure(subject: HealthSubject, failure: FailureReport): Promise<void> {
    const state = this.state(subject);
    const now = new Date().toISOString();
    state.consecutiveFailures++;
    state.lastFailure = { ...failure, at: now };
    this.countFailure(subject, failure);
    // A new reason is a status change too: the page must show the current one.
    const changed = state.status !== 'Failure' || state.lastFailureReasonWritten !== failure.reason;
    if (!changed) return;
    state.status = 'Failure';
    state.since = now;
    state.lastFailureReasonWritten = failure.reason;
    await this.write(subject, 'Data fetch status change', 'Failure', failure.reason, describe(failure), {
      DestinationTable: subject.table,
      FailureKind: failure.kind,
      ...(failure.httpStatus ? { HttpStatusCode: failure.httpStatus } : {}),
    });
  }

  /** Content the source answered as gone (expired after 7 days, deleted): reported every time, with ids. */
  async contentLost(
    subject: HealthSubject,
    contentId: string,
    reason: string,
    message: string,
  ): Promise<void> {
    const state = this.state(subject);
    state.contentLost++;
    this.countFailure(subject, { reason, message, kind: 'dataLoss' });
    await this.write(subject, 'Data fetch status change', 'Failure', reason, message, {
      DestinationTable: subject.table,
      FailureKind: 'dataLoss',
      ContentId: contentId,
    });
    state.status = 'Failure';
    state.since = new Date().toISOString();
    state.lastFailure = { reason, message, kind: 'dataLoss', at: state.since };
    state.lastFailureReasonWritten = reason;
  }

  /** Writes one `Data fetch failure summary` per data type that failed since the last summary. */
  async summarise(subjects: readonly HealthSubject[]): Promise<void> {
    for (const subject of subjects) {
      const failures = this.failuresSinceSummary.get(this.key(subject));
      if (!failures || failures.size === 0) continue;
      this.failuresSinceSummary.delete(this.key(subject));
      const summary = [...failures.values()].map((f) => ({
        StatusCode: f.status,
        StatusMessage: f.message,
        Count: f.count,
      }));
      await this.write(
        subject,
        'Data fetch failure summary',
        'Informational',
        '',
        `${summary.reduce((n, f) => n + f.Count, 0)} failures since the last summary.`,
        { DestinationTable: subject.table, FailureSummary: summary },
      );
    }
  }

  private countFailure(subject: HealthSubject, failure: FailureReport): void {
    let failures = this.failuresSinceSummary.get(this.key(subject));
    if (!failures) {
      failures = new Map();
      this.failuresSinceSummary.set(this.key(subject), failures);
    }
    const k = `${failure.httpStatus ?? 0}:${failure.reason}`;
    const f = failures.get(k) ?? { status: failure.httpStatus ?? 0, message: failure.reason, count: 0 };
    f.count++;
    failures.set(k, f);
  }

  private async write(
    subject: HealthSubject,
    operation: string,
    status: string,
    reason: string,
    description: string,
    extended: Record<string, unknown>,
  ): Promise<void> {
    const recordId = crypto.randomUUID();
    const row = {
      TimeGenerated: new Date().toISOString(),
      OperationName: operation,
      SentinelResourceId: this.resourceId(subject.connectorName),
      SentinelResourceName: subject.connectorName,
      SentinelResourceType: 'Data connector',
      SentinelResourceKind: subject.connectorKind,
      Status: status,
      Description: description,
      Reason: reason,
      WorkspaceId: this.workspaceId,
      RecordId: recordId,
      ExtendedProperties: { DataType: subject.dataType, TenantId: subject.tenantId, ...extended },
    };
    const bytes = Buffer.from(JSON.stringify(row));
    try {
      await this.ingest.ingestBatch({
        table: HEALTH_TABLE,
        source: `health/${subject.connectorName}`,
        records: [{ number: 1, bytes, length: bytes.length }],
        token: `health:${recordId}`,
      });
    } catch (err) {
      // Health must never stop collection; the failure is logged by the caller's handler.
      this.onWriteError(err);
    }
  }
}

function describe(f: FailureReport): string {
  return f.hint ? `${f.message} ${f.hint}` : f.message;
}

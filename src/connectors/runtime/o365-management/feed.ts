import { isAscii } from 'node:buffer';
import type { RawLine } from '../../../ingest/batch-encoder.js';
import { compileSelector, type RecordSelector } from '../../../ingest/select.js';
import type { IngestBatchSummary, IngestService } from '../../../ingest/service.js';
import type { CheckpointRepository } from '../../../storage/control/checkpoints.js';
import type { ContentOutcome, StreamContentRepository } from '../../../storage/control/stream-content.js';
import { type BackoffPolicy, backoffDelay, sleep } from '../backoff.js';
import type { RecordHook } from '../definition.js';
import type { HealthReporter, HealthSubject } from '../health.js';
import { SourceError, TRANSPORT_OUTCOME } from '../outcomes.js';
import { MANAGEMENT_ACTIVITY_API } from './api.js';
import type { ContentDescriptor, ManagementActivityClient } from './client.js';

/**
 * A blob's rows for a table wait up to this long for other blobs' rows when they are few: Audit.General blobs
 * hold a few dozen to a few hundred rows for each small table, and one insert each made a part each.
 */
const WRITE_LINGER_MS = 150;

/** One data type of one connected connector, reading one content type of one tenant. */
export interface FeedConsumer {
  /** Keys the checkpoint and the finished-content list: `<connector>/<dataType>/<tenant>`. */
  readonly streamId: string;
  readonly subject: HealthSubject;
  readonly table: string;
  readonly select?: RecordSelector;
  readonly hook?: RecordHook;
  /** Where listing starts the first time (connect time minus the initial look-back), epoch ms. */
  readonly startMs: number;
}

/** Where a stream stands: every piece of content made available before `listedUntil` is written. */
export interface StreamPosition {
  readonly listedUntil: number;
}

export interface FeedOptions {
  /** Listing ends this long before now (clock skew, content still being published). */
  readonly delayMs: number;
  /** Each poll lists again this far before the last end: content listed late is still found. */
  readonly overlapMs: number;
  /** Content blobs fetched at once. */
  readonly fetchConcurrency: number;
  /** Attempts for one request inside a poll before the poll gives up (the next poll starts over). */
  readonly attempts: number;
  readonly backoff: BackoffPolicy;
}

export interface FeedDeps {
  readonly ingest: IngestService;
  readonly checkpoints: CheckpointRepository;
  readonly content: StreamContentRepository;
  readonly health: HealthReporter;
  readonly observe: {
    page(consumers: readonly FeedConsumer[]): void;
    content(consumer: FeedConsumer, outcome: ContentOutcome): void;
    records(consumer: FeedConsumer, written: number, duplicates: number, quarantined: number): void;
    lag(consumer: FeedConsumer, seconds: number): void;
  };
  readonly now: () => number;
  readonly log: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
}

interface ConsumerRun {
  readonly consumer: FeedConsumer;
  readonly select?: (record: unknown) => boolean;
  position: StreamPosition;
  version: number;
  /** Listing for this consumer starts here in this poll. */
  from: number;
  done: Set<string>;
}

export function checkpointId(streamId: string): string {
  return `stream:${streamId}`;
}

/**
 * Polls one content type of one tenant for every consumer that reads it, so a blob is fetched once however
 * many connectors want its records (Audit.General feeds Teams, Dynamics 365, Power BI, Purview and IRM).
 *
 * The algorithm (source-apis.md §2.9): list the trailing window from each consumer's position minus an
 * overlap, in ≤ 24 h requests, following `NextPageUri` to the end; fetch each listed blob that some
 * consumer has not finished; write its records through the ingest pipeline; remember the blob as finished
 * only after the store acknowledged; move a consumer's position past a window only when every blob listed
 * in it is finished. Throttling and failures end the poll without moving anything, so no window is ever
 * skipped; finished blobs are not fetched again when the window is retried.
 */
export class ManagementActivityFeed {
  private consumers: FeedConsumer[] = [];
  private subscriptionChecked = false;

  constructor(
    readonly tenantId: string,
    readonly contentType: string,
    private readonly client: ManagementActivityClient,
    private readonly deps: FeedDeps,
    private readonly options: FeedOptions,
  ) {}

  setConsumers(consumers: readonly FeedConsumer[]): void {
    this.consumers = [...consumers];
  }

  get consumerList(): readonly FeedConsumer[] {
    return this.consumers;
  }

  async poll(signal: AbortSignal): Promise<void> {
    const consumers = this.consumers;
    if (consumers.length === 0) return;
    const now = this.deps.now();
    const end = now - this.options.delayMs;
    const floor = now - MANAGEMENT_ACTIVITY_API.maxLookbackMs;

    if (!this.subscriptionChecked) {
      await this.ensureSubscription(signal);
      this.subscriptionChecked = true;
    }

    const runs: ConsumerRun[] = [];
    for (const consumer of consumers) {
      const cp = await this.deps.checkpoints.get<StreamPosition>(checkpointId(consumer.streamId));
      let position = cp?.position ?? { listedUntil: Math.max(consumer.startMs, floor) };
      let version = cp?.version ?? 0;
      if (version === 0) {
        version = (await this.deps.checkpoints.save(checkpointId(consumer.streamId), position, 0)).version;
      }
      if (position.listedUntil < floor) {
        // Down for longer than the API keeps content: the gap cannot be read any more. Say so, loudly.
        const lostFrom = new Date(position.listedUntil).toISOString();
        const lostTo = new Date(floor).toISOString();
        await this.deps.health.contentLost(
          consumer.subject,
          `${lostFrom}/${lostTo}`,
          'ContentBeyondRetention',
          `content made available between ${lostFrom} and ${lostTo} is older than the API keeps (7 days) and was not collected`,
        );
        position = { listedUntil: floor };
        version = (await this.deps.checkpoints.save(checkpointId(consumer.streamId), position, version))
          .version;
      }
      const from = Math.max(position.listedUntil - this.options.overlapMs, floor);
      const done = await this.deps.content.doneIds(
        consumer.streamId,
        new Date(from - MANAGEMENT_ACTIVITY_API.maxWindowMs).toISOString(),
      );
      runs.push({
        consumer,
        select: consumer.select ? compileSelector(consumer.select) : undefined,
        position,
        version,
        from,
        done,
      });
    }

    const start = Math.min(...runs.map((r) => r.from));
    for (let windowStart = start; windowStart < end; ) {
      const windowEnd = Math.min(windowStart + MANAGEMENT_ACTIVITY_API.maxWindowMs, end);
      const listed = await this.listWindow(windowStart, windowEnd, signal);
      const work: { descriptor: ContentDescriptor; needing: ConsumerRun[] }[] = [];
      for (const descriptor of listed) {
        const needing = runs.filter(
          (r) => descriptor.contentCreated >= r.from && !r.done.has(descriptor.contentId),
        );
        if (needing.length > 0) work.push({ descriptor, needing });
      }
      // A blob's fetch slot is free once its records are encoded and queued; its write is acknowledged
      // later (and only then is it marked finished). At most fetchConcurrency blobs wait for their
      // writes: reading runs ahead of the engine, but not without bound.
      const writes = new Set<Promise<void>>();
      let writeFailure: unknown;
      await forEachConcurrent(work, this.options.fetchConcurrency, async (item) => {
        while (writes.size >= this.options.fetchConcurrency) await Promise.race(writes);
        if (writeFailure !== undefined) throw writeFailure;
        const { written } = await this.processContent(item.descriptor, item.needing, signal);
        const tracked: Promise<void> = written
          .catch((err: unknown) => {
            writeFailure ??= err;
          })
          .finally(() => writes.delete(tracked));
        writes.add(tracked);
      });
      await Promise.all(writes);
      if (writeFailure !== undefined) throw writeFailure;
      for (const run of runs) {
        if (run.position.listedUntil >= windowEnd) continue;
        run.position = { listedUntil: windowEnd };
        run.version = (
          await this.deps.checkpoints.save(checkpointId(run.consumer.streamId), run.position, run.version)
        ).version;
        this.deps.observe.lag(run.consumer, Math.max(0, (this.deps.now() - windowEnd) / 1000));
      }
      windowStart = windowEnd;
    }
    for (const run of runs) {
      await this.deps.content.prune(
        run.consumer.streamId,
        new Date(
          now - MANAGEMENT_ACTIVITY_API.contentRetentionMs - 2 * MANAGEMENT_ACTIVITY_API.maxWindowMs,
        ).toISOString(),
      );
    }
  }

  /** Starts the subscription when it is missing or disabled; "already enabled" (AF20024) is success. */
  private async ensureSubscription(signal: AbortSignal): Promise<void> {
    let subscriptions: { contentType: string; status: string }[];
    try {
      subscriptions = await this.withRetries(
        'subscriptions/list',
        () => this.client.listSubscriptions(signal),
        signal,
      );
    } catch (err) {
      // Listing subscriptions is a convenience: an API that refuses it (a proxy, a partial emulator) still
      // says AF20022 when content is listed without one, and the feed starts it then.
      if (
        err instanceof SourceError &&
        err.outcome.kind === 'config' &&
        err.outcome.reason === 'RequestRejected'
      ) {
        this.deps.log('warn', 'subscriptions/list refused; relying on AF20022 to start subscriptions', {
          tenantId: this.tenantId,
          contentType: this.contentType,
        });
        return;
      }
      throw err;
    }
    const current = subscriptions.find((s) => s.contentType === this.contentType);
    if (current?.status?.toLowerCase() === 'enabled') return;
    await this.startSubscription(signal);
  }

  private async startSubscription(signal: AbortSignal): Promise<void> {
    this.deps.log('info', 'starting Management Activity API subscription', {
      tenantId: this.tenantId,
      contentType: this.contentType,
    });
    await this.withRetries(
      'subscriptions/start',
      () => this.client.startSubscription(this.contentType, signal),
      signal,
    );
  }

  /** Every descriptor listed in [start, end), all pages. */
  private async listWindow(start: number, end: number, signal: AbortSignal): Promise<ContentDescriptor[]> {
    let restarts = 0;
    let startedSubscription = false;
    for (;;) {
      try {
        return await this.withRetries(
          'subscriptions/content',
          async () => {
            const all: ContentDescriptor[] = [];
            for await (const page of this.client.listContent(this.contentType, start, end, signal)) {
              this.deps.observe.page(this.consumers);
              all.push(...page);
            }
            return all;
          },
          signal,
        );
      } catch (err) {
        if (!(err instanceof SourceError)) throw err;
        if (err.outcome.action === 'restartPaging' && restarts++ < 3) continue;
        if (err.outcome.action === 'startSubscription' && !startedSubscription) {
          startedSubscription = true;
          await this.startSubscription(signal);
          continue;
        }
        throw err;
      }
    }
  }

  private async processContent(
    descriptor: ContentDescriptor,
    needing: ConsumerRun[],
    signal: AbortSignal,
  ): Promise<{ written: Promise<void> }> {
    let records: RawLine[];
    try {
      records = await this.withRetries(
        'content',
        async () =>
          parseContent(await this.client.fetchContent(descriptor.contentUri, signal), descriptor.contentId),
        signal,
      );
    } catch (err) {
      if (err instanceof SourceError && err.outcome.action === 'contentGone') {
        for (const run of needing) {
          await this.deps.health.contentLost(
            run.consumer.subject,
            descriptor.contentId,
            err.outcome.reason,
            `content ${descriptor.contentId} (made available ${new Date(descriptor.contentCreated).toISOString()}) could not be read: ${err.message}; its records are lost at the source`,
          );
          await this.finish(
            run,
            descriptor,
            err.outcome.reason === 'ContentExpired' ? 'expired' : 'missing',
            0,
          );
        }
        return { written: Promise.resolve() };
      }
      throw err;
    }
    return { written: this.write(descriptor, needing, records) };
  }

  /**
   * Hands a blob's records to each consumer's table (ingestBatch encodes them before it returns) and returns
   * a promise that settles when every write is acknowledged and the blob recorded as finished. Built with a
   * loop, not closures over `records`, so the parsed records can be collected as soon as they are encoded
   * rather than when the write is acknowledged.
   */
  private write(descriptor: ContentDescriptor, needing: ConsumerRun[], records: RawLine[]): Promise<void> {
    const routed = route(records, needing);
    const calls: { run: ConsumerRun; summary: Promise<IngestBatchSummary> }[] = [];
    for (const run of needing) {
      const { consumer } = run;
      const summary = this.deps.ingest.ingestBatch({
        table: consumer.table,
        source: `${consumer.streamId}/${this.contentType}`,
        records: routed.get(run) ?? records,
        token: `${consumer.streamId}:${descriptor.contentId}`,
        // Routed lines are already selected; a lone consumer's selector runs in the encoder.
        select: routed.has(run) ? undefined : consumer.select,
        positionLabel: `content ${descriptor.contentId} record`,
        lingerMs: WRITE_LINGER_MS,
      });
      // Awaited below, never left unhandled.
      summary.catch(() => undefined);
      calls.push({ run, summary });
    }
    return this.acknowledge(descriptor, calls);
  }

  /** The writes of one blob, acknowledged: the consumers' rows are stored; record the blob as finished. */
  private async acknowledge(
    descriptor: ContentDescriptor,
    calls: readonly { run: ConsumerRun; summary: Promise<IngestBatchSummary> }[],
  ): Promise<void> {
    await Promise.all(
      calls.map(async ({ run, summary }) => {
        const s = await summary;
        this.deps.observe.records(run.consumer, s.rowsWritten, s.duplicates, s.quarantined);
        await this.finish(run, descriptor, 'written', s.rowsWritten);
      }),
    );
  }

  private async finish(
    run: ConsumerRun,
    d: ContentDescriptor,
    outcome: ContentOutcome,
    records: number,
  ): Promise<void> {
    await this.deps.content.markDone(run.consumer.streamId, {
      contentId: d.contentId,
      contentTime: new Date(d.contentCreated).toISOString(),
      outcome,
      records,
    });
    run.done.add(d.contentId);
    this.deps.observe.content(run.consumer, outcome);
  }

  /** Runs `fn`, retrying transient failures and throttling (after `Retry-After` or a back-off) a few times. */
  private async withRetries<T>(operation: string, fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof SourceError)) throw err;
        const { action } = err.outcome;
        const retryable = action === 'retry' || action === 'rateLimited';
        if (!retryable || attempt >= this.options.attempts) throw err;
        const delay = backoffDelay(this.options.backoff, attempt, action === 'rateLimited', err.retryAfterMs);
        this.deps.log('warn', 'source request failed; retrying', {
          operation,
          tenantId: this.tenantId,
          contentType: this.contentType,
          reason: err.outcome.reason,
          attempt,
          delayMs: delay,
        });
        await sleep(delay, signal);
      }
    }
  }
}

/**
 * A blob's body as records: one native parse of the whole array, each element handed on already parsed
 * (its quarantine text, if it needs one, is re-serialised). A body that is not complete JSON was cut short in
 * transit (retried); `_BilledSize` is the blob's average record size.
 */
function parseContent(body: Buffer, contentId: string): RawLine[] {
  let parsed: unknown;
  try {
    // Audit content is nearly always ASCII, which decodes as Latin-1 at memory speed (the same string);
    // UTF-8 decoding of it took ~3× as long (bench/README.md).
    parsed = JSON.parse(isAscii(body) ? body.toString('latin1') : body.toString('utf8'));
  } catch (err) {
    throw new SourceError(
      TRANSPORT_OUTCOME,
      `content ${contentId}: the body is not complete JSON (${(err as Error).message})`,
    );
  }
  if (!Array.isArray(parsed)) {
    throw new SourceError(TRANSPORT_OUTCOME, `content ${contentId}: the body is not a JSON array of records`);
  }
  const length = parsed.length > 0 ? Math.round(body.length / parsed.length) : 0;
  return parsed.map((record, i) => ({ number: i + 1, bytes: undefined, length, record }));
}

/**
 * When several consumers share a blob (Audit.General feeds five connectors) or one reshapes records with a
 * hook, each record is parsed once here and handed, already parsed, to the consumers whose selector takes
 * it; the encoder then maps without parsing again. A record that is not JSON goes to the first consumer
 * only, so it is quarantined once. A lone consumer without a hook gets nothing here (undefined): the
 * encoder parses and selects in one pass.
 */
function route(records: readonly RawLine[], runs: readonly ConsumerRun[]): Map<ConsumerRun, RawLine[]> {
  const out = new Map<ConsumerRun, RawLine[]>();
  if (runs.length === 1 && !runs[0]!.consumer.hook) return out;
  // Records arrive parsed (parseContent): routing only reads them.
  for (const run of runs) out.set(run, []);
  for (const line of records) {
    const record = line.record;
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      // Not a record at all: the first consumer's encoder quarantines it, once.
      out.get(runs[0]!)!.push(line);
      continue;
    }
    for (const run of runs) {
      if (run.select && !run.select(record)) continue;
      const { hook } = run.consumer;
      if (!hook) {
        out.get(run)!.push(line);
        continue;
      }
      const shaped = hook(record as Record<string, unknown>);
      if (shaped) out.get(run)!.push({ ...line, record: shaped });
    }
  }
  return out;
}

/** Runs `fn` over `items`, at most `limit` at once; rejects with the first failure after all settle. */
async function forEachConcurrent<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
}

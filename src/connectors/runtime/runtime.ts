import type { IngestService } from '../../ingest/service.js';
import type { DataConnectorRepository } from '../../storage/control/data-connectors.js';
import type { StreamContentRepository } from '../../storage/control/stream-content.js';
import type { TenantService } from '../../tenants/tenant-service.js';
import type { Workspace } from '../../workspace/workspace.js';
import { ConnectorError } from '../errors.js';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF, sleep } from './backoff.js';
import type { ConnectorDefinition, DataTypeDefinition } from './definition.js';
import { HealthReporter, type HealthState, type HealthSubject } from './health.js';
import { ConnectorMetrics } from './metrics.js';
import { MANAGEMENT_ACTIVITY_API } from './o365-management/api.js';
import { ManagementActivityClient } from './o365-management/client.js';
import {
  checkpointId,
  type FeedConsumer,
  ManagementActivityFeed,
  type StreamPosition,
} from './o365-management/feed.js';
import { SourceError } from './outcomes.js';
import { RateLimiter } from './rate-limiter.js';

export interface RuntimeOptions {
  /** Time between polls of a feed (default 3 min, as Beats; the API's content is 1-12 h late anyway). */
  readonly pollIntervalMs: number;
  /** ± this fraction of the interval, so feeds don't poll in step. */
  readonly jitter: number;
  /** Feeds polling at once, over all tenants. */
  readonly concurrency: number;
  readonly delayMs: number;
  readonly overlapMs: number;
  /**
   * How far back a newly connected data type starts: by default everything the API still holds (7 days),
   * so nothing available at Connect is left behind; lower it to start closer to now.
   */
  readonly initialLookbackMs: number;
  /**
   * A feed made by a Connect waits this long before its first poll, so that data types connected together
   * (a script's PUTs one after another, several connectors of one tenant) share its first listing: a data
   * type that joins a feed whose poll is already running waits for the next poll, which fetches the
   * backfill's blobs again for it (in the connector benchmark every Audit.General blob was fetched twice).
   * Feeds made at start, when everything connected is known, poll at once.
   */
  readonly settleMs: number;
  /** A data type with no successful poll for this many intervals is reported as stalled. */
  readonly stallIntervals: number;
  readonly summaryIntervalMs: number;
  readonly fetchConcurrency: number;
  readonly attempts: number;
  readonly backoff: BackoffPolicy;
  readonly requestsPerMinute: number;
  readonly requestTimeoutMs: number;
  readonly now: () => number;
}

export const DEFAULT_RUNTIME_OPTIONS: RuntimeOptions = {
  pollIntervalMs: 3 * 60_000,
  jitter: 0.1,
  concurrency: 4,
  delayMs: 60_000,
  overlapMs: 60 * 60_000,
  initialLookbackMs: 7 * 24 * 3600_000,
  settleMs: 1000,
  stallIntervals: 5,
  summaryIntervalMs: 3600_000,
  // Enough blobs in flight that their rows form inserts of thousands (IngestService groups them); each
  // costs its body and its parsed records in memory. 3 rather than 4: the connector benchmark ran as fast
  // (alternating same-data runs: 36.1-47.9 s against 40.4-50.6 s) at 8-26 MiB less peak RSS; a feed that
  // waits on a slow network reads 3 blobs a round trip, ~10,000 records a second at 300 ms.
  fetchConcurrency: 3,
  attempts: 4,
  backoff: DEFAULT_BACKOFF,
  requestsPerMinute: MANAGEMENT_ACTIVITY_API.requestsPerMinute,
  requestTimeoutMs: 60_000,
  now: Date.now,
};

export interface RuntimeLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A connected data connector resource, as the runtime reads it. */
interface ConnectedResource {
  readonly name: string;
  readonly definition: ConnectorDefinition;
  readonly tenantId: string;
  readonly enabled: readonly DataTypeDefinition[];
  readonly createdAtMs: number;
}

interface FeedLoop {
  readonly key: string;
  readonly feed: ManagementActivityFeed;
  readonly stop: AbortController;
  wake: AbortController;
  failures: number;
  running: Promise<void>;
  lastPollEndedAt?: number;
}

/**
 * Runs every connected connector: reads the dataConnectors resources, groups their data types into feeds
 * (one per tenant and content type, so two connectors never fetch the same blob twice), and polls each feed
 * on its own schedule with jitter, under a global concurrency limit, backing off on failures. Reports health
 * and metrics. `reconcile()` after every change to the resources.
 */
export class ConnectorRuntime {
  readonly metrics = new ConnectorMetrics();
  readonly health: HealthReporter;
  private readonly options: RuntimeOptions;
  private readonly feeds = new Map<string, FeedLoop>();
  private readonly limiters = new Map<string, RateLimiter>();
  /** One Management Activity API client per tenant, shared by its feeds. */
  private readonly clients = new Map<string, ManagementActivityClient>();
  private running = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private started = false;
  private reconciling: Promise<void> = Promise.resolve();

  constructor(
    private readonly ws: Workspace,
    private readonly ingest: IngestService,
    private readonly tenants: TenantService,
    private readonly connectors: DataConnectorRepository,
    private readonly content: StreamContentRepository,
    private readonly definitions: ReadonlyMap<string, ConnectorDefinition>,
    private readonly log: RuntimeLogger,
    options: Partial<RuntimeOptions> = {},
  ) {
    this.options = { ...DEFAULT_RUNTIME_OPTIONS, ...options };
    this.health = new HealthReporter(
      ingest,
      ws.id,
      (name) => connectorResourceId(ws.id, name),
      (err) => this.log.error({ err: errorText(err) }, 'writing a SentinelHealth row failed'),
    );
  }

  /** Starts polling what is connected, plus the stall check and the failure summary. */
  async start(): Promise<void> {
    await this.reconcile();
    // Feeds made from here on come from a Connect, and wait `settleMs` for the data types connected with it.
    this.started = true;
    const stallCheck = setInterval(() => void this.checkStalls(), this.options.pollIntervalMs);
    const summary = setInterval(
      () => void this.health.summarise(this.subjects()).catch(() => undefined),
      this.options.summaryIntervalMs,
    );
    stallCheck.unref();
    summary.unref();
    this.timers.push(stallCheck, summary);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    const loops = [...this.feeds.values()];
    for (const loop of loops) loop.stop.abort(new Error('runtime stopped'));
    await Promise.all(loops.map((l) => l.running.catch(() => undefined)));
    this.feeds.clear();
  }

  /** Re-reads the connected resources and starts, re-targets or stops feeds to match. */
  reconcile(): Promise<void> {
    this.reconciling = this.reconciling.then(
      () => this.doReconcile(),
      () => this.doReconcile(),
    );
    return this.reconciling;
  }

  private async doReconcile(): Promise<void> {
    if (this.stopped) return;
    const resources = await this.connectedResources();
    const wanted = new Map<string, { tenantId: string; contentType: string; consumers: FeedConsumer[] }>();
    for (const resource of resources) {
      for (const dataType of resource.enabled) {
        const source = dataType.source;
        const key = `${resource.tenantId}/${source.contentType}`;
        let feed = wanted.get(key);
        if (!feed) {
          feed = { tenantId: resource.tenantId, contentType: source.contentType, consumers: [] };
          wanted.set(key, feed);
        }
        const hook = source.hook ? resource.definition.hooks?.[source.hook] : undefined;
        feed.consumers.push({
          streamId: streamId(resource.name, dataType.key, resource.tenantId),
          subject: subjectOf(resource, dataType),
          table: dataType.table,
          ...(source.select ? { select: source.select } : {}),
          ...(hook ? { hook } : {}),
          startMs: resource.createdAtMs - this.options.initialLookbackMs,
        });
      }
    }
    for (const [key, loop] of this.feeds) {
      if (!wanted.has(key)) {
        loop.stop.abort(new Error('disconnected'));
        this.feeds.delete(key);
      }
    }
    for (const [key, want] of wanted) {
      const existing = this.feeds.get(key);
      if (existing) {
        existing.feed.setConsumers(want.consumers);
        continue;
      }
      let client: ManagementActivityClient;
      try {
        client = await this.clientFor(want.tenantId);
      } catch (err) {
        // No tenant connection (or it cannot be read): every data type of the feed shows it.
        for (const c of want.consumers) {
          await this.health.failure(c.subject, {
            reason: 'TenantNotConnected',
            kind: 'config',
            message: errorText(err),
          });
        }
        continue;
      }
      const feed = new ManagementActivityFeed(
        want.tenantId,
        want.contentType,
        client,
        {
          ingest: this.ingest,
          checkpoints: this.ws.checkpoints,
          content: this.content,
          health: this.health,
          observe: this.observer(),
          now: this.options.now,
          log: (level, msg, fields) => this.log[level]({ ...fields }, msg),
        },
        this.options,
      );
      feed.setConsumers(want.consumers);
      const loop: FeedLoop = {
        key,
        feed,
        stop: new AbortController(),
        wake: new AbortController(),
        failures: 0,
        running: Promise.resolve(),
      };
      // At start every connected data type is already known: poll at once.
      loop.running = this.runLoop(loop, this.started ? this.options.settleMs : 0);
      this.feeds.set(key, loop);
    }
  }

  /** Polls now instead of at the next interval (after Connect or a backfill). */
  wakeAll(): void {
    for (const loop of this.feeds.values()) loop.wake.abort();
  }

  /** Forgets the tenant's cached client (its connection changed). */
  tenantChanged(tenantId: string): void {
    this.clients.delete(tenantId.toLowerCase());
    for (const [key, loop] of this.feeds) {
      if (key.startsWith(`${tenantId.toLowerCase()}/`)) {
        loop.stop.abort(new Error('tenant changed'));
        this.feeds.delete(key);
      }
    }
  }

  /** Moves the data types of a connector back to `fromMs` (at most 7 days ago) and polls now. */
  async backfill(name: string, fromMs: number): Promise<{ from: string }> {
    const floor = this.options.now() - MANAGEMENT_ACTIVITY_API.maxLookbackMs;
    const from = Math.max(fromMs, floor);
    const resource = (await this.connectedResources()).find((r) => r.name === name);
    if (!resource)
      throw new ConnectorError(
        'NotConnected',
        `Data connector '${name}' has no connected data type to backfill.`,
      );
    for (const dataType of resource.enabled) {
      const id = checkpointId(streamId(name, dataType.key, resource.tenantId));
      const cp = await this.ws.checkpoints.get<StreamPosition>(id);
      if (cp && cp.position.listedUntil <= from) continue;
      await this.ws.checkpoints.save<StreamPosition>(id, { listedUntil: from }, cp?.version ?? 0);
    }
    this.wakeAll();
    return { from: new Date(from).toISOString() };
  }

  /** Health of each enabled data type of a connector resource. */
  async status(
    name: string,
  ): Promise<{ dataType: string; table: string; health: HealthState; listedUntil?: string }[]> {
    const resource = (await this.connectedResources()).find((r) => r.name === name);
    if (!resource) return [];
    const out = [];
    for (const dataType of resource.enabled) {
      const cp = await this.ws.checkpoints.get<StreamPosition>(
        checkpointId(streamId(name, dataType.key, resource.tenantId)),
      );
      out.push({
        dataType: dataType.key,
        table: dataType.table,
        health: { ...this.health.state(subjectOf(resource, dataType)) },
        ...(cp ? { listedUntil: new Date(cp.position.listedUntil).toISOString() } : {}),
      });
    }
    return out;
  }

  /** Forgets the streams of a deleted connector resource (checkpoints, finished content, health). */
  async forget(name: string, tenantId: string, dataTypes: readonly string[]): Promise<void> {
    for (const key of dataTypes) {
      const id = streamId(name, key, tenantId);
      await this.ws.checkpoints.delete(checkpointId(id));
      await this.content.deleteStream(id);
    }
    this.health.forget(name);
  }

  private async runLoop(loop: FeedLoop, settleMs: number): Promise<void> {
    const { stop } = loop;
    // Not cut short by a wake: the wake that comes with each Connect is what this waits out.
    if (settleMs > 0) await sleep(settleMs, stop.signal).catch(() => undefined);
    while (!stop.signal.aborted && !this.stopped) {
      await this.acquireSlot(stop.signal).catch(() => undefined);
      if (stop.signal.aborted) break;
      let delay = this.nextInterval();
      try {
        await loop.feed.poll(stop.signal);
        loop.failures = 0;
        for (const c of loop.feed.consumerList) await this.health.success(c.subject);
      } catch (err) {
        if (stop.signal.aborted) break;
        loop.failures++;
        const source = err instanceof SourceError ? err : undefined;
        const outcome = source?.outcome;
        this.log.warn(
          {
            feed: loop.key,
            reason: outcome?.reason ?? 'InternalError',
            err: errorText(err),
            failures: loop.failures,
          },
          'connector poll failed',
        );
        for (const c of loop.feed.consumerList) {
          await this.health.failure(c.subject, {
            reason: outcome?.reason ?? 'InternalError',
            kind: outcome?.kind ?? 'transient',
            message: errorText(err),
            ...(source?.httpStatus ? { httpStatus: source.httpStatus } : {}),
            ...(outcome?.hint ? { hint: outcome.hint } : {}),
          });
          this.metrics.healthy.set(labels(c), 0);
        }
        // Config failures retry slowly (a person must act); others back off, honouring Retry-After.
        delay =
          outcome?.kind === 'config'
            ? Math.max(this.options.pollIntervalMs, this.options.backoff.maxMs)
            : Math.max(
                backoffDelay(
                  this.options.backoff,
                  loop.failures,
                  outcome?.action === 'rateLimited',
                  source?.retryAfterMs,
                ),
                0,
              );
      } finally {
        this.releaseSlot();
        loop.lastPollEndedAt = Date.now();
      }
      for (const c of loop.feed.consumerList) if (loop.failures === 0) this.metrics.healthy.set(labels(c), 1);
      const wake = loop.wake;
      await sleep(delay, AbortSignal.any([stop.signal, wake.signal])).catch(() => undefined);
      if (wake.signal.aborted) loop.wake = new AbortController();
    }
  }

  private nextInterval(): number {
    const { pollIntervalMs, jitter } = this.options;
    return Math.round(pollIntervalMs * (1 - jitter + Math.random() * 2 * jitter));
  }

  private async acquireSlot(signal: AbortSignal): Promise<void> {
    if (this.running < this.options.concurrency) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.slotWaiters.push(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
    this.running++;
  }

  private releaseSlot(): void {
    this.running--;
    this.slotWaiters.shift()?.();
  }

  private async checkStalls(): Promise<void> {
    const limit = this.options.stallIntervals * this.options.pollIntervalMs;
    const now = Date.now();
    for (const loop of this.feeds.values()) {
      for (const c of loop.feed.consumerList) {
        const state = this.health.state(c.subject);
        const last = state.lastSuccessAt ? Date.parse(state.lastSuccessAt) : Date.parse(state.since);
        if (now - last > limit && state.lastFailure?.reason !== 'Stalled') {
          await this.health.failure(c.subject, {
            reason: 'Stalled',
            kind: 'transient',
            message: `no successful poll in ${this.options.stallIntervals} intervals (${Math.round(limit / 60_000)} min)`,
          });
        }
      }
    }
  }

  private subjects(): HealthSubject[] {
    return [...this.feeds.values()].flatMap((l) => l.feed.consumerList.map((c) => c.subject));
  }

  private async clientFor(tenantId: string): Promise<ManagementActivityClient> {
    const key = tenantId.toLowerCase();
    const cached = this.clients.get(key);
    if (cached) return cached;
    const connection = await this.tenants.connectionForTenantId(key);
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = new RateLimiter(this.options.requestsPerMinute);
      this.limiters.set(key, limiter);
    }
    const client = new ManagementActivityClient(
      connection,
      limiter,
      {
        request: (operation, outcome) =>
          this.metrics.requests.inc({ connector: 'o365', tenant: key, stream: '', operation, outcome }),
        bytes: (n) => this.metrics.bytes.inc({ connector: 'o365', tenant: key, stream: '' }, n),
      },
      { timeoutMs: this.options.requestTimeoutMs },
    );
    this.clients.set(key, client);
    return client;
  }

  private observer() {
    return {
      page: (consumers: readonly FeedConsumer[]) => {
        for (const c of consumers) this.metrics.pages.inc(labels(c));
      },
      content: (c: FeedConsumer, outcome: string) => this.metrics.contents.inc({ ...labels(c), outcome }),
      records: (c: FeedConsumer, written: number, duplicates: number, quarantined: number) => {
        this.metrics.records.inc({ ...labels(c), result: 'written' }, written);
        this.metrics.records.inc({ ...labels(c), result: 'duplicate' }, duplicates);
        this.metrics.records.inc({ ...labels(c), result: 'quarantined' }, quarantined);
      },
      lag: (c: FeedConsumer, seconds: number) => this.metrics.lagSeconds.set(labels(c), seconds),
    };
  }

  private async connectedResources(): Promise<ConnectedResource[]> {
    const out: ConnectedResource[] = [];
    for (const row of await this.connectors.list()) {
      const definition = this.definitions.get(row.kind);
      if (!definition) continue;
      const properties = JSON.parse(row.properties) as {
        tenantId?: string;
        dataTypes?: Record<string, { state?: string }>;
      };
      if (!properties.tenantId) continue;
      const enabled = definition.dataTypes.filter(
        (d) => properties.dataTypes?.[d.key]?.state?.toLowerCase() === 'enabled',
      );
      out.push({
        name: row.name,
        definition,
        tenantId: properties.tenantId.toLowerCase(),
        enabled,
        createdAtMs: Date.parse(row.createdAt),
      });
    }
    return out;
  }
}

export function streamId(connectorName: string, dataType: string, tenantId: string): string {
  return `${connectorName}/${dataType}/${tenantId.toLowerCase()}`;
}

function subjectOf(resource: ConnectedResource, dataType: DataTypeDefinition): HealthSubject {
  return {
    connectorName: resource.name,
    connectorKind: resource.definition.kind,
    dataType: dataType.key,
    table: dataType.table,
    tenantId: resource.tenantId,
  };
}

function labels(c: FeedConsumer) {
  return { connector: c.subject.connectorKind, tenant: c.subject.tenantId, stream: c.subject.dataType };
}

/** The workspace's ARM id; Vigil serves one workspace, whatever subscription and group a client names. */
export function workspaceResourceId(workspaceId: string): string {
  return `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/vigil/providers/Microsoft.OperationalInsights/workspaces/${workspaceId}`;
}

export function connectorResourceId(workspaceId: string, name: string): string {
  return `${workspaceResourceId(workspaceId)}/providers/Microsoft.SecurityInsights/dataConnectors/${name}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

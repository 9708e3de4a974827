/**
 * The content store behind the emulated Management Activity API: batches of generated activity cut into
 * blobs, the `contentCreated` index the listing endpoint searches, subscriptions, and the ground truth.
 *
 * Nothing here holds record bodies. A batch is (seed, counts, time range, knobs); blob `j` of a content
 * type is a range of record positions plus, at `duplicateRate`, repeats of records of blob `j-1`; a record
 * is rebuilt from (stream seed, position) whenever a blob body is needed. With a `blobDir`, bodies are built
 * once at `generate()` and served from disk (cheap GETs, slower generate); without it they are rebuilt on
 * each GET (no disk, ~50 µs of CPU per record per GET), with a small cache of recent bodies.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  buildRecord,
  CONTENT_TYPES,
  type ContentType,
  type RecordHead,
  type RecordStream,
  recordHead,
} from './generators/activity-records.js';
import { type Cast, hash32, stringHash, unit } from './generators/cast.js';

const DAY = 86_400_000;
export const CONTENT_RETENTION_MS = 7 * DAY;

export interface GenerateOptions {
  readonly tenantId: string;
  /** Distinct records to create (repeats from `duplicateRate` come on top). */
  readonly count: number;
  /** `contentCreated` of the blobs is spread over [from, to) (epoch ms, Date or ISO text). */
  readonly from: number | Date | string;
  readonly to: number | Date | string;
  /** Content types to fill, equal shares (default: the four Audit.* types by `mix`). */
  readonly contentTypes?: readonly ContentType[];
  /** Relative weights per content type (default Exchange 0.3, SharePoint 0.35, AzureActiveDirectory 0.15, General 0.2). */
  readonly mix?: Partial<Record<ContentType, number>>;
  /** Mean records per blob; each blob holds 0.5–1.5 × this (default 100). */
  readonly recordsPerBlob?: number;
  /** Mean delay from an event's CreationTime to its blob's contentCreated (default 60 min, real range 60–90 min). */
  readonly latencyMs?: number;
  /** Share of records that are late: older by up to `lateMaxMs` than their neighbours (default 0.02). */
  readonly disorder?: number;
  /** Largest extra lateness of a late record (default 6 h). */
  readonly lateMaxMs?: number;
  /** Share of each blob's records repeated, same Id, in the next blob (default 0.01). */
  readonly duplicateRate?: number;
  /**
   * Share of blobs listed late: they appear in listings only `lateBlobDelayMs` × 0.5–1.5 after their
   * contentCreated, behind blobs created after them (default 0). A cursor on contentCreated misses them.
   */
  readonly lateBlobRate?: number;
  /** Default 30 min. */
  readonly lateBlobDelayMs?: number;
  /** Treat the content types as subscribed since before `from` (the benchmark pre-loads history). */
  readonly subscribed?: boolean;
}

export interface GenerateResult {
  readonly batchId: number;
  readonly records: number;
  readonly blobs: number;
  readonly byContentType: Partial<Record<ContentType, { records: number; blobs: number }>>;
}

export interface TruthRecord extends RecordHead {
  /** The contentId of the first blob holding the record. */
  readonly blobId: string;
  readonly creationTime: string;
  /** The blob was created while the content type was subscribed, so listing can return it. */
  readonly listable: boolean;
}

export interface ExpiredBlob {
  readonly tenantId: string;
  readonly contentType: ContentType;
  readonly contentId: string;
  readonly contentCreated: string;
  readonly reason: 'age' | 'fault';
  readonly recordIds: string[];
}

interface Batch {
  readonly id: number;
  readonly tenantId: string;
  readonly from: number;
  readonly to: number;
  readonly latencyMs: number;
  readonly disorder: number;
  readonly lateMaxMs: number;
  readonly duplicateRate: number;
  readonly streams: { stream: RecordStream; count: number; blobs: Blob[] }[];
}

export interface Blob {
  readonly seq: number;
  readonly tenantId: string;
  readonly contentType: ContentType;
  readonly contentId: string;
  readonly created: number;
  /** When listing and GET start to return it (≥ created; later for late blobs). */
  readonly available: number;
  readonly batch: Batch;
  readonly streamIdx: number;
  readonly index: number;
  readonly start: number;
  readonly end: number;
  /** A re-delivery (the `duplicate` fault): same records as this blob. */
  readonly copyOf?: Blob;
  file?: string;
  expired?: 'fault';
}

const DEFAULT_MIX: Partial<Record<ContentType, number>> = {
  'Audit.Exchange': 0.3,
  'Audit.SharePoint': 0.35,
  'Audit.AzureActiveDirectory': 0.15,
  'Audit.General': 0.2,
};

function toMs(v: number | Date | string): number {
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : v.getTime();
  if (!Number.isFinite(ms)) throw new Error(`not a time: ${String(v)}`);
  return ms;
}

/** `yyyyMMddHHmmssfffffff` (7 fraction digits, the last 4 free for a discriminator). */
function stamp(ms: number, extra: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${iso.slice(20, 23)}${String(extra % 10000).padStart(4, '0')}`;
}

export const CONTENT_ID_PATTERN = /^\d{21}\$\d{21}\$[a-z_]+\$[A-Za-z_]+\$[a-z]+\d+$/;

interface SubscriptionState {
  enabled: boolean;
  /** Stopped by an administrator (content listing says AF20023 rather than AF20022 until the next start). */
  adminDisabled?: boolean;
  /** Periods the subscription was on: [start, end); end undefined while on. */
  readonly periods: { start: number; end?: number }[];
  webhook: Record<string, unknown> | null;
}

export class Subscriptions {
  private readonly map = new Map<string, SubscriptionState>();

  private key(tenantId: string, ct: ContentType): string {
    return `${tenantId}|${ct}`;
  }

  get(tenantId: string, ct: ContentType): SubscriptionState | undefined {
    return this.map.get(this.key(tenantId, ct));
  }

  /** false when already enabled (AF20024). */
  start(tenantId: string, ct: ContentType, now: number, webhook: Record<string, unknown> | null): boolean {
    const k = this.key(tenantId, ct);
    const s = this.map.get(k) ?? { enabled: false, periods: [], webhook: null };
    this.map.set(k, s);
    if (s.enabled) return false;
    s.enabled = true;
    s.adminDisabled = false;
    s.webhook = webhook;
    s.periods.push({ start: now });
    return true;
  }

  stop(tenantId: string, ct: ContentType, now: number): void {
    const s = this.map.get(this.key(tenantId, ct));
    if (!s?.enabled) return;
    s.enabled = false;
    const last = s.periods[s.periods.length - 1];
    if (last) last.end = now;
  }

  /** An administrator turned the subscription off (AF20023 until the client starts it again). */
  adminDisable(tenantId: string, ct: ContentType, now: number): void {
    const s = this.map.get(this.key(tenantId, ct));
    if (!s?.enabled) return;
    this.stop(tenantId, ct, now);
    s.adminDisabled = true;
  }

  /** Subscribed since `since` (or earlier), on now. */
  backdate(tenantId: string, ct: ContentType, since: number, now: number): void {
    const k = this.key(tenantId, ct);
    const s = this.map.get(k) ?? { enabled: false, periods: [], webhook: null };
    this.map.set(k, s);
    if (!s.enabled) this.start(tenantId, ct, now, null);
    const open = s.periods[s.periods.length - 1]!;
    // Earlier closed periods that overlap are merged into the open one.
    while (s.periods.length > 1 && (s.periods[s.periods.length - 2]!.end ?? 0) >= since) {
      const prev = s.periods.splice(s.periods.length - 2, 1)[0]!;
      open.start = Math.min(open.start, prev.start);
    }
    open.start = Math.min(open.start, since);
  }

  covers(tenantId: string, ct: ContentType, t: number): boolean {
    const s = this.map.get(this.key(tenantId, ct));
    if (!s) return false;
    return s.periods.some((p) => t >= p.start && (p.end === undefined || t < p.end));
  }

  list(
    tenantId: string,
  ): { contentType: ContentType; status: string; webhook: Record<string, unknown> | null }[] {
    const out: { contentType: ContentType; status: string; webhook: Record<string, unknown> | null }[] = [];
    for (const ct of CONTENT_TYPES) {
      const s = this.get(tenantId, ct);
      if (s) out.push({ contentType: ct, status: s.enabled ? 'enabled' : 'disabled', webhook: s.webhook });
    }
    return out;
  }
}

export interface ListPage {
  readonly items: Blob[];
  /** The last returned item, for the next page; undefined when nothing is left. */
  readonly next?: { created: number; seq: number };
}

export class ContentStore {
  readonly subscriptions = new Subscriptions();
  private readonly batches: Batch[] = [];
  private readonly byId = new Map<string, Blob>();
  private readonly bySeq = new Map<number, Blob>();
  /** Per tenant|contentType: blobs sorted by (created, seq). */
  private readonly index = new Map<string, Blob[]>();
  private readonly expired = new Map<string, ExpiredBlob>();
  private readonly bodyCache = new Map<string, string>();
  private seq = 0;

  constructor(
    private readonly seed: number,
    private readonly castOf: (tenantId: string) => Cast,
    private readonly regionOf: (tenantId: string) => string,
    private readonly blobDir: string | undefined,
    private readonly now: () => number,
  ) {}

  async generate(o: GenerateOptions): Promise<GenerateResult> {
    const from = toMs(o.from);
    const to = toMs(o.to);
    if (!(to > from)) throw new Error('generate: `to` must be after `from`');
    if (!(o.count >= 0)) throw new Error('generate: `count` must be ≥ 0');
    const cast = this.castOf(o.tenantId);
    const weights: [ContentType, number][] = o.contentTypes
      ? o.contentTypes.map((ct) => [ct, o.mix?.[ct] ?? 1])
      : Object.entries(o.mix ?? DEFAULT_MIX).map(([ct, w]) => [ct as ContentType, w ?? 0]);
    const total = weights.reduce((s, [, w]) => s + w, 0);
    if (!(total > 0)) throw new Error('generate: empty content type mix');
    // Largest-remainder split so the counts add up to `count` exactly.
    const exact = weights.map(([ct, w]) => ({ ct, x: (o.count * w) / total }));
    const counts = exact.map((e) => ({ ct: e.ct, n: Math.floor(e.x), rem: e.x - Math.floor(e.x) }));
    let left = o.count - counts.reduce((s, c) => s + c.n, 0);
    for (const c of [...counts].sort((a, b) => b.rem - a.rem)) {
      if (left-- <= 0) break;
      c.n++;
    }
    const batchId = this.batches.length;
    const batch: Batch = {
      id: batchId,
      tenantId: o.tenantId,
      from,
      to,
      latencyMs: o.latencyMs ?? 3_600_000,
      disorder: o.disorder ?? 0.02,
      lateMaxMs: o.lateMaxMs ?? 6 * 3_600_000,
      duplicateRate: o.duplicateRate ?? 0.01,
      streams: [],
    };
    const rpb = Math.max(1, Math.floor(o.recordsPerBlob ?? 100));
    const byContentType: Partial<Record<ContentType, { records: number; blobs: number }>> = {};
    const region = this.regionOf(o.tenantId);
    const created: Blob[] = [];
    for (const { ct, n } of counts) {
      if (n === 0) continue;
      const streamIdx = batch.streams.length;
      const stream: RecordStream = {
        seed: hash32(this.seed, stringHash(o.tenantId), batchId, CONTENT_TYPES.indexOf(ct)),
        contentType: ct,
        cast,
      };
      // Blob sizes vary 0.5–1.5 × rpb.
      const bounds: [number, number][] = [];
      for (let p = 0; p < n; ) {
        const size = Math.max(1, Math.round(rpb * (0.5 + unit(hash32(stream.seed, bounds.length, 0xb10b)))));
        bounds.push([p, Math.min(n, p + size)]);
        p += size;
      }
      const blobs: Blob[] = [];
      const span = to - from;
      const lower = ct.toLowerCase().replace('.', '_');
      const upper = ct.replace('.', '_');
      bounds.forEach(([start, end], j) => {
        const createdAt =
          from + Math.floor(((j + unit(hash32(stream.seed, j, 0xcc))) / bounds.length) * span);
        const seq = this.seq++;
        const lateRate = o.lateBlobRate ?? 0;
        const lh = hash32(stream.seed, j, 0x1a7e);
        const available =
          lateRate > 0 && unit(lh) < lateRate
            ? createdAt + Math.floor((o.lateBlobDelayMs ?? 1_800_000) * (0.5 + unit(hash32(lh, 1))))
            : createdAt;
        const first = createdAt - batch.latencyMs * 1.5 - span / bounds.length;
        const contentId = `${stamp(first, Math.floor(seq / 10000))}$${stamp(createdAt, seq)}$${lower}$${upper}$${region}`;
        const blob: Blob = {
          seq,
          tenantId: o.tenantId,
          contentType: ct,
          contentId,
          created: createdAt,
          available,
          batch,
          streamIdx,
          index: j,
          start,
          end,
        };
        blobs.push(blob);
        created.push(blob);
      });
      batch.streams.push({ stream, count: n, blobs });
      byContentType[ct] = { records: n, blobs: blobs.length };
      if (o.subscribed) this.subscriptions.backdate(o.tenantId, ct, from - 1, this.now());
    }
    this.batches.push(batch);
    if (this.blobDir) {
      const dir = path.join(this.blobDir, o.tenantId);
      await fs.promises.mkdir(dir, { recursive: true });
      for (const blob of created) {
        const file = path.join(dir, `${blob.seq}.json`);
        await fs.promises.writeFile(file, this.renderBody(blob));
        blob.file = file;
      }
    }
    for (const blob of created) this.register(blob);
    return { batchId, records: o.count, blobs: created.length, byContentType };
  }

  private register(blob: Blob): void {
    this.byId.set(blob.contentId, blob);
    this.bySeq.set(blob.seq, blob);
    const k = `${blob.tenantId}|${blob.contentType}`;
    let list = this.index.get(k);
    if (!list) {
      list = [];
      this.index.set(k, list);
    }
    const last = list[list.length - 1];
    list.push(blob);
    if (last && (last.created > blob.created || (last.created === blob.created && last.seq > blob.seq))) {
      // Out of order (an older batch generated later): insertion step back into place.
      let i = list.length - 1;
      while (i > 0 && cmp(list[i - 1]!, blob) > 0) {
        list[i] = list[i - 1]!;
        i--;
      }
      list[i] = blob;
    }
  }

  /** A later re-delivery of a blob's records (the `duplicate` fault), available from `at`. */
  duplicate(of: Blob, at: number): Blob {
    const seq = this.seq++;
    const parts = of.contentId.split('$');
    const contentId = `${parts[0]}$${stamp(at, seq)}$${parts.slice(2).join('$')}`;
    const copy: Blob = {
      ...of,
      seq,
      contentId,
      created: at,
      available: at,
      copyOf: of.copyOf ?? of,
      file: of.file,
      expired: undefined,
    };
    this.register(copy);
    return copy;
  }

  blob(contentId: string): Blob | undefined {
    return this.byId.get(contentId);
  }

  blobBySeq(seq: number): Blob | undefined {
    return this.bySeq.get(seq);
  }

  /**
   * Blobs of a tenant and content type with `from ≤ created < to`, available by `now`, created while
   * subscribed, after `after` in (created, seq) order.
   */
  list(
    tenantId: string,
    ct: ContentType,
    from: number,
    to: number,
    after: { created: number; seq: number } | undefined,
    pageSize: number,
  ): ListPage {
    const list = this.index.get(`${tenantId}|${ct}`) ?? [];
    const now = this.now();
    const limit = Math.min(to, now + 1);
    // First index with (created, seq) > after, or created ≥ from.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const b = list[mid]!;
      const before = after
        ? b.created < after.created || (b.created === after.created && b.seq <= after.seq)
        : b.created < from;
      if (before) lo = mid + 1;
      else hi = mid;
    }
    const items: Blob[] = [];
    let i = lo;
    for (; i < list.length; i++) {
      const b = list[i]!;
      if (b.created >= limit) break;
      if (b.created < from) continue;
      if (b.available > now) continue;
      if (!this.subscriptions.covers(tenantId, ct, b.created)) continue;
      if (items.length === pageSize) {
        const last = items[items.length - 1]!;
        return { items, next: { created: last.created, seq: last.seq } };
      }
      items.push(b);
    }
    return { items };
  }

  /** Positions of a blob's records: its own range plus the repeats of the previous blob's. */
  private positions(blob: Blob): { blob: Blob; p: number }[] {
    const src = blob.copyOf ?? blob;
    const s = src.batch.streams[src.streamIdx]!;
    const out: { blob: Blob; p: number }[] = [];
    const prev = src.index > 0 ? s.blobs[src.index - 1] : undefined;
    if (prev && src.batch.duplicateRate > 0)
      for (let p = prev.start; p < prev.end; p++)
        if (unit(hash32(s.stream.seed, p, 0xd0b)) < src.batch.duplicateRate) out.push({ blob: prev, p });
    for (let p = src.start; p < src.end; p++) out.push({ blob: src, p });
    return out;
  }

  /** CreationTime of record `p` (which lives in `blob`): within the slot before its blob, minus latency, maybe late. */
  private creationMs(blob: Blob, p: number): number {
    const b = blob.batch;
    const s = b.streams[blob.streamIdx]!;
    const slot = (b.to - b.from) / s.blobs.length;
    const h = hash32(s.stream.seed, p, 0x71e);
    let t = blob.created - b.latencyMs * (0.5 + unit(h)) - unit(hash32(h, 1)) * slot;
    if (b.disorder > 0 && unit(hash32(h, 2)) < b.disorder) t -= unit(hash32(h, 3)) * b.lateMaxMs;
    return Math.floor(t / 1000) * 1000;
  }

  renderBody(blob: Blob): string {
    const s = (blob.copyOf ?? blob).batch.streams[blob.streamIdx]!;
    const parts: string[] = [];
    for (const { blob: home, p } of this.positions(blob))
      parts.push(JSON.stringify(buildRecord(s.stream, p, this.creationMs(home, p))));
    return `[${parts.join(',')}]`;
  }

  /** The JSON array text of a blob: from disk when pre-generated, else rebuilt (with a small cache). */
  async body(blob: Blob): Promise<string> {
    if (blob.file) return fs.promises.readFile(blob.file, 'utf8');
    const key = (blob.copyOf ?? blob).contentId;
    const hit = this.bodyCache.get(key);
    if (hit !== undefined) return hit;
    const text = this.renderBody(blob);
    this.bodyCache.set(key, text);
    if (this.bodyCache.size > 32) this.bodyCache.delete(this.bodyCache.keys().next().value!);
    return text;
  }

  recordIds(blob: Blob): string[] {
    const s = (blob.copyOf ?? blob).batch.streams[blob.streamIdx]!;
    return this.positions(blob).map(({ p }) => recordHead(s.stream, p).id);
  }

  markExpired(blob: Blob, reason: 'age' | 'fault'): void {
    if (reason === 'fault') blob.expired = 'fault';
    if (this.expired.has(blob.contentId)) return;
    this.expired.set(blob.contentId, {
      tenantId: blob.tenantId,
      contentType: blob.contentType,
      contentId: blob.contentId,
      contentCreated: new Date(blob.created).toISOString(),
      reason,
      recordIds: this.recordIds(blob),
    });
  }

  expiredBlobs(): ExpiredBlob[] {
    return [...this.expired.values()];
  }

  /** Every distinct record generated for a tenant (repeats and re-deliveries counted once). */
  *truth(tenantId: string): Generator<TruthRecord> {
    for (const b of this.batches) {
      if (b.tenantId !== tenantId) continue;
      for (const s of b.streams)
        for (const blob of s.blobs) {
          const listable = this.subscriptions.covers(tenantId, blob.contentType, blob.created);
          for (let p = blob.start; p < blob.end; p++) {
            const head = recordHead(s.stream, p);
            yield {
              ...head,
              blobId: blob.contentId,
              creationTime: new Date(this.creationMs(blob, p)).toISOString().slice(0, 19),
              listable,
            };
          }
        }
    }
  }

  summary(): {
    batches: number;
    blobs: number;
    expiredBlobs: number;
    byTenant: Record<string, Record<string, number>>;
  } {
    const byTenant: Record<string, Record<string, number>> = {};
    for (const [k, list] of this.index) {
      const [tenant, ct] = k.split('|') as [string, string];
      byTenant[tenant] ??= {};
      byTenant[tenant][ct] = list.length;
    }
    return { batches: this.batches.length, blobs: this.byId.size, expiredBlobs: this.expired.size, byTenant };
  }
}

function cmp(a: Blob, b: Blob): number {
  return a.created - b.created || a.seq - b.seq;
}

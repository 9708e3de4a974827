import crypto from 'node:crypto';
import { ident, qualified } from '../storage/clickhouse/ddl.js';
import type { ResolvedTable } from '../workspace/catalog.js';
import { WorkspaceError } from '../workspace/errors.js';
import type { Workspace } from '../workspace/workspace.js';
import { type EncodedBatch, encodeBatch, MAX_RECORD_BYTES, type RawLine } from './batch-encoder.js';
import { datetimeFromMillis } from './coerce.js';
import { EncoderPool } from './encoder-pool.js';
import { IngestError } from './errors.js';
import { KeyHashSet } from './key-index.js';
import { type Line, readLineGroups } from './line-reader.js';
import type { RecordSelector } from './select.js';
import {
  type IngestStreamRequest,
  type IngestSummary,
  MAX_REPORTED_BAD_LINES,
  type StreamPosition,
} from './types.js';

/**
 * A batch (one insert, one checkpoint) closes at this many bytes of input or this many records, whichever
 * comes first. 8 MiB is the engine's own stream-insert chunk: fewer, larger parts mean less merge work, and
 * on 100k OfficeActivity records it ran ~20 % faster than 2,000-record batches for ~30 MiB more RSS
 * (bench/README.md). At most (encoder threads + 2) batches are in memory at once.
 */
export const BATCH_BYTES = 8 * 1024 * 1024;
export const BATCH_ROWS = 10_000;
/**
 * Batches encoded ahead of the one being written (beyond one per encoder thread). One: on two cores the
 * encoder and the engine already keep both busy (190 % CPU), and each extra batch costs ~15 MiB.
 */
const AHEAD = 1;

export { MAX_RECORD_BYTES };

const QUARANTINE_TABLE = 'IngestionQuarantine';

interface FilePosition extends StreamPosition {
  /** Names this run's insert tokens; a resumed run keeps it so that a replayed batch is recognised. */
  readonly runId: string;
}

export interface IngestServiceOptions {
  /** Records per batch (default `BATCH_ROWS`); tests use small batches to exercise batch boundaries. */
  readonly batchRows?: number;
  readonly batchBytes?: number;
  /** Worker threads that encode batches (default: one per core beyond the first; 0: the calling thread). */
  readonly encoderThreads?: number;
}

/** Records a caller already holds (a connector's page or blob), written as one idempotent unit. */
export interface IngestBatchRequest {
  readonly table: string;
  /** Names the source in quarantine rows (`Office365/<tenant>/Audit.Exchange`). */
  readonly source: string;
  /** One record each: its JSON text, or the record already parsed (`RawLine.record`). */
  readonly records: readonly RawLine[];
  /**
   * Stable for the same records: a retry or a replay after a crash sends the same token, and the store
   * drops the repeated insert. Record-key de-duplication catches the rest.
   */
  readonly token: string;
  readonly select?: RecordSelector;
  /** How a record's number is named in quarantine rows (default `record`). */
  readonly positionLabel?: string;
  readonly systemWriter?: boolean;
  /**
   * How long this batch may wait for others of the same table when their rows together are few (under a
   * fifth of a full group), so that a source delivering many small pieces writes fewer, larger inserts. The
   * caller's promise settles that much later at most. Default 0: written as soon as the table's writer is free.
   */
  readonly lingerMs?: number;
}

export interface IngestBatchSummary {
  readonly table: string;
  rowsWritten: number;
  duplicates: number;
  quarantined: number;
  /** Records the selector left out (they belong to another table or connector). */
  skipped: number;
  /** Bytes of the rows written (what `_BilledSize` adds up to). */
  bytesWritten: number;
  badRecords: { line: number; reason: string; details: string }[];
}

interface PendingBatch {
  readonly parts: readonly EncodedBatch[];
  readonly token: string;
  /** Rows and encoded bytes of `parts`, which decide how batches are grouped. */
  readonly rows: number;
  readonly bytes: number;
  /** When this batch stops waiting for company (`lingerMs`); 0 when it does not wait. */
  readonly writeBy: number;
  resolve(summary: IngestBatchSummary): void;
  reject(err: unknown): void;
}

/** How long a table's queue should still wait before its next group: 0 unless every batch may linger and they are few. */
function lingerWait(queue: readonly PendingBatch[], fewRows: number): number {
  let rows = 0;
  let due = Number.POSITIVE_INFINITY;
  for (const b of queue) {
    if (b.writeBy === 0) return 0;
    due = Math.min(due, b.writeBy);
    rows += b.rows;
  }
  return rows < fewRows ? Math.max(0, due - Date.now()) : 0;
}

interface BatchToCommit {
  readonly encoded: EncodedBatch;
  readonly token: string;
  readonly quarantineToken: string;
  readonly endOffset: number;
  readonly nextLine: number;
}

/** The one entry point every writer (CLI, ingest API, connectors) uses to put records into a table. */
export class IngestService {
  /** Keys stored per table; loaded from the store on first use, then kept current by this process's writes. */
  private readonly keyIndexes = new Map<string, Promise<KeyHashSet>>();

  private readonly batchRows: number;
  private readonly batchBytes: number;
  private readonly encoderThreads: number | undefined;

  constructor(
    private readonly workspace: Workspace,
    options: IngestServiceOptions = {},
  ) {
    this.batchRows = options.batchRows ?? BATCH_ROWS;
    this.batchBytes = options.batchBytes ?? BATCH_BYTES;
    this.encoderThreads = options.encoderThreads;
  }

  /** Names this process's insert tokens of `ingestBatch` (see `writeGroup`). */
  private readonly runId = crypto.randomUUID();
  /** Encoded batches waiting for their table's writer (see `flush`). */
  private readonly pendingBatches = new Map<string, PendingBatch[]>();
  /** Tables whose writer is running: one at a time per table, so the key index never sees two unfinished groups. */
  private readonly flushing = new Set<string>();

  private checkpointId(source: string, table: string): string {
    return `ingest:${table}:${source}`;
  }

  /** The stored position of a resumable source (offset 0, line 1 when none). */
  async position(source: string, table: string): Promise<StreamPosition> {
    this.workspace.catalog.require(table);
    const cp = await this.workspace.checkpoints.get<FilePosition>(this.checkpointId(source, table));
    return cp?.position ?? { offset: 0, line: 1 };
  }

  /** Forgets a source's checkpoint, so that the next run starts at the beginning (duplicates are still dropped). */
  async resetPosition(source: string, table: string): Promise<void> {
    await this.workspace.checkpoints.delete(this.checkpointId(source, table));
  }

  private keyIndex(table: ResolvedTable): Promise<KeyHashSet> {
    let index = this.keyIndexes.get(table.name);
    if (!index) {
      index = this.loadKeyIndex(table);
      this.keyIndexes.set(table.name, index);
      index.catch(() => this.keyIndexes.delete(table.name));
    }
    return index;
  }

  private async loadKeyIndex(table: ResolvedTable): Promise<KeyHashSet> {
    const keyColumns = table.schema.recordKey;
    const store = this.workspace.store;
    const count = await store.query<{ n: string }>(
      `SELECT count() AS n FROM ${qualified(store.database, table.name)}`,
    );
    const index = new KeyHashSet(Number(count[0]?.n ?? 0));
    if (keyColumns.length === 0) return index;
    // The same text the mapper builds: values as stored, joined by U+001F, nulls as ''.
    const expr = keyColumns.map((k) => `ifNull(toString(${ident(k)}), '')`).join(", '\\x1F', ");
    // TabSeparated, not TabSeparatedRaw: a key holding a line break must not be read back as two keys.
    const text = await store.queryText(
      `SELECT concat(${expr}) FROM ${qualified(store.database, table.name)}`,
      'TabSeparated',
    );
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      index.add(unescapeTabSeparated(text.slice(start, nl)));
      start = nl + 1;
    }
    return index;
  }

  /**
   * Writes records the caller holds in memory: map, validate, quarantine, de-duplicate, insert with the
   * caller's token. Returns only after the store acknowledged everything, so the caller may then move its
   * own checkpoint. Large inputs are written in several inserts, each with a token derived from `token`.
   */
  async ingestBatch(request: IngestBatchRequest): Promise<IngestBatchSummary> {
    const ws = this.workspace;
    const table = ws.catalog.require(request.table);
    if (table.schema.kind === 'system' && !request.systemWriter) {
      throw new WorkspaceError(
        'ReadOnlyTable',
        `Table '${table.name}' is written only by Vigil itself; ingest into a built-in or custom table instead.`,
      );
    }
    // Encoding (parse, map, validate: CPU) happens now, outside the table's queue, so it overlaps with the
    // engine writing the batch ahead; only de-duplication and the inserts wait their turn.
    const receivedAt = datetimeFromMillis(Date.now());
    const parts: EncodedBatch[] = [];
    for (let from = 0; from < request.records.length; from += this.batchRows) {
      parts.push(
        encodeBatch({
          schema: table.schema,
          retentionDays: table.retentionDays,
          lines: request.records.slice(from, from + this.batchRows),
          receivedAt,
          workspaceId: ws.id,
          source: request.source,
          select: request.select,
          positionLabel: request.positionLabel ?? 'record',
        }),
      );
    }
    return new Promise<IngestBatchSummary>((resolve, reject) => {
      const queue = this.pendingBatches.get(table.name) ?? [];
      const writeBy = request.lingerMs ? Date.now() + request.lingerMs : 0;
      queue.push({
        parts,
        token: request.token,
        rows: parts.reduce((n, p) => n + p.keys.length, 0),
        bytes: parts.reduce((n, p) => n + p.rows.byteLength, 0),
        writeBy,
        resolve,
        reject,
      });
      this.pendingBatches.set(table.name, queue);
      void this.flush(table);
    });
  }

  /**
   * Writes the batches waiting for a table, one group at a time: every batch encoded while the previous
   * group was being written joins the next group, up to `batchRows` rows or `batchBytes` bytes. Fewer, larger
   * inserts make fewer parts for the engine to merge (a connector's blobs hold ~100-1000 records each). Each
   * caller's promise settles when its group is acknowledged. A group's token is derived from its members'
   * tokens; a replay grouped differently is caught by the record keys instead. Batches that asked to linger
   * (`lingerMs`) and are still few wait for company until the first of them is due: a connector's small
   * tables (Dynamics 365, Power BI, ... from Audit.General) got one insert per blob otherwise (~400 rows each;
   * the connector benchmark wrote half as many parts and used ~4 CPU s less with 150 ms).
   */
  private async flush(table: ResolvedTable): Promise<void> {
    if (this.flushing.has(table.name)) return;
    this.flushing.add(table.name);
    try {
      for (;;) {
        let queue = this.pendingBatches.get(table.name);
        if (!queue || queue.length === 0) break;
        const wait = lingerWait(queue, this.batchRows / 5);
        if (wait > 0) {
          await new Promise((r) => setTimeout(r, wait));
          queue = this.pendingBatches.get(table.name)!;
        }
        const group: PendingBatch[] = [];
        let rows = 0;
        let bytes = 0;
        while (queue.length > 0) {
          const next = queue[0]!;
          if (group.length > 0 && (rows + next.rows > this.batchRows || bytes + next.bytes > this.batchBytes))
            break;
          group.push(queue.shift()!);
          rows += next.rows;
          bytes += next.bytes;
        }
        await this.writeGroup(table, group);
      }
    } finally {
      this.flushing.delete(table.name);
    }
  }

  private async writeGroup(table: ResolvedTable, group: readonly PendingBatch[]): Promise<void> {
    const ws = this.workspace;
    const summaries: IngestBatchSummary[] = [];
    try {
      const keys = await this.keyIndex(table);
      const rowChunks: Buffer[] = [];
      const quarantineChunks: Buffer[] = [];
      for (const batch of group) {
        const summary: IngestBatchSummary = {
          table: table.name,
          rowsWritten: 0,
          duplicates: 0,
          quarantined: 0,
          skipped: 0,
          bytesWritten: 0,
          badRecords: [],
        };
        for (const encoded of batch.parts) {
          const { rows, written, duplicates } = dropStoredKeys(encoded, keys);
          rowChunks.push(rows);
          quarantineChunks.push(Buffer.from(encoded.quarantine));
          summary.rowsWritten += written;
          summary.duplicates += duplicates;
          summary.quarantined += encoded.bad.length;
          summary.skipped += encoded.skipped;
          summary.bytesWritten += rows.length;
          for (const b of encoded.bad)
            if (summary.badRecords.length < MAX_REPORTED_BAD_LINES) summary.badRecords.push(b);
        }
        summaries.push(summary);
      }
      // The token carries this process's run id. Insert tokens make an in-process retry a no-op; across a
      // crash they can do harm: the engine records a token in its de-duplication log before the part it
      // names is committed, so a kill between the two would make the replayed insert look like a duplicate
      // and drop rows that were never stored. After a restart the record-key index, rebuilt from the store,
      // is what recognises rows already stored; a fresh token lets the rest in.
      const member =
        group.length === 1
          ? group[0]!.token
          : `group:${crypto
              .createHash('sha256')
              .update(group.map((b) => b.token).join('\n'))
              .digest('base64url')}`;
      const token = `${this.runId}:${member}`;
      await ws.store.insertJsonEachRow(table.name, joined(rowChunks), { token });
      // Quarantine rows have no record key: their token stays replay-stable, so a replay after a crash does
      // not quarantine the same records twice.
      await ws.store.insertJsonEachRow(QUARANTINE_TABLE, joined(quarantineChunks), {
        token: `${member}:q`,
      });
    } catch (err) {
      // Keys of records that may not have been stored were already added: reload the index next time.
      this.keyIndexes.delete(table.name);
      for (const batch of group) batch.reject(err);
      return;
    }
    for (const [i, batch] of group.entries()) batch.resolve(summaries[i]!);
  }

  async ingestStream(request: IngestStreamRequest): Promise<IngestSummary> {
    const ws = this.workspace;
    const table = ws.catalog.require(request.table);
    if (table.schema.kind === 'system' && !request.systemWriter) {
      throw new WorkspaceError(
        'ReadOnlyTable',
        `Table '${table.name}' is written only by Vigil itself; ingest into a built-in or custom table instead.`,
      );
    }
    const startOffset = request.startOffset ?? 0;
    const checkpointId = this.checkpointId(request.source, table.name);

    let version = 0;
    let position: FilePosition = { offset: 0, line: 1, runId: crypto.randomUUID() };
    if (request.checkpoint) {
      const cp = await ws.checkpoints.get<FilePosition>(checkpointId);
      if (cp) {
        version = cp.version;
        position = cp.position;
      }
      if (position.offset !== startOffset) {
        throw new IngestError(
          'OffsetMismatch',
          `the input starts at byte ${startOffset} but the checkpoint of ${request.source} is at byte ${position.offset}`,
          { expectedOffset: position.offset },
        );
      }
      // Saved before the first batch: a crash before any batch must resume with the same run id (tokens).
      if (version === 0) version = (await ws.checkpoints.save(checkpointId, position, 0)).version;
    }

    const summary: IngestSummary = {
      table: table.name,
      source: request.source,
      rowsWritten: 0,
      duplicates: 0,
      quarantined: 0,
      linesRead: 0,
      startOffset,
      endOffset: startOffset,
      badLines: [],
    };
    const keys = await this.keyIndex(table);
    const totals = { ...(position.totals ?? { rowsWritten: 0, duplicates: 0, quarantined: 0 }) };
    // Worker threads live for one stream: nothing is left running between streams.
    const pool = new EncoderPool(this.encoderThreads);
    const runId = position.runId;
    // A keyed table recognises stored rows by their keys, so its tokens need not survive a restart, and must
    // not (see writeGroup: a token logged for a part a crash never committed would drop the replay). A
    // keyless table has only its tokens: they stay replay-stable.
    const tokenPrefix = table.schema.recordKey.length > 0 ? `${runId}:${this.runId}` : runId;

    const commit = async (batch: BatchToCommit): Promise<void> => {
      const { encoded } = batch;
      // De-duplication needs every earlier batch's keys, so it runs here, in input order.
      const { rows, written, duplicates } = dropStoredKeys(encoded, keys);
      await ws.store.insertJsonEachRow(table.name, rows, { token: batch.token });
      await ws.store.insertJsonEachRow(QUARANTINE_TABLE, Buffer.from(encoded.quarantine), {
        // Quarantine rows have no key: their token stays replay-stable (see tokenPrefix).
        token: batch.quarantineToken,
      });
      totals.rowsWritten += written;
      totals.duplicates += duplicates;
      totals.quarantined += encoded.bad.length;
      if (request.checkpoint) {
        position = { offset: batch.endOffset, line: batch.nextLine, runId, totals: { ...totals } };
        version = (await ws.checkpoints.save(checkpointId, position, version)).version;
      }
      summary.rowsWritten += written;
      summary.duplicates += duplicates;
      summary.quarantined += encoded.bad.length;
      summary.linesRead += encoded.lines;
      summary.endOffset = batch.endOffset;
      for (const b of encoded.bad)
        if (summary.badLines.length < MAX_REPORTED_BAD_LINES) summary.badLines.push(b);
    };

    // Batches are encoded (parse, map, validate: CPU; on worker threads when there are any) ahead of the
    // writes, which run one after another in input order (de-duplication needs every earlier batch's keys,
    // and the checkpoint must only move forward). Reading waits when `maxQueued` batches are encoded but not
    // yet written: that is the back-pressure.
    const maxQueued = pool.threads + AHEAD;
    const queued: Promise<void>[] = [];
    let chain: Promise<void> = Promise.resolve();
    try {
      for await (const lines of batches(
        readLineGroups(request.input, startOffset, position.line, MAX_RECORD_BYTES),
        this.batchRows,
        this.batchBytes,
      )) {
        request.signal?.throwIfAborted();
        const first = lines[0]!;
        const last = lines[lines.length - 1]!;
        const encoded = pool.encode({
          schema: table.schema,
          retentionDays: table.retentionDays,
          lines,
          receivedAt: datetimeFromMillis(Date.now()),
          workspaceId: ws.id,
          source: request.source,
        });
        // A failed write rejects the chain: no later batch is written after it.
        chain = chain.then(async () =>
          commit({
            encoded: await encoded,
            token: `${tokenPrefix}:${first.endOffset}`,
            quarantineToken: `${runId}:${first.endOffset}:q`,
            endOffset: last.endOffset,
            nextLine: last.number + 1,
          }),
        );
        const written = chain;
        written.catch(() => undefined); // awaited below or in the catch; never an unhandled rejection
        queued.push(written);
        while (queued.length > maxQueued) await queued.shift();
      }
      await chain;
    } catch (err) {
      // Keys of a batch that may not have been stored were already added: reload the index next time.
      this.keyIndexes.delete(table.name);
      await chain.catch(() => undefined);
      throw err;
    } finally {
      await pool.close();
    }
    return summary;
  }
}

/**
 * Drops rows whose record key is already stored (or came earlier in the input) and adds the others' keys to
 * the index. Rows are sliced out of the encoded bytes, never re-encoded.
 */
function dropStoredKeys(
  encoded: EncodedBatch,
  keys: KeyHashSet,
): { rows: Buffer; written: number; duplicates: number } {
  const all = Buffer.from(encoded.rows.buffer, encoded.rows.byteOffset, encoded.rows.byteLength);
  const kept: Buffer[] = [];
  let runStart = 0;
  let written = 0;
  let duplicates = 0;
  let start = 0;
  for (let i = 0; i < encoded.keys.length; i++) {
    const end = encoded.rowEnds[i]!;
    const key = encoded.keys[i]!;
    if (key !== '' && !keys.add(key)) {
      duplicates++;
      if (start > runStart) kept.push(all.subarray(runStart, start));
      runStart = end;
    } else {
      written++;
    }
    start = end;
  }
  if (duplicates === 0) return { rows: all, written, duplicates };
  if (all.length > runStart) kept.push(all.subarray(runStart));
  return { rows: Buffer.concat(kept), written, duplicates };
}

/** The chunks as one buffer; a lone chunk as it is (`Buffer.concat` would copy it). */
function joined(chunks: readonly Buffer[]): Buffer {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Groups lines into batches of at most `maxRows` lines and about `maxBytes` bytes. */
async function* batches(
  groups: AsyncIterable<Line[]>,
  maxRows: number,
  maxBytes: number,
): AsyncGenerator<Line[]> {
  let batch: Line[] = [];
  let bytes = 0;
  for await (const lines of groups) {
    for (const line of lines) {
      batch.push(line);
      bytes += line.bytes?.length ?? 0;
      if (batch.length >= maxRows || bytes >= maxBytes) {
        yield batch;
        batch = [];
        bytes = 0;
      }
    }
  }
  if (batch.length > 0) yield batch;
}

const TAB_SEPARATED_ESCAPES: Readonly<Record<string, string>> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  '0': '\0',
  "'": "'",
  '\\': '\\',
};

/** One value as the engine's TabSeparated output escapes it (`\n`, `\t`, `\\` ...), unescaped. */
function unescapeTabSeparated(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\(.)/gs, (_, c: string) => TAB_SEPARATED_ESCAPES[c] ?? c);
}

import crypto from 'node:crypto';
import { ident, qualified } from '../storage/clickhouse/ddl.js';
import type { ResolvedTable } from '../workspace/catalog.js';
import type { Workspace } from '../workspace/workspace.js';
import { datetimeFromMillis } from './coerce.js';
import { IngestError } from './errors.js';
import { KeyHashSet } from './key-index.js';
import { type Line, readLines } from './line-reader.js';
import { RecordRejection, RowMapper } from './mapping.js';
import {
  type BadLine,
  type IngestStreamRequest,
  type IngestSummary,
  MAX_REPORTED_BAD_LINES,
  type StreamPosition,
} from './types.js';

/** Rows per insert: engines.md §2.10 measured 1,000–2,500 as the sweet spot for memory and speed. */
export const BATCH_ROWS = 2000;
/** A batch also closes at this many bytes of input, so a few huge records cannot blow the memory up. */
export const BATCH_BYTES = 8 * 1024 * 1024;
/** Longest record accepted (Log Analytics' own limit is 1 MB a record); longer ones are quarantined. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
const QUARANTINE_TABLE = 'IngestionQuarantine';

interface FilePosition extends StreamPosition {
  /** Names this run's insert tokens; a resumed run keeps it so that a replayed batch is recognised. */
  readonly runId: string;
}

interface PreparedBatch {
  readonly token: string;
  readonly rows: Buffer;
  readonly quarantine: Buffer;
  readonly written: number;
  readonly duplicates: number;
  readonly bad: BadLine[];
  readonly lines: number;
  readonly endOffset: number;
  readonly nextLine: number;
}

/** The one entry point every writer (CLI, ingest API, connectors) uses to put records into a table. */
export class IngestService {
  /** Keys stored per table; loaded from the store on first use, then kept current by this process's writes. */
  private readonly keyIndexes = new Map<string, Promise<KeyHashSet>>();

  constructor(private readonly workspace: Workspace) {}

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

  async ingestStream(request: IngestStreamRequest): Promise<IngestSummary> {
    const ws = this.workspace;
    const table = ws.catalog.require(request.table);
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
    const mapper = new RowMapper(table);
    const keys = await this.keyIndex(table);
    const totals = { ...(position.totals ?? { rowsWritten: 0, duplicates: 0, quarantined: 0 }) };

    const commit = async (batch: PreparedBatch): Promise<void> => {
      await ws.store.insertJsonEachRow(table.name, batch.rows, { token: batch.token });
      await ws.store.insertJsonEachRow(QUARANTINE_TABLE, batch.quarantine, { token: `${batch.token}:q` });
      totals.rowsWritten += batch.written;
      totals.duplicates += batch.duplicates;
      totals.quarantined += batch.bad.length;
      if (request.checkpoint) {
        position = {
          offset: batch.endOffset,
          line: batch.nextLine,
          runId: position.runId,
          totals: { ...totals },
        };
        version = (await ws.checkpoints.save(checkpointId, position, version)).version;
      }
      summary.rowsWritten += batch.written;
      summary.duplicates += batch.duplicates;
      summary.quarantined += batch.bad.length;
      summary.linesRead += batch.lines;
      summary.endOffset = batch.endOffset;
      for (const b of batch.bad)
        if (summary.badLines.length < MAX_REPORTED_BAD_LINES) summary.badLines.push(b);
    };

    // One batch is prepared (parse, map, validate, de-duplicate: CPU in this thread) while the previous one
    // is being written (in the engine's threads); at most two batches are in memory: that is the back-pressure.
    let inflight: Promise<void> | undefined;
    try {
      for await (const lines of batches(
        readLines(request.input, startOffset, position.line, MAX_RECORD_BYTES),
      )) {
        request.signal?.throwIfAborted();
        const prepared = this.prepare(table, mapper, keys, lines, request.source, position.runId);
        if (inflight) await inflight;
        inflight = commit(prepared);
      }
      if (inflight) await inflight;
    } catch (err) {
      // Keys of a batch that may not have been stored were already added: reload the index next time.
      this.keyIndexes.delete(table.name);
      if (inflight) await inflight.catch(() => undefined);
      throw err;
    }
    return summary;
  }

  private prepare(
    table: ResolvedTable,
    mapper: RowMapper,
    keys: KeyHashSet,
    lines: Line[],
    source: string,
    runId: string,
  ): PreparedBatch {
    const first = lines[0]!;
    const last = lines[lines.length - 1]!;
    const receivedAt = datetimeFromMillis(Date.now());
    const workspaceId = this.workspace.id;
    const rowParts: string[] = [];
    const quarantineParts: string[] = [];
    const bad: BadLine[] = [];
    let written = 0;
    let duplicates = 0;
    let lineCount = 0;

    const quarantine = (line: Line, reason: string, details: string) => {
      const raw = line.bytes ? line.bytes.toString('utf8') : (line.head?.toString('utf8') ?? '');
      bad.push({ line: line.number, reason, details });
      quarantineParts.push(
        JSON.stringify({
          TimeGenerated: receivedAt,
          TenantId: workspaceId,
          SourceSystem: 'Vigil',
          TargetTable: table.name,
          Source: source,
          SourcePosition: `line ${line.number}`,
          Reason: reason,
          Details: details,
          RawRecord: raw,
          _TimeReceived: receivedAt,
          _IsBillable: false,
          _BilledSize: line.length,
        }),
      );
    };

    for (const line of lines) {
      if (!line.bytes) {
        lineCount++;
        quarantine(
          line,
          'RecordTooLarge',
          `the record is ${line.length} bytes; the limit is ${MAX_RECORD_BYTES} (its first 64 KiB are kept)`,
        );
        continue;
      }
      if (isBlank(line.bytes)) continue;
      lineCount++;
      const text = line.bytes.toString('utf8');
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch (err) {
        quarantine(line, 'MalformedJson', (err as Error).message);
        continue;
      }
      let mapped: ReturnType<RowMapper['map']>;
      try {
        mapped = mapper.map(record, receivedAt);
      } catch (err) {
        if (err instanceof RecordRejection) {
          quarantine(line, err.reason, err.message);
          continue;
        }
        throw err;
      }
      if (mapped.key && !keys.add(mapped.key)) {
        duplicates++;
        continue;
      }
      const row = mapped.row;
      // `_ItemId` and `_IsBillable` are filled by the store (column defaults).
      row.TenantId = workspaceId;
      row._TimeReceived = receivedAt;
      row._BilledSize = line.length;
      rowParts.push(JSON.stringify(row));
      written++;
    }
    const join = (parts: string[]) => (parts.length ? Buffer.from(parts.join('\n') + '\n') : Buffer.alloc(0));
    return {
      token: `${runId}:${first.endOffset}`,
      rows: join(rowParts),
      quarantine: join(quarantineParts),
      written,
      duplicates,
      bad,
      lines: lineCount,
      endOffset: last.endOffset,
      nextLine: last.number + 1,
    };
  }
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

function isBlank(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 32 && b !== 9 && b !== 13) return false;
  }
  return true;
}

/** Groups lines into batches of at most `BATCH_ROWS` lines and about `BATCH_BYTES` bytes. */
async function* batches(lines: AsyncIterable<Line>): AsyncGenerator<Line[]> {
  let batch: Line[] = [];
  let bytes = 0;
  for await (const line of lines) {
    batch.push(line);
    bytes += line.bytes?.length ?? 0;
    if (batch.length >= BATCH_ROWS || bytes >= BATCH_BYTES) {
      yield batch;
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) yield batch;
}

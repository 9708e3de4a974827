import { resolveTable } from '../workspace/catalog.js';
import type { TableSchema } from '../workspace/schema.js';
import { RecordRejection, RowMapper } from './mapping.js';
import { compileSelector, type RecordSelector } from './select.js';
import type { BadLine } from './types.js';

/** Longest record accepted (Log Analytics' own limit is 1 MB a record); longer ones are quarantined. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** A line as the encoder needs it; plain data, so it can be posted to a worker thread. */
export interface RawLine {
  readonly number: number;
  /**
   * Undefined when the line was longer than MAX_RECORD_BYTES (then `head` holds its start), or when the
   * caller gives the parsed `record` instead (a connector that parsed a whole blob at once).
   */
  readonly bytes: Uint8Array | undefined;
  readonly head?: Uint8Array;
  readonly length: number;
  /**
   * The record already parsed from `bytes` (a caller that had to look inside it to route it): the encoder
   * then maps this instead of parsing again. `bytes` stays the raw text kept by a quarantine row.
   */
  readonly record?: unknown;
}

export interface EncodeRequest {
  readonly schema: TableSchema;
  readonly retentionDays: number;
  readonly lines: readonly RawLine[];
  readonly receivedAt: string;
  readonly workspaceId: string;
  readonly source: string;
  /** Only records matching this go to the table; the others are skipped (not quarantined). */
  readonly select?: RecordSelector;
  /** Names the source position in quarantine rows (`line 12`, `record 12 of blob X`); default `line`. */
  readonly positionLabel?: string;
}

/**
 * A batch turned into store rows, before de-duplication against what is stored (which needs the key index,
 * owned by the service). `rows` holds one JSON row a line; `rowEnds[i]` is the byte offset just after row i's
 * line break, so rows can be dropped without re-encoding the others.
 */
export interface EncodedBatch {
  readonly rows: Uint8Array;
  readonly rowEnds: Uint32Array;
  readonly keys: readonly string[];
  readonly quarantine: Uint8Array;
  readonly bad: BadLine[];
  /** Non-blank lines seen. */
  readonly lines: number;
  /** Records the selector left out. */
  readonly skipped: number;
}

const textDecoder = new TextDecoder('utf-8');
const mappers = new Map<string, { schema: TableSchema; mapper: RowMapper }>();
const selectors = new Map<string, (record: unknown) => boolean>();

function selectorFor(selector: RecordSelector): (record: unknown) => boolean {
  const text = JSON.stringify(selector);
  let compiled = selectors.get(text);
  if (!compiled) {
    compiled = compileSelector(selector);
    selectors.set(text, compiled);
  }
  return compiled;
}

function mapperFor(schema: TableSchema, retentionDays: number): RowMapper {
  const cached = mappers.get(schema.name);
  // Schemas posted to a worker are copies: compare by content only when the object differs.
  if (cached && (cached.schema === schema || JSON.stringify(cached.schema) === JSON.stringify(schema))) {
    return cached.mapper;
  }
  const mapper = new RowMapper(resolveTable(schema, retentionDays));
  mappers.set(schema.name, { schema, mapper });
  return mapper;
}

function isBlank(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 32 && b !== 9 && b !== 13) return false;
  }
  return true;
}

/** Parses, maps, validates and serialises one batch; bad records become quarantine rows. Pure CPU work. */
export function encodeBatch(request: EncodeRequest): EncodedBatch {
  const { schema, receivedAt, workspaceId, source } = request;
  const mapper = mapperFor(schema, request.retentionDays);
  const rows = new RowWriter(request.lines);
  const keys: string[] = [];
  const quarantineTexts: string[] = [];
  const bad: BadLine[] = [];
  const selected = request.select ? selectorFor(request.select) : undefined;
  const positionLabel = request.positionLabel ?? 'line';
  let lines = 0;
  let skipped = 0;

  const quarantine = (line: RawLine, reason: string, details: string) => {
    const raw = line.bytes
      ? textDecoder.decode(line.bytes)
      : line.record !== undefined
        ? JSON.stringify(line.record)
        : line.head
          ? textDecoder.decode(line.head)
          : '';
    bad.push({ line: line.number, reason, details });
    quarantineTexts.push(
      JSON.stringify({
        TimeGenerated: receivedAt,
        TenantId: workspaceId,
        SourceSystem: 'Vigil',
        TargetTable: schema.name,
        Source: source,
        SourcePosition: `${positionLabel} ${line.number}`,
        Reason: reason,
        Details: details,
        RawRecord: raw,
        _TimeReceived: receivedAt,
        _IsBillable: false,
        _BilledSize: line.length,
      }),
    );
  };

  // Appended to every row: the standard columns the pipeline sets (the store fills `_ItemId`, `_IsBillable`).
  const tail = `,"TenantId":${JSON.stringify(workspaceId)},"_TimeReceived":${JSON.stringify(receivedAt)},"_BilledSize":`;
  for (const line of request.lines) {
    if (!line.bytes && line.record === undefined) {
      lines++;
      quarantine(
        line,
        'RecordTooLarge',
        `the record is ${line.length} bytes; the limit is ${MAX_RECORD_BYTES} (its first 64 KiB are kept)`,
      );
      continue;
    }
    if (line.bytes && isBlank(line.bytes)) continue;
    lines++;
    let record: unknown = line.record;
    if (record === undefined)
      try {
        // Buffer's own UTF-8 decoding is faster than TextDecoder for short lines (lines from a worker are plain
        // Uint8Arrays).
        record = JSON.parse(
          Buffer.isBuffer(line.bytes) ? line.bytes.toString('utf8') : textDecoder.decode(line.bytes),
        );
      } catch (err) {
        quarantine(line, 'MalformedJson', (err as Error).message);
        continue;
      }
    // Only records are selected out; anything else goes on to be quarantined as not a record.
    if (
      selected &&
      record !== null &&
      typeof record === 'object' &&
      !Array.isArray(record) &&
      !selected(record)
    ) {
      skipped++;
      continue;
    }
    let mapped: { json: string; key: string };
    try {
      mapped = mapper.mapToJson(record, receivedAt, tail + line.length);
    } catch (err) {
      if (err instanceof RecordRejection) {
        quarantine(line, err.reason, err.message);
        continue;
      }
      throw err;
    }
    rows.append(mapped.json);
    keys.push(mapped.key);
  }

  const quarantineBytes = Buffer.from(quarantineTexts.length ? quarantineTexts.join('\n') + '\n' : '');
  return { rows: rows.bytes(), rowEnds: rows.ends(), keys, quarantine: quarantineBytes, bad, lines, skipped };
}

/**
 * The batch's rows as UTF-8, one line each, written as each row is made. Encoding a row right away lets its
 * text (a rope of a few dozen pieces) die young; holding every row's text until the batch ends and joining
 * them then made the pieces outlive a scavenge or two and cost ~10 % more CPU per record.
 */
class RowWriter {
  private buffer: Buffer;
  private length = 0;
  /** The byte offset just after each row's line break; a batch has at most one row a line. */
  private readonly rowEnds: Uint32Array;
  private rows = 0;

  constructor(lines: readonly RawLine[]) {
    this.rowEnds = new Uint32Array(lines.length);
    // Rows are usually a little shorter than their source lines; grow when they are not.
    let estimate = 64 * 1024;
    for (const line of lines) estimate += line.length;
    this.buffer = Buffer.allocUnsafe(estimate);
  }

  append(text: string): void {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8; one more for the line break.
    const room = text.length * 3 + 1;
    if (this.length + room > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + room));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    this.length += this.buffer.write(text, this.length, 'utf8');
    this.buffer[this.length++] = 10;
    this.rowEnds[this.rows++] = this.length;
  }

  /** The rows written; copied to a buffer of their size when the estimate left a quarter or more unused. */
  bytes(): Buffer {
    const rows = this.buffer.subarray(0, this.length);
    // Rows wait in memory until the engine has them; a source line's bytes overestimate its row by ~30 %.
    return this.length * 4 < this.buffer.length * 3 ? Buffer.from(rows) : rows;
  }

  ends(): Uint32Array {
    return this.rowEnds.subarray(0, this.rows);
  }
}

import type { ResolvedTable } from '../workspace/catalog.js';
import type { ColumnSchema } from '../workspace/schema.js';
import { CoercionError, coerce } from './coerce.js';
import { CONVERTERS } from './converters.js';

/** Why a record could not become a row: a stable code plus a message naming the column. */
export class RecordRejection extends Error {
  constructor(
    readonly reason: 'InvalidValue' | 'MissingRecordKey' | 'NotAnObject',
    message: string,
  ) {
    super(message);
    this.name = 'RecordRejection';
  }
}

/** Where a column's value can come from, in order of preference: its own name first, then its `from` paths. */
interface Candidate {
  readonly slot: number;
  readonly priority: number;
}

function readPath(record: Record<string, unknown>, parts: readonly string[]): unknown {
  let v: unknown = record;
  for (const p of parts) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/** `best[slot]` when no candidate has been found for the column yet. */
const NONE = 255;

function isAbsent(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

export interface MappedRow {
  /** Column name → stored value; only columns with a value (the store fills the rest with defaults). */
  readonly row: Record<string, unknown>;
  /** The record key's text (columns joined by U+001F); empty when the table has no record key. */
  readonly key: string;
}

/**
 * Turns records into rows of one table. A record may be shaped like the table (column names, as the Logs
 * Ingestion API and table exports send) or like its source (the `from` paths in the catalog, as the Office 365
 * Management Activity API sends); the column's own name wins when both are present. Fields that are not
 * columns are dropped, as Log Analytics drops them.
 */
export class RowMapper {
  /** The mapped (non-system) columns; a column's index here is its slot. */
  private readonly columns: ColumnSchema[];
  /** Top-level record field → the columns it can fill. */
  private readonly byField = new Map<string, Candidate[]>();
  /** Columns with nested `from` paths (`userIdentity.arn`), read after the top-level pass. */
  private readonly nested: { slot: number; priority: number; parts: string[] }[] = [];
  private readonly converters: (((v: unknown) => unknown) | undefined)[];
  private readonly keyColumns: readonly string[];
  private readonly timeSlot: number;
  private readonly values: unknown[];
  private readonly best: Uint8Array;
  /** `,"Column":` for each slot, ready to concatenate. */
  private readonly jsonNames: string[];
  /** Per slot: 1 for a `dynamic` column, 2 for a `string` column without a converter (see `jsonColumn`). */
  private readonly jsonTextSlot: Uint8Array;
  /** Position of each slot in the record key, or -1. */
  private readonly keyIndexOfSlot: number[];
  private readonly keyValues: unknown[];
  /** Slots `fill` found a value for, in the order found, and how many. */
  private readonly filled: Uint16Array;
  private filledCount = 0;
  /** Slots that may get a value without the record carrying one: TimeGenerated, constants, key columns. */
  private readonly alwaysSlots: readonly number[];

  constructor(readonly table: ResolvedTable) {
    this.columns = table.columns.filter((c) => !c.system);
    this.columns.forEach((column, slot) => {
      [column.name, ...(column.from ?? [])].forEach((path, priority) => {
        if (path.includes('.')) {
          this.nested.push({ slot, priority, parts: path.split('.') });
        } else {
          const list = this.byField.get(path) ?? [];
          list.push({ slot, priority });
          this.byField.set(path, list);
        }
      });
    });
    this.converters = this.columns.map((c) => (c.convert ? CONVERTERS[c.convert] : undefined));
    this.timeSlot = this.columns.findIndex((c) => c.name === 'TimeGenerated');
    this.keyColumns = table.schema.recordKey;
    this.values = new Array(this.columns.length).fill(undefined);
    this.best = new Uint8Array(this.columns.length);
    this.jsonNames = this.columns.map((c) => `,${JSON.stringify(c.name)}:`);
    this.jsonTextSlot = Uint8Array.from(this.columns, (c) =>
      c.type === 'dynamic' ? 1 : c.type === 'string' && !c.convert ? 2 : 0,
    );
    this.keyIndexOfSlot = this.columns.map((c) => this.keyColumns.indexOf(c.name));
    this.keyValues = new Array(this.keyColumns.length).fill(undefined);
    this.filled = new Uint16Array(this.columns.length);
    this.alwaysSlots = this.columns
      .map((c, slot) =>
        slot === this.timeSlot || c.constant !== undefined || this.keyIndexOfSlot[slot]! >= 0 ? slot : -1,
      )
      .filter((slot) => slot >= 0);
  }

  /** Maps one parsed record; `receivedAt` is the datetime text used when the record has no TimeGenerated. */
  map(record: unknown, receivedAt: string): MappedRow {
    this.fill(record);
    const n = this.columns.length;
    const row: Record<string, unknown> = {};
    for (let slot = 0; slot < n; slot++) {
      const stored = this.stored(slot, receivedAt);
      if (stored !== undefined && stored !== '') row[this.columns[slot]!.name] = stored;
    }
    let key = '';
    if (this.keyColumns.length > 0) {
      key = this.keyText(this.keyColumns.map((k) => row[k]));
    }
    return { row, key };
  }

  /**
   * The same mapping, written straight to JSON text (`{"Col":value,...` + `tail` + `}`) without building
   * a row object first: the ingest hot path (about a third less CPU than `map` + `JSON.stringify`).
   */
  mapToJson(record: unknown, receivedAt: string, tail: string): { json: string; key: string } {
    this.fill(record);
    const keyValues = this.keyValues;
    keyValues.fill(undefined);
    let out = '';
    // Only the columns the record filled, plus those that get a value anyway (TimeGenerated, constants,
    // key columns): a few dozen of a table's up-to-130 columns.
    const filled = this.filled;
    for (let i = 0; i < this.filledCount; i++) out += this.jsonColumn(filled[i]!, receivedAt, keyValues);
    for (const slot of this.alwaysSlots) {
      if (this.best[slot] === NONE) out += this.jsonColumn(slot, receivedAt, keyValues);
    }
    const key = this.keyColumns.length > 0 ? this.keyText(keyValues) : '';
    return { json: `{${out.slice(1)}${tail}}`, key };
  }

  private jsonColumn(slot: number, receivedAt: string, keyValues: unknown[]): string {
    const stored = this.stored(slot, receivedAt);
    const keyIndex = this.keyIndexOfSlot[slot]!;
    if (keyIndex >= 0) keyValues[keyIndex] = stored;
    if (stored === undefined || stored === '') return '';
    if (typeof stored !== 'string') return this.jsonNames[slot]! + String(stored);
    // JSON text of an object or array is written as the object or array itself, not as a string holding it:
    // the store reads a JSON object or array into a String column as its exact text
    // (`input_format_json_read_objects_as_strings`, set on every insert), so the text is neither escaped
    // here nor unescaped there. That is a dynamic column's object or array (its text always comes from
    // JSON.stringify), and a string column given an object (Parameters); any other string stays a string.
    const jsonText = this.jsonTextSlot[slot];
    if (jsonText !== 0) {
      const c = stored.charCodeAt(0);
      if (
        (c === 123 /* { */ || c === 91) /* [ */ &&
        (jsonText === 1 || (this.best[slot] !== NONE && typeof this.values[slot] === 'object'))
      )
        return this.jsonNames[slot]! + stored;
    }
    return this.jsonNames[slot]! + JSON.stringify(stored);
  }

  private keyText(values: readonly unknown[]): string {
    const parts = values.map((v) => (v === undefined || v === null ? '' : String(v)));
    if (parts.every((p) => p === '')) {
      throw new RecordRejection(
        'MissingRecordKey',
        `the record key (${this.keyColumns.join(', ')}) is empty, so duplicates of this record could not be recognised`,
      );
    }
    return parts.join('\u001f');
  }

  /** Collects, for every column, the best candidate value of the record into the scratch arrays. */
  private fill(record: unknown): void {
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      throw new RecordRejection(
        'NotAnObject',
        `a record must be a JSON object, got ${Array.isArray(record) ? 'an array' : typeof record}`,
      );
    }
    const r = record as Record<string, unknown>;
    // Scratch space reused across records (this runs for every record: no per-record allocation).
    const values = this.values;
    const best = this.best;
    best.fill(NONE);
    const filled = this.filled;
    let filledCount = 0;
    // One pass over the record's own fields (a few dozen) instead of one lookup per column (up to ~130).
    const fields = Object.keys(r);
    for (let f = 0; f < fields.length; f++) {
      const field = fields[f]!;
      const targets = this.byField.get(field);
      if (targets === undefined) continue;
      const v = r[field];
      if (isAbsent(v)) continue;
      for (let t = 0; t < targets.length; t++) {
        const target = targets[t]!;
        const was = best[target.slot]!;
        if (target.priority < was) {
          if (was === NONE) filled[filledCount++] = target.slot;
          best[target.slot] = target.priority;
          values[target.slot] = v;
        }
      }
    }
    for (const p of this.nested) {
      const was = best[p.slot]!;
      if (p.priority >= was) continue;
      const v = readPath(r, p.parts);
      if (!isAbsent(v)) {
        if (was === NONE) filled[filledCount++] = p.slot;
        best[p.slot] = p.priority;
        values[p.slot] = v;
      }
    }
    this.filledCount = filledCount;
  }

  /** The stored form of a column after `fill`: converted, constant-defaulted and coerced; undefined if none. */
  private stored(slot: number, receivedAt: string): unknown {
    const column = this.columns[slot]!;
    let v = this.best[slot] === NONE ? undefined : this.values[slot];
    if (v === undefined) {
      if (slot === this.timeSlot) return receivedAt;
      if (column.constant === undefined) return undefined;
      v = column.constant;
    }
    const convert = this.converters[slot];
    if (convert) v = convert(v);
    return column.type === 'string' && typeof v === 'string' ? v : this.coerceColumn(column, v);
  }

  private coerceColumn(column: ColumnSchema, raw: unknown): unknown {
    try {
      return coerce(column.type, raw);
    } catch (err) {
      if (err instanceof CoercionError) {
        throw new RecordRejection('InvalidValue', `column '${column.name}' (${column.type}): ${err.message}`);
      }
      throw err;
    }
  }
}

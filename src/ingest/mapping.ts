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

type Getter = (record: Record<string, unknown>) => unknown;

function pathGetter(path: string): Getter {
  const parts = path.split('.');
  if (parts.length === 1) return (r) => r[path];
  return (r) => {
    let v: unknown = r;
    for (const p of parts) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return v;
  };
}

interface CompiledColumn {
  readonly column: ColumnSchema;
  readonly read: Getter;
}

function compileColumn(column: ColumnSchema): CompiledColumn {
  const getters = [column.name, ...(column.from ?? [])].map(pathGetter);
  const convert = column.convert ? CONVERTERS[column.convert] : undefined;
  const constant = column.constant;
  const read: Getter = (r) => {
    let v: unknown;
    for (const g of getters) {
      v = g(r);
      if (v !== undefined && v !== null && v !== '') break;
    }
    if ((v === undefined || v === null) && constant !== undefined) v = constant;
    return convert && v !== undefined && v !== null ? convert(v) : v;
  };
  return { column, read };
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
  private readonly columns: CompiledColumn[];
  private readonly keyColumns: readonly string[];
  private readonly timeGenerated: CompiledColumn | undefined;

  constructor(readonly table: ResolvedTable) {
    this.columns = table.columns.filter((c) => !c.system && c.name !== 'TimeGenerated').map(compileColumn);
    const tg = table.columnsByName.get('TimeGenerated');
    this.timeGenerated = tg ? compileColumn(tg) : undefined;
    this.keyColumns = table.schema.recordKey;
  }

  /** Maps one parsed record; `receivedAt` is the datetime text used when the record has no TimeGenerated. */
  map(record: unknown, receivedAt: string): MappedRow {
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      throw new RecordRejection('NotAnObject', `a record must be a JSON object, got ${Array.isArray(record) ? 'an array' : typeof record}`);
    }
    const r = record as Record<string, unknown>;
    const row: Record<string, unknown> = {};
    if (this.timeGenerated) {
      const raw = this.timeGenerated.read(r);
      row.TimeGenerated = raw === undefined || raw === null || raw === '' ? receivedAt : this.coerceColumn(this.timeGenerated.column, raw);
    }
    for (const c of this.columns) {
      const raw = c.read(r);
      if (raw === undefined || raw === null) continue;
      const value = this.coerceColumn(c.column, raw);
      if (value !== undefined && value !== '') row[c.column.name] = value;
    }
    let key = '';
    if (this.keyColumns.length > 0) {
      const parts = this.keyColumns.map((k) => {
        const v = row[k];
        return v === undefined || v === null ? '' : String(v);
      });
      if (parts.every((p) => p === '')) {
        throw new RecordRejection(
          'MissingRecordKey',
          `the record key (${this.keyColumns.join(', ')}) is empty, so duplicates of this record could not be recognised`,
        );
      }
      key = parts.join('\u001f');
    }
    return { row, key };
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

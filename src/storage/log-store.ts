/**
 * The log store port: what the rest of Vigil needs from the engine that holds workspace tables.
 * `ChdbLogStore` (embedded, the default) implements it; a ClickHouse server executor implements the same
 * port with the same SQL, so callers never know which one runs.
 */
export interface InsertOptions {
  /**
   * Idempotency token: inserting twice with one token stores the rows once. One token per batch insert,
   * never one for a multi-chunk stream (every chunk after the first would be dropped).
   */
  readonly token?: string;
}

export interface LogStore {
  /** `chdb` (embedded) or `clickhouse` (server). */
  readonly engine: string;
  /** The ClickHouse database that holds the workspace's tables. */
  readonly database: string;
  /** Runs a statement that returns nothing (DDL, ALTER). */
  command(sql: string): Promise<void>;
  /** Runs a query and returns its rows as objects (JSONEachRow, 64-bit integers quoted). */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** Runs a query and returns the engine's output in the given format, unparsed. */
  queryText(sql: string, format: string): Promise<string>;
  /** Inserts NDJSON rows (one JSON object a line) whose keys are column names, as one insert. */
  insertJsonEachRow(table: string, rows: Buffer, options?: InsertOptions): Promise<void>;
  /**
   * Streams NDJSON rows into a table in chunks, one insert each, with no token: not idempotent. For bulk
   * loads (benchmarks, fixtures), never for data whose delivery must be exactly once.
   */
  bulkLoadJsonEachRow(table: string, rows: AsyncIterable<Buffer | string>): Promise<void>;
  close(): Promise<void>;
}

export type LogStoreErrorCode =
  /** Another process holds the embedded store's data directory. */
  | 'StoreLocked'
  /** The data directory cannot be created or written. */
  | 'StoreUnwritable'
  /** The engine rejected rows of an insert. */
  | 'InsertRejected'
  /** Anything else the engine reported. */
  | 'StoreFailed';

export class LogStoreError extends Error {
  constructor(
    readonly code: LogStoreErrorCode,
    message: string,
    readonly engineCode?: number,
  ) {
    super(message);
    this.name = 'LogStoreError';
  }
}

/** ClickHouse string literal; for values the compiler or the store inlines into SQL. */
export function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

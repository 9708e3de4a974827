import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Session } from 'chdb';
import { type InsertOptions, type LogStore, LogStoreError } from '../log-store.js';
import { ident } from './ddl.js';

/**
 * Settings Vigil relies on, sent with every statement: chdb's defaults differ from a server's (chdb turns
 * `async_insert` on, for one), and a `SET` would leak into the rest of the session.
 */
const QUERY_SETTINGS = 'output_format_json_quote_64bit_integers = 1, output_format_json_quote_decimals = 1';
const INSERT_SETTINGS: Readonly<Record<string, string | number>> = {
  async_insert: 0,
  insert_deduplicate: 1,
  // Rows are validated and shaped by the pipeline; an unknown key would be a Vigil bug, so fail loudly.
  input_format_skip_unknown_fields: 0,
  // JSON objects and arrays of dynamic and string columns arrive as JSON and are stored as their exact text
  // (ingest/mapping.ts).
  input_format_json_read_objects_as_strings: 1,
  input_format_json_read_arrays_as_strings: 1,
  // A backfill batch can span many days (one partition each); the default limit of 100 would reject it.
  max_partitions_per_insert_block: 1000,
  throw_on_max_partitions_per_insert_block: 0,
  // One thread parses each insert. A batch (≤ 8 MiB, ingest/service.ts) is below the engine's 10 MiB
  // parallel-parsing chunk, so the segmenting and parser threads only added hand-offs: without them the
  // connector benchmark's phase finished ~6 % sooner on ~7 % less CPU (bench/README.md).
  input_format_parallel_parsing: 0,
};

/**
 * The engine's allocator (the jemalloc linked into libchdb, configured through `JE_MALLOC_CONF`, read once
 * when the library loads). ClickHouse's build keeps freed pages for 5 s in one arena per CPU; an insert
 * churns tens of MiB, so the process carried ~100 MiB of freed-but-kept pages. Returning them after 300 ms
 * from one arena took the connector benchmark's peak RSS from 735 to 651 MiB at the same speed
 * (bench/README.md). Each of the engine's threads (dozens) also keeps a cache of freed blocks; caching only
 * blocks of up to 4 KiB (`lg_tcache_max:12`, default 32 KiB) took ~30 MiB more off that peak at the same
 * CPU. A `JE_MALLOC_CONF` set by the operator is left as it is.
 */
const ENGINE_ALLOCATOR_CONF = 'dirty_decay_ms:300,percpu_arena:disabled,narenas:1,lg_tcache_max:12';

/**
 * Server settings of the embedded engine: merges come after writes and queries.
 * - Merge threads run at `nice` 10 (the engine's own setting; lowering a priority needs no privilege). On a
 *   two-core machine merges otherwise take the CPU a connector's writes or an analyst's query waits for:
 *   writing 1M OfficeActivity records took 36-57 s with merges at the same priority, 31-33 s at 10. A table
 *   holds more parts while a large backfill runs and merges them down once the CPU is free; past
 *   `parts_to_delay_insert` the engine slows inserts down itself, so parts cannot pile up without bound.
 * - At most one merge per core at once (the default allows 32): merges that wait for the CPU each hold read
 *   buffers for every part they merge, and four of them at once took that 1M write to 630 MiB; two stay
 *   under 590 MiB (bench/README.md).
 */
const ENGINE_SERVER_ARGS = [
  '--os_threads_nice_value_merge_mutate=10',
  `--background_pool_size=${Math.max(2, os.availableParallelism())}`,
  '--background_merges_mutations_concurrency_ratio=1',
];

/** Loads chdb (and with it the engine) once, after its allocator is configured. */
let chdbModule: Promise<typeof import('chdb')> | undefined;
function loadChdb(): Promise<typeof import('chdb')> {
  if (!chdbModule) {
    process.env.JE_MALLOC_CONF ??= ENGINE_ALLOCATOR_CONF;
    chdbModule = import('chdb');
  }
  return chdbModule;
}

/** The engine's own error code, from an async error's field or the text of a sync one. */
function engineCode(err: unknown): number | undefined {
  const e = err as { clickhouseCode?: number; message?: string };
  if (typeof e?.clickhouseCode === 'number') return e.clickhouseCode;
  const m = /Code: (\d+)\./.exec(String(e?.message ?? ''));
  return m ? Number(m[1]) : undefined;
}

function toStoreError(err: unknown, doing: string): LogStoreError {
  const code = engineCode(err);
  const message = String((err as Error)?.message ?? err);
  // chdb reports a directory locked by another process as code 76, or, at open, only as a failed connection.
  const code_ = (err as { code?: string })?.code;
  if (code === 76 || /Cannot lock file/.test(message) || code_ === 'CHDB_CONNECTION') {
    return new LogStoreError(
      'StoreLocked',
      `${doing}: another process is using this data directory (is 'vigil serve' running?)`,
      code,
    );
  }
  return new LogStoreError('StoreFailed', `${doing}: ${message.split('\n')[0]}`, code);
}

/**
 * chdb sends an insert's rows inline, after the statement, and the engine's statement splitter ends inline
 * data at the first blank line: whatever follows `\n\n` runs as another statement (measured: a payload
 * `{...}\n\nCREATE TABLE x ...` created the table). Rows from the pipeline never hold a raw line break
 * (values are JSON-escaped), so a blank line can only be a bug upstream; refuse it rather than run it.
 */
function refuseBlankLine(rows: Buffer | string, previousEndsLine = false): void {
  const blank =
    rows.indexOf('\n\n') >= 0 ||
    (previousEndsLine && rows.length > 0 && (rows[0] === 10 || rows[0] === '\n'));
  if (blank) {
    throw new LogStoreError(
      'InsertRejected',
      'insert refused: the rows contain a blank line, which the embedded engine would read as the end of the data',
    );
  }
}

async function* withoutBlankLines(rows: AsyncIterable<Buffer | string>): AsyncIterable<Buffer | string> {
  let endsLine = false;
  for await (const chunk of rows) {
    refuseBlankLine(chunk, endsLine);
    if (chunk.length > 0) endsLine = chunk[chunk.length - 1] === 10 || chunk[chunk.length - 1] === '\n';
    yield chunk;
  }
}

/** The embedded store: ClickHouse in this process through chdb, data under `<dataDir>/store`. */
export class ChdbLogStore implements LogStore {
  readonly engine = 'chdb';
  private closed = false;

  private constructor(
    private readonly session: Session,
    readonly database: string,
  ) {}

  static async open(storeDir: string, database = 'vigil'): Promise<ChdbLogStore> {
    try {
      fs.mkdirSync(storeDir, { recursive: true });
      fs.accessSync(storeDir, fs.constants.W_OK);
    } catch (err) {
      throw new LogStoreError(
        'StoreUnwritable',
        `cannot write the data directory ${path.resolve(storeDir)}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
    const { Session } = await loadChdb();
    let session: Session;
    try {
      session = new Session(storeDir, { connectionArgs: ENGINE_SERVER_ARGS });
    } catch (err) {
      throw toStoreError(err, `cannot open the store in ${path.resolve(storeDir)}`);
    }
    const store = new ChdbLogStore(session, database);
    await store.command(`CREATE DATABASE IF NOT EXISTS ${ident(database)}`);
    return store;
  }

  async command(sql: string): Promise<void> {
    this.assertOpen();
    try {
      await this.session.queryAsync(sql, { format: 'Null' });
    } catch (err) {
      throw toStoreError(err, 'store command failed');
    }
  }

  async query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    const text = await this.queryText(sql, 'JSONEachRow');
    const rows: T[] = [];
    for (const line of text.split('\n')) if (line) rows.push(JSON.parse(line) as T);
    return rows;
  }

  async queryText(sql: string, format: string): Promise<string> {
    this.assertOpen();
    try {
      const result = await this.session.queryAsync(`${sql}\nSETTINGS ${QUERY_SETTINGS}`, { format });
      return result.text();
    } catch (err) {
      throw toStoreError(err, 'query failed');
    }
  }

  async insertJsonEachRow(table: string, rows: Buffer, options: InsertOptions = {}): Promise<void> {
    this.assertOpen();
    if (rows.length === 0) return;
    refuseBlankLine(rows);
    const settings = options.token
      ? { ...INSERT_SETTINGS, insert_deduplication_token: options.token }
      : INSERT_SETTINGS;
    try {
      await this.session.insert({
        // chdb takes a plain `db.table` here and checks it is [A-Za-z0-9_] segments itself.
        table: `${this.database}.${table}`,
        values: rows,
        format: 'JSONEachRow',
        settings,
      });
    } catch (err) {
      const e = toStoreError(err, `insert into ${table} failed`);
      throw new LogStoreError('InsertRejected', e.message, e.engineCode);
    }
  }

  async bulkLoadJsonEachRow(table: string, rows: AsyncIterable<Buffer | string>): Promise<void> {
    this.assertOpen();
    try {
      await this.session.insert({
        table: `${this.database}.${table}`,
        values: withoutBlankLines(rows),
        format: 'JSONEachRow',
        settings: { async_insert: 0, input_format_skip_unknown_fields: 0 },
      });
    } catch (err) {
      const e = toStoreError(err, `bulk load into ${table} failed`);
      throw new LogStoreError('InsertRejected', e.message, e.engineCode);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.session.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new LogStoreError('StoreFailed', 'the store is closed');
  }
}

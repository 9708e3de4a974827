import type { ResolvedTable } from '../../workspace/catalog.js';
import { clickhouseType } from './types.js';

/** How many recent insert tokens each table remembers; a replayed batch is recognised within this window. */
export const DEDUPLICATION_WINDOW = 10_000;

/**
 * MergeTree settings of every workspace table:
 * - the de-duplication window makes insert tokens work (a plain MergeTree ignores them);
 * - TTL drops whole daily parts instead of rewriting them;
 * - vertical merges, from the first row: a horizontal merge of a table with ~130 columns holds buffers for
 *   every column of every part at once, which took the process from ~440 MiB to ~890 MiB while ingesting
 *   100k OfficeActivity rows; merging column by column keeps it at ~470 MiB (bench/README.md);
 * - fewer, wider merges: writers insert many small parts (a connector's blob holds ~1,000 records), and the
 *   default selector rewrote each row ~2.5 times while the connectors ingested (a whole core of a two-core
 *   machine spent merging). A larger size ratio and at least 16 parts a merge rewrite each row about once
 *   during a backfill: 8 parts a merge cut merge time from 71 s to 37 s in the connector benchmark, 16 took
 *   its connector process from 69-72 to 50-57 CPU s (a merge to a wide part writes 2-4 files for each of
 *   ~130 columns, and the file system's inode allocation alone cost ~3 CPU s) and its peak RSS from
 *   696-726 to 657-676 MiB (bench/README.md). At most 16 parts a merge (the default is 100): merges run at
 *   low priority (chdb-store.ts), so parts gather while a backfill runs, and one merge of dozens of parts
 *   holds a read buffer for each.
 * - a day whose parts have all been left alone for an hour is merged into one part, so a quiet table or a
 *   past day does not keep up to 15 parts of each size for its whole retention.
 */
const TABLE_SETTING_LIST = [
  `non_replicated_deduplication_window = ${DEDUPLICATION_WINDOW}`,
  'ttl_only_drop_parts = 1',
  'vertical_merge_algorithm_min_rows_to_activate = 1',
  'vertical_merge_algorithm_min_columns_to_activate = 1',
  'merge_selector_base = 10',
  'min_parts_to_merge_at_once = 16',
  'max_parts_to_merge_at_once = 16',
  'min_age_to_force_merge_seconds = 3600',
  'min_age_to_force_merge_on_partition_only = 1',
];
const TABLE_SETTINGS = TABLE_SETTING_LIST.join(', ');

/** Quotes an identifier for ClickHouse; table and column names come from the catalog, but stay safe anyway. */
export function ident(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}

export function qualified(database: string, table: string): string {
  return `${ident(database)}.${ident(table)}`;
}

/**
 * DDL for one workspace table: MergeTree partitioned by day and ordered by time, so a time-range query reads
 * only the days and granules it needs; a TTL from the table's retention; and a de-duplication window so that
 * insert tokens make batch writes idempotent (plain MergeTree ignores tokens without it).
 */
export function createTableSql(database: string, table: ResolvedTable): string {
  const columns = table.columns.map((c) => {
    let def = `  ${ident(c.name)} ${clickhouseType(c)}`;
    // Values the engine fills more cheaply than the pipeline could send them.
    if (c.name === '_IngestionTime') def += ' DEFAULT now64(7)';
    if (c.name === '_ItemId') def += ' DEFAULT toString(generateUUIDv4())';
    if (c.name === '_IsBillable') def += ' DEFAULT true';
    if (c.name === 'Type') def += ` DEFAULT '${table.name}'`;
    return def;
  });
  return [
    `CREATE TABLE IF NOT EXISTS ${qualified(database, table.name)} (`,
    columns.join(',\n'),
    ')',
    'ENGINE = MergeTree',
    'PARTITION BY toYYYYMMDD(TimeGenerated)',
    'ORDER BY TimeGenerated',
    retentionClause(table.retentionDays),
    `SETTINGS ${TABLE_SETTINGS}`,
  ].join('\n');
}

function retentionClause(days: number): string {
  return `TTL toDateTime(TimeGenerated) + INTERVAL ${Math.trunc(days)} DAY`;
}

/**
 * Brings a table created by an earlier Vigil to the current settings (`CREATE TABLE IF NOT EXISTS` leaves an
 * existing table as it was); undefined when `engineFull` (system.tables) already has them all.
 */
export function alterTableSettingsSql(
  database: string,
  table: ResolvedTable,
  engineFull: string,
): string | undefined {
  // Settings end at a comma or the end of the text (so `= 8` is not taken for `= 80`).
  const have = `${engineFull},`;
  if (TABLE_SETTING_LIST.every((setting) => have.includes(`${setting},`))) return undefined;
  return `ALTER TABLE ${qualified(database, table.name)} MODIFY SETTING ${TABLE_SETTINGS}`;
}

export function alterRetentionSql(database: string, table: ResolvedTable): string {
  return `ALTER TABLE ${qualified(database, table.name)} MODIFY ${retentionClause(table.retentionDays)}`;
}

/** Columns a table lacks in the store (a catalog that grew since the table was created). */
export function addColumnsSql(
  database: string,
  table: ResolvedTable,
  existing: ReadonlySet<string>,
): string[] {
  return table.columns
    .filter((c) => !existing.has(c.name))
    .map(
      (c) =>
        `ALTER TABLE ${qualified(database, table.name)} ADD COLUMN IF NOT EXISTS ${ident(c.name)} ${clickhouseType(c)}`,
    );
}

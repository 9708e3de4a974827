import type { ColumnSchema, TableSchema } from './schema.js';

/**
 * The standard columns every Log Analytics table has (azure-monitor-docs, log-standard-columns.md).
 *
 * `_IsBillable` is typed `bool` although the table pages say string: public queries compare it with
 * `== true`, which Kusto rejects on a string column.
 */
export function standardColumns(table: TableSchema): ColumnSchema[] {
  const columns: ColumnSchema[] = [
    { name: 'TenantId', type: 'string', system: true, description: 'The Log Analytics workspace id.' },
    {
      name: 'TimeGenerated',
      type: 'datetime',
      description: 'When the source created the record (UTC); the receipt time when the record has none.',
    },
    { name: 'SourceSystem', type: 'string', lowCardinality: true, description: 'Kind of collector.' },
    { name: 'Type', type: 'string', system: true, lowCardinality: true, description: 'The table name.' },
  ];
  for (const optional of table.optionalStandardColumns ?? []) {
    columns.push({ name: optional, type: 'string', hidden: true });
  }
  columns.push(
    { name: '_ItemId', type: 'string', system: true, hidden: true, description: 'Unique id of the row.' },
    {
      name: '_TimeReceived',
      type: 'datetime',
      system: true,
      hidden: true,
      description: 'When the ingest pipeline received the record.',
    },
    {
      name: '_IngestionTime',
      type: 'datetime',
      system: true,
      hidden: true,
      description: 'When the row was written to the store; what `ingestion_time()` returns.',
    },
    { name: '_IsBillable', type: 'bool', system: true, hidden: true },
    {
      name: '_BilledSize',
      type: 'real',
      system: true,
      hidden: true,
      description: 'Size in bytes of the record as received.',
    },
  );
  return columns;
}

export const STANDARD_COLUMN_NAMES: ReadonlySet<string> = new Set([
  'TenantId',
  'TimeGenerated',
  'SourceSystem',
  'Type',
  '_ResourceId',
  '_SubscriptionId',
  '_ItemId',
  '_TimeReceived',
  '_IngestionTime',
  '_IsBillable',
  '_BilledSize',
]);

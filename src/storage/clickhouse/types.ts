import type { ColumnSchema, KqlType } from '../../workspace/schema.js';

/**
 * How each KQL type is stored in ClickHouse. The reasons (measured by bench/storage-types.ts, figures in
 * bench/README.md):
 * - `datetime` → `DateTime64(7, 'UTC')`: exactly Kusto's 100-ns ticks, and the engine's own time functions
 *   (`toStartOfInterval`, partition pruning) work on it.
 * - `timespan` → `Int64` of 100-ns ticks: no ClickHouse column type holds a duration; ticks make arithmetic
 *   with `DateTime64(7)` exact.
 * - `guid` → `UUID`: 16 bytes instead of 36, canonical lower-case text on output.
 * - `dynamic` → `String` holding JSON text. Kusto's `dynamic` keeps any JSON value exactly as given (arrays
 *   of mixed types, scalars, key order), which the `JSON` column type does not (measured: keys reordered, the
 *   number 2 read back as "2"); the text form also inserts 3.6× faster. `JSON` answers path queries ~5×
 *   faster, which a materialised subcolumn could add later where it matters.
 * - `string` is never null in Kusto (an absent string is `""`), so it is a plain `String`; every other type
 *   is `Nullable` because Kusto's `isnull()` must see absent values.
 * - `decimal` → `Decimal(38, 18)`: Kusto's decimal has 34 significant digits; 38 with 18 after the point
 *   covers real queries (noted as a difference in the README).
 */
const STORAGE_TYPE: Record<KqlType, string> = {
  string: 'String',
  int: 'Int32',
  long: 'Int64',
  real: 'Float64',
  bool: 'Bool',
  datetime: "DateTime64(7, 'UTC')",
  timespan: 'Int64',
  guid: 'UUID',
  dynamic: 'String',
  decimal: 'Decimal(38, 18)',
};

export function clickhouseType(column: ColumnSchema): string {
  if (column.name === 'TimeGenerated') return STORAGE_TYPE.datetime;
  if (column.type === 'string') return column.lowCardinality ? 'LowCardinality(String)' : 'String';
  return `Nullable(${STORAGE_TYPE[column.type]})`;
}

/**
 * SQL building blocks shared by the compiler and the function catalog: quoting, and the conversions
 * that follow from how Vigil stores KQL types (see `src/storage/clickhouse/types.ts`):
 * datetime = `DateTime64(7, 'UTC')`, timespan = Int64 ticks of 100 ns, dynamic = JSON text.
 */
import { sqlString } from '../storage/log-store.js';
import type { ScalarType } from './ir.js';

export { sqlString };

export function ident(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

/** datetime → Int64 ticks since the Unix epoch (exact for years 1678–2262). */
export function dtToTicks(sql: string): string {
  return `intDiv(toUnixTimestamp64Nano(${sql}), 100)`;
}

/** Int64 ticks since the epoch → datetime. */
export function ticksToDt(sql: string): string {
  return `toDateTime64(fromUnixTimestamp64Nano((${sql}) * 100, 'UTC'), 7, 'UTC')`;
}

/** Floor of `x` to a multiple of `size` for Int64 values (also correct for negatives). */
export function floorTo(x: string, size: string): string {
  return `((${x}) - ((((${x}) % (${size})) + (${size})) % (${size})))`;
}

/** Kusto's text of a datetime: ISO 8601 with `Z`, 7 fraction digits unless the fraction is zero. */
export function datetimeText(sql: string): string {
  return `if(isNull(${sql}), '', concat(replaceOne(replaceRegexpOne(toString(${sql}), '\\\\.0000000$', ''), ' ', 'T'), 'Z'))`;
}

/** Kusto's text of a timespan: `[-][d.]hh:mm:ss[.fffffff]`. */
export function timespanText(sql: string): string {
  const a = `abs(${sql})`;
  const pad = (v: string) => `leftPad(toString(${v}), 2, '0')`;
  return (
    `if(isNull(${sql}), '', concat(if(${sql} < 0, '-', ''), ` +
    `if(${a} >= 864000000000, concat(toString(intDiv(${a}, 864000000000)), '.'), ''), ` +
    `${pad(`intDiv(${a} % 864000000000, 36000000000)`)}, ':', ` +
    `${pad(`intDiv(${a} % 36000000000, 600000000)`)}, ':', ` +
    `${pad(`intDiv(${a} % 600000000, 10000000)`)}, ` +
    `if(${a} % 10000000 != 0, concat('.', leftPad(toString(${a} % 10000000), 7, '0')), '')))`
  );
}

/** A dynamic value (JSON text) as Kusto's `tostring` gives it: strings unquoted, null → `""`. */
export function dynamicText(sql: string): string {
  return `multiIf(isNull(${sql}), '', JSONType(${sql}) = 'String', JSONExtractString(${sql}), JSONType(${sql}) = 'Null', '', assumeNotNull(${sql}))`;
}

/** `tostring(x)` for a value of the given KQL type. */
export function toKqlString(sql: string, type: ScalarType): string {
  switch (type) {
    case 'string':
      return sql;
    case 'dynamic':
      return dynamicText(sql);
    case 'datetime':
      return datetimeText(sql);
    case 'timespan':
      return timespanText(sql);
    case 'bool':
      return `multiIf(isNull(${sql}), '', ${sql}, 'true', 'false')`;
    case 'null':
      return `''`;
    default:
      return `ifNull(toString(${sql}), '')`;
  }
}

/** A value as JSON text (for dynamic results: `pack`, `make_set`, ...); NULL stays NULL. */
export function toJsonText(sql: string, type: ScalarType): string {
  switch (type) {
    case 'string':
      return `toJSONString(${sql})`;
    case 'dynamic':
      return `if(isNull(${sql}) OR ${sql} = 'null', NULL, ${sql})`;
    case 'datetime':
      return `if(isNull(${sql}), NULL, toJSONString(${datetimeText(sql)}))`;
    case 'timespan':
      return `if(isNull(${sql}), NULL, toJSONString(${timespanText(sql)}))`;
    case 'bool':
      return `if(isNull(${sql}), NULL, if(${sql}, 'true', 'false'))`;
    case 'guid':
      return `if(isNull(${sql}), NULL, concat('"', toString(${sql}), '"'))`;
    case 'null':
      return 'NULL';
    default:
      return `if(isNull(${sql}), NULL, toString(${sql}))`;
  }
}

/** The ClickHouse type a KQL value of this type is computed as (used for typed NULLs and datatables). */
export function storageType(type: ScalarType): string {
  switch (type) {
    case 'string':
      return 'String';
    case 'int':
      return 'Nullable(Int32)';
    case 'long':
    case 'timespan':
      return 'Nullable(Int64)';
    case 'real':
      return 'Nullable(Float64)';
    case 'bool':
      return 'Nullable(Bool)';
    case 'datetime':
      return "Nullable(DateTime64(7, 'UTC'))";
    case 'guid':
      return 'Nullable(UUID)';
    case 'decimal':
      return 'Nullable(Decimal(38, 18))';
    default:
      return 'Nullable(String)';
  }
}

/** Floor division of Int64 values (correct for negatives, unlike `intDiv`). */
export function floorDiv(x: string, size: string): string {
  return `intDiv(${floorTo(x, size)}, ${size})`;
}

/** One tick = 100 ns; ticks per unit. */
export const TICKS = {
  microsecond: 10,
  millisecond: 10_000,
  second: 10_000_000,
  minute: 600_000_000,
  hour: 36_000_000_000,
  day: 864_000_000_000,
  week: 6_048_000_000_000,
} as const;

/** A JSON array text from a ClickHouse `Array(String)` of JSON texts. */
export function jsonArray(elements: string): string {
  return `concat('[', arrayStringConcat(${elements}, ','), ']')`;
}

/** The elements of a dynamic array as `Array(String)` of JSON texts (`[]` for a non-array). */
export function jsonElements(sql: string): string {
  return `JSONExtractArrayRaw(ifNull(${sql}, ''))`;
}

/** True when a dynamic value (JSON text) is an array. */
export function isJsonArray(sql: string): string {
  return `ifNull(JSONType(${sql}) = 'Array', false)`;
}

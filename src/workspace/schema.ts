/**
 * The shape of a workspace table, as Log Analytics and Kusto see it.
 *
 * A `TableSchema` is the one source of truth for a table: the ClickHouse DDL, the ingest mapping and
 * validation, and (later) the KQL binder's schema and the API's schema listing are all derived from it.
 */

/** Kusto's scalar types (https://learn.microsoft.com/kusto/query/scalar-data-types). */
export const KQL_TYPES = [
  'string',
  'int',
  'long',
  'real',
  'bool',
  'datetime',
  'timespan',
  'guid',
  'dynamic',
  'decimal',
] as const;
export type KqlType = (typeof KQL_TYPES)[number];

export function isKqlType(value: unknown): value is KqlType {
  return typeof value === 'string' && (KQL_TYPES as readonly string[]).includes(value);
}

/**
 * Named value conversions a mapping can apply to a source field before type coercion.
 * They exist because sources send codes where Sentinel stores names (see tables.md).
 */
export type ValueConverter =
  /** Office 365 audit `RecordType` number → enum name (`6` → `SharePointFileOperation`); unknown numbers stay numbers. */
  | 'o365RecordTypeName'
  /** Office 365 audit `UserType` number → enum name (`0` → `Regular`). */
  | 'o365UserTypeName';

export interface ColumnSchema {
  /** Byte-exact column name as Sentinel has it (`Site_`, `UserIdentityPrincipalid`). */
  readonly name: string;
  readonly type: KqlType;
  readonly description?: string;
  /**
   * Source field paths (dotted, e.g. `userIdentity.sessionContext.sessionIssuer.arn`) tried, in order, when a
   * record does not carry the column under its own name. A record shaped like the table (as the Logs
   * Ingestion API sends, or an export of the table) therefore maps as is, and a source record maps by these.
   */
  readonly from?: readonly string[];
  readonly convert?: ValueConverter;
  /**
   * Hidden standard columns (`_ItemId`, `_TimeReceived`, ...) are not listed in the schema pane nor
   * returned by `*`; a query gets them only by naming them.
   */
  readonly hidden?: boolean;
  /** A value written by the pipeline itself, never taken from the record (`Type`, `TenantId`, `_TimeReceived`). */
  readonly system?: boolean;
  /** A constant the mapping writes when the record does not carry the column (`EventVendor` = `Microsoft`). */
  readonly constant?: string | number | boolean;
  /** Few distinct values: stored dictionary-encoded (ClickHouse `LowCardinality`). A storage hint only. */
  readonly lowCardinality?: boolean;
}

export interface TableSchema {
  readonly name: string;
  readonly description: string;
  /** Columns specific to this table; the standard columns are added by `withStandardColumns`. */
  readonly columns: readonly ColumnSchema[];
  /**
   * Columns whose values identify one source record. The same key delivered twice is stored once.
   * Empty: no record-level de-duplication (batch replays are still de-duplicated by insert tokens).
   */
  readonly recordKey: readonly string[];
  /** Days rows are kept; Log Analytics' default is 90 (per-table overrides live in the control plane). */
  readonly retentionDays?: number;
  /** Optional standard columns this table lists (`_ResourceId`, `_SubscriptionId`). */
  readonly optionalStandardColumns?: readonly ('_ResourceId' | '_SubscriptionId')[];
  /** `builtin` for the Sentinel tables, `custom` for `<Name>_CL`, `system` for Vigil's own tables. */
  readonly kind: 'builtin' | 'custom' | 'system';
  /** What writes this table (for docs and the schema listing). */
  readonly writtenBy?: string;
}

export const DEFAULT_RETENTION_DAYS = 90;

import { WorkspaceError } from './errors.js';
import { type ColumnSchema, DEFAULT_RETENTION_DAYS, isKqlType, type TableSchema } from './schema.js';
import { STANDARD_COLUMN_NAMES, standardColumns } from './standard-columns.js';
import { builtinTables } from './tables/index.js';

/** A table with its standard columns resolved: what DDL, mapping and the binder work from. */
export interface ResolvedTable {
  readonly schema: TableSchema;
  readonly name: string;
  /** Every column, visible ones first in the table's order, then hidden standard columns. */
  readonly columns: readonly ColumnSchema[];
  readonly columnsByName: ReadonlyMap<string, ColumnSchema>;
  readonly retentionDays: number;
}

/**
 * Merges the standard columns into a table: a table may restate a standard column (for example
 * `TimeGenerated` with `from: ['CreationTime']`) to say where its value comes from.
 */
export function resolveTable(schema: TableSchema, retentionDays?: number): ResolvedTable {
  const own = new Map(schema.columns.map((c) => [c.name, c]));
  const standard = standardColumns(schema);
  const merged: ColumnSchema[] = [];
  const seen = new Set<string>();
  for (const column of schema.columns) {
    const base = standard.find((s) => s.name === column.name);
    merged.push(base ? { ...base, ...column, system: base.system, hidden: base.hidden } : column);
    seen.add(column.name);
  }
  for (const column of standard) {
    if (!seen.has(column.name)) merged.push(own.get(column.name) ?? column);
  }
  const visible = merged.filter((c) => !c.hidden);
  const hidden = merged.filter((c) => c.hidden);
  const columns = [...visible, ...hidden];
  return {
    schema,
    name: schema.name,
    columns,
    columnsByName: new Map(columns.map((c) => [c.name, c])),
    retentionDays: retentionDays ?? schema.retentionDays ?? DEFAULT_RETENTION_DAYS,
  };
}

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,126}$/;

/** Checks a custom table definition as Log Analytics does: `<Name>_CL`, typed columns, no clashes. */
export function validateCustomTable(input: unknown): TableSchema {
  if (typeof input !== 'object' || input === null) {
    throw new WorkspaceError('InvalidTableDefinition', 'A table definition must be a JSON object.');
  }
  const def = input as Record<string, unknown>;
  const allowed = new Set(['name', 'description', 'columns', 'retentionDays', 'recordKey']);
  for (const key of Object.keys(def)) {
    if (!allowed.has(key)) {
      throw new WorkspaceError(
        'InvalidTableDefinition',
        `Unknown property '${key}' in the table definition.`,
      );
    }
  }
  const name = def.name;
  if (typeof name !== 'string' || !TABLE_NAME.test(name) || !name.endsWith('_CL')) {
    throw new WorkspaceError(
      'InvalidTableName',
      `Custom table names end with '_CL' and use letters, digits and '_' (got ${JSON.stringify(name)}).`,
    );
  }
  if (!Array.isArray(def.columns) || def.columns.length === 0) {
    throw new WorkspaceError('InvalidTableDefinition', `Table '${name}' needs a non-empty 'columns' array.`);
  }
  const columns: ColumnSchema[] = [];
  const names = new Set<string>();
  for (const [i, raw] of def.columns.entries()) {
    const col = raw as Record<string, unknown>;
    const colName = col?.name;
    if (typeof colName !== 'string' || !COLUMN_NAME.test(colName)) {
      throw new WorkspaceError('InvalidColumn', `Column ${i} of '${name}' has an invalid name.`);
    }
    if (!isKqlType(col.type)) {
      throw new WorkspaceError(
        'InvalidColumn',
        `Column '${colName}' of '${name}' has type ${JSON.stringify(col.type)}; expected one of string, int, long, real, bool, datetime, timespan, guid, dynamic, decimal.`,
      );
    }
    if (names.has(colName.toLowerCase())) {
      throw new WorkspaceError('InvalidColumn', `Column '${colName}' appears twice in '${name}'.`);
    }
    if (STANDARD_COLUMN_NAMES.has(colName) && colName !== 'TimeGenerated') {
      throw new WorkspaceError(
        'InvalidColumn',
        `'${colName}' is a standard column and is added by the workspace.`,
      );
    }
    if (colName === 'TimeGenerated' && col.type !== 'datetime') {
      throw new WorkspaceError('InvalidColumn', `TimeGenerated must be of type datetime.`);
    }
    names.add(colName.toLowerCase());
    columns.push({
      name: colName,
      type: col.type,
      description: typeof col.description === 'string' ? col.description : undefined,
    });
  }
  const recordKey = def.recordKey ?? [];
  if (
    !Array.isArray(recordKey) ||
    recordKey.some((k) => typeof k !== 'string' || !names.has(k.toLowerCase()))
  ) {
    throw new WorkspaceError('InvalidTableDefinition', `'recordKey' must list columns of '${name}'.`);
  }
  const retention = def.retentionDays;
  if (
    retention !== undefined &&
    (!Number.isInteger(retention) || (retention as number) < 1 || (retention as number) > 4383)
  ) {
    throw new WorkspaceError('InvalidTableDefinition', `'retentionDays' must be an integer from 1 to 4383.`);
  }
  return {
    name,
    description: typeof def.description === 'string' ? def.description : `Custom table ${name}`,
    columns,
    recordKey: recordKey as string[],
    retentionDays: retention as number | undefined,
    kind: 'custom',
  };
}

/**
 * The workspace's tables: the built-in Sentinel tables plus custom tables created at run time.
 * Lookups are case-sensitive, as Kusto's are.
 */
export class TableCatalog {
  private readonly tables = new Map<string, ResolvedTable>();
  private changes = 0;

  /** Grows by one whenever a table is added or changed: what caches derived from the catalog key on. */
  get version(): number {
    return this.changes;
  }

  constructor(
    custom: readonly TableSchema[] = [],
    retentionOverrides: ReadonlyMap<string, number> = new Map(),
  ) {
    for (const schema of [...builtinTables, ...custom]) {
      this.tables.set(schema.name, resolveTable(schema, retentionOverrides.get(schema.name)));
    }
  }

  get(name: string): ResolvedTable | undefined {
    return this.tables.get(name);
  }

  require(name: string): ResolvedTable {
    const table = this.tables.get(name);
    if (!table) {
      const near = [...this.tables.keys()].find((t) => t.toLowerCase() === name.toLowerCase());
      throw new WorkspaceError(
        'UnknownTable',
        `Unknown table '${name}'.` +
          (near ? ` Did you mean '${near}'?` : ` Run 'vigil tables' to list them.`),
      );
    }
    return table;
  }

  list(): ResolvedTable[] {
    return [...this.tables.values()];
  }

  add(schema: TableSchema, retentionDays?: number): ResolvedTable {
    if (this.tables.has(schema.name)) {
      throw new WorkspaceError('TableExists', `Table '${schema.name}' already exists.`);
    }
    const resolved = resolveTable(schema, retentionDays);
    this.tables.set(schema.name, resolved);
    this.changes++;
    return resolved;
  }

  setRetention(name: string, days: number): ResolvedTable {
    const table = this.require(name);
    const resolved = resolveTable(table.schema, days);
    this.tables.set(name, resolved);
    this.changes++;
    return resolved;
  }
}

/**
 * KQL text → result rows: parse and bind (Kusto's language service), lower to IR, compile to SQL,
 * execute on the workspace's log store and map values back to KQL's wire forms.
 */
import type { TableCatalog } from '../workspace/catalog.js';
import type { Workspace } from '../workspace/workspace.js';
import { compile, compileBagKeys } from './compile.js';
import { KqlError } from './errors.js';
import { type Column, printIr, type RenderSpec, type ScalarType, type Tabular } from './ir.js';
import { analyze } from './language.js';
import { BagUnpackNeedsKeys, lower } from './lower.js';

export interface CompiledQuery {
  readonly ir: Tabular;
  readonly sql: string;
  /** Result columns (hidden standard columns left out). */
  readonly columns: readonly { name: string; type: ScalarType }[];
  /** The `render` operator's arguments (visualization metadata), when the query ends with one. */
  readonly render?: RenderSpec;
  /** `printIr` of the IR, for `--explain`. */
  explain(): string;
}

/** Parses, binds, lowers and compiles; throws `KqlError` with Kusto's code on the first error. */
export interface QueryOptions {
  /** Filter every table read on `TimeGenerated` (the Query API's `timespan`). */
  readonly timeRange?: { readonly start: Date; readonly end: Date };
  /**
   * Return at most this many rows; `truncated` says when there were more. The engine stops after one more
   * row than the limit, so a huge result is never read into memory.
   */
  readonly maxRows?: number;
}

export function compileQuery(
  text: string,
  catalog: TableCatalog,
  database = 'vigil',
  options: QueryOptions = {},
): CompiledQuery {
  try {
    return compileText(text, catalog, database, options);
  } catch (err) {
    if (err instanceof BagUnpackNeedsKeys)
      throw new KqlError(
        'KQL_UNSUPPORTED',
        "'evaluate bag_unpack' without an output schema: its columns depend on the data, so only runQuery (which discovers the keys first) can compile it; or add ': (Col:type, ...)'.",
        err.insertAt,
        0,
      );
    throw err;
  }
}

/** `compileQuery`, letting `BagUnpackNeedsKeys` through (for `runQuery`'s key discovery). */
function compileText(
  text: string,
  catalog: TableCatalog,
  database: string,
  options: QueryOptions,
): CompiledQuery {
  const { code, diagnostics } = analyze(text, catalog);
  const error = diagnostics.find((d) => d.severity === 'Error');
  if (error) throw new KqlError(error.code as `KS${string}`, error.message, error.start, error.length);
  const ir = lower(code, catalog);
  const sql = compile(ir, { database, timeRange: options.timeRange });
  const columns = ir.columns.filter((c: Column) => !c.hidden).map((c) => ({ name: c.name, type: c.type }));
  const render = [...ir.steps].reverse().find((s) => s.op.k === 'render')?.op;
  return {
    ir,
    sql,
    columns,
    ...(render?.k === 'render' ? { render: render.spec } : {}),
    explain: () => printIr(ir),
  };
}

export interface QueryResult {
  readonly columns: readonly { name: string; type: ScalarType }[];
  readonly rows: unknown[][];
  /** Visualization metadata from a `render` operator; the rows are unaffected. */
  readonly render?: RenderSpec;
  /** More rows than `maxRows` matched; `rows` holds the first `maxRows`. */
  readonly truncated?: boolean;
}

const TICKS_PER_SECOND = 10_000_000n;

/** Ticks → `[-][d.]hh:mm:ss[.fffffff]`. */
export function formatTimespan(ticks: bigint): string {
  const neg = ticks < 0n;
  let t = neg ? -ticks : ticks;
  const frac = t % TICKS_PER_SECOND;
  t /= TICKS_PER_SECOND;
  const s = t % 60n;
  t /= 60n;
  const m = t % 60n;
  t /= 60n;
  const h = t % 24n;
  const d = t / 24n;
  const two = (v: bigint) => v.toString().padStart(2, '0');
  return `${neg ? '-' : ''}${d > 0n ? `${d}.` : ''}${two(h)}:${two(m)}:${two(s)}${frac > 0n ? `.${frac.toString().padStart(7, '0')}` : ''}`;
}

/** `2024-05-01 10:00:00.1230000` → `2024-05-01T10:00:00.1230000Z` (no fraction when it is zero). */
function formatDatetime(text: string): string {
  return `${text.replace(' ', 'T').replace(/\.0+$/, '')}Z`;
}

function toKqlValue(v: unknown, type: ScalarType): unknown {
  if (v === null || v === undefined) return type === 'string' ? '' : null;
  switch (type) {
    case 'string':
      return String(v);
    case 'long':
    case 'int': {
      const text = String(v);
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    case 'real':
      return typeof v === 'number' ? v : Number(v);
    case 'decimal':
      return String(v);
    case 'bool':
      return v === true || v === 1 || v === '1' || v === 'true';
    case 'datetime':
      return formatDatetime(String(v));
    case 'timespan':
      return formatTimespan(BigInt(String(v)));
    case 'dynamic': {
      if (typeof v !== 'string') return v;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    }
    default:
      return v;
  }
}

/** A store query; a failure becomes `KQL_EXECUTION_FAILED` (the message may quote SQL: dropped). */
async function storeQuery(ws: Workspace, sql: string): Promise<string> {
  try {
    return await ws.store.queryText(sql, 'JSONCompact');
  } catch (err) {
    const engineCode = (err as { engineCode?: number }).engineCode;
    throw new KqlError(
      'KQL_EXECUTION_FAILED',
      `The query could not be executed${engineCode ? ` (engine error ${engineCode})` : ''}.`,
    );
  }
}

/**
 * The column type of a `bag_unpack` slot from the JSON types of its non-null values (Kusto docs: the
 * slot's type when all values have the same type, else `dynamic`).
 */
function bagSlotType(types: readonly string[]): string {
  const kusto: Record<string, string> = {
    String: 'string',
    Int64: 'long',
    UInt64: 'long',
    Double: 'real',
    Bool: 'bool',
  };
  const kinds = new Set(types.map((t) => kusto[t] ?? 'dynamic'));
  return kinds.size === 1 ? [...kinds][0]! : 'dynamic';
}

/** `name` as a KQL bracketed identifier. */
function kqlName(name: string): string {
  return `['${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
}

/**
 * Two-phase compilation for `evaluate bag_unpack(col [, prefix] [, columnsConflict])` without an
 * output schema: its columns depend on the data. Phase one runs a key-discovery pre-query over the
 * operator's input (each property name with the JSON types of its values); phase two re-analyzes the
 * query with the discovered schema written after the call (`: (kept columns..., prefixKey:type, ...)`,
 * keys in ordinal order, a slot's type when all its values share it, else dynamic), so the binder
 * types every later operator. `replace_source` also inserts `project-away <replaced columns> |`
 * before `evaluate`, the schema keeping them in their place. Repeats once per such `bag_unpack`.
 */
async function compileWithKeyDiscovery(
  ws: Workspace,
  text: string,
  options: QueryOptions,
): Promise<CompiledQuery> {
  let current = text;
  for (let round = 0; ; round++) {
    try {
      return compileText(current, ws.catalog, ws.store.database, options);
    } catch (err) {
      if (!(err instanceof BagUnpackNeedsKeys) || round >= 16) throw err;
      if (current.slice(err.insertAt - err.callText.length, err.insertAt) !== err.callText)
        throw new KqlError(
          'KQL_UNSUPPORTED',
          "'evaluate bag_unpack' without an output schema inside a user function is not supported yet; add ': (Col:type, ...)'.",
        );
      const sql = compileBagKeys(err.input, err.column, {
        database: ws.store.database,
        timeRange: options.timeRange,
      });
      const found = (JSON.parse(await storeQuery(ws, sql)) as { data: [string, string[]][] }).data.map(
        ([k, types]) => ({ name: `${err.prefix}${k}`, key: String(k), type: bagSlotType(types) }),
      );
      if (found.some((f) => f.key === ''))
        throw new KqlError('KQL_UNSUPPORTED', 'bag_unpack of a property with an empty name.');
      const byName = new Map(found.map((f) => [f.name, f]));
      const clashes = err.kept.filter((c) => byName.has(c.name)).map((c) => c.name);
      if (clashes.length && err.conflict === 'error')
        throw new KqlError(
          'KQL_EXECUTION_FAILED',
          `bag_unpack: the property '${clashes[0]}' clashes with an existing column (Kusto's default columnsConflict='error').`,
        );
      // replace_source: the bag's column takes the source column's place; keep_source: the bag's is dropped.
      const replace = err.conflict === 'replace_source';
      const schema = [
        ...err.kept.map((c) =>
          replace && byName.has(c.name)
            ? `${kqlName(c.name)}:${byName.get(c.name)!.type}`
            : `${kqlName(c.name)}:${c.type}`,
        ),
        ...found.filter((f) => !clashes.includes(f.name)).map((f) => `${kqlName(f.name)}:${f.type}`),
      ];
      if (schema.length === 0) throw new KqlError('KQL_UNSUPPORTED', 'bag_unpack with no output columns.');
      let next = `${current.slice(0, err.insertAt)} : (${schema.join(', ')})${current.slice(err.insertAt)}`;
      if (replace && clashes.length) {
        // The replaced source columns leave the input, so the schema's columns of those names come from the bag.
        if (!/^evaluate\b/.test(current.slice(err.evaluateAt)))
          throw new KqlError('KQL_UNSUPPORTED', "bag_unpack columnsConflict='replace_source' here.");
        next = `${next.slice(0, err.evaluateAt)}project-away ${clashes.map(kqlName).join(', ')} | ${next.slice(err.evaluateAt)}`;
      }
      current = next;
    }
  }
}

/** Runs a KQL query against the workspace's store. */
export async function runQuery(
  ws: Workspace,
  text: string,
  options: QueryOptions = {},
): Promise<QueryResult> {
  const compiled = await compileWithKeyDiscovery(ws, text, options);
  let output: string;
  try {
    // The outer SELECT keeps the inner ORDER BY's order (a plain read of one sorted stream).
    const sql =
      options.maxRows === undefined
        ? compiled.sql
        : `SELECT * FROM (${compiled.sql}) LIMIT ${options.maxRows + 1}`;
    output = await ws.store.queryText(sql, 'JSONCompact');
  } catch (err) {
    // The store's message may quote the SQL: keep it out of what the user sees.
    const engineCode = (err as { engineCode?: number }).engineCode;
    throw new KqlError(
      'KQL_EXECUTION_FAILED',
      `The query could not be executed${engineCode ? ` (engine error ${engineCode})` : ''}.`,
    );
  }
  const parsed = JSON.parse(output) as { data: unknown[][] };
  const truncated = options.maxRows !== undefined && parsed.data.length > options.maxRows;
  const data = truncated ? parsed.data.slice(0, options.maxRows) : parsed.data;
  const rows = data.map((row) => row.map((v, i) => toKqlValue(v, compiled.columns[i]!.type)));
  return {
    columns: compiled.columns,
    rows,
    ...(compiled.render ? { render: compiled.render } : {}),
    ...(truncated ? { truncated } : {}),
  };
}

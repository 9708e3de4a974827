/**
 * Vigil's intermediate representation of a KQL query: what `lower.ts` builds from Kusto's bound
 * syntax tree and `compile.ts` turns into ClickHouse SQL. Every node carries its KQL result type;
 * every tabular step carries its output columns, taken from the binder where it computed them.
 */
import type { KqlType } from '../workspace/schema.js';

export type ScalarType = KqlType | 'null';

export interface Column {
  readonly name: string;
  readonly type: ScalarType;
  /** A hidden standard column (`_ItemId`, ...): carried along, left out of the final result. */
  readonly hidden?: boolean;
}

export type Scalar =
  /**
   * A literal. `value` holds: string → the text; long/int → decimal digits; real → the number;
   * bool → boolean; datetime → the literal's text (`2024-05-01 10:00`); timespan → ticks as decimal
   * digits; guid → the text; dynamic → JSON text; `null` for a typed null.
   */
  | { readonly k: 'lit'; readonly type: ScalarType; readonly value: string | number | boolean | null }
  | { readonly k: 'col'; readonly name: string; readonly type: ScalarType }
  /** A binary operator, by its KQL spelling: `+`, `==`, `=~`, `has`, `!contains_cs`, `and`, ... */
  | {
      readonly k: 'binary';
      readonly op: string;
      readonly left: Scalar;
      readonly right: Scalar;
      readonly type: ScalarType;
    }
  | { readonly k: 'unary'; readonly op: '-' | '+'; readonly arg: Scalar; readonly type: ScalarType }
  /**
   * `in`, `!in`, `in~`, `!in~`, `has_any`, `has_all` over a list of scalars, or (`query`) over the
   * first column of a tabular expression (`x in (T | project c)`, a tabular `let`).
   */
  | {
      readonly k: 'in';
      readonly op: string;
      readonly left: Scalar;
      readonly items: readonly Scalar[];
      readonly query?: Tabular;
      readonly type: 'bool';
    }
  | {
      readonly k: 'between';
      readonly negated: boolean;
      readonly arg: Scalar;
      readonly lo: Scalar;
      readonly hi: Scalar;
      readonly type: 'bool';
    }
  /** A scalar function call, by its catalog name (`tostring`, `iff`, ...). */
  | { readonly k: 'call'; readonly fn: string; readonly args: readonly Scalar[]; readonly type: ScalarType }
  /** Dynamic access: `.a` / `['a']` (a property name) or `[i]` (an index expression, negative from the end). */
  | { readonly k: 'member'; readonly base: Scalar; readonly key: string | Scalar; readonly type: 'dynamic' }
  /** `toscalar(T)`: the first column of T's first row (null when T is empty). */
  | { readonly k: 'toscalar'; readonly query: Tabular; readonly type: ScalarType };

export interface Aggregate {
  /** Catalog name: `count`, `sum`, `arg_max`, ... */
  readonly fn: string;
  readonly args: readonly Scalar[];
  /** Output columns (several for `arg_max`/`arg_min`), named as the binder named them. */
  readonly columns: readonly Column[];
  /**
   * For `arg_max`/`arg_min`: the input column each output column after the first comes from (the
   * expansion of `*`, or the named columns).
   */
  readonly carried?: readonly string[];
}

export interface Assignment {
  readonly name: string;
  readonly expr: Scalar;
}

export interface SortKey {
  readonly expr: Scalar;
  readonly desc: boolean;
  readonly nullsFirst: boolean;
}

export type JoinKind =
  | 'innerunique'
  | 'inner'
  | 'leftouter'
  | 'rightouter'
  | 'fullouter'
  | 'leftanti'
  | 'rightanti'
  | 'leftsemi'
  | 'rightsemi';

/**
 * `render`'s arguments, returned as visualization metadata (the rows are unaffected): the chart type
 * and each `with (...)` property (`title`, `xtitle`, `ytitle`, `kind`, `legend`, ... as text or
 * number/bool; `xcolumn` a name; `ycolumns`, `series` name lists).
 */
export interface RenderSpec {
  readonly visualization: string;
  readonly title?: string;
  readonly xtitle?: string;
  readonly ytitle?: string;
  readonly kind?: string;
  readonly xcolumn?: string;
  readonly ycolumns?: readonly string[];
  readonly series?: readonly string[];
  readonly legend?: string;
  readonly [property: string]: unknown;
}

export type Operator =
  | { readonly k: 'where'; readonly predicate: Scalar }
  /** `render`: metadata only; compiles to nothing. */
  | { readonly k: 'render'; readonly spec: RenderSpec }
  /** One assignment per step: a later assignment of one `extend` may use an earlier one. */
  | { readonly k: 'extend'; readonly assignments: readonly Assignment[] }
  /** `project`, `project-away`, `project-rename`: the output columns, each an expression. */
  | { readonly k: 'project'; readonly kqlName: string; readonly assignments: readonly Assignment[] }
  | { readonly k: 'summarize'; readonly by: readonly Assignment[]; readonly aggregates: readonly Aggregate[] }
  | { readonly k: 'sort'; readonly keys: readonly SortKey[] }
  | { readonly k: 'take'; readonly count: Scalar }
  | { readonly k: 'top'; readonly count: Scalar; readonly keys: readonly SortKey[] }
  | { readonly k: 'count' }
  | { readonly k: 'distinct'; readonly columns: readonly string[] }
  | {
      readonly k: 'join';
      readonly kind: JoinKind;
      readonly right: Tabular;
      readonly keys: readonly { readonly left: string; readonly right: string }[];
      /** `lookup` (kind leftouter or inner): the right side's key columns are not in the output. */
      readonly lookup?: boolean;
    }
  /**
   * `withSource`: the column holding each row's leg name (`sourceNames[0]` for the input, then one
   * per `others`). An output column `x_long` that a leg lacks reads that leg's `x` when it is a long.
   */
  | {
      readonly k: 'union';
      readonly others: readonly Tabular[];
      readonly withSource?: string;
      readonly sourceNames?: readonly string[];
    }
  /**
   * `mv-expand`: the items expand in lockstep (the i-th elements pair up, shorter arrays give null);
   * `type` is the item's output type (`dynamic` unless `to typeof(...)`).
   */
  | {
      readonly k: 'mv-expand';
      readonly items: readonly { readonly name: string; readonly expr: Scalar; readonly type: ScalarType }[];
      readonly bagExpansion: 'bag' | 'array';
      readonly itemIndex?: string;
      readonly limit?: Scalar;
    }
  /**
   * `mv-apply`: each input row's items expand as in `mv-expand` (lockstep; `type` from `to typeof`),
   * then `subquery` (whose source is `{k: 'apply-rows'}`: the expanded rows, input columns included)
   * runs per input row. Output (the binder's): the subquery's columns, and the input columns it
   * does not produce.
   */
  | {
      readonly k: 'mv-apply';
      readonly items: readonly { readonly name: string; readonly expr: Scalar; readonly type: ScalarType }[];
      readonly itemIndex?: string;
      readonly subquery: Tabular;
    }
  /**
   * `evaluate bag_unpack(column [, prefix]) : (schema)`: each output column not carried from the
   * input is the bag's property `key` (dynamic). The schema is discovered by `runQuery` (a key
   * pre-query) when the query gives none.
   */
  | {
      readonly k: 'bag-unpack';
      readonly column: Scalar;
      readonly unpacked: readonly {
        readonly name: string;
        readonly key: string;
        readonly type: ScalarType;
      }[];
    }
  /**
   * `make-series`: per `by` group, one dynamic array per aggregate with one element per bin of
   * `step` from `from` (inclusive) to `to` (exclusive), `default` where a bin has no rows, and the
   * axis column `axis` as the array of bin starts. Output columns are the binder's.
   */
  | {
      readonly k: 'make-series';
      readonly by: readonly Assignment[];
      readonly aggregates: readonly {
        readonly name: string;
        readonly fn: string;
        readonly args: readonly Scalar[];
        readonly type: ScalarType;
        readonly default: Scalar;
      }[];
      readonly on: Scalar;
      readonly axis: string;
      readonly from: Scalar;
      readonly to: Scalar;
      readonly step: Scalar;
    }
  /**
   * `parse` / `parse-where`: `regex` (RE2, anchored) is matched against the text of `expr`; each
   * capture takes group `group` (1-based) converted to its type. No match → null captures
   * (`parse`) or no row (`parse-where`). `strict` (kinds `simple` and `regex`): a typed capture
   * that does not convert fails the whole match; not strict (`kind=relaxed`): only that column is null.
   */
  | {
      readonly k: 'parse';
      readonly where: boolean;
      readonly strict: boolean;
      readonly expr: Scalar;
      readonly regex: string;
      readonly captures: readonly {
        readonly name: string;
        readonly type: ScalarType;
        readonly group: number;
      }[];
    };

export type Source =
  | { readonly k: 'table'; readonly name: string }
  | { readonly k: 'datatable'; readonly rows: readonly (readonly Scalar[])[] }
  /** `range name from a to b step s`: one column, values a, a+s, ... while not past b. */
  | { readonly k: 'range'; readonly from: Scalar; readonly to: Scalar; readonly step: Scalar }
  /** `print a=1, ...`: one row, one column per assignment (named by the binder). */
  | { readonly k: 'print'; readonly assignments: readonly Assignment[] }
  /** Inside `mv-apply`: the current input row's expanded rows. */
  | { readonly k: 'apply-rows' };

/** A source followed by operators; `columns` are the output of the last step. */
export interface Tabular {
  readonly source: Source | Tabular;
  readonly sourceColumns: readonly Column[];
  readonly steps: readonly { readonly op: Operator; readonly columns: readonly Column[] }[];
  readonly columns: readonly Column[];
}

// ---------------------------------------------------------------------------------------------
// Printing: a compact, stable text form for `--explain` and tests.

export function printScalar(e: Scalar): string {
  switch (e.k) {
    case 'lit':
      if (e.value === null) return `${e.type}(null)`;
      if (e.type === 'string') return JSON.stringify(e.value);
      if (e.type === 'datetime') return `datetime(${e.value})`;
      if (e.type === 'timespan') return `timespan(${e.value} ticks)`;
      if (e.type === 'dynamic') return `dynamic(${e.value})`;
      if (e.type === 'guid') return `guid(${e.value})`;
      return String(e.value);
    case 'col':
      return e.name;
    case 'binary':
      return `(${printScalar(e.left)} ${e.op} ${printScalar(e.right)})`;
    case 'unary':
      return `${e.op}${printScalar(e.arg)}`;
    case 'in':
      if (e.query) return `(${printScalar(e.left)} ${e.op} (\n${printTabular(e.query, '    ')}))`;
      return `(${printScalar(e.left)} ${e.op} (${e.items.map(printScalar).join(', ')}))`;
    case 'between':
      return `(${printScalar(e.arg)} ${e.negated ? '!between' : 'between'} (${printScalar(e.lo)} .. ${printScalar(e.hi)}))`;
    case 'call':
      return `${e.fn}(${e.args.map(printScalar).join(', ')})`;
    case 'toscalar':
      return `toscalar(\n${printTabular(e.query, '    ')})`;
    case 'member':
      return typeof e.key === 'string'
        ? `${printScalar(e.base)}[${JSON.stringify(e.key)}]`
        : `${printScalar(e.base)}[${printScalar(e.key)}]`;
  }
}

function printColumns(columns: readonly Column[]): string {
  return columns.map((c) => `${c.name}:${c.type}${c.hidden ? '(hidden)' : ''}`).join(', ');
}

function printAssignments(list: readonly Assignment[]): string {
  return list
    .map((a) => (a.expr.k === 'col' && a.expr.name === a.name ? a.name : `${a.name}=${printScalar(a.expr)}`))
    .join(', ');
}

function printKeys(keys: readonly SortKey[]): string {
  return keys
    .map((s) => `${printScalar(s.expr)} ${s.desc ? 'desc' : 'asc'} nulls ${s.nullsFirst ? 'first' : 'last'}`)
    .join(', ');
}

function printOperator(op: Operator, indent: string): string {
  switch (op.k) {
    case 'where':
      return `where ${printScalar(op.predicate)}`;
    case 'extend':
      return `extend ${printAssignments(op.assignments)}`;
    case 'project':
      return `${op.kqlName} ${printAssignments(op.assignments)}`;
    case 'summarize': {
      const aggs = op.aggregates
        .map(
          (a) => `${a.columns.map((c) => c.name).join(',')}=${a.fn}(${a.args.map(printScalar).join(', ')})`,
        )
        .join(', ');
      return `summarize ${aggs}${op.by.length ? ` by ${printAssignments(op.by)}` : ''}`;
    }
    case 'sort':
      return `sort by ${printKeys(op.keys)}`;
    case 'take':
      return `take ${printScalar(op.count)}`;
    case 'top':
      return `top ${printScalar(op.count)} by ${printKeys(op.keys)}`;
    case 'count':
      return 'count';
    case 'distinct':
      return `distinct ${op.columns.join(', ')}`;
    case 'join':
      return `${op.lookup ? 'lookup' : 'join'} kind=${op.kind} on ${op.keys.map((k) => `$left.${k.left} == $right.${k.right}`).join(', ')}\n${printTabular(op.right, `${indent}    `)}`;
    case 'mv-expand':
      return `mv-expand kind=${op.bagExpansion}${op.itemIndex ? ` with_itemindex=${op.itemIndex}` : ''} ${op.items
        .map((i) => `${i.name}=${printScalar(i.expr)}${i.type === 'dynamic' ? '' : ` to typeof(${i.type})`}`)
        .join(', ')}${op.limit ? ` limit ${printScalar(op.limit)}` : ''}`;
    case 'render':
      return `render ${JSON.stringify(op.spec)}`;
    case 'mv-apply':
      return `mv-apply${op.itemIndex ? ` with_itemindex=${op.itemIndex}` : ''} ${op.items
        .map((i) => `${i.name}=${printScalar(i.expr)}${i.type === 'dynamic' ? '' : ` to typeof(${i.type})`}`)
        .join(', ')} on (\n${printTabular(op.subquery, `${indent}    `)})`;
    case 'bag-unpack':
      return `bag_unpack ${printScalar(op.column)} => ${op.unpacked.map((u) => `${u.name}=[${JSON.stringify(u.key)}]`).join(', ')}`;
    case 'parse':
      return `${op.where ? 'parse-where' : 'parse'}${op.strict ? '' : ' relaxed'} ${printScalar(op.expr)} regex ${JSON.stringify(op.regex)} => ${op.captures
        .map((c) => `${c.name}:${c.type}=$${c.group}`)
        .join(', ')}`;
    case 'make-series':
      return `make-series ${op.aggregates
        .map(
          (a) => `${a.name}=${a.fn}(${a.args.map(printScalar).join(', ')}) default=${printScalar(a.default)}`,
        )
        .join(
          ', ',
        )} on ${op.axis}=${printScalar(op.on)} from ${printScalar(op.from)} to ${printScalar(op.to)} step ${printScalar(op.step)}${op.by.length ? ` by ${printAssignments(op.by)}` : ''}`;
    case 'union':
      return `union${op.withSource ? ` withsource=${op.withSource} (${(op.sourceNames ?? []).join(', ')})` : ''}\n${op.others.map((o) => printTabular(o, `${indent}    `)).join('\n')}`;
  }
}

function printSource(source: Source | Tabular, columns: readonly Column[], indent: string): string {
  if ('steps' in source) return `${indent}(\n${printTabular(source, `${indent}  `)}\n${indent})`;
  if (source.k === 'table') return `${indent}table ${source.name} (${printColumns(columns)})`;
  if (source.k === 'range')
    return `${indent}range (${printColumns(columns)}) from ${printScalar(source.from)} to ${printScalar(source.to)} step ${printScalar(source.step)}`;
  if (source.k === 'print') return `${indent}print ${printAssignments(source.assignments)}`;
  if (source.k === 'apply-rows') return `${indent}mv-apply rows (${printColumns(columns)})`;
  return `${indent}datatable (${printColumns(columns)}) [${source.rows.length} rows]`;
}

/** The IR as indented text: one line per step, with each step's output columns. */
export function printTabular(t: Tabular, indent = ''): string {
  const lines = [printSource(t.source, t.sourceColumns, indent)];
  for (const step of t.steps) {
    lines.push(`${indent}| ${printOperator(step.op, indent)}`);
    lines.push(`${indent}    => (${printColumns(step.columns)})`);
  }
  return lines.join('\n');
}

export const printIr = printTabular;

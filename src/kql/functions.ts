/**
 * The KQL function catalog, as data: one entry per function (aliases point at the same entry).
 * `returns` documents the result type rule (the binder computes the actual type, which the compiler
 * uses); `sql` emits ClickHouse SQL from the compiled arguments. Adding a function = one entry here +
 * a conformance case in `test/kql/cases/`.
 */
import type { Scalar, ScalarType } from './ir.js';
import { dtToTicks, floorTo, ticksToDt, toJsonText, toKqlString } from './sql.js';

export interface Arg {
  readonly sql: string;
  readonly type: ScalarType;
  readonly ir: Scalar;
}

export interface ScalarFunction {
  readonly returns: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly sql: (args: readonly Arg[], resultType: ScalarType) => string;
  readonly note?: string;
}

export interface AggregateFunction {
  readonly returns: string;
  /** Kusto's default output name prefix (`count_`, `max_X`, ...) is taken from the binder. */
  readonly sql: (args: readonly Arg[], resultType: ScalarType) => string;
  readonly note?: string;
}

const a = (args: readonly Arg[], i: number): Arg => {
  const arg = args[i];
  if (!arg) throw new Error(`missing argument ${i}`);
  return arg;
};

function toIntegral(arg: Arg, chType: 'Int32' | 'Int64'): string {
  switch (arg.type) {
    case 'string':
      return `to${chType}OrNull(trimBoth(${arg.sql}))`;
    case 'dynamic':
      return `to${chType}OrNull(${toKqlString(arg.sql, 'dynamic')})`;
    case 'real':
    case 'decimal':
      return `to${chType}(trunc(${arg.sql}))`;
    case 'datetime':
      return `to${chType}(${dtToTicks(arg.sql)} + 621355968000000000)`;
    case 'null':
      return `CAST(NULL AS Nullable(${chType}))`;
    default:
      return `to${chType}(${arg.sql})`;
  }
}

function binSql(value: Arg, size: Arg): string {
  switch (value.type) {
    case 'datetime':
      return ticksToDt(floorTo(dtToTicks(value.sql), size.sql));
    case 'timespan':
    case 'long':
    case 'int':
      return floorTo(value.sql, size.sql);
    default:
      return `(floor((${value.sql}) / (${size.sql})) * (${size.sql}))`;
  }
}

function emptySql(arg: Arg): string {
  if (arg.type === 'string') return `(${arg.sql} = '')`;
  if (arg.type === 'dynamic') return `(isNull(${arg.sql}) OR ${arg.sql} IN ('null', '""'))`;
  return `isNull(${arg.sql})`;
}

function nullSql(arg: Arg): string {
  if (arg.type === 'string') return 'false';
  if (arg.type === 'dynamic') return `(isNull(${arg.sql}) OR ${arg.sql} = 'null')`;
  return `isNull(${arg.sql})`;
}

const toDynamic: ScalarFunction = {
  returns: 'dynamic',
  minArgs: 1,
  maxArgs: 1,
  note: 'Invalid JSON text becomes a dynamic string, as in Kusto; "" becomes null.',
  sql: ([x]) => {
    const arg = x!;
    if (arg.type === 'dynamic') return arg.sql;
    if (arg.type === 'string')
      return `if(${arg.sql} = '', NULL, if(isValidJSON(${arg.sql}), ${arg.sql}, toJSONString(${arg.sql})))`;
    return toJsonText(arg.sql, arg.type);
  },
};

const iff: ScalarFunction = {
  returns: 'common type of then/else',
  minArgs: 3,
  maxArgs: 3,
  sql: (args) => `if(${a(args, 0).sql}, ${a(args, 1).sql}, ${a(args, 2).sql})`,
};

const pack: ScalarFunction = {
  returns: 'dynamic',
  minArgs: 0,
  maxArgs: 128,
  sql: (args) => {
    const parts: string[] = [];
    for (let i = 0; i + 1 < args.length; i += 2) {
      const key = a(args, i);
      const value = a(args, i + 1);
      parts.push(`toJSONString(${key.sql}), ':', ifNull(${toJsonText(value.sql, value.type)}, 'null')`);
    }
    return parts.length ? `concat('{', ${parts.join(", ',', ")}, '}')` : `'{}'`;
  },
};

function trimSql(mode: 'start' | 'end' | 'both') {
  return (args: readonly Arg[]): string => {
    const re = a(args, 0).sql;
    const text = a(args, 1).sql;
    const start = `concat('^(?:', ${re}, ')+')`;
    const end = `concat('(?:', ${re}, ')+$')`;
    if (mode === 'start') return `replaceRegexpOne(${text}, ${start}, '')`;
    if (mode === 'end') return `replaceRegexpOne(${text}, ${end}, '')`;
    return `replaceRegexpOne(replaceRegexpOne(${text}, ${start}, ''), ${end}, '')`;
  };
}

export const SCALAR_FUNCTIONS: Readonly<Record<string, ScalarFunction>> = {
  tostring: { returns: 'string', minArgs: 1, maxArgs: 1, sql: ([x]) => toKqlString(x!.sql, x!.type) },
  todynamic: toDynamic,
  parse_json: toDynamic,
  isnotempty: { returns: 'bool', minArgs: 1, maxArgs: 1, sql: ([x]) => `NOT ${emptySql(x!)}` },
  isempty: { returns: 'bool', minArgs: 1, maxArgs: 1, sql: ([x]) => emptySql(x!) },
  isnull: { returns: 'bool', minArgs: 1, maxArgs: 1, sql: ([x]) => nullSql(x!) },
  isnotnull: { returns: 'bool', minArgs: 1, maxArgs: 1, sql: ([x]) => `NOT ${nullSql(x!)}` },
  iff,
  iif: iff,
  not: { returns: 'bool', minArgs: 1, maxArgs: 1, sql: ([x]) => `NOT (${x!.sql})` },
  split: {
    returns: 'dynamic (array of string)',
    minArgs: 2,
    maxArgs: 2,
    sql: (args) => `toJSONString(splitByString(${a(args, 1).sql}, ${a(args, 0).sql}))`,
  },
  tolower: { returns: 'string', minArgs: 1, maxArgs: 1, sql: ([x]) => `lowerUTF8(${x!.sql})` },
  toupper: { returns: 'string', minArgs: 1, maxArgs: 1, sql: ([x]) => `upperUTF8(${x!.sql})` },
  strcat: {
    returns: 'string',
    minArgs: 1,
    maxArgs: 64,
    sql: (args) => `concat(${args.map((x) => toKqlString(x.sql, x.type)).join(', ')})`,
  },
  strcat_delim: {
    returns: 'string',
    minArgs: 3,
    maxArgs: 65,
    sql: (args) =>
      `arrayStringConcat([${args
        .slice(1)
        .map((x) => toKqlString(x.sql, x.type))
        .join(', ')}], ${a(args, 0).sql})`,
  },
  ago: {
    returns: 'datetime',
    minArgs: 1,
    maxArgs: 1,
    note: 'now() is one value per query (ClickHouse now64 is evaluated once per query).',
    sql: ([x]) => ticksToDt(`${dtToTicks("now64(7, 'UTC')")} - (${x!.sql})`),
  },
  now: {
    returns: 'datetime',
    minArgs: 0,
    maxArgs: 1,
    sql: (args) =>
      args.length ? ticksToDt(`${dtToTicks("now64(7, 'UTC')")} + (${a(args, 0).sql})`) : "now64(7, 'UTC')",
  },
  bin: {
    returns: 'type of the value',
    minArgs: 2,
    maxArgs: 2,
    sql: (args) => binSql(a(args, 0), a(args, 1)),
  },
  floor: {
    returns: 'type of the value',
    minArgs: 2,
    maxArgs: 2,
    sql: (args) => binSql(a(args, 0), a(args, 1)),
  },
  startofday: {
    returns: 'datetime',
    minArgs: 1,
    maxArgs: 1,
    sql: ([x]) => ticksToDt(floorTo(dtToTicks(x!.sql), '864000000000')),
  },
  todatetime: {
    returns: 'datetime',
    minArgs: 1,
    maxArgs: 1,
    note: 'Unparseable text gives null (parseDateTime64BestEffortOrNull).',
    sql: ([x]) => {
      if (x!.type === 'datetime') return x!.sql;
      const text = x!.type === 'string' ? x!.sql : toKqlString(x!.sql, x!.type);
      return `parseDateTime64BestEffortOrNull(${text}, 7, 'UTC')`;
    },
  },
  toint: { returns: 'int', minArgs: 1, maxArgs: 1, sql: ([x]) => toIntegral(x!, 'Int32') },
  tolong: { returns: 'long', minArgs: 1, maxArgs: 1, sql: ([x]) => toIntegral(x!, 'Int64') },
  toreal: {
    returns: 'real',
    minArgs: 1,
    maxArgs: 1,
    sql: ([x]) =>
      x!.type === 'string'
        ? `toFloat64OrNull(trimBoth(${x!.sql}))`
        : x!.type === 'dynamic'
          ? `toFloat64OrNull(${toKqlString(x!.sql, 'dynamic')})`
          : `toFloat64(${x!.sql})`,
  },
  tobool: {
    returns: 'bool',
    minArgs: 1,
    maxArgs: 1,
    sql: ([x]) => {
      if (x!.type === 'bool') return x!.sql;
      if (x!.type === 'string' || x!.type === 'dynamic') {
        const text = `lowerUTF8(trimBoth(${toKqlString(x!.sql, x!.type)}))`;
        return `multiIf(${text} = 'true', true, ${text} = 'false', false, CAST(NULL AS Nullable(Bool)))`;
      }
      return `(${x!.sql} != 0)`;
    },
  },
  strlen: { returns: 'long', minArgs: 1, maxArgs: 1, sql: ([x]) => `toInt64(lengthUTF8(${x!.sql}))` },
  substring: {
    returns: 'string',
    minArgs: 2,
    maxArgs: 3,
    sql: (args) =>
      args.length === 3
        ? `substringUTF8(${a(args, 0).sql}, (${a(args, 1).sql}) + 1, ${a(args, 2).sql})`
        : `substringUTF8(${a(args, 0).sql}, (${a(args, 1).sql}) + 1)`,
  },
  extract: {
    returns: 'string',
    minArgs: 3,
    maxArgs: 3,
    note: 'No match gives "" (regexpExtract).',
    sql: (args) => `regexpExtract(${a(args, 2).sql}, ${a(args, 0).sql}, ${a(args, 1).sql})`,
  },
  replace_string: {
    returns: 'string',
    minArgs: 3,
    maxArgs: 3,
    sql: (args) => `replaceAll(${a(args, 0).sql}, ${a(args, 1).sql}, ${a(args, 2).sql})`,
  },
  trim_start: { returns: 'string', minArgs: 2, maxArgs: 2, sql: trimSql('start') },
  trim_end: { returns: 'string', minArgs: 2, maxArgs: 2, sql: trimSql('end') },
  trim: { returns: 'string', minArgs: 2, maxArgs: 2, sql: trimSql('both') },
  array_length: {
    returns: 'long',
    minArgs: 1,
    maxArgs: 1,
    note: 'Null when the value is not an array.',
    sql: ([x]) => `if(JSONType(${x!.sql}) = 'Array', toInt64(JSONLength(${x!.sql})), NULL)`,
  },
  pack,
  bag_pack: pack,
  pack_array: {
    returns: 'dynamic',
    minArgs: 1,
    maxArgs: 64,
    sql: (args) =>
      `concat('[', ${args.map((x) => `ifNull(${toJsonText(x.sql, x.type)}, 'null')`).join(", ',', ")}, ']')`,
  },
  case: {
    returns: 'common type of the values',
    minArgs: 3,
    maxArgs: 257,
    sql: (args) => `multiIf(${args.map((x) => x.sql).join(', ')})`,
  },
  coalesce: {
    returns: 'common type',
    minArgs: 2,
    maxArgs: 64,
    note: 'For strings the first non-empty value.',
    sql: (args, type) => {
      if (type !== 'string') return `coalesce(${args.map((x) => x.sql).join(', ')})`;
      const parts = args.slice(0, -1).map((x) => `${x.sql} != '', ${x.sql}`);
      return `multiIf(${parts.join(', ')}, ${args[args.length - 1]!.sql})`;
    },
  },
  abs: { returns: 'type of the value', minArgs: 1, maxArgs: 1, sql: ([x]) => `abs(${x!.sql})` },
  round: {
    returns: 'real',
    minArgs: 1,
    maxArgs: 2,
    sql: (args) => `round(${a(args, 0).sql}${args.length > 1 ? `, ${a(args, 1).sql}` : ''})`,
  },
};

function jsonArrayAgg(kind: 'groupUniqArray' | 'groupArray', x: Arg, max?: Arg): string {
  const fn = max ? `${kind}(${max.sql})` : kind;
  return `concat('[', arrayStringConcat(${fn}(${toJsonText(x.sql, x.type)}), ','), ']')`;
}

export const AGGREGATE_FUNCTIONS: Readonly<Record<string, AggregateFunction>> = {
  count: { returns: 'long', sql: () => 'toInt64(count())' },
  countif: { returns: 'long', sql: (args) => `toInt64(countIf(${a(args, 0).sql}))` },
  sum: { returns: 'long or real', sql: (args) => `sum(${a(args, 0).sql})` },
  sumif: { returns: 'long or real', sql: (args) => `sumIf(${a(args, 0).sql}, ${a(args, 1).sql})` },
  min: { returns: 'type of the value', sql: (args) => `min(${a(args, 0).sql})` },
  max: { returns: 'type of the value', sql: (args) => `max(${a(args, 0).sql})` },
  avg: { returns: 'real', sql: (args) => `avg(${a(args, 0).sql})` },
  dcount: {
    returns: 'long',
    note: 'Exact (uniqExact): within any accuracy level Kusto offers, and it matches hand-computed answers.',
    sql: (args) => `toInt64(uniqExact(${a(args, 0).sql}))`,
  },
  dcountif: {
    returns: 'long',
    sql: (args) => `toInt64(uniqExactIf(${a(args, 0).sql}, ${a(args, 1).sql}))`,
  },
  make_set: {
    returns: 'dynamic',
    note: 'Nulls skipped; element order unspecified.',
    sql: (args) => jsonArrayAgg('groupUniqArray', a(args, 0), args[1]),
  },
  make_list: {
    returns: 'dynamic',
    sql: (args) => jsonArrayAgg('groupArray', a(args, 0), args[1]),
  },
  take_any: { returns: 'type of the value', sql: (args) => `any(${a(args, 0).sql})` },
  any: { returns: 'type of the value', sql: (args) => `any(${a(args, 0).sql})` },
  // arg_max / arg_min are compiled by compile.ts (several output columns from one row).
  arg_max: { returns: 'the row where the value is largest', sql: () => '' },
  arg_min: { returns: 'the row where the value is smallest', sql: () => '' },
};

/** Regex literal helper for operators (`has` and friends). */
export function regexQuote(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`);
}

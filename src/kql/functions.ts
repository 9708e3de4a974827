/**
 * The KQL function catalog, as data: one entry per function (aliases point at the same entry).
 * `returns` documents the result type rule (the binder computes the actual type, which the compiler
 * uses); `sql` emits ClickHouse SQL from the compiled arguments. Adding a function = one entry here +
 * a conformance case in `test/kql/cases/`.
 */

import { unsupported } from './errors.js';
import type { Scalar, ScalarType } from './ir.js';
import {
  dtToTicks,
  dynamicText,
  floorDiv,
  floorTo,
  isJsonArray,
  jsonArray,
  jsonElements,
  sqlString,
  TICKS,
  ticksToDt,
  toJsonText,
  toKqlString,
} from './sql.js';

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

/** Ticks from 0001-01-01 to 1970-01-01. */
const DOTNET_EPOCH_TICKS = 621355968000000000n;

function binSql(value: Arg, size: Arg): string {
  switch (value.type) {
    case 'datetime': {
      // Kusto counts bins from 0001-01-01 (.NET ticks); the store's ticks count from 1970-01-01, 719,162
      // days later. The DateTime64(7) value is read as its ticks (`reinterpret`), which is much cheaper than
      // converting through nanoseconds.
      const dt = value.ir.k === 'col' ? value.sql : `toDateTime64(${value.sql}, 7, 'UTC')`;
      const literal =
        size.ir.k === 'lit' && size.ir.value !== null && /^\d+$/.test(String(size.ir.value))
          ? BigInt(String(size.ir.value))
          : undefined;
      if (literal !== undefined && literal > 0n) {
        // A constant size: t - ((t + offset) mod size) in UInt64 arithmetic. t + offset (ticks since
        // 0001-01-01) is never negative for a DateTime64, so one unsigned remainder by a constant is the
        // floor for every size (`7d` too: weeks start on Monday) and every date (before 1970 t wraps
        // around as UInt64 and the subtraction wraps back). As cheap as `toStartOfInterval`, which goes
        // through 32-bit `DateTime` (wrong before 1970 and after 2106) and drops sub-second precision.
        const ticks = `reinterpretAsUInt64(${dt})`;
        return `reinterpret(${ticks} - (${ticks} + ${DOTNET_EPOCH_TICKS}) % ${literal}, 'DateTime64(7, \\'UTC\\')')`;
      }
      const ticks = `reinterpretAsInt64(${dt})`;
      const floored = `(${floorTo(`${ticks} + ${DOTNET_EPOCH_TICKS}`, size.sql)} - ${DOTNET_EPOCH_TICKS})`;
      return `reinterpret(${floored}, 'DateTime64(7, \\'UTC\\')')`;
    }
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

/** The text of a literal argument (periods, formats, kinds), or undefined when not a literal. */
function literalText(arg: Arg): string | undefined {
  return arg.ir.k === 'lit' && arg.ir.value !== null ? String(arg.ir.value) : undefined;
}

function requireLiteral(fn: string, arg: Arg, what = 'period, format or kind'): string {
  const text = literalText(arg);
  if (text === undefined) throw unsupported(`'${fn}' with a non-literal ${what} argument`);
  return text;
}

/**
 * A JSONPath as `extract_json` takes it (`$.a.b`, `$['a']`, `$.list[0]`, `$.list[-1]`) → the key arguments of
 * ClickHouse's `JSONExtract*` (names quoted, indexes 1-based, negative from the end).
 */
export function jsonPathArgs(path: string): string[] | undefined {
  const p = path.trim();
  if (!p.startsWith('$')) return undefined;
  const out: string[] = [];
  let i = 1;
  while (i < p.length) {
    if (p[i] === '.') {
      const m = /^\.([^.[\]]+)/.exec(p.slice(i));
      if (!m) return undefined;
      out.push(sqlString(m[1]!));
      i += m[0].length;
    } else if (p[i] === '[') {
      const m = /^\[\s*(?:'([^']*)'|"([^"]*)"|(-?\d+))\s*\]/.exec(p.slice(i));
      if (!m) return undefined;
      if (m[3] !== undefined) {
        const n = Number(m[3]);
        out.push(String(n >= 0 ? n + 1 : n));
      } else out.push(sqlString(m[1] ?? m[2] ?? ''));
      i += m[0].length;
    } else return undefined;
  }
  return out;
}

/** `extract_json`'s optional `typeof(T)` argument → how to convert the extracted text. */
const EXTRACT_JSON_TYPES: Readonly<Record<string, (text: string) => string>> = {
  string: (t) => t,
  long: (t) => `toInt64OrNull(${t})`,
  int: (t) => `toInt32OrNull(${t})`,
  real: (t) => `toFloat64OrNull(${t})`,
  double: (t) => `toFloat64OrNull(${t})`,
};

const extractJson: ScalarFunction = {
  returns: 'string, or the type of the typeof() argument',
  minArgs: 2,
  maxArgs: 3,
  note: 'The value at a JSONPath as a string ("" when missing), or converted to typeof(long|int|real).',
  sql: (args) => {
    const path = requireLiteral('extract_json', a(args, 0), 'JSONPath');
    const keys = jsonPathArgs(path);
    if (!keys) throw unsupported(`the JSONPath '${path}'`);
    const source = a(args, 1);
    const raw = `nullIf(JSONExtractRaw(${source.sql}${keys.map((k) => `, ${k}`).join('')}), '')`;
    const wanted = args[2]
      ? /^typeof\((\w+)\)$/.exec(requireLiteral('extract_json', args[2], 'type'))?.[1]
      : 'string';
    const convert = wanted ? EXTRACT_JSON_TYPES[wanted] : undefined;
    if (!convert) throw unsupported(`extract_json to ${wanted ?? 'that type'}`);
    return convert(dynamicText(raw));
  },
};

/** Number of capturing groups in an RE2 pattern (named groups count, `(?:` and `[(]` do not). */
export function regexGroupCount(re: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (
      c === '(' &&
      (re[i + 1] !== '?' ||
        re[i + 2] === 'P' ||
        (re[i + 2] === '<' && re[i + 3] !== '=' && re[i + 3] !== '!'))
    )
      n++;
  }
  return n;
}

const DAY = String(TICKS.day);
const WEEK = String(TICKS.week);
/** 1970-01-01 was a Thursday: Kusto weeks start on Sunday, 3 days later. */
const SUNDAY = String(3 * TICKS.day);

function startOfWeekTicks(dt: string): string {
  return `(${floorTo(`${dtToTicks(dt)} - ${SUNDAY}`, WEEK)} + ${SUNDAY})`;
}

function makeDt(year: string, month: string): string {
  return `makeDateTime64(${year}, ${month}, 1, 0, 0, 0, 0, 7, 'UTC')`;
}

function offsetArg(args: readonly Arg[], i: number): string {
  return args[i] ? `(${args[i]!.sql})` : '0';
}

function periodName(fn: string, arg: Arg): string {
  const p = requireLiteral(fn, arg).toLowerCase();
  const names: Record<string, string> = {
    year: 'year',
    quarter: 'quarter',
    month: 'month',
    week: 'week',
    day: 'day',
    hour: 'hour',
    minute: 'minute',
    second: 'second',
    millisecond: 'millisecond',
    microsecond: 'microsecond',
    nanosecond: 'nanosecond',
  };
  const name = names[p];
  if (!name) throw unsupported(`'${fn}' with the period '${p}'`);
  return name;
}

function datetimeDiffSql(args: readonly Arg[]): string {
  const period = periodName('datetime_diff', a(args, 0));
  const x = a(args, 1).sql;
  const y = a(args, 2).sql;
  const tx = dtToTicks(x);
  const ty = dtToTicks(y);
  switch (period) {
    case 'year':
      return `toInt64(toYear(${x})) - toInt64(toYear(${y}))`;
    case 'quarter':
      return `(toInt64(toYear(${x})) * 4 + toQuarter(${x})) - (toInt64(toYear(${y})) * 4 + toQuarter(${y}))`;
    case 'month':
      return `(toInt64(toYear(${x})) * 12 + toMonth(${x})) - (toInt64(toYear(${y})) * 12 + toMonth(${y}))`;
    case 'week':
      return `(${floorDiv(`${tx} - ${SUNDAY}`, WEEK)} - ${floorDiv(`${ty} - ${SUNDAY}`, WEEK)})`;
    case 'nanosecond':
      return `((${tx} - ${ty}) * 100)`;
    default: {
      const unit = String(TICKS[period as keyof typeof TICKS]);
      return `(${floorDiv(tx, unit)} - ${floorDiv(ty, unit)})`;
    }
  }
}

function datetimeAddSql(args: readonly Arg[]): string {
  const period = periodName('datetime_add', a(args, 0));
  const n = a(args, 1).sql;
  const dt = a(args, 2).sql;
  switch (period) {
    case 'year':
      return `addYears(${dt}, ${n})`;
    case 'quarter':
      return `addQuarters(${dt}, ${n})`;
    case 'month':
      return `addMonths(${dt}, ${n})`;
    case 'nanosecond':
      return ticksToDt(`${dtToTicks(dt)} + intDiv(${n}, 100)`);
    default:
      return ticksToDt(`${dtToTicks(dt)} + (${n}) * ${TICKS[period as keyof typeof TICKS]}`);
  }
}

/** `format_datetime` with .NET-style specifiers, compiled to a concat of parts. */
function formatDatetimeSql(args: readonly Arg[]): string {
  const dt = a(args, 0).sql;
  const format = requireLiteral('format_datetime', a(args, 1));
  const pad = (v: string, n: number) =>
    n <= 1 ? `toString(${v})` : `leftPad(toString(${v}), greatest(${n}, length(toString(${v}))), '0')`;
  const fraction = `leftPad(toString(${dtToTicks(dt)} % 10000000), 7, '0')`;
  const hour12 = `if(toHour(${dt}) % 12 = 0, 12, toHour(${dt}) % 12)`;
  const parts: string[] = [];
  let literal = '';
  const flush = () => {
    if (literal) parts.push(sqlString(literal));
    literal = '';
  };
  for (let i = 0; i < format.length; ) {
    const c = format[i]!;
    let j = i;
    while (j < format.length && format[j] === c) j++;
    const n = j - i;
    let part: string | undefined;
    switch (c) {
      case 'y':
        part =
          n === 1
            ? `toString(toYear(${dt}) % 100)`
            : n === 2
              ? pad(`toYear(${dt}) % 100`, 2)
              : pad(`toYear(${dt})`, n);
        break;
      case 'M':
        if (n <= 2) part = pad(`toMonth(${dt})`, n);
        break;
      case 'd':
        if (n <= 2) part = pad(`toDayOfMonth(${dt})`, n);
        break;
      case 'H':
        if (n <= 2) part = pad(`toHour(${dt})`, n);
        break;
      case 'h':
        if (n <= 2) part = pad(hour12, n);
        break;
      case 'm':
        if (n <= 2) part = pad(`toMinute(${dt})`, n);
        break;
      case 's':
        if (n <= 2) part = pad(`toSecond(${dt})`, n);
        break;
      case 'f':
        if (n <= 7) part = `substring(${fraction}, 1, ${n})`;
        break;
      case 'F':
        if (n <= 7) part = `replaceRegexpOne(substring(${fraction}, 1, ${n}), '0+$', '')`;
        break;
      case 't':
        if (n <= 2) part = `substring(if(toHour(${dt}) < 12, 'AM', 'PM'), 1, ${n})`;
        break;
    }
    if (part === undefined) {
      literal += format.slice(i, j);
    } else {
      flush();
      parts.push(part);
    }
    i = j;
  }
  flush();
  if (!parts.length) return `''`;
  return `if(isNull(${dt}), '', concat(${parts.join(', ')}, ''))`;
}

/** `totimespan(text)`: `[-][d.]hh:mm[:ss[.fffffff]]` or a timespan literal such as `2d`, `1.5h`, `100ms`. */
function totimespanSql(arg: Arg): string {
  if (arg.type === 'timespan') return arg.sql;
  if (arg.type !== 'string' && arg.type !== 'dynamic') return `CAST(NULL AS Nullable(Int64))`;
  const s = `trimBoth(${toKqlString(arg.sql, arg.type)})`;
  const clock = `'^(-)?(?:(\\\\d+)\\\\.)?(\\\\d+):(\\\\d+)(?::(\\\\d+)(?:\\\\.(\\\\d{1,7}))?)?$'`;
  const g = (i: number) => `toInt64OrZero(extractGroups(${s}, ${clock})[${i}])`;
  const frac = `toInt64OrZero(rightPad(extractGroups(${s}, ${clock})[6], 7, '0'))`;
  const clockTicks =
    `if(extractGroups(${s}, ${clock})[1] = '-', -1, 1) * (${g(2)} * ${TICKS.day} + ${g(3)} * ${TICKS.hour} + ` +
    `${g(4)} * ${TICKS.minute} + ${g(5)} * ${TICKS.second} + ${frac})`;
  const unitRe = `'^(-?[0-9]+(?:\\\\.[0-9]+)?)(d|h|m|s|ms|microsecond|tick)$'`;
  const num = `toFloat64OrZero(extractGroups(${s}, ${unitRe})[1])`;
  const unit = `extractGroups(${s}, ${unitRe})[2]`;
  const perUnit = `multiIf(${unit} = 'd', ${TICKS.day}, ${unit} = 'h', ${TICKS.hour}, ${unit} = 'm', ${TICKS.minute}, ${unit} = 's', ${TICKS.second}, ${unit} = 'ms', ${TICKS.millisecond}, ${unit} = 'microsecond', ${TICKS.microsecond}, 1)`;
  return `multiIf(match(${s}, ${clock}), ${clockTicks}, match(${s}, ${unitRe}), toInt64(round(${num} * ${perUnit})), CAST(NULL AS Nullable(Int64)))`;
}

function urlEncodeSql(arg: Arg, space: string): string {
  const s = arg.sql;
  return (
    `arrayStringConcat(arrayMap(__c -> multiIf(match(__c, '^[A-Za-z0-9_.!*()-]$'), __c, __c = ' ', ${sqlString(space)}, ` +
    `concat('%', lower(hex(__c)))), arrayMap(__i -> substring(${s}, __i, 1), range(1, length(${s}) + 1))), '')`
  );
}

/** The address part of an IPv4 text that may carry a `/prefix`. */
function ipAddr(sql: string): string {
  return `splitByChar('/', ${sql})[1]`;
}

function ipPrefix(sql: string): string {
  return `if(position(${sql}, '/') > 0, toInt64OrNull(splitByChar('/', ${sql})[2]), 32)`;
}

function ipMasked(ip: string, prefix: string): string {
  const mask = `if(${prefix} <= 0, 0, bitAnd(bitShiftLeft(toUInt64(4294967295), 32 - least(${prefix}, 32)), 4294967295))`;
  return `toInt64(bitAnd(toUInt64(toUInt32(toIPv4OrNull(${ipAddr(ip)}))), ${mask}))`;
}

function ipv4CompareSql(args: readonly Arg[]): string {
  const x = a(args, 0).sql;
  const y = a(args, 1).sql;
  const prefixes = [ipPrefix(x), ipPrefix(y), ...(args[2] ? [`(${args[2].sql})`] : [])];
  const p = `least(${prefixes.join(', ')})`;
  return `if(isNull(toIPv4OrNull(${ipAddr(x)})) OR isNull(toIPv4OrNull(${ipAddr(y)})), NULL, toInt64(sign(${ipMasked(x, p)} - ${ipMasked(y, p)})))`;
}

function allArrays(args: readonly Arg[]): string {
  return args.map((x) => isJsonArray(x.sql)).join(' AND ');
}

function setSql(kind: 'union' | 'intersect' | 'difference') {
  return (args: readonly Arg[]): string => {
    const [first, ...rest] = args.map((x) => jsonElements(x.sql));
    let elements: string;
    if (kind === 'union') elements = `arrayDistinct(arrayConcat(${[first, ...rest].join(', ')}))`;
    else {
      const test = rest
        .map((r) => (kind === 'intersect' ? `has(${r}, __e)` : `NOT has(${r}, __e)`))
        .join(' AND ');
      elements = `arrayDistinct(arrayFilter(__e -> ${test}, ${first}))`;
    }
    return `if(${allArrays(args)}, ${jsonArray(elements)}, NULL)`;
  };
}

function arraySliceSql(args: readonly Arg[]): string {
  const arr = a(args, 0).sql;
  const e = jsonElements(arr);
  const len = `toInt64(length(${e}))`;
  const start = `greatest(if(${a(args, 1).sql} < 0, ${a(args, 1).sql} + ${len}, ${a(args, 1).sql}), 0)`;
  const end = `least(if(${a(args, 2).sql} < 0, ${a(args, 2).sql} + ${len}, ${a(args, 2).sql}), ${len} - 1)`;
  return `if(${isJsonArray(arr)}, ${jsonArray(`arraySlice(${e}, ${start} + 1, greatest(${end} - ${start} + 1, 0))`)}, NULL)`;
}

function extractAllSql(args: readonly Arg[]): string {
  const re = a(args, 0);
  const text = a(args, args.length - 1).sql;
  const literal = literalText(re);
  const groups = literal === undefined ? undefined : regexGroupCount(literal);
  const pattern = groups === 0 ? `concat('(', ${re.sql}, ')')` : re.sql;
  const all = `extractAllGroupsVertical(${text}, ${pattern})`;
  const item =
    groups === undefined
      ? `if(length(__g) = 1, toJSONString(__g[1]), toJSONString(__g))`
      : groups <= 1
        ? `toJSONString(__g[1])`
        : `toJSONString(__g)`;
  return `if(empty(${all}), NULL, ${jsonArray(`arrayMap(__g -> ${item}, ${all})`)})`;
}

function parseUrlSql(arg: Arg): string {
  const u = arg.sql;
  const userinfo = `extractGroups(${u}, '^[A-Za-z][A-Za-z0-9+.-]*://([^:@/?#]*)(?::([^@/?#]*))?@')`;
  const authority = `extractGroups(${u}, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?(\\[[^\\]]*\\]|[^:/?#]*)(?::([0-9]*))?')`;
  const eq = `position(__p, '=')`;
  const params = `arrayMap(__p -> concat(toJSONString(if(${eq} > 0, substring(__p, 1, ${eq} - 1), __p)), ':', toJSONString(if(${eq} > 0, substring(__p, ${eq} + 1), ''))), extractURLParameters(${u}))`;
  const field = (name: string, v: string) => `${sqlString(`"${name}":`)}, toJSONString(${v})`;
  return (
    `if(protocol(${u}) = '', NULL, concat('{', ${field('Scheme', `protocol(${u})`)}, ',', ${field('Host', `ifNull(${authority}[1], '')`)}, ',', ` +
    `${field('Port', `ifNull(${authority}[2], '')`)}, ',', ${field('Path', `path(${u})`)}, ',', ` +
    `${field('Username', `ifNull(${userinfo}[1], '')`)}, ',', ${field('Password', `ifNull(${userinfo}[2], '')`)}, ',', ` +
    `'"Query Parameters":{', arrayStringConcat(${params}, ','), '},', ${field('Fragment', `fragment(${u})`)}, '}'))`
  );
}

function countofSql(args: readonly Arg[]): string {
  const s = a(args, 0).sql;
  const t = a(args, 1).sql;
  const kind = args[2] ? requireLiteral('countof', args[2]).toLowerCase() : 'normal';
  if (kind === 'regex') return `toInt64(countMatches(${s}, ${t}))`;
  if (kind !== 'normal') throw unsupported(`'countof' with the kind '${kind}'`);
  return `if(${t} = '', toInt64(0), toInt64(length(arrayFilter(__i -> substring(${s}, __i, length(${t})) = ${t}, range(1, length(${s}) + 1)))))`;
}

const MORE_SCALAR_FUNCTIONS: Readonly<Record<string, ScalarFunction>> = {
  extract_all: {
    returns: 'dynamic (array of strings; of arrays with several groups)',
    minArgs: 2,
    maxArgs: 2,
    note: 'No match gives null. The 3-argument form (capture group selection) is not built.',
    sql: extractAllSql,
  },
  replace_regex: {
    returns: 'string',
    minArgs: 3,
    maxArgs: 3,
    note: 'replace_regex(source, regex, rewrite); \\1.. in rewrite are groups.',
    sql: (args) => `replaceRegexpAll(${a(args, 0).sql}, ${a(args, 1).sql}, ${a(args, 2).sql})`,
  },
  replace: {
    returns: 'string',
    minArgs: 3,
    maxArgs: 3,
    note: 'Deprecated form: replace(regex, rewrite, source).',
    sql: (args) => `replaceRegexpAll(${a(args, 2).sql}, ${a(args, 0).sql}, ${a(args, 1).sql})`,
  },
  datetime_diff: {
    returns: 'long',
    minArgs: 3,
    maxArgs: 3,
    note: 'Counts period boundaries crossed from the third argument to the second; weeks start on Sunday.',
    sql: datetimeDiffSql,
  },
  datetime_add: {
    returns: 'datetime',
    minArgs: 3,
    maxArgs: 3,
    note: 'Months/quarters/years clamp to the last day of the month (as .NET AddMonths).',
    sql: datetimeAddSql,
  },
  format_datetime: {
    returns: 'string',
    minArgs: 2,
    maxArgs: 2,
    note: 'y, yy, yyyy, M, MM, d, dd, H, HH, h, hh, m, mm, s, ss, f…fffffff, F…FFFFFFF, tt; other characters are copied.',
    sql: formatDatetimeSql,
  },
  startofday: {
    returns: 'datetime',
    minArgs: 1,
    maxArgs: 2,
    sql: (args) => ticksToDt(`${floorTo(dtToTicks(a(args, 0).sql), DAY)} + ${offsetArg(args, 1)} * ${DAY}`),
  },
  startofweek: {
    returns: 'datetime',
    minArgs: 1,
    maxArgs: 2,
    note: 'Weeks start on Sunday.',
    sql: (args) => ticksToDt(`${startOfWeekTicks(a(args, 0).sql)} + ${offsetArg(args, 1)} * ${WEEK}`),
  },
  startofmonth: {
    returns: 'datetime',
    minArgs: 1,
    maxArgs: 2,
    sql: (args) =>
      `addMonths(${makeDt(`toYear(${a(args, 0).sql})`, `toMonth(${a(args, 0).sql})`)}, ${offsetArg(args, 1)})`,
  },
  startofyear: {
    returns: 'datetime',
    minArgs: 1,
    maxArgs: 2,
    sql: (args) => `addYears(${makeDt(`toYear(${a(args, 0).sql})`, '1')}, ${offsetArg(args, 1)})`,
  },
  endofday: {
    returns: 'datetime',
    minArgs: 1,
    maxArgs: 2,
    sql: (args) =>
      ticksToDt(`${floorTo(dtToTicks(a(args, 0).sql), DAY)} + (${offsetArg(args, 1)} + 1) * ${DAY} - 1`),
  },
  endofweek: {
    returns: 'datetime',
    minArgs: 1,
    maxArgs: 2,
    sql: (args) =>
      ticksToDt(`${startOfWeekTicks(a(args, 0).sql)} + (${offsetArg(args, 1)} + 1) * ${WEEK} - 1`),
  },
  endofmonth: {
    returns: 'datetime',
    minArgs: 1,
    maxArgs: 2,
    sql: (args) =>
      ticksToDt(
        `${dtToTicks(`addMonths(${makeDt(`toYear(${a(args, 0).sql})`, `toMonth(${a(args, 0).sql})`)}, ${offsetArg(args, 1)} + 1)`)} - 1`,
      ),
  },
  endofyear: {
    returns: 'datetime',
    minArgs: 1,
    maxArgs: 2,
    sql: (args) =>
      ticksToDt(
        `${dtToTicks(`addYears(${makeDt(`toYear(${a(args, 0).sql})`, '1')}, ${offsetArg(args, 1)} + 1)`)} - 1`,
      ),
  },
  dayofweek: {
    returns: 'timespan',
    minArgs: 1,
    maxArgs: 1,
    note: 'Days since the preceding Sunday, as a timespan.',
    sql: ([x]) => `((((${floorDiv(dtToTicks(x!.sql), DAY)} - 3) % 7) + 7) % 7) * ${DAY}`,
  },
  hourofday: { returns: 'int', minArgs: 1, maxArgs: 1, sql: ([x]) => `toInt32(toHour(${x!.sql}))` },
  dayofmonth: { returns: 'int', minArgs: 1, maxArgs: 1, sql: ([x]) => `toInt32(toDayOfMonth(${x!.sql}))` },
  dayofyear: { returns: 'int', minArgs: 1, maxArgs: 1, sql: ([x]) => `toInt32(toDayOfYear(${x!.sql}))` },
  monthofyear: { returns: 'int', minArgs: 1, maxArgs: 1, sql: ([x]) => `toInt32(toMonth(${x!.sql}))` },
  getmonth: { returns: 'int', minArgs: 1, maxArgs: 1, sql: ([x]) => `toInt32(toMonth(${x!.sql}))` },
  getyear: { returns: 'int', minArgs: 1, maxArgs: 1, sql: ([x]) => `toInt32(toYear(${x!.sql}))` },
  week_of_year: {
    returns: 'int',
    minArgs: 1,
    maxArgs: 1,
    note: 'ISO 8601 week number.',
    sql: ([x]) => `toInt32(toISOWeek(${x!.sql}))`,
  },
  parse_url: {
    returns: 'dynamic',
    minArgs: 1,
    maxArgs: 1,
    note: 'Scheme, Host, Port ("" when absent), Path (with its leading "/" — verify), Username, Password, Query Parameters (raw values), Fragment; null without a scheme.',
    sql: ([x]) => parseUrlSql(x!),
  },
  indexof: {
    returns: 'long',
    minArgs: 2,
    maxArgs: 3,
    note: '0-based; -1 when not found; a negative start counts from the end. The length/occurrence arguments are not built.',
    sql: (args) => {
      const s = toKqlString(a(args, 0).sql, a(args, 0).type);
      const t = toKqlString(a(args, 1).sql, a(args, 1).type);
      if (args.length < 3) return `(toInt64(positionUTF8(${s}, ${t})) - 1)`;
      const st = a(args, 2).sql;
      const start = `if(${st} < 0, greatest(toInt64(lengthUTF8(${s})) + ${st}, 0), ${st})`;
      return `if(${start} > lengthUTF8(${s}), toInt64(-1), toInt64(positionUTF8(${s}, ${t}, toUInt64(${start} + 1))) - 1)`;
    },
  },
  countof: {
    returns: 'long',
    minArgs: 2,
    maxArgs: 3,
    note: 'normal: overlapping matches count; regex: non-overlapping. An empty search string counts 0.',
    sql: countofSql,
  },
  strcat_array: {
    returns: 'string',
    minArgs: 2,
    maxArgs: 2,
    sql: (args) =>
      `arrayStringConcat(arrayMap(__e -> ${dynamicText('__e')}, ${jsonElements(a(args, 0).sql)}), ${a(args, 1).sql})`,
  },
  array_concat: {
    returns: 'dynamic',
    minArgs: 1,
    maxArgs: 64,
    note: 'Null when any argument is not an array.',
    sql: (args) =>
      `if(${allArrays(args)}, ${jsonArray(`arrayConcat(${args.map((x) => jsonElements(x.sql)).join(', ')})`)}, NULL)`,
  },
  array_slice: {
    returns: 'dynamic',
    minArgs: 3,
    maxArgs: 3,
    note: 'Inclusive end; negative indexes count from the end; out of range → [].',
    sql: arraySliceSql,
  },
  set_union: {
    returns: 'dynamic',
    minArgs: 2,
    maxArgs: 64,
    note: 'Elements compare as JSON text.',
    sql: setSql('union'),
  },
  set_intersect: { returns: 'dynamic', minArgs: 2, maxArgs: 64, sql: setSql('intersect') },
  set_difference: { returns: 'dynamic', minArgs: 2, maxArgs: 64, sql: setSql('difference') },
  set_has_element: {
    returns: 'bool',
    minArgs: 2,
    maxArgs: 2,
    sql: (args) =>
      `has(${jsonElements(a(args, 0).sql)}, ifNull(${toJsonText(a(args, 1).sql, a(args, 1).type)}, 'null'))`,
  },
  bag_keys: {
    returns: 'dynamic',
    minArgs: 1,
    maxArgs: 1,
    note: 'Null when the value is not a property bag.',
    sql: ([x]) =>
      `if(ifNull(JSONType(${x!.sql}) = 'Object', false), toJSONString(JSONExtractKeys(ifNull(${x!.sql}, ''))), NULL)`,
  },
  tohex: {
    returns: 'string',
    minArgs: 1,
    maxArgs: 2,
    note: 'Lower case; negative numbers in two’s complement of their width (int: 32 bits, long: 64).',
    sql: (args) => {
      const x = a(args, 0);
      const n64 = x.type === 'int' ? `toInt32(${x.sql})` : `toInt64(${x.sql})`;
      const hex = `ifNull(replaceRegexpOne(lower(hex(${n64})), '^0+(.)', '\\\\1'), '')`;
      if (args.length < 2) return hex;
      const n = a(args, 1).sql;
      return `if(${hex} != '' AND length(${hex}) < ${n}, leftPad(${hex}, toUInt64(${n}), '0'), ${hex})`;
    },
  },
  base64_encode_tostring: {
    returns: 'string',
    minArgs: 1,
    maxArgs: 1,
    sql: ([x]) => `base64Encode(${x!.sql})`,
  },
  base64_decode_tostring: {
    returns: 'string',
    minArgs: 1,
    maxArgs: 1,
    note: 'Invalid base64 gives "".',
    sql: ([x]) => `tryBase64Decode(${x!.sql})`,
  },
  url_encode: {
    returns: 'string',
    minArgs: 1,
    maxArgs: 1,
    note: 'UTF-8 bytes as lower-case %xx except letters, digits and -_.!*(); space → +.',
    sql: ([x]) => urlEncodeSql(x!, '+'),
  },
  url_encode_component: { returns: 'string', minArgs: 1, maxArgs: 1, sql: ([x]) => urlEncodeSql(x!, '%20') },
  url_decode: {
    returns: 'string',
    minArgs: 1,
    maxArgs: 1,
    sql: ([x]) => `decodeURLFormComponent(${x!.sql})`,
  },
  ipv4_is_private: {
    returns: 'bool',
    minArgs: 1,
    maxArgs: 1,
    note: '10/8, 172.16/12, 192.168/16; a /prefix is ignored (the address decides); invalid → null.',
    sql: ([x]) => {
      const ip = ipAddr(x!.sql);
      return `if(isNull(toIPv4OrNull(${ip})), NULL, isIPAddressInRange(${ip}, '10.0.0.0/8') OR isIPAddressInRange(${ip}, '172.16.0.0/12') OR isIPAddressInRange(${ip}, '192.168.0.0/16'))`;
    },
  },
  ipv4_is_in_range: {
    returns: 'bool',
    minArgs: 2,
    maxArgs: 2,
    note: 'Invalid address or range → null.',
    sql: (args) => {
      const ip = ipAddr(a(args, 0).sql);
      const range = a(args, 1).sql;
      const cidr = `if(position(${range}, '/') > 0, ${range}, concat(${range}, '/32'))`;
      return `if(isNull(toIPv4OrNull(${ip})) OR isNull(toIPv4OrNull(${ipAddr(range)})), NULL, isIPAddressInRange(${ip}, ${cidr}))`;
    },
  },
  ipv4_compare: {
    returns: 'long',
    minArgs: 2,
    maxArgs: 3,
    note: '-1/0/1 over the addresses masked to the smallest prefix given; invalid → null.',
    sql: ipv4CompareSql,
  },
  ipv4_is_match: {
    returns: 'bool',
    minArgs: 2,
    maxArgs: 3,
    sql: (args) => `(${ipv4CompareSql(args)} = 0)`,
  },
  totimespan: {
    returns: 'timespan',
    minArgs: 1,
    maxArgs: 1,
    note: '[-][d.]hh:mm[:ss[.fffffff]] or a literal such as 2d, 1.5h, 30m, 10s, 100ms; otherwise null.',
    sql: ([x]) => totimespanSql(x!),
  },
  toguid: {
    returns: 'guid',
    minArgs: 1,
    maxArgs: 1,
    sql: ([x]) => (x!.type === 'guid' ? x!.sql : `toUUIDOrNull(trimBoth(${toKqlString(x!.sql, x!.type)}))`),
  },
  new_guid: { returns: 'guid', minArgs: 0, maxArgs: 0, sql: () => 'generateUUIDv4()' },
  strrep: {
    returns: 'string',
    minArgs: 2,
    maxArgs: 3,
    note: 'The multiplier is capped at 1024.',
    sql: (args) =>
      `arrayStringConcat(arrayWithConstant(toUInt64(least(greatest(ifNull(${a(args, 1).sql}, 0), 0), 1024)), ${toKqlString(a(args, 0).sql, a(args, 0).type)}), ${args[2] ? args[2].sql : "''"})`,
  },
  reverse: {
    returns: 'string',
    minArgs: 1,
    maxArgs: 1,
    sql: ([x]) => `reverseUTF8(${toKqlString(x!.sql, x!.type)})`,
  },
};

export const SCALAR_FUNCTIONS: Readonly<Record<string, ScalarFunction>> = {
  tostring: { returns: 'string', minArgs: 1, maxArgs: 1, sql: ([x]) => toKqlString(x!.sql, x!.type) },
  todynamic: toDynamic,
  parse_json: toDynamic,
  // The deprecated spelling, still in many published Sentinel rules.
  parsejson: toDynamic,
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
    maxArgs: 3,
    note: 'With an index: a one-element array, or [] when the index is out of range.',
    sql: (args) => {
      const parts = `splitByString(${a(args, 1).sql}, ${a(args, 0).sql})`;
      if (args.length < 3) return `toJSONString(${parts})`;
      const i = a(args, 2).sql;
      return `if(isNull(${i}), NULL, toJSONString(if(${i} < 0, CAST([], 'Array(String)'), arraySlice(${parts}, ${i} + 1, 1))))`;
    },
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
  todatetime: {
    returns: 'datetime',
    minArgs: 1,
    maxArgs: 1,
    note: 'Unparseable text gives null (parseDateTime64BestEffortOrNull); surrounding whitespace (also newlines) is ignored.',
    sql: ([x]) => {
      if (x!.type === 'datetime') return x!.sql;
      const text = x!.type === 'string' ? x!.sql : toKqlString(x!.sql, x!.type);
      return `parseDateTime64BestEffortOrNull(trim(BOTH ' \\t\\n\\r' FROM ${text}), 7, 'UTC')`;
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
  ...MORE_SCALAR_FUNCTIONS,
  extract_json: extractJson,
  // The deprecated spelling, still in many published Sentinel rules.
  extractjson: extractJson,
};

function jsonArrayAgg(kind: 'groupUniqArray' | 'groupArray', x: Arg, max?: Arg, pred?: Arg): string {
  const name = pred ? `${kind}If` : kind;
  const fn = max ? `${name}(${max.sql})` : name;
  const json = toJsonText(x.sql, x.type);
  return `concat('[', arrayStringConcat(${fn}(${pred ? `${json}, ${pred.sql}` : json}), ','), ']')`;
}

function makeBagSql(x: Arg, pred?: Arg): string {
  const isBag = `ifNull(JSONType(${x.sql}) = 'Object', false)`;
  const bags = `groupArrayIf(${x.sql}, ${pred ? `${isBag} AND ifNull(${pred.sql}, false)` : isBag})`;
  const kvs = `arrayFlatten(arrayMap(__j -> JSONExtractKeysAndValuesRaw(assumeNotNull(__j)), ${bags}))`;
  const unique = `arrayFilter((__kv, __i) -> indexOf(arrayMap(__p -> __p.1, ${kvs}), __kv.1) = __i, ${kvs}, arrayEnumerate(${kvs}))`;
  return `concat('{', arrayStringConcat(arrayMap(__kv -> concat(toJSONString(__kv.1), ':', __kv.2), ${unique}), ','), '}')`;
}

function percentileSql(x: Arg, p: string): string {
  const rank = `toUInt64(greatest(1, ceil((${p}) / 100 * count(${x.sql}))))`;
  return `if(count(${x.sql}) = 0, NULL, arrayElement(arraySort(groupArray(${x.sql})), ${rank}))`;
}

function sampleStat(fn: 'stddevSamp' | 'varSamp', x: Arg, pred?: Arg): string {
  if (pred)
    return `multiIf(countIf(${x.sql}, ${pred.sql}) = 0, NULL, countIf(${x.sql}, ${pred.sql}) = 1, 0, ${fn}If(${x.sql}, ${pred.sql}))`;
  return `multiIf(count(${x.sql}) = 0, NULL, count(${x.sql}) = 1, 0, ${fn}(${x.sql}))`;
}

const dcount: AggregateFunction = {
  returns: 'long',
  note: 'Exact (uniqExact): within any accuracy level Kusto offers, and it matches hand-computed answers.',
  sql: (args) => `toInt64(uniqExact(${a(args, 0).sql}))`,
};

const dcountif: AggregateFunction = {
  returns: 'long',
  sql: (args) => `toInt64(uniqExactIf(${a(args, 0).sql}, ${a(args, 1).sql}))`,
};

const makeSet: AggregateFunction = {
  returns: 'dynamic',
  note: 'Nulls skipped; element order unspecified.',
  sql: (args) => jsonArrayAgg('groupUniqArray', a(args, 0), args[1]),
};

const makeList: AggregateFunction = {
  returns: 'dynamic',
  sql: (args) => jsonArrayAgg('groupArray', a(args, 0), args[1]),
};

export const AGGREGATE_FUNCTIONS: Readonly<Record<string, AggregateFunction>> = {
  count: { returns: 'long', sql: () => 'toInt64(count())' },
  countif: { returns: 'long', sql: (args) => `toInt64(countIf(${a(args, 0).sql}))` },
  sum: { returns: 'long or real', sql: (args) => `sum(${a(args, 0).sql})` },
  sumif: { returns: 'long or real', sql: (args) => `sumIf(${a(args, 0).sql}, ${a(args, 1).sql})` },
  // OrNull: over no rows Kusto gives null, where the engine's plain min/max give the type's default (a
  // datetime of 1970, which would read as "data received").
  min: { returns: 'type of the value', sql: (args) => `minOrNull(${a(args, 0).sql})` },
  max: { returns: 'type of the value', sql: (args) => `maxOrNull(${a(args, 0).sql})` },
  avg: { returns: 'real', sql: (args) => `avg(${a(args, 0).sql})` },
  dcount,
  dcountif,
  make_set: makeSet,
  make_list: makeList,
  // Deprecated spellings, still in many published Sentinel rules.
  makeset: makeSet,
  makelist: makeList,
  // count_distinct is exact in Kusto; dcount here is exact too, so both are one entry.
  count_distinct: dcount,
  count_distinctif: dcountif,
  make_set_if: {
    returns: 'dynamic',
    note: 'Nulls skipped; element order unspecified.',
    sql: (args) => jsonArrayAgg('groupUniqArray', a(args, 0), args[2], a(args, 1)),
  },
  make_list_if: {
    returns: 'dynamic',
    sql: (args) => jsonArrayAgg('groupArray', a(args, 0), args[2], a(args, 1)),
  },
  make_bag: {
    returns: 'dynamic',
    note: 'Merges the property bags of the group (non-bags ignored); a key in several bags takes one of its values; no rows → {}.',
    sql: (args) => makeBagSql(a(args, 0)),
  },
  make_bag_if: {
    returns: 'dynamic',
    sql: (args) => makeBagSql(a(args, 0), a(args, 1)),
  },
  percentile: {
    returns: 'type of the value',
    note: 'Exact nearest-rank percentile (Kusto estimates with T-Digest; identical on small sets).',
    sql: (args) => percentileSql(a(args, 0), a(args, 1).sql),
  },
  percentiles: {
    returns: 'type of the value (one column per percentile)',
    note: 'Several percentiles give one column each (`percentile_x_50`, ...): compile.ts calls this once per column.',
    sql: (args) => {
      if (args.length !== 2) throw unsupported("'percentiles' with several percentiles outside summarize");
      return percentileSql(a(args, 0), a(args, 1).sql);
    },
  },
  percentiles_array: {
    returns: 'dynamic (array)',
    sql: (args) => {
      const x = a(args, 0);
      const ps = args.slice(1).map((p) => `ifNull(${toJsonText(percentileSql(x, p.sql), x.type)}, 'null')`);
      return `concat('[', ${ps.join(", ',', ")}, ']')`;
    },
  },
  stdev: {
    returns: 'real',
    note: 'Sample (n-1); one value → 0.',
    sql: (args) => sampleStat('stddevSamp', a(args, 0)),
  },
  stdevif: {
    returns: 'real',
    sql: (args) => sampleStat('stddevSamp', a(args, 0), a(args, 1)),
  },
  stdevp: { returns: 'real', sql: (args) => `stddevPop(${a(args, 0).sql})` },
  variance: {
    returns: 'real',
    note: 'Sample (n-1); one value → 0.',
    sql: (args) => sampleStat('varSamp', a(args, 0)),
  },
  varianceif: {
    returns: 'real',
    sql: (args) => sampleStat('varSamp', a(args, 0), a(args, 1)),
  },
  variancep: { returns: 'real', sql: (args) => `varPop(${a(args, 0).sql})` },
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

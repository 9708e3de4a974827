/**
 * IR → one ClickHouse SELECT. Each tabular step wraps the previous one as a subquery, so a step sees
 * exactly the columns the binder says its input has. Identifiers are backtick-quoted; literals are
 * inlined and escaped (no query parameters: the engine serialises parameterised queries).
 *
 * A step whose output names could be captured by ClickHouse's alias resolution (an alias equal to an
 * input column that another expression of the same SELECT reads) is compiled in two levels: compute
 * under temporary names (`__e0`, ...), then rename.
 */
import { KqlError, unsupported, unsupportedFunction } from './errors.js';
import { AGGREGATE_FUNCTIONS, type Arg, regexQuote, SCALAR_FUNCTIONS } from './functions.js';
import type { Assignment, Column, JoinKind, Operator, Scalar, ScalarType, SortKey, Tabular } from './ir.js';
import {
  dtToTicks,
  dynamicText,
  ident,
  sqlString,
  storageType,
  ticksToDt,
  toJsonText,
  toKqlString,
} from './sql.js';

export interface CompileOptions {
  /** The ClickHouse database holding the workspace tables. */
  readonly database: string;
  /**
   * The Query API's `timespan`: every table the query reads is filtered on `TimeGenerated` to
   * [start, end), on top of the query's own filters, as Log Analytics does. Datatables are not filtered.
   */
  readonly timeRange?: { readonly start: Date; readonly end: Date };
}

/** `2024-05-01T10:00:00.123Z` → a DateTime64(7) literal. */
function datetimeLiteral(d: Date): string {
  return `toDateTime64(${sqlString(d.toISOString().replace('T', ' ').replace('Z', ''))}, 7, 'UTC')`;
}

function flatSelect(list: string, flat: { from: string; where: readonly string[] }): string {
  const where = flat.where.length > 1 ? flat.where.map((w) => `(${w})`).join(' AND ') : flat.where[0];
  return `SELECT ${list} FROM ${flat.from}${where ? ` WHERE ${where}` : ''}`;
}

class Compiler {
  private n = 0;
  constructor(private readonly options: CompileOptions) {}

  alias(prefix = 's'): string {
    return `__${prefix}${this.n++}`;
  }

  tabular(t: Tabular, needed?: ReadonlySet<string>): string {
    return this.tabularWith(t, needed).sql;
  }

  /**
   * `t` as SQL producing at least the columns in `needed` (default: all of `t.columns`), and the
   * columns it produces. Column pruning: a backward pass computes what each step needs from its input
   * (`need`), so a table is read for only those columns and an `extend`/`project` drops assignments
   * nobody reads; `mv-expand`, `parse`, `mv-apply`, `bag_unpack` and `union` keep every column.
   */
  tabularWith(t: Tabular, needed?: ReadonlySet<string>): { sql: string; columns: readonly Column[] } {
    const steps = t.steps;
    const need: Set<string>[] = new Array(steps.length + 1);
    need[steps.length] = new Set(needed ?? t.columns.map((c) => c.name));
    for (let i = steps.length - 1; i >= 0; i--) {
      const input = i === 0 ? t.sourceColumns : steps[i - 1]!.columns;
      need[i] = inputNeed(steps[i]!.op, input, steps[i]!.columns, need[i + 1]!);
    }
    let sql: string;
    let columns: readonly Column[];
    // While `sql` is `SELECT <plain columns> FROM <table> [WHERE ...]`: its table and conditions, so that
    // `where` steps add their predicate to that WHERE and a `count` counts the table's rows directly,
    // instead of each wrapping the previous SELECT in one more subquery.
    let flat: { from: string; where: string[] } | undefined;
    if ('steps' in t.source) {
      ({ sql, columns } = this.tabularWith(t.source, need[0]));
    } else if (t.source.k === 'table') {
      columns = t.sourceColumns.filter((c) => need[0]!.has(c.name));
      if (columns.length === 0) columns = t.sourceColumns.slice(0, 1);
      flat = { from: `${ident(this.options.database)}.${ident(t.source.name)}`, where: [] };
      const range = this.options.timeRange;
      if (range) {
        flat.where.push(
          `TimeGenerated >= ${datetimeLiteral(range.start)} AND TimeGenerated < ${datetimeLiteral(range.end)}`,
        );
      }
      sql = flatSelect(columns.map((c) => ident(c.name)).join(', '), flat);
    } else {
      columns = t.sourceColumns;
      if (t.source.k === 'range') sql = this.range(t.sourceColumns[0]!, t.source);
      else if (t.source.k === 'print') {
        const list = t.source.assignments.map((a) => `${this.scalar(a.expr)} AS ${ident(a.name)}`);
        sql = `SELECT ${list.join(', ')}`;
      } else if (t.source.k === 'apply-rows') throw unsupported('mv-apply rows outside mv-apply');
      else sql = this.datatable(t.sourceColumns, t.source.rows);
    }
    steps.forEach((step, i) => {
      const fullInput = i === 0 ? t.sourceColumns : steps[i - 1]!.columns;
      const pruned = pruneStep(step.op, columns, fullInput, step.columns, need[i + 1]!);
      if (flat && pruned.op.k === 'where') {
        // The select list is plain columns (no alias can capture a name the predicate reads).
        flat.where.push(this.scalar(pruned.op.predicate));
        sql = flatSelect(columns.map((c) => ident(c.name)).join(', '), flat);
        return;
      }
      if (pruned.op.k === 'render') return; // compiles to its input
      const countName = pruned.op.k === 'count' ? (pruned.columns[0]?.name ?? 'Count') : undefined;
      if (flat && countName !== undefined && !t.sourceColumns.some((c) => c.name === countName)) {
        // The alias is no column of the table, so it cannot capture a name in the WHERE.
        sql = flatSelect(`toInt64(count()) AS ${ident(countName)}`, flat);
        columns = pruned.columns;
        flat = undefined;
        return;
      }
      flat = undefined;
      sql = this.step(sql, columns, pruned.op, pruned.columns, { fullInput, fullOutput: step.columns });
      columns = pruned.columns;
    });
    return { sql, columns };
  }

  /** `range`: `arrayJoin(range(count))` row numbers; datetimes step in ticks. */
  private range(column: Column, r: { from: Scalar; to: Scalar; step: Scalar }): string {
    const from = this.scalar(r.from);
    const to = this.scalar(r.to);
    const step = this.scalar(r.step);
    let count: string;
    let value: string;
    if (column.type === 'datetime') {
      count = `intDiv(${dtToTicks(to)} - ${dtToTicks(from)}, ${step}) + 1`;
      value = ticksToDt(`${dtToTicks(from)} + toInt64(__n) * (${step})`);
    } else if (column.type === 'real' || column.type === 'decimal') {
      count = `toInt64(floor((${to} - ${from}) / (${step}))) + 1`;
      value = `toFloat64(${from} + __n * (${step}))`;
    } else {
      count = `intDiv(${to} - ${from}, ${step}) + 1`;
      value = `${column.type === 'int' ? 'toInt32' : 'toInt64'}(${from} + toInt64(__n) * (${step}))`;
    }
    return `SELECT ${value} AS ${ident(column.name)} FROM (SELECT arrayJoin(range(toUInt64(greatest(${count}, 0)))) AS __n) AS ${this.alias()}`;
  }

  private datatable(columns: readonly Column[], rows: readonly (readonly Scalar[])[]): string {
    const structure = columns.map((c) => `${ident(c.name)} ${storageType(c.type)}`).join(', ');
    if (rows.length === 0) {
      const nulls = columns.map(
        (c) =>
          `CAST(${c.type === 'string' ? "''" : 'NULL'}, ${sqlString(storageType(c.type))}) AS ${ident(c.name)}`,
      );
      return `SELECT ${nulls.join(', ')} LIMIT 0`;
    }
    const tuples = rows.map(
      (r) => `(${r.map((v, i) => this.datatableValue(v, columns[i]!.type)).join(', ')})`,
    );
    return `SELECT * FROM values(${sqlString(structure)}, ${tuples.join(', ')})`;
  }

  private datatableValue(v: Scalar, type: ScalarType): string {
    if (v.k === 'lit' && v.value === null) return type === 'string' ? "''" : 'NULL';
    return this.scalar(v);
  }

  private from(sql: string): string {
    return `(${sql}) AS ${this.alias()}`;
  }

  /** `SELECT <exprs> FROM prev [tail]`, in two levels when an alias could capture an input column. */
  private select(
    prev: string,
    input: readonly Column[],
    outputs: { name: string; sql: string }[],
    tail = '',
  ): string {
    const inputNames = new Set(input.map((c) => c.name));
    const safe = outputs.every((o) => o.sql === ident(o.name) || !inputNames.has(o.name));
    if (safe) {
      const list = outputs.map((o) => (o.sql === ident(o.name) ? o.sql : `${o.sql} AS ${ident(o.name)}`));
      return `SELECT ${list.join(', ')} FROM ${this.from(prev)}${tail}`;
    }
    const temps = outputs.map((o, i) => ({ ...o, temp: `__e${i}` }));
    const inner = `SELECT ${temps.map((o) => `${o.sql} AS ${o.temp}`).join(', ')} FROM ${this.from(prev)}${tail}`;
    return `SELECT ${temps.map((o) => `${o.temp} AS ${ident(o.name)}`).join(', ')} FROM ${this.from(inner)}`;
  }

  private step(
    prev: string,
    input: readonly Column[],
    op: Operator,
    output: readonly Column[],
    full?: { fullInput: readonly Column[]; fullOutput: readonly Column[] },
  ): string {
    switch (op.k) {
      case 'render':
        return prev;
      case 'where':
        return `SELECT * FROM ${this.from(prev)} WHERE ${this.scalar(op.predicate)}`;
      case 'extend': {
        let sql = prev;
        let cols: Column[] = [...input];
        for (const a of op.assignments) {
          const exists = cols.some((c) => c.name === a.name);
          const outputs = cols.map((c) => ({
            name: c.name,
            sql: c.name === a.name ? this.scalar(a.expr) : ident(c.name),
          }));
          if (!exists) outputs.push({ name: a.name, sql: this.scalar(a.expr) });
          sql = this.select(sql, cols, outputs);
          cols = exists ? cols : [...cols, { name: a.name, type: a.expr.type }];
        }
        // The binder's order is the truth (an extend keeps replaced columns in place).
        if (cols.map((c) => c.name).join('\u0000') !== output.map((c) => c.name).join('\u0000'))
          sql = `SELECT ${output.map((c) => ident(c.name)).join(', ')} FROM ${this.from(sql)}`;
        return sql;
      }
      case 'project':
        return this.select(
          prev,
          input,
          op.assignments.map((a) => ({ name: a.name, sql: this.scalar(a.expr) })),
        );
      case 'summarize':
        return this.summarize(prev, op);
      case 'sort':
        return `SELECT * FROM ${this.from(prev)} ORDER BY ${this.orderBy(op.keys)}`;
      case 'take':
        return `SELECT * FROM ${this.from(prev)} LIMIT ${this.scalar(op.count)}`;
      case 'top':
        return `SELECT * FROM ${this.from(prev)} ORDER BY ${this.orderBy(op.keys)} LIMIT ${this.scalar(op.count)}`;
      case 'count':
        return `SELECT toInt64(count()) AS ${ident(output[0]?.name ?? 'Count')} FROM ${this.from(prev)}`;
      case 'distinct':
        return `SELECT DISTINCT ${op.columns.map(ident).join(', ')} FROM ${this.from(prev)}`;
      case 'join':
        return this.join(prev, input, op.kind, op.right, op.keys, output, full, op.lookup);
      case 'mv-expand':
        return this.mvExpand(prev, op, output);
      case 'parse':
        return this.parse(prev, op, output);
      case 'mv-apply':
        return this.mvApply(prev, input, op, output);
      case 'make-series':
        return this.makeSeries(prev, op, output);
      case 'bag-unpack': {
        const bag = this.scalar(op.column);
        const outputs = output.map((c) => {
          const u = op.unpacked.find((x) => x.name === c.name);
          if (!u) return { name: c.name, sql: ident(c.name) };
          const value = `nullIf(nullIf(JSONExtractRaw(${bag}, ${sqlString(u.key)}), ''), 'null')`;
          return { name: c.name, sql: this.fromDynamic(value, u.type, 'bag_unpack') };
        });
        return this.select(prev, input, outputs);
      }
      case 'union': {
        const parts = [
          { sql: prev, columns: input },
          ...op.others.map((o) => ({ sql: this.tabular(o), columns: o.columns })),
        ];
        const selects = parts.map((p, i) => {
          const list = output.map((c) => {
            if (c.name === op.withSource)
              return `${sqlString(op.sourceNames?.[i] ?? '')} AS ${ident(c.name)}`;
            const has = p.columns.some((x) => x.name === c.name);
            if (has) return ident(c.name);
            const suffixed = p.columns.find((x) => `${x.name}_${x.type}` === c.name && x.type === c.type);
            if (suffixed) return `${ident(suffixed.name)} AS ${ident(c.name)}`;
            return `CAST(${c.type === 'string' ? "''" : 'NULL'}, ${sqlString(storageType(c.type))}) AS ${ident(c.name)}`;
          });
          return `SELECT ${list.join(', ')} FROM ${this.from(p.sql)}`;
        });
        return selects.join(' UNION ALL ');
      }
    }
  }

  /**
   * `mv-expand`: level 1 computes each item's elements as `Array(Nullable(String))` of JSON texts
   * (null → one null element, array → its elements, bag → one-property bags or `[key, value]`
   * arrays, any other value → itself); level 2 `ARRAY JOIN`s the row numbers `0 .. max length - 1`
   * (capped by `limit`), so the items pair up by index and a shorter array gives null; an empty
   * array/bag yields no row. Level 3 renames.
   */
  private mvExpand(
    prev: string,
    op: Extract<Operator, { k: 'mv-expand' }>,
    output: readonly Column[],
  ): string {
    const arrType = sqlString('Array(Nullable(String))');
    const arrays = op.items.map((item, i) => {
      const raw =
        item.expr.type === 'dynamic'
          ? this.scalar(item.expr)
          : toJsonText(this.scalar(item.expr), item.expr.type);
      const v = `__mv${i}`;
      const bag =
        op.bagExpansion === 'bag'
          ? `arrayMap(kv -> concat('{', toJSONString(kv.1), ':', kv.2, '}'), JSONExtractKeysAndValuesRaw(${v}))`
          : `arrayMap(kv -> concat('[', toJSONString(kv.1), ',', kv.2, ']'), JSONExtractKeysAndValuesRaw(${v}))`;
      return {
        v,
        raw,
        arr: `multiIf(${v} = 'null', CAST([NULL], ${arrType}), JSONType(${v}) = 'Array', CAST(JSONExtractArrayRaw(${v}), ${arrType}), JSONType(${v}) = 'Object', CAST(${bag}, ${arrType}), CAST([${v}], ${arrType})) AS __ma${i}`,
      };
    });
    const level1 = `SELECT *, ${arrays.map((a) => `${a.arr}`).join(', ')} FROM (SELECT *, ${arrays.map((a) => `ifNull(${a.raw}, 'null') AS ${a.v}`).join(', ')} FROM ${this.from(prev)}) AS ${this.alias()}`;
    const lengths = arrays.map((_, i) => `length(__ma${i})`);
    let n = lengths.length > 1 ? `greatest(${lengths.join(', ')})` : lengths[0]!;
    if (op.limit) n = `least(${n}, toUInt64(greatest(${this.scalar(op.limit)}, 0)))`;
    const element = (i: number, type: ScalarType): string => {
      const e = `__ma${i}[__mvi + 1]`;
      if (type === 'dynamic') return `nullIf(${e}, 'null')`;
      if (type === 'string') return toKqlString(e, 'dynamic');
      const fn = { long: 'tolong', int: 'toint', real: 'toreal', bool: 'tobool', datetime: 'todatetime' }[
        type as string
      ];
      const entry = fn ? SCALAR_FUNCTIONS[fn] : undefined;
      if (!entry) throw unsupported(`mv-expand ... to typeof(${type})`);
      return entry.sql([{ sql: e, type: 'dynamic', ir: { k: 'col', name: '__v', type: 'dynamic' } }], type);
    };
    const list = output.map((c, j) => {
      const i = op.items.findIndex((x) => x.name === c.name);
      const sql =
        i >= 0 ? element(i, op.items[i]!.type) : c.name === op.itemIndex ? 'toInt64(__mvi)' : ident(c.name);
      return `${sql} AS __e${j}`;
    });
    const level2 = `SELECT ${list.join(', ')} FROM (${level1}) AS ${this.alias()} ARRAY JOIN range(toUInt64(${n})) AS __mvi`;
    return `SELECT ${output.map((c, j) => `__e${j} AS ${ident(c.name)}`).join(', ')} FROM ${this.from(level2)}`;
  }

  /** A dynamic value (JSON text) converted to `type`, as `mv-expand ... to typeof(type)` does. */
  private fromDynamic(e: string, type: ScalarType, what: string): string {
    if (type === 'dynamic') return e;
    if (type === 'string') return toKqlString(e, 'dynamic');
    const fn = { long: 'tolong', int: 'toint', real: 'toreal', bool: 'tobool', datetime: 'todatetime' }[
      type as string
    ];
    const entry = fn ? SCALAR_FUNCTIONS[fn] : undefined;
    if (!entry) throw unsupported(`${what} to type '${type}'`);
    return entry.sql([{ sql: e, type: 'dynamic', ir: { k: 'col', name: '__v', type: 'dynamic' } }], type);
  }

  /**
   * `mv-apply`: level 0 numbers the input rows (`__rid`) and copies each input column to a passenger
   * `__pN`; the items expand as in `mv-expand`; the subquery's steps run with `__rid` and the
   * passengers carried along (`summarize` groups by them, `top`/`take` are `LIMIT n BY __rid`), so
   * each input row is processed separately and the input is read once. The output reads a column from
   * the subquery when it produced one, else from its passenger.
   */
  private mvApply(
    prev: string,
    input: readonly Column[],
    op: Extract<Operator, { k: 'mv-apply' }>,
    output: readonly Column[],
  ): string {
    const passengers: Column[] = input.map((c, i) => ({ name: `__p${i}`, type: c.type }));
    const extra: Column[] = [{ name: '__rid', type: 'long' }, ...passengers];
    const level0 = `SELECT *, rowNumberInAllBlocks() AS __rid${input.map((c, i) => `, ${ident(c.name)} AS __p${i}`).join('')} FROM ${this.from(prev)}`;
    const sub = op.subquery;
    let sql = this.mvExpand(
      level0,
      {
        k: 'mv-expand',
        items: op.items,
        bagExpansion: 'bag',
        ...(op.itemIndex ? { itemIndex: op.itemIndex } : {}),
      },
      [...sub.sourceColumns, ...extra],
    );
    let columns = sub.sourceColumns;
    for (const step of sub.steps) {
      sql = this.partitionedStep(sql, columns, step.op, step.columns, extra);
      columns = step.columns;
    }
    const subNames = new Set(columns.map((c) => c.name));
    const outputs = output.map((c) => {
      if (subNames.has(c.name)) return { name: c.name, sql: ident(c.name) };
      const i = input.findIndex((x) => x.name === c.name);
      if (i < 0) throw unsupported(`The mv-apply output column '${c.name}'`);
      return { name: c.name, sql: `__p${i}` };
    });
    return this.select(sql, [...columns, ...extra], outputs);
  }

  /** A step of an `mv-apply` subquery: per input row (`__rid`), carrying `extra` along. */
  private partitionedStep(
    prev: string,
    input: readonly Column[],
    op: Operator,
    output: readonly Column[],
    extra: readonly Column[],
  ): string {
    const names = extra.map((c) => ident(c.name));
    const by = names.join(', ');
    switch (op.k) {
      case 'take':
        return `SELECT * FROM ${this.from(prev)} LIMIT ${this.scalar(op.count)} BY __rid`;
      case 'top':
        return `SELECT * FROM ${this.from(prev)} ORDER BY ${this.orderBy(op.keys)} LIMIT ${this.scalar(op.count)} BY __rid`;
      case 'sort':
        return `SELECT * FROM ${this.from(prev)} ORDER BY __rid, ${this.orderBy(op.keys)}`;
      case 'count':
        return `SELECT toInt64(count()) AS ${ident(output[0]?.name ?? 'Count')}, ${by} FROM ${this.from(prev)} GROUP BY ${by}`;
      case 'distinct':
        return `SELECT DISTINCT ${[...op.columns.map(ident), ...names].join(', ')} FROM ${this.from(prev)}`;
      case 'summarize':
        return this.summarize(prev, {
          ...op,
          by: [
            ...extra.map((c) => ({ name: c.name, expr: { k: 'col', name: c.name, type: c.type } as Scalar })),
            ...op.by,
          ],
        });
      case 'project':
        return this.select(
          prev,
          [...input, ...extra],
          [
            ...op.assignments.map((a) => ({ name: a.name, sql: this.scalar(a.expr) })),
            ...names.map((n, i) => ({ name: extra[i]!.name, sql: n })),
          ],
        );
      case 'where':
      case 'extend':
      case 'render':
      case 'mv-expand':
      case 'parse':
        return this.step(prev, [...input, ...extra], op, [...output, ...extra]);
      default:
        throw unsupported(`'${op.k}' inside mv-apply`);
    }
  }

  /** `parse`/`parse-where`: `match` + `extractGroups` on the text, then each capture converted. */
  private parse(prev: string, op: Extract<Operator, { k: 'parse' }>, output: readonly Column[]): string {
    const text =
      op.expr.type === 'string' ? this.scalar(op.expr) : toKqlString(this.scalar(op.expr), op.expr.type);
    const re = sqlString(op.regex);
    const groups = op.captures.length ? `, extractGroups(__pt, ${re}) AS __pg` : '';
    const level1 = `SELECT *, match(__pt, ${re}) AS __pm${groups} FROM (SELECT *, ${text} AS __pt FROM ${this.from(prev)}) AS ${this.alias()}`;
    const convert = (g: string, type: ScalarType): string => {
      if (type === 'string') return g;
      if (type === 'guid') return `toUUIDOrNull(${g})`;
      const fn = {
        long: 'tolong',
        int: 'toint',
        real: 'toreal',
        decimal: 'toreal',
        bool: 'tobool',
        datetime: 'todatetime',
        dynamic: 'todynamic',
      }[type as string];
      const entry = fn ? SCALAR_FUNCTIONS[fn] : undefined;
      if (!entry) throw unsupported(`A parse column of type '${type}'`);
      return entry.sql([{ sql: g, type: 'string', ir: { k: 'col', name: '__g', type: 'string' } }], type);
    };
    // Strict kinds: a typed capture that does not convert fails the whole match (every capture null).
    const typed = op.strict
      ? op.captures
          .filter((c) => c.type !== 'string')
          .map((c) => `isNotNull(${convert(`__pg[${c.group}]`, c.type)})`)
      : [];
    const ok = typed.length ? `(__pm${typed.map((t) => ` AND ${t}`).join('')})` : '__pm';
    const list = output.map((c, j) => {
      const cap = op.captures.find((x) => x.name === c.name);
      if (!cap) return `${ident(c.name)} AS __e${j}`;
      const value = convert(`__pg[${cap.group}]`, cap.type);
      const none = cap.type === 'string' ? "''" : `CAST(NULL, ${sqlString(storageType(cap.type))})`;
      return `if(${ok}, ${value}, ${none}) AS __e${j}`;
    });
    const where = op.where ? ` WHERE ${ok}` : '';
    const level2 = `SELECT ${list.join(', ')} FROM (${level1}) AS ${this.alias()}${where}`;
    return `SELECT ${output.map((c, j) => `__e${j} AS ${ident(c.name)}`).join(', ')} FROM ${this.from(level2)}`;
  }

  /**
   * `make-series` in three levels: rows in [from, to) get their bin number `__bi`; aggregate per
   * group and bin; per group, each series is built over bins `0 .. n-1` (n = ceil((to - from) / step))
   * from the (bin, value) pairs, with the default where a bin has none, as JSON text. The axis is
   * the array of bin starts (`"2024-05-01T00:00:00.0000000Z"`). Groups without rows in the range give
   * no row.
   */
  private makeSeries(
    prev: string,
    op: Extract<Operator, { k: 'make-series' }>,
    output: readonly Column[],
  ): string {
    const ticks = (sql: string) => `reinterpretAsInt64(toDateTime64(${sql}, 7, 'UTC'))`;
    const from = ticks(this.scalar(op.from));
    const to = ticks(this.scalar(op.to));
    const step = `toInt64(${this.scalar(op.step)})`;
    const on = this.scalar(op.on);
    const keys = op.by.map((_, i) => `__k${i}`);
    const level1 = `SELECT *, ${[...op.by.map((b, i) => `${this.scalar(b.expr)} AS __k${i}`), `intDiv(${ticks(on)} - ${from}, ${step}) AS __bi`].join(', ')} FROM ${this.from(prev)} WHERE ${ticks(on)} >= ${from} AND ${ticks(on)} < ${to}`;
    const aggs = op.aggregates.map((a, i) => {
      const entry = AGGREGATE_FUNCTIONS[a.fn];
      if (!entry) throw unsupportedFunction(a.fn);
      return `${entry.sql(
        a.args.map((x) => ({ sql: this.scalar(x), type: x.type, ir: x })),
        a.type,
      )} AS __v${i}`;
    });
    const level2 = `SELECT ${[...keys, '__bi', ...aggs].join(', ')} FROM (${level1}) AS ${this.alias()} GROUP BY ${[...keys, '__bi'].join(', ')}`;
    const n = `toUInt64(greatest(intDiv(${to} - ${from} + ${step} - 1, ${step}), 0))`;
    const series = op.aggregates.map((a, i) => {
      const value = toJsonText(`arrayElement(__vs${i}, indexOf(__bis, __i))`, a.type);
      const dflt = toJsonText(this.scalar(a.default), a.default.type);
      return `concat('[', arrayStringConcat(arrayMap(__i -> if(has(__bis, __i), ifNull(${value}, 'null'), ifNull(${dflt}, 'null')), range(${n})), ','), ']') AS ${ident(a.name)}`;
    });
    const axis = `concat('[', arrayStringConcat(arrayMap(__i -> concat('"', replaceOne(toString(reinterpret(${from} + toInt64(__i) * ${step}, 'DateTime64(7, \\'UTC\\')')), ' ', 'T'), 'Z"'), range(${n})), ','), ']') AS ${ident(op.axis)}`;
    const level3 = `SELECT ${[...op.by.map((b, i) => `__k${i} AS ${ident(b.name)}`), ...series, axis].join(
      ', ',
    )} FROM (SELECT ${[...keys, 'groupArray(__bi) AS __bis', ...op.aggregates.map((_, i) => `groupArray(__v${i}) AS __vs${i}`)].join(', ')} FROM (${level2}) AS ${this.alias()}${keys.length ? ` GROUP BY ${keys.join(', ')}` : ''}) AS ${this.alias()}`;
    return `SELECT ${output.map((c) => ident(c.name)).join(', ')} FROM ${this.from(level3)}`;
  }

  private orderBy(keys: readonly SortKey[]): string {
    return keys
      .map(
        (k) => `${this.scalar(k.expr)} ${k.desc ? 'DESC' : 'ASC'} NULLS ${k.nullsFirst ? 'FIRST' : 'LAST'}`,
      )
      .join(', ');
  }

  private summarize(prev: string, op: Extract<Operator, { k: 'summarize' }>): string {
    // Level 1: by-keys under temporary names next to the input columns.
    const keyTemps = op.by.map((_, i) => `__k${i}`);
    const withKeys = op.by.length
      ? `SELECT *, ${op.by.map((b, i) => `${this.scalar(b.expr)} AS ${keyTemps[i]}`).join(', ')} FROM ${this.from(prev)}`
      : prev;
    // Level 2: aggregate, everything under temporary names.
    const items: string[] = keyTemps.slice();
    const renames: string[] = op.by.map((b, i) => `${keyTemps[i]} AS ${ident(b.name)}`);
    op.aggregates.forEach((agg, i) => {
      const temp = `__a${i}`;
      if (agg.fn === 'arg_max' || agg.fn === 'arg_min') {
        const x = this.scalar(agg.args[0]!);
        const carried = agg.carried ?? [];
        items.push(
          `${agg.fn === 'arg_max' ? 'argMax' : 'argMin'}(tuple(${[x, ...carried.map(ident)].join(', ')}), ${x}) AS ${temp}`,
        );
        agg.columns.forEach((c, j) => {
          renames.push(`tupleElement(${temp}, ${j + 1}) AS ${ident(c.name)}`);
        });
        return;
      }
      const entry = AGGREGATE_FUNCTIONS[agg.fn];
      if (!entry) throw unsupportedFunction(agg.fn);
      const args: Arg[] = agg.args.map((a) => ({ sql: this.scalar(a), type: a.type, ir: a }));
      if (agg.fn === 'percentiles' && agg.columns.length > 1) {
        // One output column per percentile, each its own aggregate.
        agg.columns.forEach((c, j) => {
          const t = `${temp}_${j}`;
          items.push(`${entry.sql([args[0]!, args[j + 1]!], c.type)} AS ${t}`);
          renames.push(`${t} AS ${ident(c.name)}`);
        });
        return;
      }
      items.push(`${entry.sql(args, agg.columns[0]!.type)} AS ${temp}`);
      renames.push(`${temp} AS ${ident(agg.columns[0]!.name)}`);
    });
    const groupBy = keyTemps.length ? ` GROUP BY ${keyTemps.join(', ')}` : '';
    const aggregated = `SELECT ${items.join(', ')} FROM ${this.from(withKeys)}${groupBy}`;
    return `SELECT ${renames.join(', ')} FROM ${this.from(aggregated)}`;
  }

  private join(
    prev: string,
    input: readonly Column[],
    kind: JoinKind,
    right: Tabular,
    keys: readonly { left: string; right: string }[],
    output: readonly Column[],
    full?: { fullInput: readonly Column[]; fullOutput: readonly Column[] },
    lookup?: boolean,
  ): string {
    const l = this.alias('l');
    const r = this.alias('r');
    // The binder's output pairs up, position by position, with the sides' full column lists; only the
    // output columns still needed (`output`) are selected, and the right side is read for those only.
    const fullInput = full?.fullInput ?? input;
    const fullOutput = full?.fullOutput ?? output;
    const sides = joinSides(kind, fullInput, right.columns, lookup ? keys : undefined);
    if (sides.length !== fullOutput.length) throw unsupported('This join shape');
    const keptNames = new Set(output.map((c) => c.name));
    const kept = fullOutput.flatMap((c, i) => (keptNames.has(c.name) ? [{ out: c, side: sides[i]! }] : []));
    const rightNeed = new Set([
      ...keys.map((k) => k.right),
      ...kept.filter((k) => k.side.right).map((k) => k.side.name),
    ]);
    const rightT = this.tabularWith(right, rightNeed);
    // Outer joins fill the missing side with each type's default: make non-string columns Nullable so
    // the default is null, as in Kusto (a string's default, "", is Kusto's null string).
    const nullable = (cols: readonly Column[], sql: string): string =>
      `SELECT ${cols.map((c) => (c.type === 'string' ? ident(c.name) : `toNullable(${ident(c.name)}) AS ${ident(c.name)}`)).join(', ')} FROM ${this.from(sql)}`;
    let leftSql = prev;
    let rightSql = rightT.sql;
    if (kind === 'innerunique')
      leftSql = `SELECT * FROM ${this.from(prev)} LIMIT 1 BY ${keys.map((k) => ident(k.left)).join(', ')}`;
    if (kind === 'rightouter' || kind === 'fullouter') leftSql = nullable(input, leftSql);
    if (kind === 'leftouter' || kind === 'fullouter') rightSql = nullable(rightT.columns, rightSql);
    const sqlKind: Record<JoinKind, string> = {
      innerunique: 'INNER JOIN',
      inner: 'INNER JOIN',
      leftouter: 'LEFT OUTER JOIN',
      rightouter: 'RIGHT OUTER JOIN',
      fullouter: 'FULL OUTER JOIN',
      leftanti: 'LEFT ANTI JOIN',
      rightanti: 'RIGHT ANTI JOIN',
      leftsemi: 'LEFT SEMI JOIN',
      rightsemi: 'RIGHT SEMI JOIN',
    };
    const list = kept.map((k, i) => `${k.side.right ? r : l}.${ident(k.side.name)} AS __j${i}`);
    const on = keys.map((k) => `${l}.${ident(k.left)} = ${r}.${ident(k.right)}`).join(' AND ');
    // Wrapped once more so later steps see plain column names.
    const joined = `SELECT ${list.join(', ')} FROM (${leftSql}) AS ${l} ${sqlKind[kind]} (${rightSql}) AS ${r} ON ${on}`;
    return `SELECT ${kept.map((k, i) => `__j${i} AS ${ident(k.out.name)}`).join(', ')} FROM ${this.from(joined)}`;
  }

  // -------------------------------------------------------------------------------------------
  // Scalars

  scalar(e: Scalar): string {
    switch (e.k) {
      case 'lit':
        return literalSql(e.type, e.value);
      case 'col':
        return ident(e.name);
      case 'unary':
        return `(-${this.scalar(e.arg)})`;
      case 'call': {
        if (e.fn === 'tostring' && e.args.length === 1 && e.args[0]!.type === 'dynamic')
          return this.dynamicString(e.args[0]!);
        const entry = SCALAR_FUNCTIONS[e.fn];
        if (!entry) throw unsupportedFunction(e.fn);
        return entry.sql(
          e.args.map((a) => ({ sql: this.scalar(a), type: a.type, ir: a })),
          e.type,
        );
      }
      case 'member':
        return this.member(e);
      case 'toscalar': {
        const first = e.query.columns.find((c) => !c.hidden)!;
        const value = `(SELECT toNullable(${ident(first.name)}) FROM (${this.tabular(e.query, new Set([first.name]))}) AS ${this.alias()} LIMIT 1)`;
        return e.type === 'string' ? `ifNull(${value}, '')` : value;
      }
      case 'between': {
        const arg = this.scalar(e.arg);
        const lo = this.scalar(e.lo);
        let hi = this.scalar(e.hi);
        if (e.arg.type === 'datetime' && e.hi.type === 'timespan')
          hi = ticksToDt(`${dtToTicks(lo)} + (${hi})`);
        const test = `(${arg} >= ${lo} AND ${arg} <= ${hi})`;
        return e.negated ? `(NOT ${test})` : test;
      }
      case 'in':
        if (e.query) return this.inQuery(e.op, e.left, e.query);
        return this.inList(e.op, e.left, e.items);
      case 'binary':
        return this.binary(e.op, e.left, e.right, e.type);
    }
  }

  private member(e: Extract<Scalar, { k: 'member' }>): string {
    const { doc, path } = this.memberPath(e);
    return `nullIf(JSONExtractRaw(${doc}, ${path.join(', ')}), '')`;
  }

  /**
   * The document and JSON path of `d.a[0]['b']`. A path into `parse_json(text)`/`todynamic(text)` reads
   * the text itself: invalid JSON (which `parse_json` turns into a dynamic string) and `""` have no
   * properties either way, so the `isValidJSON` test is not needed.
   */
  private memberPath(e: Extract<Scalar, { k: 'member' }>): { doc: string; path: string[] } {
    const path: string[] = [];
    let cur: Scalar = e;
    while (cur.k === 'member') {
      const key: string | Scalar = cur.key;
      if (typeof key === 'string') path.unshift(sqlString(key));
      else if (key.k === 'lit' && typeof key.value === 'string' && /^-?\d+$/.test(key.value)) {
        const i = Number(key.value);
        path.unshift(String(i >= 0 ? i + 1 : i));
      } else {
        const i = this.scalar(key);
        path.unshift(`if(${i} >= 0, toInt64(${i}) + 1, toInt64(${i}))`);
      }
      cur = cur.base;
    }
    const parsed =
      cur.k === 'call' &&
      (cur.fn === 'todynamic' || cur.fn === 'parse_json' || cur.fn === 'parsejson') &&
      cur.args.length === 1 &&
      cur.args[0]!.type === 'string';
    return {
      doc: parsed ? this.scalar((cur as { args: readonly Scalar[] }).args[0]!) : this.scalar(cur),
      path,
    };
  }

  /**
   * `tostring()` of a dynamic value. A path into a document is one `JSONExtract(..., 'Nullable(String)')`
   * (one parse of the document: strings unquoted, numbers/bools as text, objects/arrays as compact JSON,
   * null or missing → null → `""`) instead of extracting the raw value and then testing its JSON type.
   */
  private dynamicString(e: Scalar): string {
    if (e.k === 'member') {
      const { doc, path } = this.memberPath(e);
      return `ifNull(JSONExtract(${doc}, ${path.join(', ')}, 'Nullable(String)'), '')`;
    }
    return dynamicText(this.scalar(e));
  }

  /** A value as a string for string operators. */
  private text(e: Scalar): string {
    if (e.type === 'dynamic') return this.dynamicString(e);
    return e.type === 'string' ? this.scalar(e) : toKqlString(this.scalar(e), e.type);
  }

  /**
   * `x in (T)`: the first column of `T` as an `IN` subquery (strings compared as text, `in~` on
   * lower-cased text; a dynamic column of `T` by its `tostring`). `has_any`/`has_all (T)`: the term
   * match of each of T's first column's distinct values (at most 10,000, as Kusto), as an array.
   */
  private inQuery(op: string, left: Scalar, query: Tabular): string {
    const negated = op.startsWith('!');
    const base = negated ? op.slice(1) : op;
    const first = query.columns.find((c) => !c.hidden) ?? query.columns[0]!;
    const inner = this.tabular(query, new Set([first.name]));
    const col: Scalar = { k: 'col', name: first.name, type: first.type };
    if (base === 'has_any' || base === 'has_all') {
      const needles = `(SELECT groupUniqArray(10000)(${this.text(col)}) FROM (${inner}) AS ${this.alias()})`;
      const test = this.has(left, { k: 'col', name: '__n', type: 'string' }, 'has');
      return `${negated ? 'NOT ' : ''}${base === 'has_any' ? 'arrayExists' : 'arrayAll'}(\`__n\` -> ${test}, ${needles})`;
    }
    const textual = base === 'in~' || left.type === 'string' || left.type === 'dynamic';
    let value = textual ? this.text(col) : ident(first.name);
    let l = textual ? this.text(left) : this.scalar(left);
    if (base === 'in~') {
      value = `lowerUTF8(${value})`;
      l = `lowerUTF8(${l})`;
    } else if (base !== 'in') throw unsupported(`The operator '${op}' over a tabular expression`);
    const test = `(${l} IN (SELECT ${value} FROM (${inner}) AS ${this.alias()}))`;
    return negated ? `(NOT ${test})` : test;
  }

  private inList(op: string, left: Scalar, items: readonly Scalar[]): string {
    const negated = op.startsWith('!');
    const base = negated ? op.slice(1) : op;
    let test: string;
    if (base === 'has_any' || base === 'has_all') {
      const parts = items.map((i) => this.has(left, i, 'has'));
      test = parts.length
        ? `(${parts.join(base === 'has_any' ? ' OR ' : ' AND ')})`
        : base === 'has_any'
          ? '0'
          : '1';
    } else if (items.length === 0) {
      test = '0';
    } else if (base === 'in~') {
      test = `(lowerUTF8(${this.text(left)}) IN (${items.map((i) => `lowerUTF8(${this.text(i)})`).join(', ')}))`;
    } else if (base === 'in') {
      const l = left.type === 'dynamic' ? this.text(left) : this.scalar(left);
      test = `(${l} IN (${items.map((i) => (left.type === 'string' || left.type === 'dynamic' ? this.text(i) : this.scalar(i))).join(', ')}))`;
    } else throw unsupported(`The operator '${op}'`);
    return negated ? `(NOT ${test})` : test;
  }

  /** Term match (`has`, `hasprefix`, `hassuffix` and `_cs`): see README "has". */
  private has(left: Scalar, right: Scalar, op: string): string {
    const cs = op.endsWith('_cs');
    const kind = op.replace(/_cs$/, '');
    const hay = this.text(left);
    const term = '[^\\p{L}\\p{N}]';
    if (right.k === 'lit' && typeof right.value === 'string') {
      const needle = right.value;
      if (kind === 'has' && /^[A-Za-z0-9]+$/.test(needle))
        return `${cs ? 'hasToken' : 'hasTokenCaseInsensitive'}(${hay}, ${sqlString(needle)})`;
      const startsTerm = /^[\p{L}\p{N}]/u.test(needle);
      const endsTerm = /[\p{L}\p{N}]$/u.test(needle);
      const pre = kind !== 'hassuffix' && startsTerm ? `(?:^|${term})` : '';
      const post = kind !== 'hasprefix' && endsTerm ? `(?:$|${term})` : '';
      const pattern = `${cs ? '' : '(?i)'}${kind === 'hassuffix' && startsTerm ? '' : pre}${regexQuote(needle)}${post}`;
      return `match(${hay}, ${sqlString(pattern)})`;
    }
    // A needle known only at run time: the boundary goes on an end only when that end is a term
    // character, as for a literal (`has ".exe"` matches "a.exe").
    const needle = this.text(right);
    const pre =
      kind === 'hassuffix'
        ? "''"
        : `if(match(${needle}, ${sqlString('^[\\p{L}\\p{N}]')}), ${sqlString(`(?:^|${term})`)}, '')`;
    const post =
      kind === 'hasprefix'
        ? "''"
        : `if(match(${needle}, ${sqlString('[\\p{L}\\p{N}]$')}), ${sqlString(`(?:$|${term})`)}, '')`;
    return `match(${hay}, concat(${sqlString(cs ? '' : '(?i)')}, ${pre}, regexpQuoteMeta(${needle}), ${post}))`;
  }

  private binary(op: string, left: Scalar, right: Scalar, type: ScalarType): string {
    const l = () => this.scalar(left);
    const r = () => this.scalar(right);
    const lower = op.toLowerCase();
    const negated = lower.startsWith('!') && lower !== '!=' && lower !== '!~';
    const base = negated ? lower.slice(1) : lower;
    const wrap = (sql: string) => (negated ? `(NOT ${sql})` : sql);
    const integral = (t: ScalarType) => t === 'long' || t === 'int';
    switch (base) {
      case 'and':
        return `(${l()} AND ${r()})`;
      case 'or':
        return `(${l()} OR ${r()})`;
      case '+':
      case '-': {
        if (left.type === 'datetime' && right.type === 'datetime' && base === '-')
          return `(${dtToTicks(l())} - ${dtToTicks(r())})`;
        if (left.type === 'datetime' && right.type === 'timespan')
          return ticksToDt(`${dtToTicks(l())} ${base} (${r()})`);
        if (left.type === 'timespan' && right.type === 'datetime' && base === '+')
          return ticksToDt(`${dtToTicks(r())} + (${l()})`);
        return `(${l()} ${base} ${r()})`;
      }
      case '*':
        if (type === 'timespan' && (left.type === 'real' || right.type === 'real'))
          return `toInt64((${l()}) * (${r()}))`;
        return `(${l()} * ${r()})`;
      case '/':
        if ((integral(left.type) || left.type === 'timespan') && integral(right.type))
          return `if(${r()} = 0, NULL, intDivOrZero(${l()}, ${r()}))`;
        if (type === 'timespan') return `toInt64(trunc((${l()}) / (${r()})))`;
        return `(${l()} / ${r()})`;
      case '%':
        return `if(${r()} = 0, NULL, moduloOrZero(${l()}, ${r()}))`;
      case '<':
      case '<=':
      case '>':
      case '>=':
      case '==':
      case '!=': {
        const sqlOp = base === '==' ? '=' : base;
        const [a, b] = this.comparable(left, right);
        return `(${a} ${sqlOp} ${b})`;
      }
      case '=~':
        return `(lowerUTF8(${this.text(left)}) = lowerUTF8(${this.text(right)}))`;
      case '!~':
        return `(lowerUTF8(${this.text(left)}) != lowerUTF8(${this.text(right)}))`;
      case 'contains':
        return wrap(`(positionCaseInsensitiveUTF8(${this.text(left)}, ${this.text(right)}) > 0)`);
      case 'contains_cs':
        return wrap(`(position(${this.text(left)}, ${this.text(right)}) > 0)`);
      case 'startswith':
        return wrap(`startsWith(lowerUTF8(${this.text(left)}), lowerUTF8(${this.text(right)}))`);
      case 'startswith_cs':
        return wrap(`startsWith(${this.text(left)}, ${this.text(right)})`);
      case 'endswith':
        return wrap(`endsWith(lowerUTF8(${this.text(left)}), lowerUTF8(${this.text(right)}))`);
      case 'endswith_cs':
        return wrap(`endsWith(${this.text(left)}, ${this.text(right)})`);
      case 'has':
      case 'has_cs':
      case 'hasprefix':
      case 'hasprefix_cs':
      case 'hassuffix':
      case 'hassuffix_cs':
        return wrap(this.has(left, right, base));
      case 'matches regex':
        return `match(${this.text(left)}, ${this.text(right)})`;
      default:
        throw new KqlError('KQL_UNSUPPORTED_OPERATOR', `The operator '${op}' is not supported yet.`);
    }
  }

  /** Operands of a comparison: a dynamic compared with a typed value is read as that type. */
  private comparable(left: Scalar, right: Scalar): [string, string] {
    const conv = (dyn: Scalar, other: ScalarType): string => {
      if (other === 'string') return this.dynamicString(dyn);
      const text = dynamicText(this.scalar(dyn));
      if (other === 'long' || other === 'int' || other === 'real') return `toFloat64OrNull(${text})`;
      if (other === 'bool') return `(${text} = 'true')`;
      return this.scalar(dyn);
    };
    if (left.type === 'dynamic' && right.type !== 'dynamic')
      return [conv(left, right.type), this.scalar(right)];
    if (right.type === 'dynamic' && left.type !== 'dynamic')
      return [this.scalar(left), conv(right, left.type)];
    return [this.scalar(left), this.scalar(right)];
  }
}

/** The input column each join output column comes from, by position (the binder's output order). */
function joinSides(
  kind: JoinKind,
  left: readonly Column[],
  right: readonly Column[],
  lookupKeys?: readonly { left: string; right: string }[],
): { right: boolean; name: string }[] {
  const l = left.map((c) => ({ right: false, name: c.name }));
  const dropped = new Set((lookupKeys ?? []).map((k) => k.right));
  const r = right.filter((c) => !dropped.has(c.name)).map((c) => ({ right: true, name: c.name }));
  if (kind === 'leftanti' || kind === 'leftsemi') return l;
  if (kind === 'rightanti' || kind === 'rightsemi') return r;
  return [...l, ...r];
}

/** Adds the columns a scalar reads to `out` (a `toscalar` subquery reads none of the row's). */
export function usedColumns(e: Scalar, out: Set<string>): Set<string> {
  switch (e.k) {
    case 'col':
      out.add(e.name);
      break;
    case 'lit':
    case 'toscalar':
      break;
    case 'binary':
      usedColumns(e.left, out);
      usedColumns(e.right, out);
      break;
    case 'unary':
      usedColumns(e.arg, out);
      break;
    case 'in':
      usedColumns(e.left, out);
      for (const i of e.items) usedColumns(i, out);
      break;
    case 'between':
      usedColumns(e.arg, out);
      usedColumns(e.lo, out);
      usedColumns(e.hi, out);
      break;
    case 'call':
      for (const a of e.args) usedColumns(a, out);
      break;
    case 'member':
      usedColumns(e.base, out);
      if (typeof e.key !== 'string') usedColumns(e.key, out);
      break;
  }
  return out;
}

/** The `extend` assignments whose result is read later (a later assignment may read an earlier one). */
function keptAssignments(assignments: readonly Assignment[], needOut: ReadonlySet<string>) {
  const need = new Set(needOut);
  const kept: Assignment[] = [];
  for (let i = assignments.length - 1; i >= 0; i--) {
    const a = assignments[i]!;
    if (!need.has(a.name)) continue;
    kept.unshift(a);
    need.delete(a.name);
    usedColumns(a.expr, need);
  }
  return { kept, need };
}

function keptProjections(assignments: readonly Assignment[], needOut: ReadonlySet<string>): Assignment[] {
  const kept = assignments.filter((a) => needOut.has(a.name));
  return kept.length ? kept : assignments.slice(0, 1);
}

/** The columns a step reads from its input, given the columns read from its output. */
function inputNeed(
  op: Operator,
  input: readonly Column[],
  output: readonly Column[],
  needOut: ReadonlySet<string>,
): Set<string> {
  switch (op.k) {
    case 'where':
      return usedColumns(op.predicate, new Set(needOut));
    case 'sort':
    case 'top': {
      const need = new Set(needOut);
      for (const k of op.keys) usedColumns(k.expr, need);
      return need;
    }
    case 'take':
    case 'render':
      return new Set(needOut);
    case 'extend':
      return keptAssignments(op.assignments, needOut).need;
    case 'project': {
      const need = new Set<string>();
      for (const a of keptProjections(op.assignments, needOut)) usedColumns(a.expr, need);
      return need;
    }
    case 'summarize': {
      const need = new Set<string>();
      for (const b of op.by) usedColumns(b.expr, need);
      for (const a of op.aggregates) {
        for (const x of a.args) usedColumns(x, need);
        for (const c of a.carried ?? []) need.add(c);
      }
      return need;
    }
    case 'count':
      return new Set();
    case 'make-series': {
      const need = usedColumns(op.on, new Set<string>());
      for (const b of op.by) usedColumns(b.expr, need);
      for (const a of op.aggregates) for (const x of a.args) usedColumns(x, need);
      return need;
    }
    case 'distinct':
      return new Set(op.columns);
    case 'join': {
      const sides = joinSides(op.kind, input, op.right.columns, op.lookup ? op.keys : undefined);
      if (sides.length !== output.length) return new Set(input.map((c) => c.name));
      const need = new Set(op.keys.map((k) => k.left));
      output.forEach((c, i) => {
        if (needOut.has(c.name) && !sides[i]!.right) need.add(sides[i]!.name);
      });
      return need;
    }
    default:
      return new Set(input.map((c) => c.name));
  }
}

/** A step reduced to what is read from it: its operator and the columns it then produces. */
function pruneStep(
  op: Operator,
  input: readonly Column[],
  fullInput: readonly Column[],
  fullOutput: readonly Column[],
  needOut: ReadonlySet<string>,
): { op: Operator; columns: readonly Column[] } {
  switch (op.k) {
    case 'where':
    case 'sort':
    case 'top':
    case 'take':
    case 'render':
      return { op, columns: input };
    case 'extend': {
      const { kept } = keptAssignments(op.assignments, needOut);
      const names = new Set([...input.map((c) => c.name), ...kept.map((a) => a.name)]);
      return { op: { ...op, assignments: kept }, columns: fullOutput.filter((c) => names.has(c.name)) };
    }
    case 'project': {
      const kept = keptProjections(op.assignments, needOut);
      const names = new Set(kept.map((a) => a.name));
      return { op: { ...op, assignments: kept }, columns: fullOutput.filter((c) => names.has(c.name)) };
    }
    case 'join': {
      if (
        joinSides(op.kind, fullInput, op.right.columns, op.lookup ? op.keys : undefined).length !==
        fullOutput.length
      )
        return { op, columns: fullOutput };
      const columns = fullOutput.filter((c) => needOut.has(c.name));
      return { op, columns: columns.length ? columns : fullOutput.slice(0, 1) };
    }
    default:
      return { op, columns: fullOutput };
  }
}

export function literalSql(type: ScalarType, value: string | number | boolean | null): string {
  if (value === null)
    return type === 'string'
      ? "''"
      : type === 'null'
        ? 'NULL'
        : `CAST(NULL, ${sqlString(storageType(type))})`;
  switch (type) {
    case 'string':
      return sqlString(String(value));
    case 'long':
    case 'int':
      return String(value);
    case 'real':
    case 'decimal':
      return Number.isInteger(value) ? `toFloat64(${value})` : String(value);
    case 'bool':
      return value ? 'true' : 'false';
    case 'datetime':
      return `parseDateTime64BestEffort(${sqlString(String(value))}, 7, 'UTC')`;
    case 'timespan':
      return `toInt64(${value})`;
    case 'guid':
      return `toUUID(${sqlString(String(value))})`;
    case 'dynamic':
      return sqlString(String(value));
    default:
      return 'NULL';
  }
}

/** Compiles a tabular IR to one ClickHouse SELECT returning the visible output columns. */
export function compile(t: Tabular, options: CompileOptions): string {
  const c = new Compiler(options);
  const visible = t.columns.filter((col) => !col.hidden);
  const { sql, columns } = c.tabularWith(t, new Set(visible.map((col) => col.name)));
  if (columns.map((col) => col.name).join('\u0000') === visible.map((col) => col.name).join('\u0000'))
    return sql;
  return `SELECT ${visible.map((col) => ident(col.name)).join(', ')} FROM (${sql}) AS __out`;
}

/**
 * The key-discovery pre-query of `evaluate bag_unpack` (phase one of two): the distinct property
 * names of `bag` over `input`'s rows, sorted (byte order), each with the JSON types of its non-null
 * values (`String`, `Int64`, `UInt64`, `Double`, `Bool`, `Array`, `Object`).
 */
export function compileBagKeys(input: Tabular, bag: Scalar, options: CompileOptions): string {
  const c = new Compiler(options);
  const sql = c.tabular(input);
  const kv = `arrayJoin(JSONExtractKeysAndValuesRaw(ifNull(${c.scalar(bag)}, '{}')))`;
  return `SELECT __kv.1 AS k, groupUniqArrayIf(toString(JSONType(__kv.2)), JSONType(__kv.2) != 'Null') AS t FROM (SELECT ${kv} AS __kv FROM (${sql}) AS __bk) AS __bk2 GROUP BY k ORDER BY k`;
}

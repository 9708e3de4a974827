/**
 * Bound syntax tree → IR. Names and types come from the binder (`ResultType` of each node), so the
 * generated column names (`count_`, `max_X`, `Column1`, `D_a`, join suffixes) are Kusto's own.
 */
import type { TableCatalog } from '../workspace/catalog.js';
import { isKqlType } from '../workspace/schema.js';
import { KqlError, unsupported, unsupportedFunction, unsupportedOperator } from './errors.js';
import { AGGREGATE_FUNCTIONS, regexQuote, SCALAR_FUNCTIONS } from './functions.js';
import type {
  Aggregate,
  Assignment,
  Column,
  JoinKind,
  Operator,
  RenderSpec,
  Scalar,
  ScalarType,
  SortKey,
  Tabular,
} from './ir.js';
import { type KNode, type KType, type KustoCode, kindName, toArray } from './language.js';

type Binding =
  | { readonly k: 'scalar'; readonly expr: Scalar }
  | { readonly k: 'tabular'; readonly t: Tabular }
  /** A user function (`let f = (a:string, ...) { ... }`): calls are lowered from Kusto's expansion. */
  | { readonly k: 'function'; readonly params: readonly string[] };

interface Scope {
  readonly catalog: TableCatalog;
  readonly lets: Map<string, Binding>;
  /** The columns of the current operator's input (for `column_ifexists`). */
  readonly input?: readonly Column[];
}

function at(node: KNode): [number, number] {
  return [node.TextStart, node.Width];
}

function scalarType(t: KType | null | undefined, node: KNode): ScalarType {
  const name = t?.Name;
  if (name === 'null') return 'null';
  if (name && isKqlType(name)) return name;
  throw unsupported(`A value of type '${name ?? 'unknown'}'`, ...at(node));
}

function columnsOf(t: KType | null | undefined, node: KNode, input: readonly Column[] = []): Column[] {
  if (!t?.Columns) throw unsupported(`The expression '${node.toString().trim()}'`, ...at(node));
  const hiddenIn = new Set(input.filter((c) => c.hidden).map((c) => c.name));
  return toArray(t.Columns).map((c) => ({
    name: c.Name,
    type: scalarType(c.Type, node),
    ...(hiddenIn.has(c.Name) ? { hidden: true } : {}),
  }));
}

/** Expressions of a separated list, unwrapped. */
function items(list: { Count: number; getItem(i: number): KNode } | null | undefined): KNode[] {
  return toArray(list).map((e) => e.Element ?? e);
}

function req<T>(value: T | null | undefined, node: KNode): T {
  if (value === null || value === undefined) throw unsupported(`'${node.toString().trim()}'`, ...at(node));
  return value;
}

function keyword(node: KNode): string {
  const text = node.toString().trim();
  return /^[a-z-]+/.exec(text)?.[0] ?? text;
}

/** Entry point: the last statement of the query as a tabular IR. */
export function lower(code: KustoCode, catalog: TableCatalog): Tabular {
  const scope: Scope = { catalog, lets: new Map() };
  let result: Tabular | undefined;
  const statements: KNode[] = [];
  const root = code.Syntax;
  const collect = (node: KNode | null) => {
    if (!node || node.IsToken) return;
    const kind = kindName(node);
    if (kind === 'LetStatement' || kind === 'ExpressionStatement') {
      statements.push(node);
      return;
    }
    if (kind === 'List' || kind === 'SeparatedElement' || kind === 'QueryBlock') {
      for (let i = 0; i < node.ChildCount; i++) collect(node.GetChild(i));
      return;
    }
    if (kind !== 'Directive') throw unsupported(`The statement '${node.toString().trim()}'`, ...at(node));
  };
  collect(root);
  for (const st of statements) {
    if (kindName(st) === 'LetStatement') bindLet(st, scope);
    else result = lowerTabular(req(st.Expression, st), scope);
  }
  if (!result) throw unsupported('A query without a tabular expression', 0, 0);
  return result;
}

/** `let name = ...`: a tabular or scalar value, or a user function. */
function bindLet(st: KNode, scope: Scope): void {
  const expr = req(st.Expression, st);
  const name = req(st.Name?.SimpleName, st);
  if (kindName(expr) === 'FunctionDeclaration') {
    const params: string[] = [];
    const collect = (n: KNode): void => {
      if (kindName(n) === 'FunctionParameter') {
        const decl = children(n)[0];
        const nameNode = decl && kindName(decl) === 'NameAndTypeDeclaration' ? decl.Name : decl;
        params.push(req(nameNode?.SimpleName, n));
        if (children(n).length > 1) throw unsupported('A function parameter with a default value', ...at(n));
        return;
      }
      if (kindName(n) === 'FunctionBody') return;
      for (const c of children(n)) collect(c);
    };
    collect(expr);
    scope.lets.set(name, { k: 'function', params });
  } else if (expr.ResultType?.Columns) scope.lets.set(name, { k: 'tabular', t: lowerTabular(expr, scope) });
  else scope.lets.set(name, { k: 'scalar', expr: lowerScalar(expr, scope) });
}

/**
 * A call of a user function: Kusto's bound expansion of the body for this call site (parameters
 * appear as variables), with the parameters bound to the lowered arguments and the body's own `let`s.
 */
function expandCall(node: KNode, scope: Scope): { expr: KNode; scope: Scope } | undefined {
  const sym = node.ReferencedSymbol;
  const bound = sym ? scope.lets.get(sym.Name) : undefined;
  if (!sym || bound?.k !== 'function') return undefined;
  const body = (node as KNode & { GetExpansion?: () => KNode | null }).GetExpansion?.();
  if (!body) throw unsupported(`The call '${node.toString().trim()}'`, ...at(node));
  const args = items(node.ArgumentList?.Expressions);
  if (args.length !== bound.params.length)
    throw unsupported(`A call of '${sym.Name}' relying on default parameter values`, ...at(node));
  const lets = new Map(scope.lets);
  bound.params.forEach((p, i) => {
    const a = args[i]!;
    lets.set(
      p,
      a.ResultType?.Columns
        ? { k: 'tabular', t: lowerTabular(a, scope) }
        : { k: 'scalar', expr: lowerScalar(a, scope) },
    );
  });
  const inner: Scope = { ...scope, lets };
  let expr: KNode | undefined;
  for (const c of children(body)) {
    if (kindName(c) === 'List') {
      for (const st of items(c as unknown as { Count: number; getItem(i: number): KNode })) {
        if (kindName(st) === 'LetStatement') bindLet(st, inner);
        else if (kindName(st) === 'ExpressionStatement') expr = req(st.Expression, st);
        else throw unsupported(`The statement '${st.toString().trim()}'`, ...at(st));
      }
    } else expr = c;
  }
  return { expr: req(expr, body), scope: inner };
}

class Builder {
  readonly steps: { op: Operator; columns: readonly Column[] }[] = [];
  constructor(
    readonly source: Tabular['source'],
    readonly sourceColumns: readonly Column[],
  ) {}
  get columns(): readonly Column[] {
    return this.steps.length ? this.steps[this.steps.length - 1]!.columns : this.sourceColumns;
  }
  add(op: Operator, columns: readonly Column[]): void {
    this.steps.push({ op, columns });
  }
  build(): Tabular {
    return {
      source: this.source,
      sourceColumns: this.sourceColumns,
      steps: this.steps,
      columns: this.columns,
    };
  }
}

function lowerTabular(node: KNode, scope: Scope): Tabular {
  const kind = kindName(node);
  switch (kind) {
    case 'PipeExpression': {
      const input = lowerTabular(req(node.Expression, node), scope);
      // Pipes nest to the left (`(T | a) | b`): continue the input's step list rather than nesting.
      const b = new Builder(input.source, input.sourceColumns);
      for (const step of input.steps) b.add(step.op, step.columns);
      lowerOperator(req(node.Operator, node), b, scope, req(node.Expression, node));
      return b.build();
    }
    case 'ParenthesizedExpression':
      return lowerTabular(req(node.Expression, node), scope);
    case 'NameReference': {
      const sym = node.ReferencedSymbol;
      const cls = sym?.constructor.$$name ?? '';
      if (cls.endsWith('TableSymbol') && sym) {
        const table = scope.catalog.require(sym.Name);
        const columns = table.columns.map((c) => ({
          name: c.name,
          type: c.type,
          ...(c.hidden ? { hidden: true } : {}),
        }));
        return new Builder({ k: 'table', name: table.name }, columns).build();
      }
      if (cls.endsWith('VariableSymbol') && sym) {
        const bound = scope.lets.get(sym.Name);
        if (bound?.k === 'tabular') return bound.t;
      }
      throw unsupported(`The reference '${node.toString().trim()}'`, ...at(node));
    }
    case 'UnionOperator': {
      const legs = presentLegs(node, items(node.Expressions));
      const first = lowerTabular(req(legs[0], node), scope);
      const b = new Builder(first.source, first.sourceColumns);
      for (const step of first.steps) b.add(step.op, step.columns);
      lowerUnion(node, b, scope, legs.slice(1), unionLegName(legs[0]!, 0));
      return b.build();
    }
    case 'FunctionCallExpression': {
      const call = expandCall(node, scope);
      if (call) return lowerTabular(call.expr, call.scope);
      throw unsupported(`The tabular expression '${node.toString().trim().slice(0, 40)}'`, ...at(node));
    }
    case 'MaterializeExpression':
      // Vigil inlines `materialize(T)`: each reference re-evaluates T (same rows for a deterministic T).
      return lowerTabular(req(node.Expression, node), scope);
    case 'RangeOperator': {
      const columns = columnsOf(node.ResultType, node);
      const exprs: Scalar[] = [];
      for (let i = 0; i < node.ChildCount; i++) {
        const child = node.GetChild(i);
        if (child && !child.IsToken && kindName(child) !== 'NameDeclaration')
          exprs.push(lowerScalar(child, scope));
      }
      const [from, to, step] = exprs;
      if (columns.length !== 1 || !from || !to || !step || exprs.length !== 3)
        throw unsupported(`This form of 'range'`, ...at(node));
      return new Builder({ k: 'range', from, to, step }, columns).build();
    }
    case 'PrintOperator': {
      const columns = columnsOf(node.ResultType, node);
      const exprs = items(node.Expressions);
      if (exprs.length !== columns.length) throw unsupported(`This form of 'print'`, ...at(node));
      const assignments = exprs.map((e, i) => ({ name: columns[i]!.name, expr: named(e, scope).expr }));
      return new Builder({ k: 'print', assignments }, columns).build();
    }
    case 'DataTableExpression': {
      const columns = columnsOf(node.ResultType, node);
      const values = items(node.Values).map((v) => lowerScalar(v, scope));
      if (columns.length === 0 || values.length % columns.length !== 0)
        throw new KqlError('KQL_UNSUPPORTED', 'A datatable whose values do not fill its rows.', ...at(node));
      const rows: Scalar[][] = [];
      for (let i = 0; i < values.length; i += columns.length) rows.push(values.slice(i, i + columns.length));
      return new Builder({ k: 'datatable', rows }, columns).build();
    }
    default:
      throw unsupported(`The tabular expression '${node.toString().trim().slice(0, 40)}'`, ...at(node));
  }
}

function named(e: KNode, scope: Scope): { name?: string; expr: Scalar; node: KNode } {
  if (kindName(e) === 'SimpleNamedExpression') {
    const value = req(e.Expression, e);
    return { name: req(e.Name?.SimpleName, e), expr: lowerScalar(value, scope), node: value };
  }
  return { expr: lowerScalar(e, scope), node: e };
}

function sortKeys(list: KNode[], scope: Scope): SortKey[] {
  return list.map((e) => {
    let expr = e;
    let desc = true;
    let nullsFirst: boolean | undefined;
    if (kindName(e) === 'OrderedExpression') {
      expr = req(e.Expression, e);
      const ordering = e.Ordering;
      const dir = ordering?.AscOrDescKeyword?.Text;
      if (dir === 'asc') desc = false;
      const nulls = ordering?.NullsClause?.toString().trim();
      if (nulls) nullsFirst = /first$/.test(nulls);
    }
    return { expr: lowerScalar(expr, scope), desc, nullsFirst: nullsFirst ?? !desc };
  });
}

function lowerOperator(op: KNode, b: Builder, outerScope: Scope, inputNode?: KNode): void {
  const kind = kindName(op);
  const input = b.columns;
  const scope: Scope = { ...outerScope, input };
  const out = () => columnsOf(op.ResultType, op, input);
  switch (kind) {
    case 'FilterOperator':
      b.add({ k: 'where', predicate: lowerScalar(req(op.Condition, op), scope) }, input);
      return;
    case 'ExtendOperator': {
      const columns = out();
      const inputNames = new Set(input.map((c) => c.name));
      const fresh = columns.filter((c) => !inputNames.has(c.name)).map((c) => c.name);
      const assignments: Assignment[] = [];
      for (const e of items(op.Expressions)) {
        const n = named(e, scope);
        const name = n.name ?? fresh.shift();
        if (n.name) {
          const i = fresh.indexOf(n.name);
          if (i >= 0) fresh.splice(i, 1);
        }
        if (!name) throw unsupported(`The extend expression '${e.toString().trim()}'`, ...at(e));
        assignments.push({ name, expr: n.expr });
      }
      // Names assigned here are visible even when they replace a hidden column.
      const assigned = new Set(assignments.map((x) => x.name));
      b.add(
        { k: 'extend', assignments },
        columns.map((c) => (assigned.has(c.name) ? { name: c.name, type: c.type } : c)),
      );
      return;
    }
    case 'ProjectOperator': {
      const columns = out().map((c) => ({ name: c.name, type: c.type }));
      const exprs = items(op.Expressions);
      if (exprs.length !== columns.length) throw unsupported(`'project' with '*' or tuples`, ...at(op));
      const assignments = exprs.map((e, i) => ({ name: columns[i]!.name, expr: named(e, scope).expr }));
      b.add({ k: 'project', kqlName: 'project', assignments }, columns);
      return;
    }
    case 'ProjectAwayOperator':
    case 'ProjectKeepOperator':
    case 'ProjectReorderOperator':
    case 'ProjectRenameOperator': {
      const columns = out();
      const renamed = new Map<string, string>();
      if (kind === 'ProjectRenameOperator') {
        for (const e of items(op.Expressions)) {
          const n = named(e, scope);
          if (!n.name || n.expr.k !== 'col') throw unsupported(`'${e.toString().trim()}'`, ...at(e));
          renamed.set(n.name, n.expr.name);
        }
      }
      const byName = new Map(input.map((c) => [c.name, c]));
      const outCols = columns.map((c) => {
        const from = renamed.get(c.name) ?? c.name;
        return byName.get(from)?.hidden && !renamed.has(c.name)
          ? { ...c, hidden: true }
          : { name: c.name, type: c.type };
      });
      const assignments = outCols.map((c) => ({
        name: c.name,
        expr: { k: 'col', name: renamed.get(c.name) ?? c.name, type: c.type } as Scalar,
      }));
      b.add({ k: 'project', kqlName: keyword(op), assignments }, outCols);
      return;
    }
    case 'SummarizeOperator': {
      const columns = out().map((c) => ({ name: c.name, type: c.type }));
      const byExprs = items(op.ByClause?.Expressions);
      const by: Assignment[] = byExprs.map((e, i) => ({
        name: columns[i]!.name,
        expr: named(e, scope).expr,
      }));
      let next = by.length;
      const aggregates: Aggregate[] = [];
      for (const e of items(op.Aggregates)) {
        const isNamed = kindName(e) === 'SimpleNamedExpression';
        const call = isNamed ? req(e.Expression, e) : e;
        if (kindName(call) !== 'FunctionCallExpression')
          throw unsupported(
            `An aggregate expression other than a single call ('${e.toString().trim()}')`,
            ...at(e),
          );
        const fn = req(call.ReferencedSymbol?.Name, call);
        if (!AGGREGATE_FUNCTIONS[fn]) throw unsupportedFunction(fn, ...at(call));
        const argNodes = items(call.ArgumentList?.Expressions);
        const width = call.ResultType?.Columns ? call.ResultType.Columns.Count : 1;
        const aggColumns = columns.slice(next, next + width);
        next += width;
        if (fn === 'arg_max' || fn === 'arg_min') {
          if (isNamed) throw unsupported(`A named '${fn}'`, ...at(e));
          const first = lowerScalar(req(argNodes[0], call), scope);
          const carried: string[] = [];
          for (const argNode of argNodes.slice(1)) {
            if (kindName(argNode) === 'StarExpression') {
              const byCols = new Set(
                by.filter((x) => x.expr.k === 'col').map((x) => (x.expr as { name: string }).name),
              );
              for (const c of input) {
                if (c.hidden || byCols.has(c.name) || (first.k === 'col' && first.name === c.name)) continue;
                carried.push(c.name);
              }
            } else {
              const s = lowerScalar(argNode, scope);
              if (s.k !== 'col') throw unsupported(`A computed '${fn}' column`, ...at(argNode));
              carried.push(s.name);
            }
          }
          if (carried.length + 1 !== aggColumns.length)
            throw unsupported(`This form of '${fn}'`, ...at(call));
          aggregates.push({ fn, args: [first], columns: aggColumns, carried });
        } else {
          aggregates.push({ fn, args: argNodes.map((x) => lowerScalar(x, scope)), columns: aggColumns });
        }
      }
      if (next !== columns.length) throw unsupported(`This form of 'summarize'`, ...at(op));
      b.add({ k: 'summarize', by, aggregates }, columns);
      return;
    }
    case 'SortOperator':
      b.add({ k: 'sort', keys: sortKeys(items(op.Expressions), scope) }, input);
      return;
    case 'TakeOperator':
      b.add({ k: 'take', count: lowerScalar(req(op.Expression, op), scope) }, input);
      return;
    case 'TopOperator':
      b.add(
        {
          k: 'top',
          count: lowerScalar(req(op.Expression, op), scope),
          keys: sortKeys([req(op.ByExpression, op)], scope),
        },
        input,
      );
      return;
    case 'CountOperator':
      b.add({ k: 'count' }, out());
      return;
    case 'DistinctOperator': {
      const columns = out();
      b.add(
        { k: 'distinct', columns: columns.map((c) => c.name) },
        columns.map((c) => ({ name: c.name, type: c.type })),
      );
      for (const e of items(op.Expressions)) {
        const k = kindName(e);
        if (k !== 'NameReference' && k !== 'StarExpression')
          throw unsupported(`'distinct' over expressions`, ...at(e));
      }
      return;
    }
    case 'JoinOperator': {
      let joinKind: JoinKind = 'innerunique';
      for (const p of items(op.Parameters)) {
        const name = p.Name?.SimpleName ?? p.Name?.toString().trim();
        const value = p.Expression?.toString().trim() ?? '';
        if (name === 'kind') {
          const kinds: JoinKind[] = [
            'innerunique',
            'inner',
            'leftouter',
            'rightouter',
            'fullouter',
            'leftanti',
            'rightanti',
            'leftsemi',
            'rightsemi',
          ];
          const alias: Record<string, JoinKind> = {
            anti: 'leftanti',
            leftantisemi: 'leftanti',
            rightantisemi: 'rightanti',
          };
          const k = (kinds as string[]).includes(value) ? (value as JoinKind) : alias[value];
          if (!k) throw unsupported(`join kind=${value}`, ...at(p));
          joinKind = k;
        } else if (!name?.startsWith('hint.')) {
          throw unsupported(`The join parameter '${name}'`, ...at(p));
        }
      }
      const right = lowerTabular(req(op.Expression, op), scope);
      const clause = req(op.ConditionClause, op);
      if (kindName(clause) !== 'JoinOnClause') throw unsupported(`'join ... where'`, ...at(clause));
      const keys: { left: string; right: string }[] = [];
      for (const e of items(clause.Expressions)) lowerJoinKey(e, keys);
      b.add({ k: 'join', kind: joinKind, right, keys }, joinColumns(out(), joinKind, input, right.columns));
      return;
    }
    case 'MakeSeriesOperator': {
      const columns = out().map((c) => ({ name: c.name, type: c.type }));
      for (const p of items(op.Parameters))
        throw unsupported(`The make-series parameter '${p.toString().trim()}'`, ...at(p));
      const range = req(op.RangeClause, op);
      if (kindName(range) !== 'MakeSeriesFromToStepClause')
        throw unsupported(`'make-series ... in range(...)'`, ...at(range));
      const from = range.MakeSeriesFromClause?.Expression;
      const to = range.MakeSeriesToClause?.Expression;
      const step = req(range.MakeSeriesStepClause?.Expression, range);
      if (!from || !to) throw unsupported(`'make-series' without 'from' and 'to'`, ...at(range));
      const onNode = req(op.OnClause?.Expression, op);
      const on = lowerScalar(onNode, scope);
      if (on.type !== 'datetime') throw unsupported(`'make-series' on a non-datetime axis`, ...at(onNode));
      const byExprs = items(op.ByClause?.Expressions);
      const aggNodes = items(op.Aggregates);
      // The binder's order: the by columns, the aggregates, then the axis column.
      if (columns.length !== byExprs.length + aggNodes.length + 1)
        throw unsupported(`This form of 'make-series'`, ...at(op));
      const by: Assignment[] = byExprs.map((e, i) => ({
        name: columns[i]!.name,
        expr: named(e, scope).expr,
      }));
      const aggregates = aggNodes.map((m, i) => {
        const e = req(m.Expression, m);
        const call = kindName(e) === 'SimpleNamedExpression' ? req(e.Expression, e) : e;
        if (kindName(call) !== 'FunctionCallExpression')
          throw unsupported(`A make-series expression other than a single call`, ...at(e));
        const fn = req(call.ReferencedSymbol?.Name, call);
        if (!AGGREGATE_FUNCTIONS[fn] || fn === 'arg_max' || fn === 'arg_min' || fn === 'percentiles')
          throw unsupportedFunction(fn, ...at(call));
        const type = scalarType(call.ResultType, call);
        const d = m.DefaultExpression?.Expression;
        const dflt: Scalar = d
          ? lowerScalar(d, scope)
          : { k: 'lit', type, value: type === 'real' ? 0 : type === 'long' || type === 'int' ? '0' : null };
        return {
          name: columns[byExprs.length + i]!.name,
          fn,
          args: items(call.ArgumentList?.Expressions).map((x) => lowerScalar(x, scope)),
          type,
          default: dflt,
        };
      });
      b.add(
        {
          k: 'make-series',
          by,
          aggregates,
          on,
          axis: columns[columns.length - 1]!.name,
          from: lowerScalar(from, scope),
          to: lowerScalar(to, scope),
          step: lowerScalar(step, scope),
        },
        columns,
      );
      return;
    }
    case 'LookupOperator': {
      let joinKind: JoinKind = 'leftouter';
      for (const p of items(op.Parameters)) {
        const name = p.Name?.SimpleName ?? p.Name?.toString().trim();
        const value = p.Expression?.toString().trim() ?? '';
        if (name === 'kind' && (value === 'leftouter' || value === 'inner')) joinKind = value;
        else throw unsupported(`The lookup parameter '${p.toString().trim()}'`, ...at(p));
      }
      const right = lowerTabular(req(op.Expression, op), scope);
      const clause = req(op.LookupClause, op);
      if (kindName(clause) !== 'JoinOnClause') throw unsupported(`'lookup ... where'`, ...at(clause));
      const keys: { left: string; right: string }[] = [];
      for (const e of items(clause.Expressions)) lowerJoinKey(e, keys);
      const rightKeys = new Set(keys.map((k) => k.right));
      const rightKept = right.columns.filter((c) => !rightKeys.has(c.name));
      const columns = out();
      if (columns.length !== input.length + rightKept.length)
        throw unsupported('This lookup shape', ...at(op));
      b.add(
        { k: 'join', kind: joinKind, right, keys, lookup: true },
        joinColumns(columns, 'inner', input, rightKept),
      );
      return;
    }
    case 'MvExpandOperator': {
      const columns = out();
      let bagExpansion: 'bag' | 'array' = 'bag';
      let itemIndex: string | undefined;
      for (const p of items(op.Parameters)) {
        const name = p.Name?.SimpleName ?? p.Name?.toString().trim();
        const value = p.Expression?.toString().trim() ?? '';
        if ((name === 'kind' || name === 'bagexpansion') && (value === 'bag' || value === 'array'))
          bagExpansion = value;
        else if (name === 'with_itemindex') itemIndex = value;
        else throw unsupported(`The mv-expand parameter '${name}'`, ...at(p));
      }
      let limit: Scalar | undefined;
      const exprs: KNode[] = [];
      for (let i = 0; i < op.ChildCount; i++) {
        const child = op.GetChild(i);
        if (!child || child.IsToken) continue;
        const k = kindName(child);
        if (k === 'MvExpandRowLimitClause') {
          for (let j = 0; j < child.ChildCount; j++) {
            const c = child.GetChild(j);
            if (c && !c.IsToken) limit = lowerScalar(c, scope);
          }
          if (!limit) throw unsupported(`'${child.toString().trim()}'`, ...at(child));
        } else if (k === 'List' && child !== null) {
          for (const e of items(child as unknown as { Count: number; getItem(i: number): KNode })) {
            if (kindName(e) === 'MvExpandExpression') exprs.push(e);
          }
        }
      }
      const inputNames = new Set(input.map((c) => c.name));
      const fresh = columns.filter((c) => !inputNames.has(c.name) && c.name !== itemIndex).map((c) => c.name);
      const named0 = exprs.map((e) => {
        const inner = req(e.Expression, e);
        const k = kindName(inner);
        if (k === 'SimpleNamedExpression') return { name: req(inner.Name?.SimpleName, inner), node: inner };
        if (k === 'NameReference' || k === 'BracketedName')
          return { name: req(inner.ReferencedSymbol?.Name, inner), node: inner };
        // Kusto names `f(Col, ...)` after the column it reads (`mv-expand todynamic(Entities)`).
        if (k === 'FunctionCallExpression') {
          const ref = firstColumnRef(inner);
          if (ref && columns.some((c) => c.name === ref)) return { name: ref, node: inner };
        }
        return { name: undefined, node: inner };
      });
      for (const n of named0) {
        const i = n.name ? fresh.indexOf(n.name) : -1;
        if (i >= 0) fresh.splice(i, 1);
      }
      const expandItems = named0.map((n) => {
        const name = n.name ?? fresh.shift();
        if (!name) throw unsupported(`The mv-expand expression '${n.node.toString().trim()}'`, ...at(n.node));
        const col = columns.find((c) => c.name === name);
        if (!col) throw unsupported(`The mv-expand expression '${n.node.toString().trim()}'`, ...at(n.node));
        return { name, expr: named(n.node, scope).expr, type: col.type };
      });
      const assigned = new Set(expandItems.map((x) => x.name));
      if (itemIndex) assigned.add(itemIndex);
      b.add(
        {
          k: 'mv-expand',
          items: expandItems,
          bagExpansion,
          ...(itemIndex ? { itemIndex } : {}),
          ...(limit ? { limit } : {}),
        },
        columns.map((c) => (assigned.has(c.name) ? { name: c.name, type: c.type } : c)),
      );
      return;
    }
    case 'MvApplyOperator':
      lowerMvApply(op, b, scope);
      return;
    case 'EvaluateOperator':
      lowerEvaluate(op, b, scope);
      return;
    case 'ParseOperator':
    case 'ParseWhereOperator': {
      const columns = out();
      let mode = 'simple';
      let flags = '';
      for (const p of items(op.Parameters)) {
        const name = p.Name?.SimpleName ?? p.Name?.toString().trim();
        const value = p.Expression?.toString().trim() ?? '';
        if (name === 'kind' && (value === 'simple' || value === 'regex' || value === 'relaxed')) mode = value;
        else if (name === 'flags' && /^[imsU]*$/.test(value)) flags = value;
        else throw unsupported(`The ${keyword(op)} parameter '${p.toString().trim()}'`, ...at(p));
      }
      const expr = lowerScalar(req(op.Expression, op), scope);
      let pattern: KNode | undefined;
      for (let i = 0; i < op.ChildCount; i++) {
        const child = op.GetChild(i);
        if (child && !child.IsToken && kindName(child) === 'List') pattern = child; // the last list
      }
      const parts = toArray(req(pattern, op) as unknown as { Count: number; getItem(i: number): KNode });
      let regex = '';
      let group = 0;
      const captures: { name: string; type: ScalarType; group: number }[] = [];
      for (const part of parts) {
        const k = kindName(part);
        if (k === 'StarExpression') regex += '.*?';
        else if (k === 'StringLiteralExpression' || k === 'CompoundStringLiteralExpression') {
          const text = String(part.LiteralValue ?? '');
          if (mode === 'regex') {
            regex += `(?:${text})`;
            group += countGroups(text);
          } else regex += regexQuote(text);
        } else if (k === 'NameAndTypeDeclaration' || k === 'NameDeclaration') {
          const decl = k === 'NameDeclaration' ? part : req(part.Name, part);
          const name = req(decl.SimpleName, decl);
          const col = columns.find((c) => c.name === name);
          if (!col) throw unsupported(`The ${keyword(op)} column '${name}'`, ...at(part));
          regex += `(${captureRegex(col.type, mode)})`;
          captures.push({ name, type: col.type, group: ++group });
        } else
          throw unsupported(`The ${keyword(op)} pattern element '${part.toString().trim()}'`, ...at(part));
      }
      const assigned = new Set(captures.map((c) => c.name));
      b.add(
        {
          k: 'parse',
          where: kind === 'ParseWhereOperator',
          strict: mode !== 'relaxed',
          expr,
          regex: `${flags ? `(?${flags})` : ''}^${regex}$`,
          captures,
        },
        columns.map((c) => (assigned.has(c.name) ? { name: c.name, type: c.type } : c)),
      );
      return;
    }
    case 'RenderOperator': {
      const visualization = /^render\s+([A-Za-z]+)/.exec(op.toString().trim())?.[1];
      if (!visualization) throw unsupported(`'${op.toString().trim()}'`, ...at(op));
      const spec: Record<string, unknown> = { visualization };
      const params: KNode[] = [...items(op.Parameters)];
      for (let i = 0; i < op.ChildCount; i++) {
        const child = op.GetChild(i);
        if (child && !child.IsToken && kindName(child) === 'RenderWithClause') {
          for (let j = 0; j < child.ChildCount; j++) {
            const list = child.GetChild(j);
            if (list && !list.IsToken && kindName(list) === 'List')
              params.push(...items(list as unknown as { Count: number; getItem(i: number): KNode }));
          }
        }
      }
      for (const p of params) {
        const name = p.Name?.SimpleName ?? p.Name?.toString().trim();
        const value = p.Expression;
        if (!name || !value) continue;
        const k = kindName(value);
        if (k === 'NameReferenceList' || k === 'NameReference') {
          const names = value
            .toString()
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean);
          spec[name] = name === 'xcolumn' ? names[0] : names;
        } else if (k === 'StringLiteralExpression') spec[name] = String(value.LiteralValue ?? '');
        else if (
          k === 'LongLiteralExpression' ||
          k === 'IntLiteralExpression' ||
          k === 'RealLiteralExpression'
        )
          spec[name] = Number(String(value.LiteralValue));
        else if (k === 'BooleanLiteralExpression') spec[name] = String(value.LiteralValue) === 'True';
        else spec[name] = value.toString().trim();
      }
      b.add({ k: 'render', spec: spec as RenderSpec }, input);
      return;
    }
    case 'UnionOperator': {
      lowerUnion(
        op,
        b,
        scope,
        presentLegs(op, items(op.Expressions)),
        inputNode ? unionLegName(inputNode, 0) : 'union_arg0',
      );
      return;
    }
    default:
      throw unsupportedOperator(keyword(op), ...at(op));
  }
}

/** Non-token children of a node. */
function children(node: KNode): KNode[] {
  const out: KNode[] = [];
  for (let i = 0; i < node.ChildCount; i++) {
    const c = node.GetChild(i);
    if (c && !c.IsToken) out.push(c);
  }
  return out;
}

/**
 * `mv-apply items on (subquery)`: the subquery's input is the input with each item expanded (a named
 * item adds a column, a column item replaces it, typed by `to typeof(T)`); its operators are lowered
 * over an `apply-rows` source.
 */
function lowerMvApply(op: KNode, b: Builder, scope: Scope): void {
  const input = b.columns;
  const columns = columnsOf(op.ResultType, op, input);
  let itemIndex: string | undefined;
  for (const p of items(op.Parameters)) {
    const name = p.Name?.SimpleName ?? p.Name?.toString().trim();
    const value = p.Expression?.toString().trim() ?? '';
    if (name === 'with_itemindex') itemIndex = value;
    else throw unsupported(`The mv-apply parameter '${name}'`, ...at(p));
  }
  const exprs: KNode[] = [];
  let sub: KNode | undefined;
  for (const child of children(op)) {
    const k = kindName(child);
    if (k === 'List') {
      for (const e of items(child as unknown as { Count: number; getItem(i: number): KNode })) {
        if (kindName(e) === 'MvApplyExpression') exprs.push(e);
      }
    } else if (k === 'MvApplySubqueryExpression') sub = child;
    else throw unsupported(`'${child.toString().trim()}' in mv-apply`, ...at(child));
  }
  if (!sub || exprs.length === 0) throw unsupported(`This form of 'mv-apply'`, ...at(op));
  const applyItems = exprs.map((e) => {
    let type: ScalarType = 'dynamic';
    let valueNode: KNode | undefined;
    for (const c of children(e)) {
      if (kindName(c) === 'ToTypeOfClause') {
        const t = /typeof\(\s*(\w+)\s*\)/.exec(c.toString())?.[1];
        if (
          !t ||
          !isKqlType(t) ||
          !['dynamic', 'string', 'long', 'int', 'real', 'bool', 'datetime'].includes(t)
        )
          throw unsupported(`mv-apply ... ${c.toString().trim()}`, ...at(c));
        type = t;
      } else valueNode = c;
    }
    const inner = req(valueNode, e);
    const k = kindName(inner);
    let name: string | undefined;
    if (k === 'SimpleNamedExpression') name = req(inner.Name?.SimpleName, inner);
    else if (k === 'NameReference' || k === 'BracketedName') name = inner.ReferencedSymbol?.Name;
    if (!name) throw unsupported(`The mv-apply expression '${inner.toString().trim()}'`, ...at(inner));
    return { name, expr: named(inner, scope).expr, type };
  });
  const subInput: Column[] = input.map((c) => {
    const item = applyItems.find((x) => x.name === c.name);
    return item ? { name: c.name, type: item.type } : c;
  });
  for (const item of applyItems)
    if (!input.some((c) => c.name === item.name)) subInput.push({ name: item.name, type: item.type });
  if (itemIndex) subInput.push({ name: itemIndex, type: 'long' });
  const sb = new Builder({ k: 'apply-rows' }, subInput);
  const lowerChain = (node: KNode): void => {
    if (kindName(node) === 'PipeExpression') {
      lowerChain(req(node.Expression, node));
      lowerOperator(req(node.Operator, node), sb, scope);
    } else lowerOperator(node, sb, scope);
  };
  const body = children(sub);
  if (body.length !== 1) throw unsupported(`This mv-apply subquery`, ...at(sub));
  lowerChain(body[0]!);
  const subquery = sb.build();
  for (const c of columns) {
    if (!subquery.columns.some((x) => x.name === c.name) && !input.some((x) => x.name === c.name))
      throw unsupported(`The mv-apply output column '${c.name}'`, ...at(op));
  }
  b.add(
    { k: 'mv-apply', items: applyItems, ...(itemIndex ? { itemIndex } : {}), subquery },
    columns.map((c) =>
      subquery.columns.some((x) => x.name === c.name) ? { name: c.name, type: c.type } : c,
    ),
  );
}

/**
 * `evaluate bag_unpack(col [, prefix] [, columnsConflict]) : (schema)`. Without a schema the output
 * columns depend on the data: `BagUnpackNeedsKeys` tells `runQuery` to discover the keys and rerun
 * with a schema. With a schema, an output column that is an input column keeps the input's value.
 */
function lowerEvaluate(op: KNode, b: Builder, scope: Scope): void {
  const input = b.columns;
  let call: KNode | undefined;
  let schema: KNode | undefined;
  for (const c of children(op)) {
    const k = kindName(c);
    if (k === 'FunctionCallExpression') call = c;
    else if (k === 'EvaluateSchemaClause') schema = c;
    else if (k === 'List') {
      if (items(c as unknown as { Count: number; getItem(i: number): KNode }).length)
        throw unsupported(`evaluate parameters`, ...at(c));
    }
  }
  const fn = call?.ReferencedSymbol?.Name;
  if (!call || fn !== 'bag_unpack') throw unsupportedOperator(`evaluate ${fn ?? ''}`.trim(), ...at(op));
  // Arguments: column [, OutputColumnPrefix] [, columnsConflict], positional or by name.
  const positional = ['column', 'OutputColumnPrefix', 'columnsConflict'];
  const args = new Map<string, Scalar>();
  items(call.ArgumentList?.Expressions).forEach((a, i) => {
    const { name, expr } = named(a, scope);
    const key = name ?? positional[i];
    if (!key || !positional.includes(key) || args.has(key) || (key !== 'column' && expr.k !== 'lit'))
      throw unsupported(`This form of 'bag_unpack'`, ...at(call));
    args.set(key, expr);
  });
  const column = req(args.get('column'), call);
  if (column.type !== 'dynamic') throw unsupported(`'bag_unpack' of a non-dynamic value`, ...at(call));
  const literal = (key: string): string => {
    const e = args.get(key);
    return e?.k === 'lit' && e.type === 'string' ? String(e.value ?? '') : '';
  };
  const prefix = literal('OutputColumnPrefix');
  const conflict = literal('columnsConflict') || 'error';
  if (conflict !== 'error' && conflict !== 'replace_source' && conflict !== 'keep_source')
    throw unsupported(`bag_unpack columnsConflict='${conflict}'`, ...at(call));
  const kept = input.filter((c) => !(column.k === 'col' && c.name === column.name));
  if (!schema)
    throw new BagUnpackNeedsKeys(
      b.build(),
      column,
      prefix,
      conflict,
      kept,
      call.TextStart + call.Width,
      call.toString().trim(),
      op.TextStart,
    );
  const columns = columnsOf(op.ResultType, op, input);
  const keptNames = new Set(kept.map((c) => c.name));
  const unpacked = columns
    .filter((c) => !keptNames.has(c.name))
    .map((c) => {
      if (!c.name.startsWith(prefix))
        throw unsupported(`The bag_unpack column '${c.name}' (not prefixed '${prefix}')`, ...at(op));
      return { name: c.name, key: c.name.slice(prefix.length), type: c.type };
    });
  b.add({ k: 'bag-unpack', column, unpacked }, columns);
}

/**
 * Thrown while lowering `evaluate bag_unpack(...)` without an output schema: `input` is the
 * operator's input, `insertAt` the text offset right after the `bag_unpack(...)` call, where a
 * `: (schema)` clause goes once the keys are known.
 */
export class BagUnpackNeedsKeys extends Error {
  constructor(
    readonly input: Tabular,
    readonly column: Scalar,
    readonly prefix: string,
    /** `error` (Kusto's default), `replace_source` or `keep_source`. */
    readonly conflict: string,
    readonly kept: readonly Column[],
    readonly insertAt: number,
    /** The call's text, to check that `insertAt` is a position in the query text (not in an expansion). */
    readonly callText: string,
    /** The offset of the `evaluate` keyword (a `project-away` of replaced source columns goes there). */
    readonly evaluateAt: number,
  ) {
    super('bag_unpack needs its keys discovered');
  }
}

/** The first column a syntax subtree references (depth first). */
function firstColumnRef(node: KNode): string | undefined {
  if (node.IsToken) return undefined;
  if (kindName(node) === 'NameReference') {
    const sym = node.ReferencedSymbol;
    if (sym?.constructor.$$name.endsWith('ColumnSymbol')) return sym.Name;
  }
  for (let i = 0; i < node.ChildCount; i++) {
    const child = node.GetChild(i);
    const found = child ? firstColumnRef(child) : undefined;
    if (found) return found;
  }
  return undefined;
}

/**
 * The regex a `parse` capture of this type matches. `simple`: strings (and types without a textual
 * shape) lazily, numbers by their shape (Kusto's strict matching). `regex`: strings greedily — the
 * Kusto docs' examples show `* "resourceName=" resourceName ',' *` capturing up to the last comma,
 * and `flags=U` (RE2 swaps greediness) up to the first. `relaxed`: a typed column prefers its
 * shape, else takes any text lazily like a string; a capture that does not convert is null without
 * failing the match.
 */
function captureRegex(type: ScalarType, mode: string): string {
  if (mode === 'relaxed') return type === 'string' ? '.*?' : `${captureRegex(type, 'simple')}|.*?`;
  switch (type) {
    case 'long':
    case 'int':
      return '-?\\d+';
    case 'real':
    case 'decimal':
      return '-?\\d+(?:\\.\\d*)?(?:[eE][-+]?\\d+)?';
    case 'bool':
      return '(?i:true|false)';
    default:
      return mode === 'regex' ? '.*' : '.*?';
  }
}

/** Capturing groups in a user regex (`(` not escaped, not `(?`, not inside a class). */
function countGroups(re: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const ch = re[i];
    if (ch === '\\') i++;
    else if (inClass) inClass = ch !== ']';
    else if (ch === '[') inClass = true;
    else if (ch === '(' && re[i + 1] !== '?') n++;
    else if (ch === '(' && re[i + 1] === '?' && re[i + 2] === 'P' && re[i + 3] === '<') n++;
  }
  return n;
}

/** With `isfuzzy=true`, the legs naming a table that does not exist are left out (as in Kusto). */
function presentLegs(op: KNode, legs: KNode[]): KNode[] {
  const fuzzy = items(op.Parameters).some(
    (p) => p.Name?.SimpleName === 'isfuzzy' && p.Expression?.toString().trim() === 'true',
  );
  if (!fuzzy) return legs;
  return legs.filter((leg) => {
    let n = leg;
    while (kindName(n) === 'ParenthesizedExpression' && n.Expression) n = n.Expression;
    if (kindName(n) !== 'NameReference') return true;
    const cls = n.ReferencedSymbol?.constructor.$$name ?? '';
    return cls.endsWith('TableSymbol') || cls.endsWith('VariableSymbol');
  });
}

/** A union leg's name for `withsource=`: the table or `let` name, else `union_argN`. */
function unionLegName(node: KNode, i: number): string {
  let n = node;
  while (kindName(n) === 'ParenthesizedExpression' && n.Expression) n = n.Expression;
  const sym = kindName(n) === 'NameReference' ? n.ReferencedSymbol : undefined;
  return sym?.Name ?? `union_arg${i}`;
}

/**
 * `union`: the output columns are the binder's; a column of the output that no leg has by name is a
 * type-suffixed one (`x_long`, `x_string`) when legs differ in the type of `x`.
 */
function lowerUnion(op: KNode, b: Builder, scope: Scope, otherNodes: KNode[], inputName: string): void {
  const input = b.columns;
  let withSource: string | undefined;
  for (const p of items(op.Parameters)) {
    const name = p.Name?.SimpleName ?? '';
    const value = p.Expression?.toString().trim();
    if (name === 'withsource' && value) withSource = value;
    else if (!(name === 'isfuzzy' || (name === 'kind' && value === 'outer')))
      throw unsupported(`The union parameter '${name}'`, ...at(p));
  }
  const others = otherNodes.map((e) => lowerTabular(e, scope));
  const columns = columnsOf(op.ResultType, op, input);
  const all = [input, ...others.map((o) => o.columns)];
  for (const c of columns) {
    if (c.name === withSource) continue;
    if (!all.some((cols) => cols.some((x) => x.name === c.name || `${x.name}_${x.type}` === c.name)))
      throw unsupported(`The union column '${c.name}'`, ...at(op));
  }
  b.add(
    {
      k: 'union',
      others,
      ...(withSource
        ? { withSource, sourceNames: [inputName, ...otherNodes.map((e, i) => unionLegName(e, i + 1))] }
        : {}),
    },
    columns.map((c) => ({ name: c.name, type: c.type })),
  );
}

function joinColumns(
  columns: Column[],
  kind: JoinKind,
  left: readonly Column[],
  right: readonly Column[],
): Column[] {
  const sides =
    kind === 'leftanti' || kind === 'leftsemi'
      ? left
      : kind === 'rightanti' || kind === 'rightsemi'
        ? right
        : [...left, ...right];
  return columns.map((c, i) => (sides[i]?.hidden ? { ...c, hidden: true } : { name: c.name, type: c.type }));
}

function lowerJoinKey(e: KNode, keys: { left: string; right: string }[]): void {
  const kind = kindName(e);
  if (kind === 'NameReference') {
    const name = req(e.SimpleName, e);
    keys.push({ left: name, right: name });
    return;
  }
  if (kind === 'AndExpression') {
    lowerJoinKey(req(e.Left, e), keys);
    lowerJoinKey(req(e.Right, e), keys);
    return;
  }
  if (kind === 'EqualExpression') {
    const side = (n: KNode): [string, string] => {
      if (kindName(n) !== 'PathExpression')
        throw unsupported(`The join key '${n.toString().trim()}'`, ...at(n));
      return [req(n.Expression, n).toString().trim(), req(n.Selector?.SimpleName, n)];
    };
    const [s1, c1] = side(req(e.Left, e));
    const [s2, c2] = side(req(e.Right, e));
    if (s1 === '$left' && s2 === '$right') keys.push({ left: c1, right: c2 });
    else if (s1 === '$right' && s2 === '$left') keys.push({ left: c2, right: c1 });
    else throw unsupported(`The join key '${e.toString().trim()}'`, ...at(e));
    return;
  }
  throw unsupported(`The join condition '${e.toString().trim()}'`, ...at(e));
}

// ---------------------------------------------------------------------------------------------
// Scalars

/** Kusto's `dynamic(...)` literal text → JSON text (single-quoted strings allowed in KQL). */
function dynamicLiteralJson(text: string, node: KNode): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== ch) {
        if (text[j] === '\\' && j + 1 < text.length) {
          const n = text[j + 1]!;
          value += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n;
          j += 2;
        } else value += text[j++];
      }
      out += JSON.stringify(value);
      i = j;
    } else out += ch;
  }
  try {
    return JSON.stringify(JSON.parse(out));
  } catch {
    throw unsupported(`The dynamic literal '${text}'`, ...at(node));
  }
}

function longText(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** `[d.]hh:mm[:ss[.fffffff]]` → ticks. */
function timespanTextTicks(text: string): string | undefined {
  const m = /^(-)?(?:(\d+)\.)?(\d+):(\d+)(?::(\d+)(?:\.(\d{1,7}))?)?$/.exec(text.trim());
  if (!m) return undefined;
  const [, neg, d, h, mi, s, f] = m;
  const ticks =
    BigInt(d ?? 0) * 864000000000n +
    BigInt(h!) * 36000000000n +
    BigInt(mi!) * 600000000n +
    BigInt(s ?? 0) * 10000000n +
    BigInt((f ?? '').padEnd(7, '0') || '0');
  return String(neg ? -ticks : ticks);
}

function literal(node: KNode, kind: string): Scalar | undefined {
  const type = (t: ScalarType, value: string | number | boolean | null): Scalar => ({
    k: 'lit',
    type: t,
    value,
  });
  const v = node.LiteralValue as { ticks?: unknown; v?: unknown } | string | null | undefined;
  const text = node.toString().trim();
  switch (kind) {
    case 'StringLiteralExpression':
    case 'CompoundStringLiteralExpression':
      return type('string', typeof v === 'string' ? v : '');
    case 'LongLiteralExpression':
      return type('long', longText(v));
    case 'IntLiteralExpression':
      return type('int', longText(v));
    case 'RealLiteralExpression':
    case 'DecimalLiteralExpression':
      return type(
        kind === 'RealLiteralExpression' ? 'real' : 'decimal',
        v === null || v === undefined ? null : Number(String(v)),
      );
    case 'BooleanLiteralExpression':
      return type('bool', v === null || v === undefined ? null : String(v) === 'True');
    case 'NullLiteralExpression':
      return type('null', null);
    case 'GuidLiteralExpression': {
      const inner = /^guid\((.*)\)$/s.exec(text)?.[1]?.trim() ?? null;
      return type('guid', inner === 'null' ? null : inner);
    }
    case 'DateTimeLiteralExpression': {
      const inner = /^datetime\((.*)\)$/s.exec(text)?.[1]?.trim() ?? null;
      return type('datetime', inner === 'null' ? null : inner);
    }
    case 'TimespanLiteralExpression': {
      if (v === null || v === undefined) return type('timespan', null);
      const inner = /^(?:time|timespan)\((.*)\)$/s.exec(text)?.[1];
      const fromText = inner !== undefined ? timespanTextTicks(inner) : undefined;
      const ticks = fromText ?? String((v as { ticks: unknown }).ticks);
      return type('timespan', ticks);
    }
    case 'DynamicExpression': {
      const inner = /^dynamic\s*\((.*)\)$/s.exec(text)?.[1]?.trim() ?? 'null';
      const json = dynamicLiteralJson(inner, node);
      return type('dynamic', json === 'null' ? null : json);
    }
    default:
      return undefined;
  }
}

function inItems(list: KNode[], scope: Scope): Scalar[] {
  const out: Scalar[] = [];
  for (const e of list) {
    const s = lowerScalar(e, scope);
    if (s.k === 'lit' && s.type === 'dynamic') {
      const value = s.value === null ? null : (JSON.parse(String(s.value)) as unknown);
      const flat = Array.isArray(value) ? value.flat(Number.POSITIVE_INFINITY) : [value];
      for (const x of flat) {
        if (typeof x === 'string') out.push({ k: 'lit', type: 'string', value: x });
        else if (typeof x === 'number')
          out.push({
            k: 'lit',
            type: Number.isInteger(x) ? 'long' : 'real',
            value: Number.isInteger(x) ? String(x) : x,
          });
        else if (typeof x === 'boolean') out.push({ k: 'lit', type: 'bool', value: x });
      }
    } else if (s.type === 'dynamic') {
      throw unsupported(`'in' over a non-literal dynamic array`, ...at(e));
    } else out.push(s);
  }
  return out;
}

/**
 * `column_ifexists("Col", default)`: the input column when the operator's input has it (the binder's
 * schema), else the default expression.
 */
function columnIfExists(node: KNode, scope: Scope): Scalar {
  const [nameNode, defaultNode] = items(node.ArgumentList?.Expressions);
  const name = lowerScalar(req(nameNode, node), scope);
  if (name.k !== 'lit' || name.type !== 'string' || typeof name.value !== 'string' || !defaultNode)
    throw unsupported(`This form of 'column_ifexists'`, ...at(node));
  const col = scope.input?.find((c) => c.name === name.value);
  if (col) return { k: 'col', name: col.name, type: col.type };
  return lowerScalar(defaultNode, scope);
}

function lowerScalar(node: KNode, scope: Scope): Scalar {
  const kind = kindName(node);
  const lit = literal(node, kind);
  if (lit) return lit;
  const cls = node.constructor.$$name.split('.').pop();
  const type = () => scalarType(node.ResultType, node);
  // A type argument (`extractjson(path, s, typeof(long))`): passed to the function as its text.
  const typeArg = /^typeof\(\s*(\w+)\s*\)$/.exec(node.toString().trim());
  if (typeArg) return { k: 'lit', type: 'string', value: `typeof(${typeArg[1]})` };
  switch (kind) {
    case 'ParenthesizedExpression':
      return lowerScalar(req(node.Expression, node), scope);
    case 'NameReference':
    case 'BracketedName': {
      const sym = node.ReferencedSymbol;
      const symClass = sym?.constructor.$$name ?? '';
      if (sym && symClass.endsWith('ColumnSymbol')) return { k: 'col', name: sym.Name, type: type() };
      if (sym && symClass.endsWith('VariableSymbol')) {
        const bound = scope.lets.get(sym.Name);
        if (bound?.k === 'scalar') return bound.expr;
      }
      throw unsupported(`The reference '${node.toString().trim()}'`, ...at(node));
    }
    case 'UnaryMinusExpression':
    case 'UnaryPlusExpression': {
      const arg = lowerScalar(req(node.Expression, node), scope);
      if (kind === 'UnaryPlusExpression') return arg;
      if (arg.k === 'lit' && arg.value !== null) {
        if (typeof arg.value === 'number') return { ...arg, value: -arg.value };
        if (typeof arg.value === 'string' && /^\d+$/.test(arg.value))
          return { ...arg, value: `-${arg.value}` };
      }
      return { k: 'unary', op: '-', arg, type: type() };
    }
    case 'FunctionCallExpression': {
      const fn = req(node.ReferencedSymbol?.Name, node);
      if (fn === 'column_ifexists') return columnIfExists(node, scope);
      const userCall = expandCall(node, scope);
      if (userCall) return lowerScalar(userCall.expr, userCall.scope);
      const entry = SCALAR_FUNCTIONS[fn];
      if (!entry) throw unsupportedFunction(fn, ...at(node));
      const args = items(node.ArgumentList?.Expressions).map((e) => lowerScalar(e, scope));
      if (args.length < entry.minArgs || args.length > entry.maxArgs)
        throw unsupported(`'${fn}' with ${args.length} arguments`, ...at(node));
      return { k: 'call', fn, args, type: type() };
    }
    case 'PathExpression': {
      const base = lowerScalar(req(node.Expression, node), scope);
      const sel = req(node.Selector, node);
      const key =
        sel.SimpleName ??
        (kindName(sel) === 'BracketedExpression' ? String(sel.Expression?.LiteralValue ?? '') : undefined);
      if (base.type !== 'dynamic' || key === undefined)
        throw unsupported(`The path '${node.toString().trim()}'`, ...at(node));
      return { k: 'member', base, key, type: 'dynamic' };
    }
    case 'ElementExpression': {
      const base = lowerScalar(req(node.Expression, node), scope);
      const sel = req(node.Selector, node);
      const inner = lowerScalar(req(sel.Expression, sel), scope);
      if (base.type !== 'dynamic') throw unsupported(`Indexing '${node.toString().trim()}'`, ...at(node));
      const key = inner.k === 'lit' && inner.type === 'string' ? String(inner.value) : inner;
      return { k: 'member', base, key, type: 'dynamic' };
    }
    case 'BetweenExpression':
    case 'NotBetweenExpression': {
      const couple = req(node.Right, node);
      return {
        k: 'between',
        negated: kind === 'NotBetweenExpression',
        arg: lowerScalar(req(node.Left, node), scope),
        lo: lowerScalar(req(couple.First, couple), scope),
        hi: lowerScalar(req(couple.Second, couple), scope),
        type: 'bool',
      };
    }
    case 'ToScalarExpression': {
      const query = lowerTabular(req(node.Expression, node), scope);
      if (!query.columns.some((c) => !c.hidden)) throw unsupported(`'toscalar' of no columns`, ...at(node));
      return { k: 'toscalar', query, type: type() };
    }
    case 'MatchesRegexExpression':
      return {
        k: 'binary',
        op: 'matches regex',
        left: lowerScalar(req(node.Left, node), scope),
        right: lowerScalar(req(node.Right, node), scope),
        type: 'bool',
      };
  }
  if (cls === 'InExpression' || cls === 'HasAnyExpression' || cls === 'HasAllExpression') {
    const op = req(node.Operator?.Text, node);
    const list = items(node.Right?.Expressions);
    if (list.length === 1 && list[0]!.ResultType?.Columns) {
      return {
        k: 'in',
        op,
        left: lowerScalar(req(node.Left, node), scope),
        items: [],
        query: lowerTabular(list[0]!, scope),
        type: 'bool',
      };
    }
    return {
      k: 'in',
      op,
      left: lowerScalar(req(node.Left, node), scope),
      items: inItems(items(node.Right?.Expressions), scope),
      type: 'bool',
    };
  }
  if (cls === 'BinaryExpression') {
    const op = req(node.Operator?.Text, node);
    return {
      k: 'binary',
      op,
      left: lowerScalar(req(node.Left, node), scope),
      right: lowerScalar(req(node.Right, node), scope),
      type: type(),
    };
  }
  throw unsupported(`The expression '${node.toString().trim().slice(0, 60)}'`, ...at(node));
}

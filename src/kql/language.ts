/**
 * The one door to `@kusto/language-service-next` (Microsoft's Kusto.Language compiled to JavaScript by
 * Bridge.NET). The package puts everything on globals (`Bridge`, `System`, `Kusto.Language`), costs
 * about 2 s to load, and its bundled `.d.ts` is huge: this file loads it once, lazily, declares the
 * few members Vigil uses, and hands the rest of `src/kql` a bound `KustoCode`.
 */
import { createRequire } from 'node:module';
import type { TableCatalog } from '../workspace/catalog.js';

/** A .NET `IReadOnlyList` as Bridge exposes it. */
export interface KList<T> {
  readonly Count: number;
  getItem(i: number): T;
}

/** A type symbol: scalar (`Name` = `string`, `long`, ...), table or tuple (with `Columns`). */
export interface KType {
  readonly Name: string;
  readonly Columns?: KList<KColumn>;
}

export interface KColumn {
  readonly Name: string;
  readonly Type: KType;
}

export interface KSymbol {
  readonly Name: string;
  readonly constructor: { readonly $$name: string };
}

/**
 * A syntax element. Kusto's node classes have many typed members; the ones `lower.ts` reads are
 * declared optional here and checked where used.
 */
export interface KNode {
  readonly Kind: number;
  readonly IsToken: boolean;
  readonly ChildCount: number;
  readonly TextStart: number;
  readonly Width: number;
  readonly Text?: string;
  readonly ValueText?: string;
  readonly ResultType?: KType | null;
  readonly ReferencedSymbol?: KSymbol | null;
  readonly LiteralValue?: unknown;
  readonly constructor: { readonly $$name: string };
  GetChild(i: number): KNode | null;
  toString(): string;
  // typed members (present on some node classes only)
  readonly Expression?: KNode | null;
  readonly Expressions?: KList<KNode> | null;
  readonly Left?: KNode | null;
  readonly Right?: KNode | null;
  readonly Operator?: KNode | null;
  readonly Selector?: KNode | null;
  readonly Name?: KNode | null;
  readonly SimpleName?: string;
  readonly ArgumentList?: KNode | null;
  readonly Aggregates?: KList<KNode> | null;
  readonly ByClause?: KNode | null;
  readonly ByExpression?: KNode | null;
  readonly Condition?: KNode | null;
  readonly Parameters?: KList<KNode> | null;
  readonly ConditionClause?: KNode | null;
  readonly LookupClause?: KNode | null;
  readonly OnClause?: KNode | null;
  readonly RangeClause?: KNode | null;
  readonly DefaultExpression?: KNode | null;
  readonly MakeSeriesFromClause?: KNode | null;
  readonly MakeSeriesToClause?: KNode | null;
  readonly MakeSeriesStepClause?: KNode | null;
  readonly Ordering?: KNode | null;
  readonly AscOrDescKeyword?: KNode | null;
  readonly NullsClause?: KNode | null;
  readonly FirstOrLastKeyword?: KNode | null;
  readonly Values?: KList<KNode> | null;
  readonly Schema?: KNode | null;
  readonly Columns?: KList<KNode> | null;
  readonly Statements?: KList<KNode> | null;
  readonly First?: KNode | null;
  readonly Second?: KNode | null;
  readonly Element?: KNode | null;
}

export interface KDiagnostic {
  readonly Code: string;
  readonly Severity: string;
  readonly Message: string;
  readonly Start: number;
  readonly Length: number;
}

export interface KustoCode {
  readonly Syntax: KNode;
  readonly ResultType: KType | null;
  GetDiagnostics(): KList<KDiagnostic>;
}

interface KGlobalState {
  WithDatabase(db: unknown): KGlobalState;
}

interface KustoLanguage {
  KustoCode: { ParseAndAnalyze(text: string, globals: KGlobalState): KustoCode };
  GlobalState: { Default: KGlobalState };
  Symbols: {
    TableSymbol: { $ctor7: new (name: string, schema: string, description: string | null) => unknown };
    DatabaseSymbol: { ctor: new (name: string, tables: unknown[]) => unknown };
  };
  Syntax: { SyntaxKind: unknown };
}

interface BridgeSystem {
  Enum: { toString(enumType: unknown, value: number): string };
}

let language: { K: KustoLanguage; System: BridgeSystem; loadMs: number } | undefined;

/** Loads the language service (once per process). */
export function loadLanguage(): { K: KustoLanguage; System: BridgeSystem; loadMs: number } {
  if (language) return language;
  const started = performance.now();
  const require = createRequire(import.meta.url);
  require('@kusto/language-service-next/bridge.js');
  require('@kusto/language-service-next');
  const g = globalThis as unknown as { Kusto: { Language: KustoLanguage }; System: BridgeSystem };
  language = { K: g.Kusto.Language, System: g.System, loadMs: performance.now() - started };
  return language;
}

/** `SyntaxKind` name of a node (`FilterOperator`, `HasExpression`, ...). */
export function kindName(node: KNode): string {
  const { K, System } = loadLanguage();
  return System.Enum.toString(K.Syntax.SyntaxKind, node.Kind);
}

/** Kusto's schema text for a column name: brackets when the name is not a plain identifier. */
function schemaName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `['${name.replace(/'/g, "\\'")}']`;
}

/** The database Vigil's tables live in, as the binder sees it. */
export const KQL_DATABASE = 'vigil';

const globalsCache = new WeakMap<TableCatalog, { version: number; globals: KGlobalState }>();

/**
 * The binder's view of the catalog, rebuilt only when the catalog changed (a custom table created at run
 * time bumps its version), not on every query.
 */
function globalsFor(catalog: TableCatalog): KGlobalState {
  const cached = globalsCache.get(catalog);
  if (cached && cached.version === catalog.version) return cached.globals;
  const tables = catalog.list();
  const { K } = loadLanguage();
  const symbols = tables.map(
    (t) =>
      new K.Symbols.TableSymbol.$ctor7(
        t.name,
        // Hidden columns are declared too so a query that names `_ItemId` binds; `*` still excludes
        // them because the compiler expands `*` from the visible columns only.
        `(${t.columns.map((c) => `${schemaName(c.name)}:${c.type}`).join(', ')})`,
        null,
      ),
  );
  const globals = K.GlobalState.Default.WithDatabase(
    new K.Symbols.DatabaseSymbol.ctor(KQL_DATABASE, symbols),
  );
  globalsCache.set(catalog, { version: catalog.version, globals });
  return globals;
}

export interface Diagnostic {
  readonly code: string;
  readonly severity: string;
  readonly message: string;
  readonly start: number;
  readonly length: number;
}

export interface Analysis {
  readonly code: KustoCode;
  readonly diagnostics: Diagnostic[];
}

/** Parses and binds `text` against the catalog's tables. */
export function analyze(text: string, catalog: TableCatalog): Analysis {
  const globals = globalsFor(catalog);
  const { K } = loadLanguage();
  const code = K.KustoCode.ParseAndAnalyze(text, globals);
  const list = code.GetDiagnostics();
  const diagnostics: Diagnostic[] = [];
  for (let i = 0; i < list.Count; i++) {
    const d = list.getItem(i);
    diagnostics.push({
      code: d.Code,
      severity: d.Severity,
      message: d.Message,
      start: d.Start,
      length: d.Length,
    });
  }
  return { code, diagnostics };
}

/** Converts a .NET list to an array. */
export function toArray<T>(list: KList<T> | null | undefined): T[] {
  const out: T[] = [];
  if (!list) return out;
  for (let i = 0; i < list.Count; i++) out.push(list.getItem(i));
  return out;
}

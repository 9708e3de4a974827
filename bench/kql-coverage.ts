/**
 * KQL coverage: how many real detection and hunting queries over Vigil's tables compile today.
 *
 *   npx vite-node bench/kql-coverage.ts <dir-of-rule-yaml> [--list]
 *
 * Reads every `.yaml`/`.yml` file below the directory, takes its `query:` block scalar, keeps the
 * queries that name one of Vigil's tables as an identifier (not inside a comment or string literal),
 * de-duplicates them by rule `id` and by normalised text, and compiles each with `compileQuery`
 * (compile only, nothing runs). `--list` also prints every failing file with its reason.
 * No query text is part of this file: the rules are read from the directory given.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { KqlError } from '../src/kql/errors.js';
import { analyze } from '../src/kql/language.js';
import { compileQuery } from '../src/kql/run.js';
import { TableCatalog } from '../src/workspace/catalog.js';

const VIGIL_TABLES = [
  'OfficeActivity',
  'SecurityAlert',
  'SecurityIncident',
  'Dynamics365Activity',
  'PowerBIActivity',
  'McasShadowItReporting',
  'MicrosoftPurviewInformationProtection',
  'AWSCloudTrail',
] as const;

interface Rule {
  readonly file: string;
  readonly id: string | undefined;
  readonly query: string;
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFiles(path));
    else if (/\.ya?ml$/i.test(entry.name)) out.push(path);
  }
  return out.sort();
}

function unquote(value: string): string | undefined {
  const v = value.trim();
  if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) return v.slice(1, -1).replaceAll("''", "'");
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return undefined;
    }
  }
  return v === '' ? undefined : v;
}

/** The top-level `query:` of a rule file: block scalars (`|`, `|-`, `>`...) and one-line scalars. */
function extractRule(file: string, raw: string): Rule | undefined {
  const lines = raw
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .split('\n');
  let id: string | undefined;
  let query: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const idMatch = /^id:\s*(.*)$/.exec(line);
    if (idMatch && id === undefined) id = unquote(idMatch[1] ?? '')?.toLowerCase();
    const q = /^query:[ \t]*(.*)$/.exec(line);
    if (!q || query !== undefined) continue;
    const rest = (q[1] ?? '').replace(/\s+#.*$/, '').trim();
    const block = /^([|>])([-+]?)(\d?)([-+]?)$/.exec(rest);
    if (!block) {
      query = unquote(rest);
      continue;
    }
    const body: string[] = [];
    let indent = -1;
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j] ?? '';
      if (l.trim() === '') {
        body.push('');
        continue;
      }
      const n = l.length - l.trimStart().length;
      if (indent < 0) indent = n;
      if (n < indent || n === 0) break;
      body.push(l.slice(indent));
    }
    i = j - 1;
    while (body.length > 0 && body[body.length - 1] === '') body.pop();
    query = block[1] === '>' ? body.join(' ') : body.join('\n');
  }
  return query === undefined || query.trim() === '' ? undefined : { file, id, query };
}

/** The query with comments and string literals blanked out, so names in them do not count. */
function codeOnly(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (text.startsWith('```', i)) {
      const end = text.indexOf('```', i + 3);
      i = end < 0 ? text.length : end + 3;
      out += ' "" ';
      continue;
    }
    const verbatim = (c === '@' || c === 'h' || c === 'H') && (text[i + 1] === '"' || text[i + 1] === "'");
    if (c === '"' || c === "'" || verbatim) {
      const q = verbatim ? text[i + 1] : c;
      i += verbatim ? 2 : 1;
      while (i < text.length && text[i] !== q && text[i] !== '\n') {
        if (!verbatim && text[i] === '\\') i++;
        i++;
      }
      i++;
      out += ' "" ';
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

function vigilTablesIn(text: string): string[] {
  const code = codeOnly(text);
  return VIGIL_TABLES.filter((t) => new RegExp(`(?<![\\w.$])${t}(?![\\w])`).test(code));
}

function normalise(text: string): string {
  return codeOnly(text).replace(/\s+/g, ' ').trim();
}

const UNKNOWN_NAME =
  /does not refer to any known (table|function|table, tabular variable or function)|not a known (table|function)|unknown (table|function)/i;

type Outcome =
  | { kind: 'compiles' }
  | { kind: 'foreign'; names: string[] }
  | { kind: 'diagnostic'; reason: string }
  | { kind: 'unsupported'; reason: string }
  | { kind: 'other'; reason: string };

function quoted(message: string): string {
  return /'([^']+)'/.exec(message)?.[1] ?? message.slice(0, 80);
}

function classify(text: string, catalog: TableCatalog): Outcome {
  // All diagnostics, not just the first: a query naming any table or function Vigil lacks is
  // outside the measured set, whatever its first error is.
  let foreign: string[] = [];
  try {
    foreign = analyze(text, catalog)
      .diagnostics.filter((d) => d.severity === 'Error' && UNKNOWN_NAME.test(d.message))
      .map((d) => text.slice(d.start, d.start + d.length) || quoted(d.message));
  } catch {
    // compileQuery below reports it.
  }
  // Tables inside `union isfuzzy=true` bind without error: look for pipeline heads too.
  const code = codeOnly(text);
  const heads = /(?:\(|\bunion\b(?:\s+\w+\s*=\s*\w+)*)\s*([A-Z]\w*)\s*\|/g;
  for (const m of code.matchAll(heads)) {
    const name = m[1] ?? '';
    if (!catalog.get(name) && !new RegExp(`\\blet\\s+${name}\\b`).test(code)) foreign.push(name);
  }
  if (foreign.length > 0) return { kind: 'foreign', names: [...new Set(foreign)] };
  try {
    compileQuery(text, catalog);
    return { kind: 'compiles' };
  } catch (e) {
    if (e instanceof KqlError) {
      // A table inside `union isfuzzy=true` is not a bind error: Kusto lets it pass, and the
      // compiler then reports the reference. A name that is neither a Vigil table nor a `let`
      // of the query is a table Vigil does not have.
      const ref = /^The reference '([\s\S]*)' is not supported yet\.$/.exec(e.message);
      if (ref) {
        const name = /[A-Za-z_][\w]*/.exec(codeOnly(ref[1] ?? '').replace(/[()]/g, ' '))?.[0];
        if (name && !catalog.get(name) && !new RegExp(`\\blet\\s+${name}\\b`).test(text)) {
          return { kind: 'foreign', names: [name] };
        }
      }
      if (e.code === 'KS142')
        return { kind: 'diagnostic', reason: `KS142 unknown name '${quoted(e.message)}'` };
      if (e.code.startsWith('KS')) {
        const generic = e.message.replace(/'[^']*'/g, "'…'").slice(0, 90);
        return { kind: 'diagnostic', reason: `${e.code}: ${generic}` };
      }
      if (e.code === 'KQL_UNSUPPORTED_OPERATOR')
        return { kind: 'unsupported', reason: `operator ${quoted(e.message)}` };
      if (e.code === 'KQL_UNSUPPORTED_FUNCTION')
        return { kind: 'unsupported', reason: `function ${quoted(e.message)}` };
      return { kind: 'unsupported', reason: e.message.replace(/ is not supported yet\.$/, '').slice(0, 100) };
    }
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { kind: 'other', reason: message.split('\n')[0]?.slice(0, 100) ?? '' };
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function top(map: Map<string, number>, n: number): [string, number][] {
  return [...map].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);
}

function pct(part: number, whole: number): string {
  return whole === 0 ? '—' : `${((100 * part) / whole).toFixed(1)}%`;
}

function main(): void {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  if (!dir) {
    console.error('usage: vite-node bench/kql-coverage.ts <dir-of-rule-yaml> [--list]');
    process.exit(2);
  }
  const list = args.includes('--list');
  const files = yamlFiles(dir);
  const unreadable: string[] = [];
  const rules: Rule[] = [];
  for (const file of files) {
    const rule = extractRule(relative(dir, file), readFileSync(file, 'utf8'));
    if (rule) rules.push(rule);
    else unreadable.push(relative(dir, file));
  }

  const relevant = rules.filter((r) => vigilTablesIn(r.query).length > 0);
  const byId = new Map<string, Rule>();
  const seenText = new Set<string>();
  let duplicates = 0;
  for (const rule of relevant) {
    const key = rule.id ?? `file:${rule.file}`;
    const norm = normalise(rule.query);
    if (byId.has(key) || seenText.has(norm)) {
      duplicates++;
      continue;
    }
    byId.set(key, rule);
    seenText.add(norm);
  }
  const unique = [...byId.values()];

  const catalog = new TableCatalog();
  const perTable = new Map<string, number>();
  const foreignNames = new Map<string, number>();
  const reasons = new Map<string, number>();
  const failures: [string, string][] = [];
  let compiles = 0;
  let foreign = 0;
  let diagnostic = 0;
  let unsupported = 0;
  let other = 0;
  for (const rule of unique) {
    for (const t of vigilTablesIn(rule.query)) bump(perTable, t);
    const outcome = classify(rule.query, catalog);
    switch (outcome.kind) {
      case 'compiles':
        compiles++;
        break;
      case 'foreign':
        foreign++;
        for (const n of outcome.names) bump(foreignNames, n);
        if (list) failures.push([rule.file, `non-Vigil names: ${outcome.names.join(', ')}`]);
        break;
      default:
        if (outcome.kind === 'diagnostic') diagnostic++;
        else if (outcome.kind === 'unsupported') unsupported++;
        else other++;
        bump(reasons, outcome.reason);
        failures.push([rule.file, outcome.reason]);
    }
  }

  const vigilOnly = unique.length - foreign;
  console.log(
    `YAML files: ${files.length}; with a readable query: ${rules.length}; unreadable: ${unreadable.length}`,
  );
  for (const f of unreadable.slice(0, 10)) console.log(`  unreadable: ${f}`);
  console.log(
    `queries naming a Vigil table: ${relevant.length}; duplicates dropped: ${duplicates}; unique: ${unique.length}`,
  );
  console.log(
    `per table: ${top(perTable, 20)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ')}`,
  );
  console.log('');
  console.log(`uses a table/function Vigil does not have: ${foreign}`);
  console.log(`uses only Vigil's tables:                  ${vigilOnly}`);
  console.log(`  compiles:                                ${compiles} (${pct(compiles, vigilOnly)})`);
  console.log(`  Kusto diagnostic (KS…):                  ${diagnostic}`);
  console.log(`  unsupported operator/function/construct: ${unsupported}`);
  console.log(`  other error:                             ${other}`);
  console.log('');
  console.log('non-Vigil names (queries):');
  for (const [n, c] of top(foreignNames, 30)) console.log(`  ${String(c).padStart(4)}  ${n}`);
  console.log('');
  console.log('top failure reasons among queries over Vigil tables only (queries):');
  for (const [r, c] of top(reasons, 30)) console.log(`  ${String(c).padStart(4)}  ${r}`);
  if (list) {
    console.log('');
    for (const [f, r] of failures) console.log(`${f}\t${r}`);
  }
}

main();

import type { Command } from 'commander';
import { compileQuery, type QueryResult, runQuery } from '../../kql/run.js';
import { TableDefinitionRepository } from '../../storage/control/table-definitions.js';
import { TableCatalog } from '../../workspace/catalog.js';
import { Workspace } from '../../workspace/workspace.js';
import { CliError, defaultDataDir } from '../output.js';
import { callServer, envelopeMessage, findRunningServer } from '../server-client.js';

interface QueryOptions {
  dataDir: string;
  format: string;
  explain?: boolean;
}

/** `vigil query 'KQL'`: runs a query and prints the result; `--explain` prints the IR and the SQL instead. */
export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('run a KQL query against the workspace and print the result')
    .argument('<kql>', 'the query, e.g. "OfficeActivity | summarize count() by Operation"')
    .option('-d, --data-dir <dir>', 'data directory (env VIGIL_DATA_DIR)', defaultDataDir())
    .option('-f, --format <format>', 'table, json or csv', 'table')
    .option('--explain', 'print the intermediate representation and the ClickHouse SQL; run nothing')
    .action(async (kql: string, options: QueryOptions) => {
      if (!['table', 'json', 'csv'].includes(options.format)) {
        throw new CliError(`--format must be table, json or csv (got '${options.format}')`, 2);
      }
      if (options.explain) {
        // Compiling needs only the catalog, so this works beside a running server.
        const { db } = await Workspace.openControl(options.dataDir);
        try {
          const definitions = new TableDefinitionRepository(db);
          const catalog = new TableCatalog(
            await definitions.listCustom(),
            await definitions.retentionOverrides(),
          );
          const compiled = compileQuery(kql, catalog);
          process.stdout.write(`-- IR\n${compiled.explain()}\n\n-- SQL\n${compiled.sql}\n`);
        } finally {
          await db.destroy();
        }
        return;
      }
      const result = await execute(kql, options.dataDir);
      process.stdout.write(render(result, options.format));
    });
}

async function execute(kql: string, dataDir: string): Promise<QueryResult> {
  const server = findRunningServer(dataDir);
  if (!server) {
    const ws = await Workspace.open(dataDir);
    try {
      return await runQuery(ws, kql);
    } finally {
      await ws.close();
    }
  }
  const health = await callServer<{ workspaceId: string }>(server, 'GET', '/health');
  const res = await callServer<{ tables: QueryResult[] }>(
    server,
    'POST',
    `/v1/workspaces/${health.body.workspaceId}/query`,
    JSON.stringify({ query: kql }),
  );
  if (res.status !== 200) throw new CliError(envelopeMessage(res.body, res.status));
  const table = res.body.tables[0]!;
  // The wire form encodes dynamic values as JSON text; show them as values.
  const rows = table.rows.map((row) =>
    row.map((v, i) => (table.columns[i]!.type === 'dynamic' && typeof v === 'string' ? safeParse(v) : v)),
  );
  return { columns: table.columns, rows };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function render(result: QueryResult, format: string): string {
  if (format === 'json') return `${JSON.stringify(result, null, 2)}\n`;
  const header = result.columns.map((c) => c.name);
  const body = result.rows.map((r) => r.map(cellText));
  if (format === 'csv') return [header, ...body].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...body.map((r) => r[i]!.length))));
  const clip = (t: string, w: number) => (t.length > w ? `${t.slice(0, w - 1)}…` : t.padEnd(w));
  const line = (r: string[]) =>
    r
      .map((c, i) => clip(c, widths[i]!))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const count = `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`;
  return [line(header), rule, ...body.map(line), count].join('\n') + '\n';
}

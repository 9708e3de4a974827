import type { Command } from 'commander';
import type { TableStats } from '../../workspace/workspace.js';
import { Workspace } from '../../workspace/workspace.js';
import { CliError, defaultDataDir, formatBytes, formatCount } from '../output.js';
import { callServer, envelopeMessage, findRunningServer } from '../server-client.js';

/** `vigil tables`: every table with its row count and size on disk. */
export function registerTables(program: Command): void {
  program
    .command('tables')
    .description('list the workspace tables with their row counts and sizes')
    .option('-d, --data-dir <dir>', 'data directory', defaultDataDir())
    .option('--json', 'print JSON')
    .action(async (options: { dataDir: string; json?: boolean }) => {
      let stats: TableStats[];
      const server = findRunningServer(options.dataDir);
      if (server) {
        const res = await callServer<{ value: TableStats[] }>(server, 'GET', '/api/tables');
        if (res.status !== 200) throw new CliError(envelopeMessage(res.body, res.status));
        stats = res.body.value;
      } else {
        const ws = await Workspace.open(options.dataDir);
        try {
          stats = await ws.tableStats();
        } finally {
          await ws.close();
        }
      }
      if (options.json) {
        process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
        return;
      }
      const rows = stats.map((s) => [
        s.name,
        s.kind,
        formatCount(s.rows),
        formatBytes(s.bytesOnDisk),
        `${s.retentionDays} d`,
      ]);
      const header = ['TABLE', 'KIND', 'ROWS', 'SIZE', 'RETENTION'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const fmt = (r: string[]) =>
        r.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
      process.stdout.write(`${[fmt(header), ...rows.map(fmt)].join('\n')}\n`);
    });
}

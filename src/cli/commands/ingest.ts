import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { IngestService } from '../../ingest/service.js';
import type { IngestSummary, StreamPosition } from '../../ingest/types.js';
import { Workspace } from '../../workspace/workspace.js';
import { CliError, defaultDataDir, formatCount } from '../output.js';
import { callServer, envelopeMessage, findRunningServer } from '../server-client.js';

interface IngestOptions {
  table: string;
  dataDir: string;
  restart?: boolean;
  json?: boolean;
}

/** `vigil ingest --table T FILE.ndjson`: the ingest pipeline on a file, resumable from its checkpoint. */
export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description(
      'ingest an NDJSON file (one JSON record a line) into a table; re-running resumes where it stopped',
    )
    .argument('<file>', 'NDJSON file')
    .requiredOption('-t, --table <table>', 'destination table')
    .option('-d, --data-dir <dir>', 'data directory', defaultDataDir())
    .option(
      '--restart',
      'forget the checkpoint and read the file from the start (stored records stay de-duplicated)',
    )
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, options: IngestOptions) => {
      const filePath = path.resolve(file);
      checkReadable(filePath);
      const source = `file:${fs.realpathSync(filePath)}`;
      const server = findRunningServer(options.dataDir);
      let summary: IngestSummary;
      let position: StreamPosition;
      if (server) {
        process.stderr.write(`vigil: ingesting through the running server at ${server.url}\n`);
        ({ summary, position } = await viaServer(server, filePath, source, options));
      } else {
        ({ summary, position } = await embedded(filePath, source, options));
      }
      print(summary, position, options.json ?? false);
    });
}

function checkReadable(filePath: string): void {
  try {
    const stat = fs.statSync(filePath);
    if (!stat.isFile()) throw new CliError(`cannot read ${filePath}: not a file`);
    fs.accessSync(filePath, fs.constants.R_OK);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(
      `cannot read ${filePath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

function openFrom(filePath: string, offset: number): fs.ReadStream {
  return fs.createReadStream(filePath, { start: offset, highWaterMark: 1024 * 1024 });
}

async function embedded(filePath: string, source: string, options: IngestOptions) {
  const ws = await Workspace.open(options.dataDir);
  try {
    process.stderr.write(`vigil: no server running; ingesting into the store in ${ws.dataDir}\n`);
    const ingest = new IngestService(ws);
    ws.catalog.require(options.table);
    if (options.restart) await ingest.resetPosition(source, options.table);
    const position = await ingest.position(source, options.table);
    announceResume(position);
    const summary = await ingest.ingestStream({
      table: options.table,
      source,
      input: openFrom(filePath, position.offset),
      startOffset: position.offset,
      checkpoint: true,
    });
    return { summary, position: await ingest.position(source, options.table) };
  } finally {
    await ws.close();
  }
}

async function viaServer(
  server: NonNullable<ReturnType<typeof findRunningServer>>,
  filePath: string,
  source: string,
  options: IngestOptions,
) {
  const table = encodeURIComponent(options.table);
  const src = encodeURIComponent(source);
  if (options.restart) {
    const res = await callServer(server, 'DELETE', `/api/ingest/${table}/position?source=${src}`);
    if (res.status >= 300) throw new CliError(envelopeMessage(res.body, res.status));
  }
  const pos = await callServer<StreamPosition>(server, 'GET', `/api/ingest/${table}/position?source=${src}`);
  if (pos.status !== 200) throw new CliError(envelopeMessage(pos.body, pos.status));
  announceResume(pos.body);
  const res = await callServer<IngestSummary>(
    server,
    'POST',
    `/api/ingest/${table}?source=${src}&offset=${pos.body.offset}&checkpoint=true`,
    openFrom(filePath, pos.body.offset),
    'application/x-ndjson',
  );
  if (res.status !== 200) throw new CliError(envelopeMessage(res.body, res.status));
  const after = await callServer<StreamPosition>(
    server,
    'GET',
    `/api/ingest/${table}/position?source=${src}`,
  );
  return { summary: res.body, position: after.body };
}

function announceResume(position: StreamPosition): void {
  if (position.offset > 0) {
    process.stderr.write(
      `vigil: resuming at line ${formatCount(position.line)} (byte ${formatCount(position.offset)}) from the last checkpoint\n`,
    );
  }
}

function print(summary: IngestSummary, position: StreamPosition, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...summary, totals: position.totals }, null, 2)}\n`);
    return;
  }
  const lines = [
    `table:          ${summary.table}`,
    `lines read:     ${formatCount(summary.linesRead)}`,
    `rows written:   ${formatCount(summary.rowsWritten)}`,
    `de-duplicated:  ${formatCount(summary.duplicates)}`,
    `quarantined:    ${formatCount(summary.quarantined)}`,
  ];
  if (summary.startOffset > 0 && position.totals) {
    const t = position.totals;
    lines.push(
      `whole file so far: ${formatCount(t.rowsWritten)} written, ${formatCount(t.duplicates)} de-duplicated, ${formatCount(t.quarantined)} quarantined`,
    );
  }
  for (const bad of summary.badLines) lines.push(`  line ${bad.line}: ${bad.reason}: ${bad.details}`);
  if (summary.quarantined > summary.badLines.length) {
    lines.push(
      `  ... and ${formatCount(summary.quarantined - summary.badLines.length)} more (see the IngestionQuarantine table)`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

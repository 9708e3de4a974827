/**
 * `npm run bench:ingest [-- --records N]`: the ingest pipeline against the engine's own ceiling, in one run.
 *
 * (a) pipeline: N Office 365 audit records (about 2 KB each) through IngestService: parse, map, validate,
 *     de-duplicate, write with tokens, checkpoint after each batch.
 * (b) ceiling: the same rows, already mapped, streamed into the same table by the engine's own JSONEachRow
 *     parser (chdb's stream insert).
 * Each phase runs in its own process, so its peak RSS is its own; the two alternate for `--rounds` rounds
 * (default 3, see rounds.ts) and the fastest run of each is compared: on a shared two-core machine a single
 * run of either swings by ±20 % and more. Targets (issue 2): a/b >= 0.7 and pipeline peak RSS <= 600 MiB
 * (the highest of the rounds) at 1M records.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { datetimeFromMillis } from '../src/ingest/coerce.js';
import { RowMapper } from '../src/ingest/mapping.js';
import { IngestService } from '../src/ingest/service.js';
import { auditRecord } from '../src/simulator/generators/office365-audit.js';
import { resolveTable } from '../src/workspace/catalog.js';
import { OfficeActivity } from '../src/workspace/tables/OfficeActivity.js';
import { Workspace } from '../src/workspace/workspace.js';
import { alternateRounds, type PhaseResult, printComparison } from './rounds.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function writeInChunks(file: string, count: number, line: (i: number) => string): Promise<number> {
  const fd = fs.openSync(file, 'w');
  let bytes = 0;
  for (let i = 0; i < count; i += 5000) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(count, i + 5000); j++) lines.push(line(j));
    const buf = Buffer.from(lines.join('\n') + '\n');
    fs.writeSync(fd, buf);
    bytes += buf.length;
  }
  fs.closeSync(fd);
  return bytes;
}

async function count(ws: Workspace): Promise<number> {
  const r = await ws.store.query<{ n: string }>(`SELECT count() AS n FROM vigil.OfficeActivity`);
  return Number(r[0]?.n ?? 0);
}

async function runPhase(phase: string, input: string, dataDir: string): Promise<PhaseResult> {
  const ws = await Workspace.open(dataDir);
  const started = process.hrtime.bigint();
  if (phase === 'ceiling') {
    await ws.store.bulkLoadJsonEachRow(
      'OfficeActivity',
      fs.createReadStream(input, { highWaterMark: 1024 * 1024 }),
    );
  } else {
    await new IngestService(ws).ingestStream({
      table: 'OfficeActivity',
      source: `file:${input}`,
      input: fs.createReadStream(input, { highWaterMark: 1024 * 1024 }),
      checkpoint: true,
    });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const stored = await count(ws);
  await ws.close();
  return { phase, rows: stored, seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
}

function child(phase: string, input: string, dataDir: string): PhaseResult {
  const res = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--phase', phase, '--input', input, '--data', dataDir],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (res.status !== 0) throw new Error(`phase ${phase} failed with ${res.status}`);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as PhaseResult;
}

async function main(): Promise<void> {
  const phase = arg('phase');
  if (phase) {
    const result = await runPhase(phase, arg('input')!, arg('data')!);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const n = Number(arg('records') ?? process.env.BENCH_RECORDS ?? 1_000_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-ingest-'));
  try {
    const options = {
      seed: 7,
      startMs: Date.now() - 20 * 3600_000,
      stepMs: Math.max(1, Math.floor((18 * 3600_000) / n)),
    };
    const source = path.join(dir, 'records.ndjson');
    const rowsFile = path.join(dir, 'rows.ndjson');
    const sourceBytes = await writeInChunks(source, n, (i) => JSON.stringify(auditRecord(i, options)));
    // The ceiling's input: the pipeline's own output for the same records (same columns, same values).
    const mapper = new RowMapper(resolveTable(OfficeActivity));
    const received = datetimeFromMillis(Date.now());
    const tenant = crypto.randomUUID();
    await writeInChunks(rowsFile, n, (i) => {
      // JSON objects held by string columns as escaped strings: the engine's stream insert reads those 4×
      // faster than objects read as strings (measured: 100k rows in 2.6 s against 9.9 s), and the ceiling is
      // the fastest the engine can be filled.
      const { row } = mapper.map(auditRecord(i, options), received);
      return JSON.stringify({ ...row, TenantId: tenant, _TimeReceived: received, _BilledSize: 2000 });
    });
    process.stdout.write(
      `bench:ingest: ${n.toLocaleString('en-US')} OfficeActivity records, ${(sourceBytes / n).toFixed(0)} bytes each on average, ${os.cpus().length} cores\n`,
    );
    const rounds = Math.max(1, Number(arg('rounds') ?? 3));
    const runs = alternateRounds(rounds, ['ceiling', 'pipeline'], n, (phase, round) => {
      const data = path.join(dir, `${phase}-${round}`);
      const result = child(phase, phase === 'ceiling' ? rowsFile : source, data);
      fs.rmSync(data, { recursive: true, force: true });
      return result;
    });
    printComparison(
      runs,
      { phase: 'ceiling', label: 'ceiling, native JSONEachRow stream insert' },
      { phase: 'pipeline', label: 'pipeline, map+validate+dedupe+write+checkpoint', rssName: 'pipeline' },
      { ratio: 0.7, peakRssMiB: 600 },
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();

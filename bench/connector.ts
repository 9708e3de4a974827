/**
 * `npm run bench:connector [-- --records N]`: the five Office-fed connectors against the foundation's ingest
 * ceiling on the same records, in one run (issue 4).
 *
 * The simulator (its own process, so its CPU and memory are not Vigil's) holds N records of one tenant as
 * content blobs on disk. Then, each in its own process so peak RSS is its own:
 * (b) ceiling: the records the connectors must store, already mapped to their tables' rows, streamed into
 *     the tables by the engine's own JSONEachRow parser;
 * (a) connectors: from Connect (five dataConnectors PUTs) until every expected row is queryable — token,
 *     listing, paging, blob downloads over HTTPS, selection, mapping, de-duplication, writes with tokens,
 *     finished-content records and checkpoints.
 * The two alternate for `--rounds` rounds (default 3, see rounds.ts) and the fastest run of each is compared
 * (a single run of either swings by ±20 % and more on a shared two-core machine); peak RSS is the highest of
 * the connector runs. Targets: a/b >= 0.6; connector peak RSS <= 700 MiB.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connectSimulatedTenant, officeFedConnections } from '../src/connectors/demo.js';
import { createConnectorServices } from '../src/connectors/index.js';
import { CONNECTORS } from '../src/connectors/registry.js';
import { datetimeFromMillis } from '../src/ingest/coerce.js';
import { RowMapper } from '../src/ingest/mapping.js';
import { compileSelector } from '../src/ingest/select.js';
import { IngestService } from '../src/ingest/service.js';
import { ensureCertificates } from '../src/server/tls.js';
import { DEMO_TENANT_ID, startSimulator } from '../src/simulator/index.js';
import { resolveTable } from '../src/workspace/catalog.js';
import { builtinTables } from '../src/workspace/tables/index.js';
import { Workspace } from '../src/workspace/workspace.js';
import { alternateRounds, type PhaseResult, printComparison } from './rounds.js';

const TABLES = [
  'OfficeActivity',
  'Dynamics365Activity',
  'PowerBIActivity',
  'MicrosoftPurviewInformationProtection',
  'SecurityAlert',
] as const;
type Table = (typeof TABLES)[number];

/**
 * The table each record belongs in, as the five connectors' own definitions select and shape it (a
 * benchmark, not a correctness test: the tests decide expected tables independently, from tables.md).
 */
const ROUTES = [...CONNECTORS.values()].flatMap((d) =>
  d.dataTypes.map((t) => ({
    table: t.table as Table,
    contentType: t.source.contentType as string,
    select: t.source.select ? compileSelector(t.source.select) : () => true,
    hook: t.source.hook ? d.hooks?.[t.source.hook] : undefined,
  })),
);

/** The record as its table takes it, or undefined when no connector takes it. */
function shapeFor(
  contentType: string,
  r: Record<string, unknown>,
): { table: Table; record: Record<string, unknown> } | undefined {
  for (const route of ROUTES) {
    if (route.contentType !== contentType || !route.select(r)) continue;
    const record = route.hook ? route.hook(r) : r;
    return record ? { table: route.table, record } : undefined;
  }
  return undefined;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface SimulatorInfo {
  url: string;
  ca: string;
  blobDir: string;
}

/** Phase `simulator`: generate the history (blob bodies on disk), print where to reach it, serve until killed. */
async function simulatorPhase(dir: string, records: number, perBlob: number): Promise<void> {
  const tls = ensureCertificates(path.join(dir, 'tls'));
  const blobDir = path.join(dir, 'blobs');
  const sim = await startSimulator({ tls, seed: 11, blobDir, knobs: { pageSize: 1000 } });
  const now = Date.now();
  await sim.activity.generate({
    tenantId: DEMO_TENANT_ID,
    count: records,
    from: now - 20 * 3600_000,
    to: now - 60_000,
    subscribed: true,
    recordsPerBlob: perBlob,
    mix: { 'Audit.Exchange': 0.35, 'Audit.SharePoint': 0.4, 'Audit.General': 0.25 },
  });
  const info: SimulatorInfo = { url: sim.url, ca: tls.ca, blobDir: path.join(blobDir, DEMO_TENANT_ID) };
  fs.writeFileSync(path.join(dir, 'truth.json'), JSON.stringify(collectTruth(sim)));
  process.stdout.write(`${JSON.stringify(info)}\n`);
  await new Promise(() => undefined);
}

function collectTruth(sim: Awaited<ReturnType<typeof startSimulator>>): Record<string, string> {
  // record id → content type of a listable record (the connectors' tables are decided from the bodies).
  const out: Record<string, string> = {};
  for (const r of sim.truth.records(DEMO_TENANT_ID)) if (r.listable) out[r.id] = r.contentType;
  return out;
}

/** Builds the ceiling's input: one NDJSON file of mapped rows per table, each distinct record once. */
function buildCeilingInput(
  blobDir: string,
  truth: Record<string, string>,
  outDir: string,
): Record<Table, number> {
  const mappers = Object.fromEntries(
    TABLES.map((t) => [t, new RowMapper(resolveTable(tableSchema(t)))]),
  ) as Record<Table, RowMapper>;
  const files = Object.fromEntries(
    TABLES.map((t) => [t, fs.openSync(path.join(outDir, `${t}.ndjson`), 'w')]),
  ) as Record<Table, number>;
  const counts = Object.fromEntries(TABLES.map((t) => [t, 0])) as Record<Table, number>;
  const seen = new Set<string>();
  const received = datetimeFromMillis(Date.now());
  const tenant = crypto.randomUUID();
  for (const name of fs.readdirSync(blobDir)) {
    const records = JSON.parse(fs.readFileSync(path.join(blobDir, name), 'utf8')) as Record<
      string,
      unknown
    >[];
    const lines: Partial<Record<Table, string[]>> = {};
    for (const record of records) {
      const id = String(record.Id);
      const contentType = truth[id];
      if (!contentType || seen.has(id)) continue;
      seen.add(id);
      const shaped = shapeFor(contentType, record);
      if (!shaped) continue;
      const { table } = shaped;
      const { row } = mappers[table].map(shaped.record, received);
      lines[table] ??= [];
      lines[table].push(
        JSON.stringify({ ...row, TenantId: tenant, _TimeReceived: received, _BilledSize: 2000 }),
      );
      counts[table]++;
    }
    for (const [t, l] of Object.entries(lines)) fs.writeSync(files[t as Table], `${l.join('\n')}\n`);
  }
  for (const fd of Object.values(files)) fs.closeSync(fd);
  return counts;
}

function tableSchema(t: Table) {
  const schema = builtinTables.find((s) => s.name === t);
  if (!schema) throw new Error(`no built-in table ${t}`);
  return schema;
}

async function storedCounts(ws: Workspace): Promise<Record<Table, number>> {
  const out = {} as Record<Table, number>;
  for (const t of TABLES) {
    const r = await ws.store.query<{ n: string }>(`SELECT count() AS n FROM vigil.${t}`);
    out[t] = Number(r[0]?.n ?? 0);
  }
  return out;
}

async function ceilingPhase(inputDir: string, dataDir: string): Promise<PhaseResult> {
  const ws = await Workspace.open(dataDir);
  const started = process.hrtime.bigint();
  for (const t of TABLES) {
    await ws.store.bulkLoadJsonEachRow(
      t,
      fs.createReadStream(path.join(inputDir, `${t}.ndjson`), { highWaterMark: 1 << 20 }),
    );
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rows = Object.values(await storedCounts(ws)).reduce((a, b) => a + b, 0);
  await ws.close();
  return { phase: 'ceiling', rows, seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
}

async function connectorPhase(
  info: SimulatorInfo,
  expected: Record<Table, number>,
  dataDir: string,
): Promise<PhaseResult> {
  const ws = await Workspace.open(dataDir);
  const quiet = {
    info() {},
    warn: (o: object, m: string) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`),
    error: (o: object, m: string) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`),
  };
  const services = createConnectorServices(ws, new IngestService(ws), quiet, {
    pollIntervalMs: 1000,
    jitter: 0,
    delayMs: 0,
    // The simulator's pool with PublisherIdentifier (the troubleshooting guide's 60K/min); Vigil's default
    // stays at the documented 2,000 baseline.
    requestsPerMinute: 60_000,
  });
  await connectSimulatedTenant(services, 'bench', info.url, info.ca);
  await services.runtime.start();
  const total = Object.values(expected).reduce((a, b) => a + b, 0);
  const started = process.hrtime.bigint();
  for (const [name, body] of Object.entries(officeFedConnections(DEMO_TENANT_ID)))
    await services.connectors.put(name, body);
  let rows = 0;
  // BENCH_MEMORY=1: where the connector process's memory is (V8 heap vs the engine's native allocations).
  let peak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  const sampler = process.env.BENCH_MEMORY
    ? setInterval(() => {
        const m = process.memoryUsage();
        if (m.rss > peak.rss)
          peak = {
            rss: m.rss,
            heapUsed: m.heapUsed,
            heapTotal: m.heapTotal,
            external: m.external,
            arrayBuffers: m.arrayBuffers,
          };
      }, 50)
    : undefined;
  for (;;) {
    const stored = await storedCounts(ws);
    rows = Object.values(stored).reduce((a, b) => a + b, 0);
    if (TABLES.every((t) => stored[t] >= expected[t])) break;
    if (Number(process.hrtime.bigint() - started) / 1e9 > 3600)
      throw new Error(`stalled at ${rows} of ${total} rows`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (sampler) {
    clearInterval(sampler);
    const mib = (n: number) => `${Math.round(n / 1048576)} MiB`;
    process.stderr.write(
      `memory at peak RSS: rss ${mib(peak.rss)}, V8 heap used ${mib(peak.heapUsed)} of ${mib(peak.heapTotal)}, external ${mib(peak.external)} (array buffers ${mib(peak.arrayBuffers)})\n`,
    );
  }
  await services.runtime.stop();
  await ws.close();
  return { phase: 'connectors', rows, seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
}

function child(args: string[]): PhaseResult {
  // BENCH_PROFILE=<dir>: a V8 CPU profile of each phase, for finding where the time goes.
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE]
    : [];
  const res = spawnSync(process.execPath, [...profile, fileURLToPath(import.meta.url), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 26,
  });
  if (res.status !== 0) throw new Error(`phase ${args[1]} failed with ${res.status}`);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as PhaseResult;
}

async function startSimulatorProcess(
  dir: string,
  records: number,
  perBlob: number,
): Promise<{ proc: ChildProcess; info: SimulatorInfo }> {
  const proc = spawn(
    process.execPath,
    [
      // The simulator stands in for Microsoft's service but shares this machine's cores. It holds the truth
      // of every record it made (a million objects that each major GC marks); a larger young generation
      // lets each served blob's buffers die young instead of forcing those GCs: 9 → 7 CPU s a run.
      '--max-semi-space-size=64',
      fileURLToPath(import.meta.url),
      '--phase',
      'simulator',
      '--dir',
      dir,
      '--records',
      String(records),
      '--per-blob',
      String(perBlob),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = readline.createInterface({ input: proc.stdout! });
  const info = await new Promise<SimulatorInfo>((resolve, reject) => {
    lines.once('line', (l) => resolve(JSON.parse(l) as SimulatorInfo));
    proc.once('exit', (code) => reject(new Error(`the simulator exited with ${code}`)));
  });
  return { proc, info };
}

async function main(): Promise<void> {
  const phase = arg('phase');
  if (phase === 'simulator')
    return simulatorPhase(arg('dir')!, Number(arg('records')), Number(arg('per-blob')));
  if (phase === 'ceiling') {
    process.stdout.write(`${JSON.stringify(await ceilingPhase(arg('input')!, arg('data')!))}\n`);
    return;
  }
  if (phase === 'connectors') {
    const info = JSON.parse(fs.readFileSync(arg('info')!, 'utf8')) as SimulatorInfo;
    const expected = JSON.parse(fs.readFileSync(arg('expected')!, 'utf8')) as Record<Table, number>;
    process.stdout.write(`${JSON.stringify(await connectorPhase(info, expected, arg('data')!))}\n`);
    return;
  }

  const records = Number(arg('records') ?? process.env.BENCH_RECORDS ?? 1_000_000);
  const perBlob = Number(arg('per-blob') ?? 1000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-connector-'));
  let sim: ChildProcess | undefined;
  try {
    const t0 = Date.now();
    const started = await startSimulatorProcess(path.join(dir, 'sim'), records, perBlob);
    sim = started.proc;
    const truth = JSON.parse(fs.readFileSync(path.join(dir, 'sim', 'truth.json'), 'utf8')) as Record<
      string,
      string
    >;
    const inputDir = path.join(dir, 'ceiling-input');
    fs.mkdirSync(inputDir);
    const expected = buildCeilingInput(started.info.blobDir, truth, inputDir);
    const total = Object.values(expected).reduce((a, b) => a + b, 0);
    fs.writeFileSync(path.join(dir, 'info.json'), JSON.stringify(started.info));
    fs.writeFileSync(path.join(dir, 'expected.json'), JSON.stringify(expected));
    process.stdout.write(
      `bench:connector: ${records.toLocaleString('en-US')} records in the simulator (~${perBlob} per blob; set up in ${((Date.now() - t0) / 1000).toFixed(0)} s); ${total.toLocaleString('en-US')} belong in the five connectors' tables ${JSON.stringify(expected)}; ${os.cpus().length} cores\n`,
    );
    const rounds = Math.max(1, Number(arg('rounds') ?? 3));
    const runs = alternateRounds(rounds, ['ceiling', 'connectors'], total, (phase, round) => {
      const data = path.join(dir, `${phase}-${round}`);
      const result =
        phase === 'ceiling'
          ? child(['--phase', 'ceiling', '--input', inputDir, '--data', data])
          : child([
              '--phase',
              'connectors',
              '--info',
              path.join(dir, 'info.json'),
              '--expected',
              path.join(dir, 'expected.json'),
              '--data',
              data,
            ]);
      fs.rmSync(data, { recursive: true, force: true });
      return result;
    });
    printComparison(
      runs,
      { phase: 'ceiling', label: 'ceiling, native JSONEachRow stream insert of the mapped rows' },
      { phase: 'connectors', label: 'connectors, Connect → all rows queryable', rssName: 'connector' },
      { ratio: 0.6, peakRssMiB: 700 },
    );
  } finally {
    sim?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();

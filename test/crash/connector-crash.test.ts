/**
 * Crash test of the connector runtime (issue 4): the built `vigil serve` ingests the five Office-fed connectors
 * from a `vigil simulator` process and is killed with SIGKILL at random moments while it ingests, 20 times,
 * restarted each time (the connectors, the tenant connection and the stream positions live in the data
 * directory, so each start resumes on its own). A last run finishes; then every table must hold exactly the
 * simulator's ground truth: every expected record once, nothing else.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInfo } from '../../src/cli/commands/simulator.js';
import { prng } from '../../src/simulator/generators/office365-audit.js';
import type { TruthRecord } from '../../src/simulator/index.js';
import { Workspace } from '../../src/workspace/workspace.js';
import {
  ADMIN_TOKEN,
  type CliProcess,
  CONNECT_ALL,
  compareIds,
  expectedIdsFrom,
  httpsOk,
  killAllCli,
  queryScalar,
  SERVE_LISTENING,
  startCli,
  stopCli,
  TABLE_IDS,
} from '../connectors/harness.js';

/** Records of history in the simulator: enough that ingestion outlasts the kills (about 400 blobs). */
const RECORDS = Number(process.env.CRASH_RECORDS ?? 40_000);
const KILLS = 20;
const SEED = Number(process.env.CRASH_SEED ?? 4242);
const ARM =
  '/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w/providers/Microsoft.SecurityInsights/dataConnectors';
const API_VERSION = '2025-09-01';
const TABLES = Object.keys(TABLE_IDS);

/** Fast polling and back-off; a request timeout generous enough for two busy cores. */
const CONNECTOR_OPTIONS = {
  pollIntervalMs: 200,
  jitter: 0,
  delayMs: 0,
  overlapMs: 60 * 60_000,
  attempts: 3,
  backoff: { initialMs: 20, maxMs: 300, throttledInitialMs: 50 },
  requestTimeoutMs: 10_000,
  fetchConcurrency: 4,
};

let dir: string;
let dataDir: string;
let sim: CliProcess | undefined;
let info: SimulatorInfo;
let simCa: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-connector-crash-'));
  dataDir = path.join(dir, 'data');
  // Its own data directory, so its CA differs from the server's: the tenant connection must carry it.
  // History in the last 3 hours, generated before the start-up line is printed.
  sim = startCli([
    'simulator',
    '--port',
    '0',
    '--data',
    path.join(dir, 'simulator'),
    '--records',
    String(RECORDS),
    '--history-hours',
    '3',
    '--seed',
    '5',
    '--json',
  ]);
  const [line] = await sim.waitFor(/^\{"url".*\}$/m, 60_000);
  info = JSON.parse(line) as SimulatorInfo;
  simCa = fs.readFileSync(info.caFile, 'utf8');
}, 90_000);

afterAll(async () => {
  await stopCli(sim, 'SIGTERM', 5000);
  // Whatever else still runs (a server, when the test failed half-way): no orphans.
  await killAllCli();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** `vigil serve` on the data directory; resolves once it listens (its connectors start right after). */
async function startServer(): Promise<{ proc: CliProcess; url: string; ca: string; listening: number }> {
  const proc = startCli(['serve', '--port', '0', '--data-dir', dataDir], {
    VIGIL_CONNECTOR_OPTIONS: JSON.stringify(CONNECTOR_OPTIONS),
  });
  const [, url] = await proc.waitFor(SERVE_LISTENING, 30_000);
  return {
    proc,
    url: url!,
    ca: fs.readFileSync(path.join(dataDir, 'tls', 'ca.pem'), 'utf8'),
    listening: Date.now(),
  };
}

/** Expected record ids per table, from the simulator's ground truth (as test/connectors compute them). */
async function expectedFromSimulator(): Promise<Map<string, Set<string>>> {
  const ndjson = await httpsOk(`${info.url}/_simulator/truth/${info.tenantId}/records`, { ca: simCa });
  const records = ndjson
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TruthRecord);
  const expired = JSON.parse(await httpsOk(`${info.url}/_simulator/truth/expired`, { ca: simCa })) as {
    recordIds: string[];
  }[];
  return expectedIdsFrom(records, expired);
}

describe('vigil serve under SIGKILL while its connectors ingest', () => {
  it(`stores exactly the simulator's records after ${KILLS} kills`, { timeout: 180_000 }, async () => {
    const started = Date.now();
    const expected = await expectedFromSimulator();
    const expectedCounts = Object.fromEntries([...expected].map(([t, ids]) => [t, ids.size]));
    for (const t of TABLES) expect(expected.get(t)!.size, t).toBeGreaterThan(0);

    // First start: the administrator token, printed once, valid across restarts (it is stored).
    let s = await startServer();
    const token = (await s.proc.waitFor(ADMIN_TOKEN, 10_000))[1]!;
    const { workspaceId } = JSON.parse(await httpsOk(`${s.url}/health`, { ca: s.ca })) as {
      workspaceId: string;
    };
    const credentials = JSON.parse(fs.readFileSync(info.credentialsFile, 'utf8')) as { clientSecret: string };
    await httpsOk(`${s.url}/api/tenants/sim`, {
      method: 'PUT',
      ca: s.ca,
      token,
      body: {
        properties: {
          tenantId: info.tenantId,
          clientId: info.clientId,
          cloud: 'custom',
          endpoints: {
            authorityHost: info.url,
            managementApiBase: info.url,
            graphBase: info.url,
            caCertificate: simCa,
          },
          credentials: { clientSecret: credentials.clientSecret },
        },
      },
    });
    for (const [name, body] of Object.entries(CONNECT_ALL)) {
      await httpsOk(`${s.url}${ARM}/${name}?api-version=${API_VERSION}`, {
        method: 'PUT',
        ca: s.ca,
        token,
        body: { ...body, properties: { ...body.properties, tenantId: info.tenantId } },
      });
    }

    // The kills. Nothing else talks to the server meanwhile: a first KQL query loads the language service,
    // which holds the server's event loop for about a second and would keep the connectors idle until the kill.
    const random = prng(SEED);
    const runs: { listening: number; killedAt: number }[] = [];
    for (;;) {
      // 150 ms to 1.5 s after the server listens (on the first run, after connecting).
      await new Promise((r) => setTimeout(r, 150 + Math.floor(random() * 1350)));
      runs.push({ listening: s.listening, killedAt: Date.now() });
      await stopCli(s.proc, 'SIGKILL');
      if (runs.length >= KILLS) break;
      s = await startServer();
    }

    // The last run finishes on its own.
    s = await startServer();
    const count = async () => {
      const out: Record<string, number> = {};
      for (const t of TABLES)
        out[t] = Number(await queryScalar(s.url, s.ca, token, workspaceId, `${t} | count`));
      return out;
    };
    const deadline = Date.now() + 60_000;
    let rows = await count();
    while (!TABLES.every((t) => rows[t]! >= expectedCounts[t]!) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      rows = await count();
    }
    // A few more polls: a late second write of a re-fetched blob would show here.
    await new Promise((r) => setTimeout(r, 1500));
    rows = await count();
    await stopCli(s.proc, 'SIGTERM');
    expect((await s.proc.exit).code, s.proc.output().slice(-4000)).toBe(0);

    // Kill statistics from the simulator's request log (the last 20,000 requests: far more than this test
    // makes): blob downloads during each run, in the 500 ms before its kill, and after it.
    const log = JSON.parse(await httpsOk(`${info.url}/_simulator/requests`, { ca: simCa })) as {
      at: number;
      endpoint: string;
      status: number | string;
    }[];
    const blobs = log.filter((r) => r.endpoint === 'blob' && r.status === 200).map((r) => r.at);
    const perRun = runs.map((r) => ({
      fetched: blobs.filter((at) => at > r.listening && at <= r.killedAt).length,
      lastHalfSecond: blobs.filter((at) => at > r.killedAt - 500 && at <= r.killedAt).length,
      later: blobs.filter((at) => at > r.killedAt).length,
    }));
    // Mid-ingestion: blobs were being downloaded in the half second before the kill, and more came after.
    const midIngestion = perRun.filter((r) => r.lastHalfSecond > 0 && r.later > 0).length;
    console.log(
      `connector crash test (CRASH_SEED=${SEED}, ${RECORDS} records, ${blobs.length} blob downloads, ` +
        `expected rows ${JSON.stringify(expectedCounts)}): ${runs.length} kills, ${midIngestion} mid-ingestion; ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s\n` +
        `  blobs downloaded per run (in its last 500 ms): ${perRun.map((r) => `${r.fetched} (${r.lastHalfSecond})`).join(', ')}`,
    );

    // Every id once, nothing else: read from the store itself (the server has stopped).
    const ws = await Workspace.open(dataDir);
    try {
      const result = await compareIds(ws, expected);
      expect({ killed: runs.length, rows }).toEqual({ killed: KILLS, rows: expectedCounts });
      expect(result).toEqual(result.map((r) => ({ ...r, missing: [], extra: [], twice: [] })));
    } finally {
      await ws.close();
    }
    // A test whose kills all missed the ingestion would prove little.
    expect(midIngestion).toBeGreaterThanOrEqual(KILLS / 2);
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { connectSimulatedTenant, officeFedConnections } from '../../src/connectors/demo.js';
import { type ConnectorServices, createConnectorServices } from '../../src/connectors/index.js';
import { MIP_RECORD_TYPES } from '../../src/connectors/purview-information-protection/definition.js';
import type { RuntimeOptions } from '../../src/connectors/runtime/runtime.js';
import { IngestService } from '../../src/ingest/service.js';
import { ensureCertificates } from '../../src/server/tls.js';
import {
  DEMO_TENANT_ID,
  type RunningSimulator,
  startSimulator,
  type TruthRecord,
} from '../../src/simulator/index.js';
import { sqlString } from '../../src/storage/log-store.js';
import { Workspace } from '../../src/workspace/workspace.js';

/** Settings that make a poll cycle take milliseconds instead of minutes. */
export const FAST: Partial<RuntimeOptions> = {
  pollIntervalMs: 200,
  jitter: 0,
  delayMs: 0,
  overlapMs: 60 * 60_000,
  attempts: 3,
  backoff: { initialMs: 20, maxMs: 300, throttledInitialMs: 50 },
  requestTimeoutMs: 1500,
  fetchConcurrency: 4,
};

/** VIGIL_TEST_LOG=1 prints the runtime's log lines (debugging a failing case). */
const silent = process.env.VIGIL_TEST_LOG
  ? {
      info: (o: object, m: string) => console.log('info', m, JSON.stringify(o)),
      warn: (o: object, m: string) => console.log('warn', m, JSON.stringify(o)),
      error: (o: object, m: string) => console.log('error', m, JSON.stringify(o)),
    }
  : { info() {}, warn() {}, error() {} };

export interface Harness {
  readonly dir: string;
  readonly sim: RunningSimulator;
  readonly ws: Workspace;
  readonly services: ConnectorServices;
  close(): Promise<void>;
}

/** A simulator over HTTPS, a workspace, the connector services, and a tenant connection to the simulator. */
export async function startHarness(options: Partial<RuntimeOptions> = {}, seed = 7): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-connectors-'));
  const tls = ensureCertificates(path.join(dir, 'tls'));
  const sim = await startSimulator({ tls: { cert: tls.cert, key: tls.key }, seed });
  const ws = await Workspace.open(path.join(dir, 'data'));
  const services = createConnectorServices(ws, new IngestService(ws), silent, { ...FAST, ...options });
  await connectSimulatedTenant(services, 'simulated', sim.url, tls.ca);
  await services.runtime.start();
  return {
    dir,
    sim,
    ws,
    services,
    async close() {
      await services.runtime.stop();
      await sim.close();
      await ws.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The ARM bodies that connect each of the five Office-fed connectors to the simulated tenant. */
export const CONNECT_ALL = officeFedConnections(DEMO_TENANT_ID);

/** Each table a connector writes, with the column holding the source record's `Id`. */
export const TABLE_IDS: Record<string, string> = {
  OfficeActivity: 'toString(OfficeId)',
  Dynamics365Activity: 'SourceRecordId',
  PowerBIActivity: 'EventOriginalUid',
  MicrosoftPurviewInformationProtection: 'toString(Id)',
  // The IRM hook keeps the source record (with its Id) in ExtendedProperties.
  SecurityAlert: "JSONExtractString(ExtendedProperties, 'Id')",
};

const MIP = new Set<number>(MIP_RECORD_TYPES);

/** Which table each produced record belongs in when all five connectors are connected (tables.md). */
export function tableOf(r: TruthRecord): string | undefined {
  if (r.contentType === 'Audit.Exchange' || r.contentType === 'Audit.SharePoint') return 'OfficeActivity';
  if (r.contentType !== 'Audit.General') return undefined;
  if (r.workload === 'MicrosoftTeams' || r.recordType === 25 || r.recordType === 57) return 'OfficeActivity';
  if (r.workload === 'CRM' || r.recordType === 21) return 'Dynamics365Activity';
  if (r.workload === 'PowerBI' || r.recordType === 20) return 'PowerBIActivity';
  if (r.workload === 'Aip' || MIP.has(r.recordType)) return 'MicrosoftPurviewInformationProtection';
  if (
    r.recordType === 40 &&
    r.category === 'InsiderRiskManagement' &&
    !r.customized &&
    r.operation !== 'AlertEntityGenerated'
  ) {
    return 'SecurityAlert';
  }
  return undefined;
}

/** Record ids each table must hold: every listable distinct record, minus those only in expired blobs. */
export function expectedIds(sim: RunningSimulator): Map<string, Set<string>> {
  return expectedIdsFrom(sim.truth.records(DEMO_TENANT_ID), sim.truth.expiredBlobs());
}

/**
 * `expectedIds` from truth records and expired blobs however they were obtained (in-process, or from a
 * simulator process's `/_simulator/truth/{tenant}/records` and `/_simulator/truth/expired`); lower-case ids.
 */
export function expectedIdsFrom(
  records: Iterable<TruthRecord>,
  expired: Iterable<{ readonly recordIds: readonly string[] }>,
): Map<string, Set<string>> {
  const lost = new Set<string>();
  for (const b of expired) for (const id of b.recordIds) lost.add(id);
  const out = new Map<string, Set<string>>(Object.keys(TABLE_IDS).map((t) => [t, new Set<string>()]));
  for (const r of records) {
    if (!r.listable) continue;
    const table = tableOf(r);
    if (table && !lost.has(r.id)) out.get(table)!.add(r.id.toLowerCase());
  }
  return out;
}

/** Stored ids per table, with how many rows hold each (exactly once means every count is 1). */
export async function storedIds(ws: Workspace, table: string): Promise<Map<string, number>> {
  const rows = await ws.store.query<{ id: string; n: string }>(
    `SELECT lower(${TABLE_IDS[table]}) AS id, count() AS n FROM vigil.${table} GROUP BY id`,
  );
  return new Map(rows.map((r) => [r.id, Number(r.n)]));
}

export interface Exactness {
  readonly table: string;
  readonly expected: number;
  readonly stored: number;
  readonly missing: string[];
  readonly extra: string[];
  readonly twice: string[];
}

export async function compare(ws: Workspace, sim: RunningSimulator): Promise<Exactness[]> {
  return compareIds(ws, expectedIds(sim));
}

/** `compare` against expected ids per table (from `expectedIds` or `expectedIdsFrom`). */
export async function compareIds(
  ws: Workspace,
  expected: ReadonlyMap<string, ReadonlySet<string>>,
): Promise<Exactness[]> {
  const out: Exactness[] = [];
  for (const [table, ids] of expected) {
    const stored = await storedIds(ws, table);
    out.push({
      table,
      expected: ids.size,
      stored: stored.size,
      missing: [...ids].filter((id) => !stored.has(id)).slice(0, 5),
      extra: [...stored.keys()].filter((id) => !ids.has(id)).slice(0, 5),
      twice: [...stored]
        .filter(([, n]) => n > 1)
        .map(([id]) => id)
        .slice(0, 5),
    });
  }
  return out;
}

export function isExact(c: readonly Exactness[]): boolean {
  return c.every((x) => x.missing.length === 0 && x.extra.length === 0 && x.twice.length === 0);
}

export async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function healthRows(
  ws: Workspace,
  connector?: string,
): Promise<{ Status: string; Reason: string; SentinelResourceName: string }[]> {
  const where = connector ? `WHERE SentinelResourceName = ${sqlString(connector)}` : '';
  return ws.store.query(
    `SELECT Status, Reason, SentinelResourceName FROM vigil.SentinelHealth ${where} ORDER BY TimeGenerated`,
  );
}

// ---- The built CLI as child processes (test/crash, serve-demo): `npm run build` first. ----

/** The compiled CLI. */
export const CLI = path.resolve('dist/src/cli/main.js');

export interface CliProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far (the last 200 KB or more). */
  output(): string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The first match of `re` in the output; rejects when the process exits first or time runs out. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
}

const running = new Set<ChildProcess>();

/** Starts `node dist/src/cli/main.js ...args`; `killAllCli()` in afterAll ends whatever is left. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  running.add(child);
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    if (out.length > 400_000) out = out.slice(-200_000);
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      for (const w of [...waiters]) w();
      resolve({ code, signal });
    }),
  );
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    output: () => out,
    exit,
    waitFor(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${re} within ${timeoutMs} ms:\n${out.slice(-4000)}`));
        }, timeoutMs);
        const check = () => {
          const m = out.match(re);
          if (m) {
            done();
            resolve(m);
          } else if (exited()) {
            done();
            reject(
              new Error(`exited (${child.exitCode ?? child.signalCode}) before ${re}:\n${out.slice(-4000)}`),
            );
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Sends `signal` unless the process has ended, and waits for its end (SIGKILL after `graceMs`). */
export async function stopCli(
  p: CliProcess | undefined,
  signal: NodeJS.Signals = 'SIGKILL',
  graceMs = 10_000,
): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exit;
  clearTimeout(timer);
}

/** SIGKILLs every CLI process still running (for afterAll: no orphans even when a test failed). */
export async function killAllCli(): Promise<void> {
  const left = [...running];
  const ends = left.map(
    (c) =>
      new Promise<void>((r) =>
        c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r()),
      ),
  );
  for (const c of left) c.kill('SIGKILL');
  await Promise.all(ends);
}

/** HTTPS trusting one CA; a JSON body when given. */
export function httpsRequest(
  url: string,
  options: { method?: string; ca: string; token?: string; body?: unknown; timeoutMs?: number },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = https.request(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        timeout: options.timeoutMs ?? 30_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** `httpsRequest` that throws unless the status is 2xx; the response text. */
export async function httpsOk(url: string, options: Parameters<typeof httpsRequest>[1]): Promise<string> {
  const res = await httpsRequest(url, options);
  if (res.status < 200 || res.status >= 300)
    throw new Error(`${options.method ?? 'GET'} ${url}: ${res.status} ${res.text}`);
  return res.text;
}

/** The Administrator token a first `vigil serve` prints on stdout. */
export const ADMIN_TOKEN = /Administrator token[^\n]*\n\s*(\S+)/;
/** The structured log line `vigil serve` writes (stderr) once listening; group 1 is its URL. */
export const SERVE_LISTENING = /"url":"(https?:\/\/[^"]+)"[^\n]*"msg":"Vigil is listening"/;

/** A one-value KQL query (e.g. `T | count`) through the Query API. */
export async function queryScalar(
  url: string,
  ca: string,
  token: string,
  workspaceId: string,
  query: string,
): Promise<unknown> {
  const text = await httpsOk(`${url}/v1/workspaces/${workspaceId}/query`, {
    method: 'POST',
    ca,
    token,
    body: { query },
  });
  return (JSON.parse(text) as { tables: { rows: unknown[][] }[] }).tables[0]!.rows[0]![0];
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ConnectorServices, createConnectorServices } from '../../src/connectors/index.js';
import { MIP_RECORD_TYPES } from '../../src/connectors/purview-information-protection/definition.js';
import type { RuntimeOptions } from '../../src/connectors/runtime/runtime.js';
import { IngestService } from '../../src/ingest/service.js';
import { ensureCertificates } from '../../src/server/tls.js';
import {
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
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
  await services.tenants.put('simulated', {
    tenantId: DEMO_TENANT_ID,
    clientId: DEMO_CLIENT_ID,
    cloud: 'custom',
    endpoints: {
      authorityHost: sim.url,
      managementApiBase: sim.url,
      graphBase: sim.url,
      caCertificate: tls.ca,
    },
    credentials: { clientSecret: DEMO_CLIENT_SECRET },
  });
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
export const CONNECT_ALL: Record<string, { kind: string; properties: Record<string, unknown> }> = {
  office365: {
    kind: 'Office365',
    properties: {
      tenantId: DEMO_TENANT_ID,
      dataTypes: {
        exchange: { state: 'Enabled' },
        sharePoint: { state: 'Enabled' },
        teams: { state: 'Enabled' },
      },
    },
  },
  dynamics: {
    kind: 'Dynamics365',
    properties: { tenantId: DEMO_TENANT_ID, dataTypes: { dynamics365CdsActivities: { state: 'Enabled' } } },
  },
  powerbi: {
    kind: 'OfficePowerBI',
    properties: { tenantId: DEMO_TENANT_ID, dataTypes: { logs: { state: 'Enabled' } } },
  },
  mip: {
    kind: 'MicrosoftPurviewInformationProtection',
    properties: { tenantId: DEMO_TENANT_ID, dataTypes: { logs: { state: 'Enabled' } } },
  },
  irm: {
    kind: 'OfficeIRM',
    properties: { tenantId: DEMO_TENANT_ID, dataTypes: { alerts: { state: 'Enabled' } } },
  },
};

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
  const lost = new Set<string>();
  for (const b of sim.truth.expiredBlobs()) for (const id of b.recordIds) lost.add(id);
  const out = new Map<string, Set<string>>(Object.keys(TABLE_IDS).map((t) => [t, new Set<string>()]));
  for (const r of sim.truth.records(DEMO_TENANT_ID)) {
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
  const expected = expectedIds(sim);
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

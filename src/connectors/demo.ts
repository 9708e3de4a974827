import type { ServerCertificates } from '../server/tls.js';
import {
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
  DEMO_TENANT_ID,
  type RunningSimulator,
  startSimulator,
} from '../simulator/index.js';
import type { ConnectorServices } from './index.js';

/** The ARM bodies the demo connects: the five Office-fed connectors, every data type on. */
export const DEMO_CONNECTIONS: Readonly<
  Record<string, { kind: string; properties: Record<string, unknown> }>
> = {
  'demo-office365': {
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
  'demo-dynamics365': {
    kind: 'Dynamics365',
    properties: { tenantId: DEMO_TENANT_ID, dataTypes: { dynamics365CdsActivities: { state: 'Enabled' } } },
  },
  'demo-powerbi': {
    kind: 'OfficePowerBI',
    properties: { tenantId: DEMO_TENANT_ID, dataTypes: { logs: { state: 'Enabled' } } },
  },
  'demo-purview-information-protection': {
    kind: 'MicrosoftPurviewInformationProtection',
    properties: { tenantId: DEMO_TENANT_ID, dataTypes: { logs: { state: 'Enabled' } } },
  },
  'demo-insider-risk-management': {
    kind: 'OfficeIRM',
    properties: { tenantId: DEMO_TENANT_ID, dataTypes: { alerts: { state: 'Enabled' } } },
  },
};

export interface DemoOptions {
  /** Records of history made available over the last hours (default 5,000). */
  readonly historyRecords?: number;
  /** Live activity (default 120 records a minute). */
  readonly recordsPerMinute?: number;
}

/**
 * `vigil serve --demo`: starts the simulated tenant in this process (HTTPS with the workspace's own
 * certificate), connects it as tenant `demo` with custom endpoints, and connects the five Office-fed
 * connectors, so a first run shows data flowing with no Microsoft tenant. Idempotent across restarts: what
 * exists is kept (the simulator is seeded, so history it re-creates is de-duplicated).
 */
export async function startDemo(
  services: ConnectorServices,
  tls: ServerCertificates,
  options: DemoOptions = {},
): Promise<RunningSimulator> {
  const sim = await startSimulator({ tls: { cert: tls.cert, key: tls.key }, seed: 1 });
  const now = Date.now();
  await sim.activity.generate({
    tenantId: DEMO_TENANT_ID,
    count: options.historyRecords ?? 5000,
    from: now - 6 * 3600_000,
    to: now - 60_000,
    subscribed: true,
  });
  sim.activity.startLive({ tenantId: DEMO_TENANT_ID, recordsPerMinute: options.recordsPerMinute ?? 120 });
  // The simulator's port changes on every start: the tenant connection follows it.
  await services.tenants.put('demo', {
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
  services.runtime.tenantChanged(DEMO_TENANT_ID);
  const existing = new Set((await services.connectors.list()).map((r) => r.name));
  for (const [name, body] of Object.entries(DEMO_CONNECTIONS)) {
    if (!existing.has(name)) await services.connectors.put(name, body);
  }
  await services.runtime.reconcile();
  services.runtime.wakeAll();
  return sim;
}

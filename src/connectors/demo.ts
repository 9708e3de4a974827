import type { ServerCertificates } from '../server/tls.js';
import {
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
  DEMO_TENANT_ID,
  type RunningSimulator,
  startSimulator,
} from '../simulator/index.js';
import type { ConnectorServices } from './index.js';

/**
 * The dataConnectors bodies that connect the five Office-fed connectors to one tenant, every data type on,
 * by resource name (`<prefix>office365`, ...). The demo, the tests and the benchmark connect with these.
 */
export function officeFedConnections(
  tenantId: string,
  prefix = '',
): Record<string, { kind: string; properties: Record<string, unknown> }> {
  const on = { state: 'Enabled' };
  return {
    [`${prefix}office365`]: {
      kind: 'Office365',
      properties: { tenantId, dataTypes: { exchange: on, sharePoint: on, teams: on } },
    },
    [`${prefix}dynamics365`]: {
      kind: 'Dynamics365',
      properties: { tenantId, dataTypes: { dynamics365CdsActivities: on } },
    },
    [`${prefix}powerbi`]: { kind: 'OfficePowerBI', properties: { tenantId, dataTypes: { logs: on } } },
    [`${prefix}purview-information-protection`]: {
      kind: 'MicrosoftPurviewInformationProtection',
      properties: { tenantId, dataTypes: { logs: on } },
    },
    [`${prefix}insider-risk-management`]: {
      kind: 'OfficeIRM',
      properties: { tenantId, dataTypes: { alerts: on } },
    },
  };
}

/**
 * Creates (or points again) a tenant connection named `name` at a simulated tenant: custom endpoints on the
 * simulator's one origin, its CA, the demo app's credentials.
 */
export async function connectSimulatedTenant(
  services: ConnectorServices,
  name: string,
  simulatorUrl: string,
  caCertificate: string,
): Promise<void> {
  await services.tenants.put(name, {
    tenantId: DEMO_TENANT_ID,
    clientId: DEMO_CLIENT_ID,
    cloud: 'custom',
    endpoints: {
      authorityHost: simulatorUrl,
      managementApiBase: simulatorUrl,
      graphBase: simulatorUrl,
      caCertificate,
    },
    credentials: { clientSecret: DEMO_CLIENT_SECRET },
  });
}

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
  await connectSimulatedTenant(services, 'demo', sim.url, tls.ca);
  services.runtime.tenantChanged(DEMO_TENANT_ID);
  const existing = new Set((await services.connectors.list()).map((r) => r.name));
  for (const [name, body] of Object.entries(officeFedConnections(DEMO_TENANT_ID, 'demo-'))) {
    if (!existing.has(name)) await services.connectors.put(name, body);
  }
  await services.runtime.reconcile();
  services.runtime.wakeAll();
  return sim;
}

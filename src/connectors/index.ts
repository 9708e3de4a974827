import type { IngestService } from '../ingest/service.js';
import { runQuery } from '../kql/run.js';
import { DataConnectorRepository } from '../storage/control/data-connectors.js';
import { StreamContentRepository } from '../storage/control/stream-content.js';
import { TenantRepository } from '../storage/control/tenants.js';
import { SecretBox } from '../tenants/secret-box.js';
import { TenantService } from '../tenants/tenant-service.js';
import type { Workspace } from '../workspace/workspace.js';
import { ConnectorService } from './connector-service.js';
import { CONNECTORS } from './registry.js';
import { ConnectorRuntime, type RuntimeLogger, type RuntimeOptions } from './runtime/runtime.js';

export interface ConnectorServices {
  readonly tenants: TenantService;
  readonly runtime: ConnectorRuntime;
  readonly connectors: ConnectorService;
}

/** Wires the tenant service, the connector runtime and the connector service of a workspace. */
export function createConnectorServices(
  workspace: Workspace,
  ingest: IngestService,
  log: RuntimeLogger,
  options: Partial<RuntimeOptions> = {},
): ConnectorServices {
  const tenants = new TenantService(
    new TenantRepository(workspace.control),
    SecretBox.open(workspace.dataDir),
  );
  const dataConnectors = new DataConnectorRepository(workspace.control);
  const runtime = new ConnectorRuntime(
    workspace,
    ingest,
    tenants,
    dataConnectors,
    new StreamContentRepository(workspace.control),
    CONNECTORS,
    log,
    options,
  );
  const connectors = new ConnectorService(dataConnectors, tenants, runtime, CONNECTORS, async (kql) => {
    const result = await runQuery(workspace, kql);
    return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i]])));
  });
  return { tenants, runtime, connectors };
}

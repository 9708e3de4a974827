import crypto from 'node:crypto';
import type { Role } from '../server/auth/roles.js';
import type { DataConnectorRepository, DataConnectorRow } from '../storage/control/data-connectors.js';
import { TenantError } from '../tenants/errors.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { ConnectorError } from './errors.js';
import {
  type ConnectorDefinition,
  lastDataReceivedQuery,
  type PrerequisiteDefinition,
} from './runtime/definition.js';
import { subscribedSkus, tokenRoles } from './runtime/graph.js';
import type { ConnectorRuntime } from './runtime/runtime.js';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A `Microsoft.SecurityInsights/dataConnectors` resource (the ARM envelope is the route's). */
export interface DataConnectorResource {
  readonly name: string;
  readonly kind: string;
  readonly etag: string;
  readonly properties: Record<string, unknown>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface PrerequisiteResult {
  readonly type: PrerequisiteDefinition['type'];
  readonly description: string;
  readonly state: 'met' | 'notMet' | 'unknown';
  readonly reason: string;
}

/** Runs a KQL query and returns its rows as objects (the query engine, injected so this stays testable). */
export type QueryRunner = (kql: string) => Promise<Record<string, unknown>[]>;

function toResource(row: DataConnectorRow): DataConnectorResource {
  return {
    name: row.name,
    kind: row.kind,
    etag: row.etag,
    properties: JSON.parse(row.properties) as Record<string, unknown>,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * Connecting and disconnecting connectors (dataConnectors resources), the gallery, and each connector page's
 * live parts: prerequisites, status, last data received. Route handlers call this; it calls repositories,
 * the tenant service and the runtime.
 */
export class ConnectorService {
  constructor(
    private readonly repo: DataConnectorRepository,
    private readonly tenants: TenantService,
    private readonly runtime: ConnectorRuntime,
    readonly definitions: ReadonlyMap<string, ConnectorDefinition>,
    private readonly query: QueryRunner,
  ) {}

  async list(): Promise<DataConnectorResource[]> {
    return (await this.repo.list()).map(toResource);
  }

  async get(name: string): Promise<DataConnectorResource> {
    const row = await this.repo.get(name);
    if (!row) throw new ConnectorError('DataConnectorNotFound', `Data connector '${name}' does not exist.`);
    return toResource(row);
  }

  /**
   * Creates or replaces a dataConnectors resource. Kinds Vigil implements are validated (tenant GUID, a tenant
   * connection for it, each required data type with a state); other kinds are stored as sent, as ARM does.
   */
  async put(
    name: string,
    body: { kind: string; etag?: string; properties: Record<string, unknown> },
  ): Promise<{ resource: DataConnectorResource; created: boolean }> {
    const existing = await this.repo.get(name);
    if (body.etag !== undefined && existing && body.etag !== existing.etag) {
      throw new ConnectorError(
        'EtagConflict',
        `Newer version of resource '${name}' exists. Data was not saved`,
      );
    }
    if (existing && existing.kind !== body.kind) {
      throw new ConnectorError(
        'InvalidDataConnector',
        `Data connector '${name}' is of kind ${existing.kind}; delete it before creating one of kind ${body.kind}.`,
      );
    }
    const definition = this.definitions.get(body.kind);
    if (definition) await this.validate(definition, body.properties);
    const now = new Date().toISOString();
    const properties = definition
      ? { ...body.properties, tenantId: String(body.properties.tenantId).toLowerCase() }
      : body.properties;
    const row: DataConnectorRow = {
      name,
      kind: body.kind,
      properties: JSON.stringify(properties),
      etag: `"${crypto.randomUUID()}"`,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    await this.repo.upsert(row);
    await this.runtime.reconcile();
    this.runtime.wakeAll();
    return { resource: toResource(row), created: !existing };
  }

  async delete(name: string): Promise<boolean> {
    const row = await this.repo.get(name);
    if (!row) return false;
    await this.repo.delete(name);
    await this.runtime.reconcile();
    const definition = this.definitions.get(row.kind);
    const properties = JSON.parse(row.properties) as { tenantId?: string };
    if (definition && properties.tenantId) {
      await this.runtime.forget(
        name,
        properties.tenantId,
        definition.dataTypes.map((d) => d.key),
      );
    }
    return true;
  }

  private async validate(
    definition: ConnectorDefinition,
    properties: Record<string, unknown>,
  ): Promise<void> {
    const tenantId = properties.tenantId;
    if (typeof tenantId !== 'string' || !GUID.test(tenantId)) {
      throw new ConnectorError(
        'InvalidDataConnector',
        `properties.tenantId must be the Entra tenant GUID (kind ${definition.kind}).`,
      );
    }
    const dataTypes = (properties.dataTypes ?? {}) as Record<string, unknown>;
    if (typeof dataTypes !== 'object' || dataTypes === null || Array.isArray(dataTypes)) {
      throw new ConnectorError('InvalidDataConnector', 'properties.dataTypes must be an object.');
    }
    const known = new Set(definition.dataTypes.map((d) => d.key));
    for (const key of Object.keys(dataTypes)) {
      if (!known.has(key)) {
        throw new ConnectorError(
          'InvalidDataConnector',
          `properties.dataTypes.${key} is not a data type of ${definition.kind}; expected ${[...known].join(', ')}.`,
        );
      }
    }
    for (const d of definition.dataTypes) {
      const value = dataTypes[d.key] as { state?: unknown } | undefined;
      if (value === undefined) {
        if (d.required) {
          throw new ConnectorError(
            'InvalidDataConnector',
            `properties.dataTypes.${d.key}.state is required (Enabled or Disabled).`,
          );
        }
        continue;
      }
      const state = typeof value === 'object' && value !== null ? value.state : undefined;
      if (typeof state !== 'string' || !['enabled', 'disabled'].includes(state.toLowerCase())) {
        throw new ConnectorError(
          'InvalidDataConnector',
          `properties.dataTypes.${d.key}.state must be Enabled or Disabled.`,
        );
      }
    }
    try {
      await this.tenants.connectionForTenantId(tenantId);
    } catch (err) {
      if (err instanceof TenantError) throw new ConnectorError('InvalidDataConnector', err.message);
      throw err;
    }
  }

  /** The gallery: every connector with its status and last data received. */
  async gallery(): Promise<Record<string, unknown>[]> {
    const resources = await this.list();
    const out = [];
    for (const d of this.definitions.values()) {
      const connected = resources.filter((r) => r.kind === d.kind);
      const lastReceived = await this.lastDataReceived(d);
      const latest =
        Object.values(lastReceived)
          .filter((t): t is string => t !== null)
          .sort()
          .at(-1) ?? null;
      out.push({
        id: d.id,
        kind: d.kind,
        title: d.title,
        publisher: d.publisher,
        logo: d.logo,
        preview: d.preview,
        status: connected.length > 0 ? 'Connected' : 'NotConnected',
        connections: connected.map((r) => r.name),
        lastDataReceived: latest,
        dataTypes: d.dataTypes.map((t) => ({ name: t.name, lastDataReceived: lastReceived[t.key] ?? null })),
      });
    }
    return out;
  }

  /** A connector page: its definition as data, with the queries the page runs. */
  page(kind: string): Record<string, unknown> {
    const d = this.require(kind);
    return {
      id: d.id,
      kind: d.kind,
      title: d.title,
      publisher: d.publisher,
      descriptionMarkdown: d.descriptionMarkdown,
      logo: d.logo,
      preview: d.preview,
      dataTypes: d.dataTypes.map((t) => ({
        key: t.key,
        name: t.name,
        table: t.table,
        lastDataReceivedQuery: lastDataReceivedQuery(t),
      })),
      prerequisites: d.prerequisites.map((p) => ({ type: p.type, description: p.description })),
      instructionSteps: d.instructionSteps,
      sampleQueries: d.sampleQueries,
      graphQueries: d.graphQueries,
      connectivityCriterias: d.connectivityCriterias,
      ...(d.caseGeneration ? { caseGeneration: d.caseGeneration } : {}),
    };
  }

  private require(kind: string): ConnectorDefinition {
    const d = this.definitions.get(kind) ?? [...this.definitions.values()].find((x) => x.id === kind);
    if (!d) {
      throw new ConnectorError(
        'UnknownConnectorKind',
        `No connector of kind '${kind}'; known kinds: ${[...this.definitions.keys()].join(', ')}.`,
      );
    }
    return d;
  }

  /** Last data received per data type (connectors.md §1.3), null when none. */
  async lastDataReceived(d: ConnectorDefinition): Promise<Record<string, string | null>> {
    const out: Record<string, string | null> = {};
    for (const t of d.dataTypes) {
      try {
        const rows = await this.query(lastDataReceivedQuery(t));
        const time = rows[0]?.Time;
        out[t.key] = typeof time === 'string' ? time : null;
      } catch {
        out[t.key] = null;
      }
    }
    return out;
  }

  /** Status of one connected resource: per data type health, position and last data received. */
  async status(name: string): Promise<Record<string, unknown>> {
    const resource = await this.get(name);
    const d = this.definitions.get(resource.kind);
    if (!d) return { name, kind: resource.kind, connected: true, dataTypes: [] };
    const health = await this.runtime.status(name);
    const last = await this.lastDataReceived(d);
    const dataTypes = d.dataTypes.map((t) => {
      const h = health.find((x) => x.dataType === t.key);
      return {
        key: t.key,
        name: t.name,
        table: t.table,
        state: h ? 'Enabled' : 'Disabled',
        lastDataReceived: last[t.key] ?? null,
        ...(h ? { health: h.health, listedUntil: h.listedUntil ?? null } : {}),
      };
    });
    return { name, kind: resource.kind, tenantId: resource.properties.tenantId, connected: true, dataTypes };
  }

  async backfill(name: string, from: string): Promise<{ from: string }> {
    const fromMs = Date.parse(from);
    if (Number.isNaN(fromMs)) {
      throw new ConnectorError(
        'InvalidDataConnector',
        `'from' must be an ISO 8601 time, e.g. 2026-11-20T00:00:00Z.`,
      );
    }
    await this.get(name);
    return this.runtime.backfill(name, fromMs);
  }

  /**
   * Each prerequisite of a connector for one tenant, checked now: met / notMet / unknown, with the reason
   * (connectors.md §4). `callerRole` is the role of the token asking.
   */
  async prerequisites(kind: string, tenantId: string, callerRole: Role): Promise<PrerequisiteResult[]> {
    const d = this.require(kind);
    let connection: Awaited<ReturnType<TenantService['connectionForTenantId']>> | undefined;
    let connectionProblem = '';
    try {
      connection = await this.tenants.connectionForTenantId(tenantId);
    } catch (err) {
      connectionProblem = (err as Error).message;
    }
    let managementToken: { token?: string; error?: string } | undefined;
    const results: PrerequisiteResult[] = [];
    for (const p of d.prerequisites) {
      const base = { type: p.type, description: p.description };
      switch (p.type) {
        case 'workspace': {
          const ok = ['Contributor', 'Owner'].includes(callerRole);
          results.push({
            ...base,
            state: ok ? 'met' : 'notMet',
            reason: ok
              ? `your token's role ${callerRole} may connect and disconnect connectors`
              : `your token's role is ${callerRole}; connecting needs Contributor`,
          });
          break;
        }
        case 'appPermissions': {
          if (!connection) {
            results.push({ ...base, state: 'notMet', reason: connectionProblem });
            break;
          }
          managementToken ??= await connection
            .getToken(connection.endpoints.managementResource)
            .then((token) => ({ token }))
            .catch((err: Error) => ({ error: err.message }));
          if (!managementToken.token) {
            results.push({ ...base, state: 'notMet', reason: managementToken.error ?? 'no token' });
            break;
          }
          const roles = tokenRoles(managementToken.token);
          const missing = p.roles.filter((r) => !roles.includes(r));
          results.push({
            ...base,
            state: missing.length === 0 ? 'met' : 'notMet',
            reason:
              missing.length === 0
                ? `the app's token holds ${p.roles.join(', ')}`
                : `the app's token lacks ${missing.join(', ')} (it holds ${roles.join(', ') || 'no application permissions'}); grant it and an administrator's consent`,
          });
          break;
        }
        case 'license': {
          if (!connection) {
            results.push({ ...base, state: 'unknown', reason: connectionProblem });
            break;
          }
          const answer = await subscribedSkus(connection);
          if (!answer.ok) {
            results.push({ ...base, state: 'unknown', reason: answer.reason });
            break;
          }
          const found = answer.skus.find(
            (s) =>
              s.capabilityStatus === 'Enabled' &&
              (s.servicePlans ?? []).some(
                (sp) => sp.servicePlanName && p.servicePlans.includes(sp.servicePlanName),
              ),
          );
          results.push({
            ...base,
            state: found ? 'met' : 'notMet',
            reason: found
              ? `licensed through ${found.skuPartNumber ?? 'a subscribed SKU'}`
              : `no enabled subscription includes ${p.servicePlans.join(' or ')}`,
          });
          break;
        }
        case 'custom': {
          results.push({ ...base, ...(await this.inferCustom(p, kind, tenantId)) });
          break;
        }
      }
    }
    return results;
  }

  /** What polling has shown about a custom prerequisite (audit logging on), or unknown. */
  private async inferCustom(
    p: Extract<PrerequisiteDefinition, { type: 'custom' }>,
    kind: string,
    tenantId: string,
  ): Promise<Pick<PrerequisiteResult, 'state' | 'reason'>> {
    if (p.inferredFrom !== 'auditLogging') {
      return {
        state: 'unknown',
        reason: 'not visible through the API; check it in the Microsoft Purview portal',
      };
    }
    const resources = (await this.list()).filter(
      (r) => r.kind === kind && String(r.properties.tenantId).toLowerCase() === tenantId.toLowerCase(),
    );
    for (const r of resources) {
      for (const s of await this.runtime.status(r.name)) {
        if (s.health.lastSuccessAt)
          return {
            state: 'met',
            reason: `the Management Activity API answered at ${s.health.lastSuccessAt}`,
          };
        if (s.health.lastFailure?.reason === 'TenantInvalid')
          return { state: 'notMet', reason: s.health.lastFailure.message };
      }
    }
    return { state: 'unknown', reason: 'known after the first poll of a connected data type' };
  }

  /** `dataConnectorsCheckRequirements`: Sentinel's summary of the prerequisites. */
  async checkRequirements(kind: string, tenantId: string, callerRole: Role): Promise<Record<string, string>> {
    const results = await this.prerequisites(kind, tenantId, callerRole);
    const auth = results.filter((r) => r.type === 'workspace' || r.type === 'appPermissions');
    const lic = results.filter((r) => r.type === 'license');
    return {
      authorizationState: auth.every((r) => r.state === 'met') ? 'Valid' : 'Invalid',
      licenseState:
        lic.length === 0 || lic.every((r) => r.state === 'met')
          ? 'Valid'
          : lic.some((r) => r.state === 'notMet')
            ? 'Invalid'
            : 'Unknown',
    };
  }
}

import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ConnectorService, DataConnectorResource } from '../../connectors/connector-service.js';
import { ApiError } from '../errors.js';

/**
 * The Microsoft.SecurityInsights (ARM) paths Vigil serves (azure-api-compat.md §4): dataConnectors and
 * dataConnectorsCheckRequirements. One workspace: any subscription, group and workspace name in the path is
 * accepted and echoed back in resource ids, so `@azure/arm-securityinsight` and scripts work unchanged.
 */
const PREFIX =
  '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.OperationalInsights/workspaces/:workspaceName/providers/Microsoft.SecurityInsights';

interface ArmParams {
  subscriptionId: string;
  resourceGroupName: string;
  workspaceName: string;
}

const apiVersionQuery = {
  type: 'object',
  properties: { 'api-version': { type: 'string' } },
} as const;

const dataConnectorBody = {
  type: 'object',
  required: ['kind', 'properties'],
  properties: {
    kind: { type: 'string', minLength: 1, maxLength: 100 },
    etag: { type: 'string' },
    properties: { type: 'object' },
    // Clients echo what they read: accept (and ignore) the server-set fields.
    id: { type: 'string' },
    name: { type: 'string' },
    type: { type: 'string' },
    systemData: { type: 'object' },
  },
} as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function requireApiVersion(query: { 'api-version'?: string }): void {
  if (!query['api-version']) {
    throw new ApiError(
      400,
      'MissingApiVersionParameter',
      'The api-version query parameter (?api-version=) is required for all requests.',
    );
  }
}

function collectionPath(url: string): string {
  return url.split('?')[0]!.replace(/\/dataConnectors(\/.*)?$/, '/dataConnectors');
}

function envelope(base: string, r: DataConnectorResource): Record<string, unknown> {
  return {
    id: `${base}/${r.name}`,
    name: r.name,
    type: 'Microsoft.SecurityInsights/dataConnectors',
    kind: r.kind,
    etag: r.etag,
    systemData: { createdAt: r.createdAt, lastModifiedAt: r.updatedAt },
    properties: r.properties,
  };
}

export function registerManagementRoutes(app: FastifyInstance, connectors: ConnectorService): void {
  app.get<{ Params: ArmParams; Querystring: { 'api-version'?: string } }>(
    `${PREFIX}/dataConnectors`,
    { config: { role: 'Reader' }, schema: { querystring: apiVersionQuery } },
    async (request) => {
      requireApiVersion(request.query);
      const base = collectionPath(request.url);
      return { value: (await connectors.list()).map((r) => envelope(base, r)) };
    },
  );

  app.get<{ Params: ArmParams & { name: string }; Querystring: { 'api-version'?: string } }>(
    `${PREFIX}/dataConnectors/:name`,
    { config: { role: 'Reader' }, schema: { querystring: apiVersionQuery } },
    async (request) => {
      requireApiVersion(request.query);
      return envelope(collectionPath(request.url), await connectors.get(request.params.name));
    },
  );

  app.put<{
    Params: ArmParams & { name: string };
    Querystring: { 'api-version'?: string };
    Body: { kind: string; etag?: string; properties: Record<string, unknown> };
  }>(
    `${PREFIX}/dataConnectors/:name`,
    { config: { role: 'Contributor' }, schema: { querystring: apiVersionQuery, body: dataConnectorBody } },
    async (request, reply: FastifyReply) => {
      requireApiVersion(request.query);
      const { name } = request.params;
      if (!NAME.test(name)) {
        throw new ApiError(400, 'BadRequest', `'${name}' is not a valid data connector name.`);
      }
      const { resource, created } = await connectors.put(name, request.body);
      void reply.code(created ? 201 : 200);
      return envelope(collectionPath(request.url), resource);
    },
  );

  app.delete<{ Params: ArmParams & { name: string }; Querystring: { 'api-version'?: string } }>(
    `${PREFIX}/dataConnectors/:name`,
    { config: { role: 'Contributor' }, schema: { querystring: apiVersionQuery } },
    async (request, reply) => {
      requireApiVersion(request.query);
      const deleted = await connectors.delete(request.params.name);
      void reply.code(deleted ? 200 : 204);
      return deleted ? {} : undefined;
    },
  );

  app.post<{
    Params: ArmParams;
    Querystring: { 'api-version'?: string };
    Body: { kind: string; properties?: { tenantId?: string } };
  }>(
    `${PREFIX}/dataConnectorsCheckRequirements`,
    {
      config: { role: 'Reader' },
      schema: {
        querystring: apiVersionQuery,
        body: {
          type: 'object',
          required: ['kind'],
          properties: {
            kind: { type: 'string' },
            properties: { type: 'object', properties: { tenantId: { type: 'string' } } },
          },
        },
      },
    },
    async (request) => {
      requireApiVersion(request.query);
      const tenantId = request.body.properties?.tenantId;
      if (!tenantId) throw new ApiError(400, 'BadRequest', 'properties.tenantId is required.');
      const result = await connectors.checkRequirements(request.body.kind, tenantId, request.principal!.role);
      return { kind: request.body.kind, properties: result };
    },
  );
}

import type { FastifyInstance } from 'fastify';
import type { ConnectorService } from '../../connectors/connector-service.js';
import type { ConnectorRuntime } from '../../connectors/runtime/runtime.js';
import { tenantBodySchema } from '../../tenants/schema.js';
import type { TenantInput, TenantService, TenantView } from '../../tenants/tenant-service.js';
import { ApiError } from '../errors.js';

export interface ConnectorRoutesOptions {
  readonly connectors: ConnectorService;
  readonly tenants: TenantService;
  readonly runtime: ConnectorRuntime;
}

function tenantEnvelope(v: TenantView) {
  const { name, etag, ...properties } = v;
  return { id: `/api/tenants/${name}`, name, type: 'Vigil/tenants', etag, properties };
}

/**
 * Vigil's own connector API (not ARM): the gallery, connector pages with live prerequisites, the status of a
 * connected resource, backfill, tenant connections and Prometheus metrics. See src/server/README.md.
 */
export function registerConnectorRoutes(app: FastifyInstance, o: ConnectorRoutesOptions): void {
  app.get('/api/connectors', { config: { role: 'Reader' } }, async () => ({
    value: await o.connectors.gallery(),
  }));

  app.get<{ Params: { kind: string } }>(
    '/api/connectors/:kind',
    { config: { role: 'Reader' } },
    async (request) => o.connectors.page(request.params.kind),
  );

  app.get<{ Params: { kind: string }; Querystring: { tenantId: string } }>(
    '/api/connectors/:kind/prerequisites',
    {
      config: { role: 'Reader' },
      schema: {
        querystring: {
          type: 'object',
          required: ['tenantId'],
          additionalProperties: false,
          properties: { tenantId: { type: 'string', minLength: 1 } },
        },
      },
    },
    async (request) => ({
      value: await o.connectors.prerequisites(
        request.params.kind,
        request.query.tenantId,
        request.principal!.role,
      ),
    }),
  );

  app.get<{ Params: { name: string } }>(
    '/api/dataConnectors/:name/status',
    { config: { role: 'Reader' } },
    async (request) => o.connectors.status(request.params.name),
  );

  app.post<{ Params: { name: string }; Body: { from: string } }>(
    '/api/dataConnectors/:name/backfill',
    {
      config: { role: 'Contributor' },
      schema: {
        body: {
          type: 'object',
          required: ['from'],
          additionalProperties: false,
          properties: { from: { type: 'string', minLength: 1 } },
        },
      },
    },
    async (request) => o.connectors.backfill(request.params.name, request.body.from),
  );

  app.get('/api/tenants', { config: { role: 'Reader' } }, async () => ({
    value: (await o.tenants.list()).map(tenantEnvelope),
  }));

  app.get<{ Params: { name: string } }>(
    '/api/tenants/:name',
    { config: { role: 'Reader' } },
    async (request) => tenantEnvelope(await o.tenants.get(request.params.name)),
  );

  app.put<{ Params: { name: string }; Body: { properties: TenantInput; etag?: string } }>(
    '/api/tenants/:name',
    { config: { role: 'Contributor' }, schema: { body: tenantBodySchema } },
    async (request, reply) => {
      const ifMatch = request.body.etag ?? (request.headers['if-match'] as string | undefined);
      const { view, created } = await o.tenants.put(request.params.name, request.body.properties, ifMatch);
      o.runtime.tenantChanged(view.tenantId);
      await o.runtime.reconcile();
      void reply.code(created ? 201 : 200);
      return tenantEnvelope(view);
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/api/tenants/:name',
    { config: { role: 'Contributor' } },
    async (request, reply) => {
      const existing = await o.tenants.get(request.params.name).catch(() => undefined);
      if (!existing) {
        void reply.code(204);
        return;
      }
      const inUse = (await o.connectors.list()).filter(
        (r) => String(r.properties.tenantId ?? '').toLowerCase() === existing.tenantId,
      );
      if (inUse.length > 0) {
        throw new ApiError(
          409,
          'Conflict',
          `Tenant connection '${existing.name}' is used by data connector(s) ${inUse.map((r) => r.name).join(', ')}; disconnect them first.`,
        );
      }
      await o.tenants.delete(request.params.name);
      o.runtime.tenantChanged(existing.tenantId);
      return {};
    },
  );

  app.get('/metrics', { config: { role: 'Reader' } }, async (_request, reply) => {
    void reply.type(o.runtime.metrics.registry.contentType);
    return o.runtime.metrics.registry.metrics();
  });
}

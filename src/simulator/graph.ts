/** The emulated Microsoft Graph: `GET /v1.0/subscribedSkus` (licence checks, connectors.md §4). */
import type { FastifyInstance } from 'fastify';
import { GRAPH_AUDIENCES } from './audiences.js';
import { applyFaults, type ErrorDialect, note, requestId, type SimContext, sendJson } from './http.js';
import { checkAccessToken, findTenant } from './identity.js';
import { e5Skus } from './tenants.js';

const SKU_ROLES = [
  'Organization.Read.All',
  'Organization.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];

function graphError(code: string, message: string) {
  const date = new Date().toISOString().slice(0, 19);
  const id = requestId();
  return { error: { code, message, innerError: { date, 'request-id': id, 'client-request-id': id } } };
}

const dialect: ErrorDialect = {
  throttleStatus: 429,
  throttled: (status) => ({
    body: {
      error: {
        code: 'TooManyRequests',
        message: 'Please retry again later.',
        innerError: {
          code: '429',
          date: new Date().toISOString().slice(0, 19),
          message: 'Please retry after',
          'request-id': requestId(),
          status: String(status),
        },
      },
    },
    code: 'TooManyRequests',
  }),
  serverError: (status) => ({
    body: graphError(
      status === 503 ? 'serviceNotAvailable' : 'generalException',
      'The service is temporarily unavailable.',
    ),
    code: status === 503 ? 'serviceNotAvailable' : 'generalException',
  }),
};

export function registerGraph(app: FastifyInstance, ctx: SimContext): void {
  app.get('/v1.0/subscribedSkus', async (req, reply) => {
    note(req, { endpoint: 'skus' });
    const fx = applyFaults(ctx, req, reply, 'skus', dialect, {}, ['truncated']);
    if (!fx) return reply;
    const fail = (status: number, code: string, message: string) => {
      note(req, { code });
      return sendJson(reply, status, graphError(code, message), fx.truncated);
    };
    const auth = checkAccessToken(ctx, req, GRAPH_AUDIENCES);
    if (!auth.ok) {
      const message =
        auth.reason === 'missing'
          ? 'Access token is empty.'
          : auth.reason === 'audience'
            ? 'Access token validation failure. Invalid audience.'
            : auth.reason === 'expired'
              ? 'Lifetime validation failed, the token is expired.'
              : 'Access token validation failure.';
      return fail(401, 'InvalidAuthenticationToken', message);
    }
    const tenant = findTenant(ctx, auth.claims.tid);
    note(req, { tenantId: auth.claims.tid });
    if (!tenant)
      return fail(401, 'InvalidAuthenticationToken', 'Access token validation failure. Unknown tenant.');
    if (!auth.claims.roles.some((r) => SKU_ROLES.includes(r)))
      return fail(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    const value = (tenant.skus ?? e5Skus()).map((s) => ({
      accountName: tenant.domain?.split('.')[0] ?? 'tenant',
      accountId: tenant.tenantId,
      appliesTo: s.appliesTo,
      capabilityStatus: s.capabilityStatus,
      consumedUnits: s.consumedUnits,
      id: s.id ?? `${tenant.tenantId}_${s.skuId}`,
      skuId: s.skuId,
      skuPartNumber: s.skuPartNumber,
      subscriptionIds: [],
      prepaidUnits: { lockedOut: 0, ...s.prepaidUnits },
      servicePlans: s.servicePlans.map((p) => ({ ...p })),
    }));
    return sendJson(
      reply,
      200,
      { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#subscribedSkus', value },
      fx.truncated,
    );
  });
}

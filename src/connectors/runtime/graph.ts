import type { TenantConnection } from '../../tenants/tenant-service.js';
import { errorCodeOf, httpRequest } from './http.js';

export interface SubscribedSku {
  readonly skuPartNumber?: string;
  readonly capabilityStatus?: string;
  readonly servicePlans?: readonly {
    readonly servicePlanName?: string;
    readonly provisioningStatus?: string;
  }[];
}

export type SkuAnswer =
  | { readonly ok: true; readonly skus: readonly SubscribedSku[] }
  | { readonly ok: false; readonly status?: number; readonly reason: string };

/** Graph `GET /v1.0/subscribedSkus`: the tenant's licences, for the licence prerequisites (connectors.md §4). */
export async function subscribedSkus(tenant: TenantConnection, signal?: AbortSignal): Promise<SkuAnswer> {
  let token: string;
  try {
    token = await tenant.getToken(tenant.endpoints.graphResource, signal);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  try {
    const res = await httpRequest({
      url: `${tenant.endpoints.graphBase}/v1.0/subscribedSkus`,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      ca: tenant.endpoints.caCertificate,
      timeoutMs: 30_000,
      signal,
    });
    if (res.status !== 200) {
      const code = errorCodeOf(res.body) ?? '';
      return {
        ok: false,
        status: res.status,
        reason:
          res.status === 403
            ? `the app may not read the tenant's licences (Graph ${code || 'HTTP 403'}; grant Organization.Read.All to check them)`
            : `Graph answered HTTP ${res.status}${code ? ` ${code}` : ''}`,
      };
    }
    const body = JSON.parse(res.body.toString()) as { value?: SubscribedSku[] };
    return { ok: true, skus: body.value ?? [] };
  } catch (err) {
    return { ok: false, reason: `Graph could not be reached: ${(err as Error).message}` };
  }
}

/** The `roles` claim of an access token (read, not verified: the issuer verifies it; we only report). */
export function tokenRoles(accessToken: string): string[] {
  const payload = accessToken.split('.')[1];
  if (!payload) return [];
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { roles?: unknown };
    return Array.isArray(claims.roles) ? claims.roles.map(String) : [];
  } catch {
    return [];
  }
}

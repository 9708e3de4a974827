import { httpRequest } from '../connectors/runtime/http.js';
import type { CloudEndpoints } from './clouds.js';
import { TenantError } from './errors.js';

/**
 * A client-credentials request straight to `{authorityHost}/{tenant}/oauth2/v2.0/token` (source-apis.md §1),
 * used only for a custom cloud whose authority serves the token endpoint but not the OpenID discovery
 * document @azure/identity (MSAL) insists on reading first — lab authorities and emulators often do. Client
 * secrets only; certificates go through @azure/identity. Tokens are cached until five minutes before expiry.
 */
export class DirectTokenClient {
  private readonly cache = new Map<string, { token: string; expiresAt: number }>();

  constructor(
    private readonly tenantId: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
    private readonly endpoints: CloudEndpoints,
  ) {}

  async getToken(resource: string, signal?: AbortSignal): Promise<string> {
    const cached = this.cache.get(resource);
    if (cached && cached.expiresAt > Date.now()) return cached.token;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.clientId,
      client_secret: this.clientSecret,
      scope: `${resource}/.default`,
    }).toString();
    const url = `${this.endpoints.authorityHost}/${encodeURIComponent(this.tenantId)}/oauth2/v2.0/token`;
    let res: Awaited<ReturnType<typeof httpRequest>>;
    try {
      res = await httpRequest({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        ca: this.endpoints.caCertificate,
        timeoutMs: 30_000,
        signal,
      });
    } catch (err) {
      throw new TenantError(
        'TokenRequestFailed',
        `token request for tenant ${this.tenantId} failed: ${(err as Error).message}`,
      );
    }
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      // not JSON: reported by status below
    }
    if (res.status !== 200 || typeof parsed.access_token !== 'string') {
      const description = String(parsed.error_description ?? '')
        .replace(/\r/g, '')
        .split('\n')[0]!
        .trim();
      const codes = Array.isArray(parsed.error_codes) ? parsed.error_codes : [];
      const aadsts = Number(/AADSTS(\d+)/.exec(description)?.[1] ?? codes[0] ?? Number.NaN);
      throw new TenantError(
        'TokenRequestFailed',
        `token request for tenant ${this.tenantId} failed: ${description || String(parsed.error ?? `HTTP ${res.status}`)}`,
        {
          status: res.status,
          ...(typeof parsed.error === 'string' ? { error: parsed.error } : {}),
          ...(Number.isFinite(aadsts) ? { aadsts } : {}),
        },
      );
    }
    // v1 answers numbers as strings; both forms are accepted.
    const expiresIn = Number(parsed.expires_in ?? 3599);
    this.cache.set(resource, {
      token: parsed.access_token,
      expiresAt: Date.now() + Math.max(60, (Number.isFinite(expiresIn) ? expiresIn : 3599) - 300) * 1000,
    });
    return parsed.access_token;
  }
}

/** MSAL's failure to read an authority's discovery document (not a refusal of the credentials). */
export function isDiscoveryFailure(err: unknown): boolean {
  const text = `${(err as { errorCode?: string })?.errorCode ?? ''} ${(err as Error)?.message ?? ''}`;
  return /endpoints_resolution_error|openid_config_error|untrusted_authority|authority_metadata/i.test(text);
}

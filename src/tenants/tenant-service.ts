import crypto from 'node:crypto';
import {
  AuthenticationError,
  ClientCertificateCredential,
  ClientSecretCredential,
  type TokenCredential,
} from '@azure/identity';
import type { TenantRepository, TenantRow } from '../storage/control/tenants.js';
import { CLOUD_ENDPOINTS, type CloudEndpoints, type CloudName, trimBase } from './clouds.js';
import { TenantError } from './errors.js';
import type { SecretBox } from './secret-box.js';
import { DirectTokenClient, isDiscoveryFailure } from './token-endpoint.js';

export interface TenantInput {
  readonly tenantId: string;
  readonly clientId: string;
  readonly cloud?: CloudName;
  readonly endpoints?: Partial<CloudEndpoints>;
  readonly credentials: { readonly clientSecret?: string; readonly certificate?: string };
}

/** A tenant connection as the API shows it: no secret, only what kind of credential is stored. */
export interface TenantView {
  readonly name: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly cloud: CloudName;
  readonly endpoints: Omit<CloudEndpoints, 'caCertificate'> & { readonly caCertificate?: 'configured' };
  readonly credentialKind: 'clientSecret' | 'certificate';
  readonly etag: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What a connector needs to call a tenant's APIs. */
export interface TenantConnection {
  readonly name: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly endpoints: CloudEndpoints;
  /** An access token for `resource` (cached and renewed by @azure/identity). */
  getToken(resource: string, signal?: AbortSignal): Promise<string>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function resolveEndpoints(cloud: CloudName, given: Partial<CloudEndpoints> | undefined): CloudEndpoints {
  if (cloud !== 'custom') {
    if (given && Object.keys(given).length > 0) {
      throw new TenantError(
        'InvalidTenant',
        `endpoints can only be given with "cloud": "custom" (cloud is ${cloud})`,
      );
    }
    return CLOUD_ENDPOINTS[cloud];
  }
  if (!given?.authorityHost || !given.managementApiBase || !given.graphBase) {
    throw new TenantError(
      'InvalidTenant',
      'a custom cloud needs endpoints.authorityHost, endpoints.managementApiBase and endpoints.graphBase',
    );
  }
  const managementApiBase = trimBase(given.managementApiBase);
  const graphBase = trimBase(given.graphBase);
  return {
    authorityHost: trimBase(given.authorityHost),
    managementApiBase,
    managementResource: trimBase(given.managementResource ?? managementApiBase),
    graphBase,
    graphResource: trimBase(given.graphResource ?? graphBase),
    ...(given.caCertificate ? { caCertificate: given.caCertificate } : {}),
  };
}

interface StoredCredential {
  readonly clientSecret?: string;
  readonly certificate?: string;
}

export class TenantService {
  private readonly credentials = new Map<string, { etag: string; credential: TokenCredential }>();
  /** Custom authorities found to lack OpenID discovery (see token-endpoint.ts). */
  private readonly directClients = new Map<string, { etag: string; client: DirectTokenClient }>();

  constructor(
    private readonly repo: TenantRepository,
    private readonly box: SecretBox,
  ) {}

  async list(): Promise<TenantView[]> {
    return (await this.repo.list()).map(toView);
  }

  async get(name: string): Promise<TenantView> {
    return toView(await this.require(name));
  }

  /** Creates or replaces a tenant connection; `ifMatch` (the etag the caller read) guards against lost updates. */
  async put(
    name: string,
    input: TenantInput,
    ifMatch?: string,
  ): Promise<{ view: TenantView; created: boolean }> {
    if (!NAME.test(name)) {
      throw new TenantError(
        'InvalidTenant',
        `tenant connection name '${name}' must be 1-64 letters, digits, '.', '_' or '-'`,
      );
    }
    const existing = await this.repo.get(name);
    if (ifMatch && existing && existing.etag !== ifMatch) {
      throw new TenantError(
        'EtagMismatch',
        `Newer version of tenant connection '${name}' exists. Data was not saved`,
      );
    }
    const cloud = input.cloud ?? 'public';
    const endpoints = resolveEndpoints(cloud, input.endpoints);
    const { clientSecret, certificate } = input.credentials;
    if ((clientSecret === undefined) === (certificate === undefined)) {
      throw new TenantError(
        'InvalidTenant',
        'credentials must hold exactly one of clientSecret or certificate',
      );
    }
    const stored: StoredCredential = clientSecret !== undefined ? { clientSecret } : { certificate };
    const now = new Date().toISOString();
    const row: TenantRow = {
      name,
      tenantId: input.tenantId.toLowerCase(),
      cloud,
      endpoints: JSON.stringify(endpoints),
      clientId: input.clientId,
      credentialKind: clientSecret !== undefined ? 'clientSecret' : 'certificate',
      credentialCiphertext: this.box.seal(JSON.stringify(stored), `tenant:${name}`),
      etag: `"${crypto.randomUUID()}"`,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    await this.repo.upsert(row);
    this.credentials.delete(name);
    return { view: toView(row), created: !existing };
  }

  async delete(name: string): Promise<boolean> {
    this.credentials.delete(name);
    this.directClients.delete(name);
    return this.repo.delete(name);
  }

  /** The connection of the tenant with this Entra tenant id (what a dataConnectors resource names). */
  async connectionForTenantId(tenantId: string): Promise<TenantConnection> {
    const row = await this.repo.findByTenantId(tenantId.toLowerCase());
    if (!row) {
      throw new TenantError(
        'TenantNotConnected',
        `no tenant connection for tenant ${tenantId}: create one with PUT /api/tenants/{name} first`,
      );
    }
    return this.connection(row);
  }

  async connectionByName(name: string): Promise<TenantConnection> {
    return this.connection(await this.require(name));
  }

  private connection(row: TenantRow): TenantConnection {
    const endpoints = JSON.parse(row.endpoints) as CloudEndpoints;
    return {
      name: row.name,
      tenantId: row.tenantId,
      clientId: row.clientId,
      endpoints,
      getToken: async (resource, signal) => {
        const direct = this.directClients.get(row.name);
        if (direct?.etag === row.etag) return direct.client.getToken(resource, signal);
        const credential = this.credential(row, endpoints);
        try {
          const token = await credential.getToken(`${resource}/.default`, { abortSignal: signal });
          if (!token) throw new Error('the identity platform returned no token');
          return token.token;
        } catch (err) {
          // A custom authority without the discovery document MSAL needs: ask its token endpoint directly.
          if (row.cloud === 'custom' && isDiscoveryFailure(err)) {
            const secret = JSON.parse(
              this.box.open(row.credentialCiphertext, `tenant:${row.name}`),
            ) as StoredCredential;
            if (secret.clientSecret !== undefined) {
              const client = new DirectTokenClient(
                row.tenantId,
                row.clientId,
                secret.clientSecret,
                endpoints,
              );
              this.directClients.set(row.name, { etag: row.etag, client });
              return client.getToken(resource, signal);
            }
          }
          throw tokenError(err, row.tenantId);
        }
      },
    };
  }

  private credential(row: TenantRow, endpoints: CloudEndpoints): TokenCredential {
    const cached = this.credentials.get(row.name);
    if (cached?.etag === row.etag) return cached.credential;
    const secret = JSON.parse(
      this.box.open(row.credentialCiphertext, `tenant:${row.name}`),
    ) as StoredCredential;
    const options = {
      authorityHost: endpoints.authorityHost,
      // Instance discovery asks the public cloud about the authority: not for sovereign or custom hosts.
      disableInstanceDiscovery: row.cloud !== 'public',
      ...(endpoints.caCertificate ? { tlsOptions: { ca: [endpoints.caCertificate] } } : {}),
      // The runtime retries on its own schedule (and records health); the SDK's own retries would hide that.
      retryOptions: { maxRetries: 0 },
    };
    const credential =
      secret.clientSecret !== undefined
        ? new ClientSecretCredential(row.tenantId, row.clientId, secret.clientSecret, options)
        : new ClientCertificateCredential(
            row.tenantId,
            row.clientId,
            { certificate: secret.certificate! },
            options,
          );
    this.credentials.set(row.name, { etag: row.etag, credential });
    return credential;
  }

  private async require(name: string): Promise<TenantRow> {
    const row = await this.repo.get(name);
    if (!row) throw new TenantError('TenantNotFound', `tenant connection '${name}' does not exist`);
    return row;
  }
}

function toView(row: TenantRow): TenantView {
  const { caCertificate, ...endpoints } = JSON.parse(row.endpoints) as CloudEndpoints;
  return {
    name: row.name,
    tenantId: row.tenantId,
    clientId: row.clientId,
    cloud: row.cloud as CloudName,
    endpoints: caCertificate ? { ...endpoints, caCertificate: 'configured' } : endpoints,
    credentialKind: row.credentialKind as TenantView['credentialKind'],
    etag: row.etag,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * Turns whatever @azure/identity threw into a TenantError carrying the AADSTS code and the first line of
 * Microsoft's description (which never holds the secret); connection failures keep their reason.
 */
function tokenError(err: unknown, tenantId: string): TenantError {
  if (err instanceof AuthenticationError) {
    const response = err.errorResponse as {
      error?: string;
      errorDescription?: string;
      error_codes?: number[];
    };
    const description = (response.errorDescription ?? '').replace(/\r/g, '').split('\n')[0]!.trim();
    const aadsts = /AADSTS(\d+)/.exec(description)?.[1] ?? String(response.error_codes?.[0] ?? '');
    return new TenantError(
      'TokenRequestFailed',
      `token request for tenant ${tenantId} failed: ${description || response.error}`,
      { status: err.statusCode, error: response.error, aadsts: aadsts ? Number(aadsts) : undefined },
    );
  }
  // MSAL's own errors (ServerError for an AADSTS answer) carry errorCode, errorNo and status.
  const e = (err ?? {}) as {
    message?: string;
    errorCode?: string;
    errorNo?: string;
    status?: number;
    statusCode?: number;
  };
  const message = String(e.message ?? err).replace(/\r/g, '');
  const described = /Description: (AADSTS\d+:[^\n]*?)(?: Trace ID:| Correlation ID:|$)/m.exec(message)?.[1];
  const aadsts = Number(/AADSTS(\d+)/.exec(message)?.[1] ?? e.errorNo ?? Number.NaN);
  const text = (described ?? message.split('\n')[0]!).trim();
  return new TenantError('TokenRequestFailed', `token request for tenant ${tenantId} failed: ${text}`, {
    ...((e.status ?? e.statusCode) ? { status: e.status ?? e.statusCode } : {}),
    ...(e.errorCode ? { error: e.errorCode } : {}),
    ...(Number.isFinite(aadsts) ? { aadsts } : {}),
  });
}

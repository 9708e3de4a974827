/**
 * The emulated Microsoft identity platform (source-apis.md §1): client-credentials tokens on v2.0 and v1
 * endpoints, OpenID configuration, instance discovery and JWKS, and the AADSTS error matrix. It also
 * verifies the access tokens it issued, for the resource APIs.
 */
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { rolesFor } from './audiences.js';
import { applyFaults, type ErrorDialect, GUID, note, originOf, type SimContext, sendJson } from './http.js';
import { decodeJwt, signRs256, thumbprints, verifySignature } from './jwt.js';
import { type SimApp, type SimTenantConfig, tenantDomain } from './tenants.js';

const TOKEN_LIFETIME_S = 3599;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);

/** `YYYY-MM-DD HH:MM:SSZ`, as error bodies print it. */
function aadTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function findTenant(ctx: SimContext, idOrDomain: string): SimTenantConfig | undefined {
  const key = idOrDomain.toLowerCase();
  return ctx.tenants.find((t) => t.tenantId.toLowerCase() === key || tenantDomain(t) === key);
}

type TenantLookup = { tenant: SimTenantConfig } | { error: 'malformed' | 'unknown' };

function lookupTenant(ctx: SimContext, segment: string): TenantLookup {
  if (!GUID.test(segment) && !DOMAIN.test(segment)) return { error: 'malformed' };
  const tenant = findTenant(ctx, segment);
  return tenant ? { tenant } : { error: 'unknown' };
}

class AadError {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly code: number,
    readonly text: string,
  ) {}
}

function aadBody(ctx: SimContext, e: AadError) {
  const trace = crypto.randomUUID();
  const corr = crypto.randomUUID();
  const ts = aadTimestamp(ctx.tokenNow());
  return {
    error: e.error,
    error_description: `AADSTS${e.code}: ${e.text}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${corr}\r\nTimestamp: ${ts}`,
    error_codes: [e.code],
    timestamp: ts,
    trace_id: trace,
    correlation_id: corr,
    error_uri: `https://login.microsoftonline.com/error?code=${e.code}`,
  };
}

const tenantErrors = {
  malformed: (segment: string) =>
    new AadError(
      400,
      'invalid_request',
      900023,
      `Specified tenant identifier '${segment}' is neither a valid DNS name, nor a valid external domain.`,
    ),
  unknown: (segment: string) =>
    new AadError(
      400,
      'invalid_tenant',
      90002,
      `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    ),
};

const missing = (name: string) =>
  new AadError(
    400,
    'invalid_request',
    900144,
    `The request body must contain the following parameter: '${name}'.`,
  );

function aadDialect(ctx: SimContext): ErrorDialect {
  return {
    throttleStatus: 429,
    throttled: (status) => {
      const e = new AadError(
        status,
        'temporarily_unavailable',
        50196,
        'The server terminated an operation because it encountered a client request loop. Please wait and try again.',
      );
      return { body: aadBody(ctx, e), code: 'AADSTS50196' };
    },
    serverError: (status) => {
      const e = new AadError(
        status,
        'temporarily_unavailable',
        90033,
        'A transient error has occurred. Please try again.',
      );
      return { body: aadBody(ctx, e), code: 'AADSTS90033' };
    },
  };
}

/** The resource a v2 scope names (`<resource>/.default`), or an error. */
function resourceOfScope(scope: string): string | AadError {
  const parts = scope.split(/\s+/).filter((s) => s && !OIDC_SCOPES.has(s.toLowerCase()));
  const bad = new AadError(
    400,
    'invalid_scope',
    70011,
    `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
  );
  if (parts.length !== 1) return bad;
  const s = parts[0]!;
  if (!s.endsWith('/.default')) return bad;
  const resource = s.slice(0, -'/.default'.length);
  return validResource(resource) ? resource : bad;
}

function validResource(resource: string): boolean {
  if (GUID.test(resource)) return true;
  try {
    const u = new URL(resource);
    return u.protocol === 'https:' || u.protocol === 'http:' || u.protocol === 'api:';
  } catch {
    return false;
  }
}

interface Credentials {
  clientId?: string;
  secret?: string;
  assertion?: string;
  assertionType?: string;
}

function credentialsOf(req: FastifyRequest, form: Record<string, string>): Credentials {
  const c: Credentials = {
    clientId: form.client_id,
    secret: form.client_secret,
    assertion: form.client_assertion,
    assertionType: form.client_assertion_type,
  };
  const auth = req.headers.authorization;
  if (auth?.toLowerCase().startsWith('basic ')) {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined by ':' and base64-encoded.
    const raw = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const i = raw.indexOf(':');
    if (i > 0) {
      c.clientId ??= decodeURIComponent(raw.slice(0, i).replace(/\+/g, ' '));
      c.secret ??= decodeURIComponent(raw.slice(i + 1).replace(/\+/g, ' '));
    }
  }
  return c;
}

function checkAssertion(
  ctx: SimContext,
  app: SimApp,
  assertion: string,
  tenantSegment: string,
): AadError | undefined {
  const bad = (text: string) => new AadError(401, 'invalid_client', 700027, text);
  if (!app.certificatePem)
    return bad(
      `Client assertion failed signature validation. No certificate is registered for app '${app.clientId}'.`,
    );
  const jwt = decodeJwt(assertion);
  if (!jwt)
    return bad('Client assertion contains an invalid signature. [Reason - The assertion is not a JWT.]');
  const tp = thumbprints(app.certificatePem);
  const { alg } = jwt.header;
  if (alg === 'RS256') {
    if (jwt.header.x5t !== tp.x5t && jwt.header['x5t#S256'] !== tp.x5tS256)
      return bad(
        `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${String(jwt.header.x5t ?? '')}']`,
      );
  } else if (alg === 'PS256') {
    if (jwt.header['x5t#S256'] !== tp.x5tS256)
      return bad(
        `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${String(jwt.header['x5t#S256'] ?? '')}']`,
      );
  } else
    return bad(
      `Client assertion contains an invalid signature. [Reason - Unsupported algorithm '${String(alg)}'.]`,
    );
  if (!verifySignature(jwt, tp.publicKey))
    return bad(
      'Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value.]',
    );
  const p = jwt.payload;
  if (p.iss !== app.clientId || p.sub !== app.clientId)
    return new AadError(
      401,
      'invalid_client',
      700021,
      `Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
    );
  let audPath = '';
  try {
    audPath = new URL(String(p.aud)).pathname.toLowerCase();
  } catch {
    // not a URL
  }
  const okAud = [
    `/${tenantSegment.toLowerCase()}/oauth2/v2.0/token`,
    `/${tenantSegment.toLowerCase()}/oauth2/token`,
  ];
  if (!okAud.includes(audPath))
    return bad(
      `Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
    );
  const now = Math.floor(ctx.tokenNow() / 1000);
  const exp = Number(p.exp);
  const nbf = p.nbf === undefined ? now : Number(p.nbf);
  if (!(exp > now - 300) || !(nbf <= now + 300))
    return new AadError(
      401,
      'invalid_client',
      700024,
      `Client assertion is not within its valid time range. Current time: ${new Date(now * 1000).toISOString()}, assertion valid from ${new Date(nbf * 1000).toISOString()}, expiry time of assertion ${new Date(exp * 1000).toISOString()}.`,
    );
  return undefined;
}

export interface AccessTokenClaims {
  readonly aud: string;
  readonly iss: string;
  readonly tid: string;
  readonly appid: string;
  readonly azp: string;
  readonly roles: string[];
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
}

function issue(
  ctx: SimContext,
  origin: string,
  tenant: SimTenantConfig,
  app: SimApp,
  resource: string,
  v1: boolean,
) {
  const now = Math.floor(ctx.tokenNow() / 1000);
  const oid = crypto.createHash('sha256').update(`${tenant.tenantId}|${app.clientId}`).digest('hex');
  const claims = {
    aud: resource,
    iss: v1 ? `${origin}/${tenant.tenantId}/` : `${origin}/${tenant.tenantId}/v2.0`,
    iat: now,
    nbf: now,
    exp: now + TOKEN_LIFETIME_S,
    aio: crypto.randomBytes(24).toString('base64url'),
    appid: app.clientId,
    azp: app.clientId,
    appidacr: '1',
    azpacr: '1',
    idp: `${origin}/${tenant.tenantId}/`,
    idtyp: 'app',
    oid: `${oid.slice(0, 8)}-${oid.slice(8, 12)}-${oid.slice(12, 16)}-${oid.slice(16, 20)}-${oid.slice(20, 32)}`,
    roles: rolesFor(resource, app.roles),
    sub: app.clientId,
    tid: tenant.tenantId,
    uti: crypto.randomBytes(16).toString('base64url'),
    ver: v1 ? '1.0' : '2.0',
  };
  const token = signRs256(claims, ctx.signingKey, { kid: ctx.kid, x5t: ctx.kid });
  return { token, claims };
}

function tokenHandler(ctx: SimContext, v1: boolean) {
  return async (req: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply) => {
    note(req, { endpoint: 'token' });
    const effects = applyFaults(ctx, req, reply, 'token', aadDialect(ctx), {}, ['truncated']);
    if (!effects) return reply;
    const fail = (e: AadError) => {
      note(req, { code: `AADSTS${e.code}` });
      return sendJson(reply, e.status, aadBody(ctx, e), effects.truncated);
    };
    const segment = req.params.tenant;
    const found = lookupTenant(ctx, segment);
    if ('error' in found) return fail(tenantErrors[found.error](segment));
    const tenant = found.tenant;
    note(req, { tenantId: tenant.tenantId });
    const form = (req.body ?? {}) as Record<string, string>;
    if (!form.grant_type) return fail(missing('grant_type'));
    if (form.grant_type !== 'client_credentials')
      return fail(
        new AadError(
          400,
          'unsupported_grant_type',
          70003,
          `The app requested an unsupported grant type '${form.grant_type}'.`,
        ),
      );
    const cred = credentialsOf(req, form);
    if (!cred.clientId) return fail(missing('client_id'));
    const app = tenant.apps.find((a) => a.clientId.toLowerCase() === cred.clientId!.toLowerCase());
    if (!app)
      return fail(
        new AadError(
          400,
          'unauthorized_client',
          700016,
          `Application with identifier '${cred.clientId}' was not found in the directory '${tenantDomain(tenant)}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
        ),
      );
    let resource: string;
    if (v1) {
      if (!form.resource) return fail(missing('resource'));
      if (!validResource(form.resource.replace(/\/$/, '')))
        return fail(
          new AadError(
            400,
            'invalid_resource',
            500011,
            `The resource principal named ${form.resource} was not found in the tenant named ${tenantDomain(tenant)}.`,
          ),
        );
      resource = form.resource;
    } else {
      if (form.resource)
        return fail(
          new AadError(400, 'invalid_request', 901002, "The 'resource' request parameter is not supported."),
        );
      if (!form.scope) return fail(missing('scope'));
      const r = resourceOfScope(form.scope);
      if (r instanceof AadError) return fail(r);
      resource = r;
    }
    if (cred.assertion) {
      if (cred.assertionType !== ASSERTION_TYPE)
        return fail(
          new AadError(
            401,
            'invalid_client',
            700027,
            `Client assertion type '${cred.assertionType ?? ''}' is not supported.`,
          ),
        );
      const err = checkAssertion(ctx, app, cred.assertion, segment);
      if (err) return fail(err);
    } else if (cred.secret !== undefined && cred.secret !== '') {
      if (!app.secret || !timingSafeEqual(cred.secret, app.secret))
        return fail(
          new AadError(
            401,
            'invalid_client',
            7000215,
            `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
          ),
        );
    } else
      return fail(
        new AadError(
          401,
          'invalid_client',
          7000218,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ),
      );
    const { token, claims } = issue(ctx, originOf(req), tenant, app, resource, v1);
    const body = v1
      ? {
          token_type: 'Bearer',
          expires_in: String(TOKEN_LIFETIME_S),
          ext_expires_in: String(TOKEN_LIFETIME_S),
          expires_on: String(claims.exp),
          not_before: String(claims.nbf),
          resource,
          access_token: token,
        }
      : {
          token_type: 'Bearer',
          expires_in: TOKEN_LIFETIME_S,
          ext_expires_in: TOKEN_LIFETIME_S,
          access_token: token,
        };
    void reply.header('cache-control', 'no-store, no-cache').header('pragma', 'no-cache');
    return sendJson(reply, 200, body, effects.truncated);
  };
}

function timingSafeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

export function registerIdentity(app: FastifyInstance, ctx: SimContext): void {
  app.post('/:tenant/oauth2/v2.0/token', tokenHandler(ctx, false));
  app.post('/:tenant/oauth2/token', tokenHandler(ctx, true));

  const openid =
    (v2: boolean) => async (req: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply) => {
      note(req, { endpoint: 'openid-configuration' });
      const segment = req.params.tenant;
      const origin = originOf(req);
      let tid = '{tenantid}';
      if (!['common', 'organizations', 'consumers'].includes(segment.toLowerCase())) {
        const found = lookupTenant(ctx, segment);
        if ('error' in found) {
          const e = tenantErrors[found.error](segment);
          note(req, { code: `AADSTS${e.code}` });
          return sendJson(reply, e.status, aadBody(ctx, e), false);
        }
        tid = found.tenant.tenantId;
      }
      const base = `${origin}/${segment}`;
      const v = v2 ? '/v2.0' : '';
      return sendJson(
        reply,
        200,
        {
          token_endpoint: `${base}/oauth2${v}/token`,
          token_endpoint_auth_methods_supported: [
            'client_secret_post',
            'private_key_jwt',
            'client_secret_basic',
          ],
          jwks_uri: `${origin}/${segment}/discovery${v}/keys`,
          response_modes_supported: ['query', 'fragment', 'form_post'],
          subject_types_supported: ['pairwise'],
          id_token_signing_alg_values_supported: ['RS256'],
          response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
          scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
          issuer: v2 ? `${origin}/${tid}/v2.0` : `${origin}/${tid}/`,
          request_uri_parameter_supported: false,
          userinfo_endpoint: `${origin}/oidc/userinfo`,
          authorization_endpoint: `${base}/oauth2${v}/authorize`,
          device_authorization_endpoint: `${base}/oauth2${v}/devicecode`,
          http_logout_supported: true,
          frontchannel_logout_supported: true,
          end_session_endpoint: `${base}/oauth2${v}/logout`,
          claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'roles', 'appid', 'azp'],
          kerberos_endpoint: `${base}/kerberos`,
          tenant_region_scope: 'EU',
          cloud_instance_name: 'microsoftonline.com',
          cloud_graph_host_name: 'graph.windows.net',
          msgraph_host: 'graph.microsoft.com',
          rbac_url: 'https://pas.windows.net',
        },
        false,
      );
    };
  app.get('/:tenant/v2.0/.well-known/openid-configuration', openid(true));
  app.get('/:tenant/.well-known/openid-configuration', openid(false));

  app.get('/common/discovery/instance', async (req, reply) => {
    note(req, { endpoint: 'instance-discovery' });
    const origin = originOf(req);
    const host = new URL(origin).host;
    const q = req.query as Record<string, string | undefined>;
    let tenant = 'common';
    try {
      tenant = new URL(q.authorization_endpoint ?? '').pathname.split('/')[1] || 'common';
    } catch {
      // keep common
    }
    return sendJson(
      reply,
      200,
      {
        tenant_discovery_endpoint: `${origin}/${tenant}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      },
      false,
    );
  });

  const jwks = async (req: FastifyRequest, reply: FastifyReply) => {
    note(req, { endpoint: 'jwks' });
    return sendJson(
      reply,
      200,
      { keys: [{ ...ctx.publicJwk, use: 'sig', alg: 'RS256', kid: ctx.kid }] },
      false,
    );
  };
  app.get('/:tenant/discovery/v2.0/keys', jwks);
  app.get('/:tenant/discovery/keys', jwks);
}

export type TokenCheck =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; reason: 'missing' | 'malformed' | 'signature' | 'expired' | 'audience' };

/**
 * Verifies a bearer token issued by this simulator for one of `audiences`, or for this simulator's own
 * origin (a tenant configured with custom endpoints asks for `<its base URL>/.default`).
 */
export function checkAccessToken(
  ctx: SimContext,
  req: FastifyRequest,
  audiences: readonly string[],
): TokenCheck {
  const h = req.headers.authorization;
  if (!h || !/^bearer\s+/i.test(h)) return { ok: false, reason: 'missing' };
  const jwt = decodeJwt(h.replace(/^bearer\s+/i, '').trim());
  if (!jwt) return { ok: false, reason: 'malformed' };
  if (
    jwt.header.alg !== 'RS256' ||
    !verifySignature(jwt, crypto.createPublicKey({ key: ctx.publicJwk, format: 'jwk' }))
  )
    return { ok: false, reason: 'signature' };
  const c = jwt.payload as unknown as AccessTokenClaims;
  const now = Math.floor(ctx.tokenNow() / 1000);
  if (!(typeof c.exp === 'number' && c.exp > now - 300) || !(typeof c.nbf === 'number' && c.nbf <= now + 300))
    return { ok: false, reason: 'expired' };
  if (!audienceOk(String(c.aud ?? ''), audiences, originOf(req))) return { ok: false, reason: 'audience' };
  return { ok: true, claims: { ...c, roles: Array.isArray(c.roles) ? c.roles : [] } };
}

function audienceOk(aud: string, audiences: readonly string[], origin: string): boolean {
  const a = aud.replace(/\/+$/, '').toLowerCase();
  if (audiences.some((x) => x.toLowerCase() === a)) return true;
  try {
    const u = new URL(a);
    const o = new URL(origin);
    const loopback = ['localhost', '127.0.0.1', '[::1]'];
    const sameHost =
      u.hostname === o.hostname || (loopback.includes(u.hostname) && loopback.includes(o.hostname));
    return u.protocol === 'https:' && sameHost && u.port === o.port;
  } catch {
    return false;
  }
}

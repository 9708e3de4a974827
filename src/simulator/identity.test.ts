import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClientCertificateCredential, ClientSecretCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCertificates } from '../server/tls.js';
import { makeAppCertificate } from './app-certificate.js';
import {
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
  DEMO_TENANT_ID,
  demoTenant,
  type RunningSimulator,
  startSimulator,
} from './index.js';
import { b64url, decodeJwt } from './jwt.js';
import { form, simFetch } from './test-client.js';

const CERT_APP = '11111111-2222-4333-8444-555555555555';
const NO_ROLES_APP = '22222222-3333-4444-8555-666666666666';

describe('emulated identity platform', () => {
  let dir: string;
  let ca: string;
  let sim: RunningSimulator;
  const appCert = makeAppCertificate();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-sim-id-'));
    const tls = ensureCertificates(path.join(dir, 'tls'));
    ca = tls.ca;
    const demo = demoTenant();
    sim = await startSimulator({
      tls,
      tenants: [
        {
          ...demo,
          apps: [
            ...demo.apps,
            { clientId: CERT_APP, certificatePem: appCert.certPem, roles: ['ActivityFeed.Read'] },
            { clientId: NO_ROLES_APP, secret: 'other-secret', roles: [] },
          ],
        },
      ],
    });
  });
  afterAll(async () => {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const token = (
    tenant: string,
    fields: Record<string, string>,
    v1 = false,
    headers: Record<string, string> = {},
  ) =>
    simFetch(`${sim.url}/${tenant}/oauth2${v1 ? '' : '/v2.0'}/token`, {
      method: 'POST',
      ca,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: form(fields),
    });

  it('gives @azure/identity ClientSecretCredential a token, trusting the CA per credential', async () => {
    const cred = new ClientSecretCredential(DEMO_TENANT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, {
      authorityHost: sim.url,
      disableInstanceDiscovery: true,
      tlsOptions: { ca },
    });
    const t = await cred.getToken('https://manage.office.com/.default');
    const claims = decodeJwt(t.token)!.payload;
    expect(claims).toMatchObject({
      aud: 'https://manage.office.com',
      tid: DEMO_TENANT_ID,
      appid: DEMO_CLIENT_ID,
      azp: DEMO_CLIENT_ID,
      // Only the permissions granted on the API the token is for.
      roles: ['ActivityFeed.Read', 'ActivityFeed.ReadDlp'],
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3599);
    expect(t.expiresOnTimestamp).toBeGreaterThan(Date.now() + 50 * 60_000);
    // The domain names the tenant too.
    const byDomain = new ClientSecretCredential(
      'contoso.onmicrosoft.com',
      DEMO_CLIENT_ID,
      DEMO_CLIENT_SECRET,
      {
        authorityHost: sim.url,
        disableInstanceDiscovery: true,
        tlsOptions: { ca },
      },
    );
    expect(decodeJwt((await byDomain.getToken(`${sim.url}/.default`)).token)!.payload.aud).toBe(sim.url);
  });

  it('gives @azure/identity ClientCertificateCredential a token (signed assertion checked against the app certificate)', async () => {
    const cred = new ClientCertificateCredential(
      DEMO_TENANT_ID,
      CERT_APP,
      { certificate: appCert.certPem + appCert.keyPem },
      { authorityHost: sim.url, disableInstanceDiscovery: true, tlsOptions: { ca } },
    );
    const t = await cred.getToken('https://graph.microsoft.com/.default');
    expect(decodeJwt(t.token)!.payload).toMatchObject({
      aud: 'https://graph.microsoft.com',
      appid: CERT_APP,
    });
  });

  function assertion(
    alg: 'RS256' | 'PS256',
    key: string,
    aud: string,
    overrides: Record<string, unknown> = {},
  ): string {
    const der = new crypto.X509Certificate(appCert.certPem).raw;
    const header =
      alg === 'RS256'
        ? { alg, typ: 'JWT', x5t: b64url(crypto.createHash('sha1').update(der).digest()) }
        : { alg, typ: 'JWT', 'x5t#S256': b64url(crypto.createHash('sha256').update(der).digest()) };
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      aud,
      iss: CERT_APP,
      sub: CERT_APP,
      jti: crypto.randomUUID(),
      nbf: now,
      exp: now + 600,
      ...overrides,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const sig =
      alg === 'RS256'
        ? crypto.sign('sha256', Buffer.from(input), key)
        : crypto.sign('sha256', Buffer.from(input), {
            key,
            padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
            saltLength: 32,
          });
    return `${input}.${b64url(sig)}`;
  }

  it('accepts RS256+x5t and PS256+x5t#S256 assertions; a foreign key is 700027', async () => {
    const aud = `${sim.url}/${DEMO_TENANT_ID}/oauth2/v2.0/token`;
    for (const alg of ['RS256', 'PS256'] as const) {
      const res = await token(DEMO_TENANT_ID, {
        grant_type: 'client_credentials',
        client_id: CERT_APP,
        scope: 'https://manage.office.com/.default',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion(alg, appCert.keyPem, aud),
      });
      expect(res.status, alg).toBe(200);
    }
    const other = makeAppCertificate('intruder');
    const res = await token(DEMO_TENANT_ID, {
      grant_type: 'client_credentials',
      client_id: CERT_APP,
      scope: 'https://manage.office.com/.default',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion('RS256', other.keyPem, aud),
    });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error: 'invalid_client', error_codes: [700027] });
    const expired = await token(DEMO_TENANT_ID, {
      grant_type: 'client_credentials',
      client_id: CERT_APP,
      scope: 'https://manage.office.com/.default',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion('PS256', appCert.keyPem, aud, { nbf: 1_000_000, exp: 1_000_600 }),
    });
    expect(expired.json()).toMatchObject({ error: 'invalid_client', error_codes: [700024] });
  });

  it('v2 answers integer numbers; v1 answers strings with expires_on, not_before and resource', async () => {
    const v2 = await token(DEMO_TENANT_ID, {
      grant_type: 'client_credentials',
      client_id: DEMO_CLIENT_ID,
      client_secret: DEMO_CLIENT_SECRET,
      scope: 'https://manage.office.com/.default',
    });
    expect(v2.status).toBe(200);
    const b2 = v2.json<Record<string, unknown>>();
    expect(b2).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
    expect(b2.refresh_token).toBeUndefined();
    const v1 = await token(
      DEMO_TENANT_ID,
      {
        grant_type: 'client_credentials',
        client_id: DEMO_CLIENT_ID,
        client_secret: DEMO_CLIENT_SECRET,
        resource: 'https://manage.office.com',
      },
      true,
    );
    const b1 = v1.json<Record<string, unknown>>();
    expect(b1).toMatchObject({
      token_type: 'Bearer',
      expires_in: '3599',
      resource: 'https://manage.office.com',
    });
    expect(b1.expires_on).toMatch(/^\d+$/);
    expect(b1.not_before).toMatch(/^\d+$/);
    expect(decodeJwt(b1.access_token as string)!.payload.aud).toBe('https://manage.office.com');
  });

  it('takes the secret by HTTP Basic', async () => {
    const basic = Buffer.from(
      `${encodeURIComponent(DEMO_CLIENT_ID)}:${encodeURIComponent(DEMO_CLIENT_SECRET)}`,
    ).toString('base64');
    const res = await token(
      DEMO_TENANT_ID,
      { grant_type: 'client_credentials', scope: 'https://graph.microsoft.com/.default' },
      false,
      { authorization: `Basic ${basic}` },
    );
    expect(res.status).toBe(200);
  });

  it('answers the AADSTS error matrix with full bodies', async () => {
    const base = {
      grant_type: 'client_credentials',
      client_id: DEMO_CLIENT_ID,
      client_secret: DEMO_CLIENT_SECRET,
      scope: 'https://manage.office.com/.default',
    };
    const cases: [string, Record<string, string>, number, string, number][] = [
      [
        DEMO_TENANT_ID,
        { ...base, client_secret: 'a-secret-id-not-the-value' },
        401,
        'invalid_client',
        7000215,
      ],
      [
        DEMO_TENANT_ID,
        { grant_type: 'client_credentials', client_id: DEMO_CLIENT_ID, scope: base.scope },
        401,
        'invalid_client',
        7000218,
      ],
      ['0b0b0b0b-1111-4222-8333-444444444444', base, 400, 'invalid_tenant', 90002],
      ['nodomain', base, 400, 'invalid_request', 900023],
      [
        DEMO_TENANT_ID,
        { ...base, client_id: '99999999-9999-4999-8999-999999999999' },
        400,
        'unauthorized_client',
        700016,
      ],
      [DEMO_TENANT_ID, { ...base, scope: 'https://manage.office.com' }, 400, 'invalid_scope', 70011],
      [
        DEMO_TENANT_ID,
        { ...base, scope: 'https://manage.office.com/.default https://graph.microsoft.com/.default' },
        400,
        'invalid_scope',
        70011,
      ],
      [DEMO_TENANT_ID, { ...base, grant_type: 'password' }, 400, 'unsupported_grant_type', 70003],
    ];
    for (const [tenant, fields, status, error, code] of cases) {
      const res = await token(tenant, fields);
      expect(res.status, `${code}`).toBe(status);
      const body = res.json<Record<string, unknown>>();
      expect(body.error, `${code}`).toBe(error);
      expect(body.error_codes).toEqual([code]);
      expect(body.error_description).toMatch(
        new RegExp(
          `^AADSTS${code}: .+\\r\\nTrace ID: [0-9a-f-]{36}\\r\\nCorrelation ID: [0-9a-f-]{36}\\r\\nTimestamp: \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}Z$`,
        ),
      );
      expect(body.timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
      expect(body.trace_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.error_uri).toBe(`https://login.microsoftonline.com/error?code=${code}`);
    }
  });

  it('serves OpenID configuration and instance discovery for this origin', async () => {
    const oidc = (
      await simFetch(`${sim.url}/${DEMO_TENANT_ID}/v2.0/.well-known/openid-configuration`, { ca })
    ).json<Record<string, string>>();
    expect(oidc.token_endpoint).toBe(`${sim.url}/${DEMO_TENANT_ID}/oauth2/v2.0/token`);
    expect(oidc.issuer).toBe(`${sim.url}/${DEMO_TENANT_ID}/v2.0`);
    const disc = (
      await simFetch(
        `${sim.url}/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${sim.url}/${DEMO_TENANT_ID}/oauth2/v2.0/authorize`)}`,
        { ca },
      )
    ).json<Record<string, unknown>>();
    expect(disc.tenant_discovery_endpoint).toBe(
      `${sim.url}/${DEMO_TENANT_ID}/v2.0/.well-known/openid-configuration`,
    );
    const keys = (await simFetch(`${sim.url}/${DEMO_TENANT_ID}/discovery/v2.0/keys`, { ca })).json<{
      keys: { kid: string }[];
    }>();
    expect(keys.keys[0]!.kid).toBeTruthy();
  });

  it('token faults: serverError answers 5xx with an AADSTS body; count runs out', async () => {
    sim.faults.set('token', { kind: 'serverError', status: 503, count: 1 });
    const fields = {
      grant_type: 'client_credentials',
      client_id: DEMO_CLIENT_ID,
      client_secret: DEMO_CLIENT_SECRET,
      scope: 'https://manage.office.com/.default',
    };
    const first = await token(DEMO_TENANT_ID, fields);
    expect(first.status).toBe(503);
    expect(first.json<{ error: string }>().error).toBe('temporarily_unavailable');
    expect((await token(DEMO_TENANT_ID, fields)).status).toBe(200);
    sim.faults.clear();
  });

  it('Graph subscribedSkus: the licences with Organization.Read.All; 403 Authorization_RequestDenied without', async () => {
    const get = async (clientId: string, secret: string) => {
      const t = await token(DEMO_TENANT_ID, {
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secret,
        scope: 'https://graph.microsoft.com/.default',
      });
      return simFetch(`${sim.url}/v1.0/subscribedSkus`, {
        ca,
        headers: { authorization: `Bearer ${t.json<{ access_token: string }>().access_token}` },
      });
    };
    const ok = await get(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
    expect(ok.status).toBe(200);
    const skus = ok.json<{
      value: { capabilityStatus: string; servicePlans: { servicePlanName: string }[] }[];
    }>().value;
    const plans = skus.flatMap((s) => s.servicePlans.map((p) => p.servicePlanName));
    for (const p of [
      'INSIDER_RISK',
      'MIP_S_CLP2',
      'BI_AZURE_P2',
      'DYN365_ENTERPRISE_PLAN1',
      'EXCHANGE_S_ENTERPRISE',
      'SHAREPOINTENTERPRISE',
      'TEAMS1',
    ])
      expect(plans).toContain(p);
    expect(skus[0]).toMatchObject({ capabilityStatus: 'Enabled', appliesTo: 'User' });
    const denied = await get(NO_ROLES_APP, 'other-secret');
    expect(denied.status).toBe(403);
    expect(denied.json()).toMatchObject({ error: { code: 'Authorization_RequestDenied' } });
    const noToken = await simFetch(`${sim.url}/v1.0/subscribedSkus`, { ca });
    expect(noToken.status).toBe(401);
    expect(noToken.json()).toMatchObject({ error: { code: 'InvalidAuthenticationToken' } });
  });
});

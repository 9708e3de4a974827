import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenRoles } from '../connectors/runtime/graph.js';
import { ensureCertificates } from '../server/tls.js';
import { makeAppCertificate } from '../simulator/app-certificate.js';
import { type RunningSimulator, startSimulator } from '../simulator/index.js';
import { type ControlDb, openControlDb } from '../storage/control/database.js';
import { TenantRepository } from '../storage/control/tenants.js';
import { SecretBox } from './secret-box.js';
import { TenantService } from './tenant-service.js';

// Tokens from the simulated identity platform through @azure/identity, with each kind of credential.
const TENANT = '2d3e4f50-6172-4384-95a6-b7c8d9e0f1a2';
const SECRET_APP = '11111111-aaaa-4bbb-8ccc-000000000001';
const CERT_APP = '11111111-aaaa-4bbb-8ccc-000000000002';
const SECRET = 'app~Secret.for-the-simulated-tenant-0123456789';
const cert = makeAppCertificate();
const otherCert = makeAppCertificate('someone-else');

let dir: string;
let db: ControlDb;
let sim: RunningSimulator;
let tenants: TenantService;
let ca: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-credentials-'));
  const tls = ensureCertificates(path.join(dir, 'tls'));
  ca = tls.ca;
  sim = await startSimulator({
    tls,
    tenants: [
      {
        tenantId: TENANT,
        apps: [
          { clientId: SECRET_APP, secret: SECRET, roles: ['ActivityFeed.Read'] },
          {
            clientId: CERT_APP,
            certificatePem: cert.certPem,
            roles: ['ActivityFeed.Read', 'ActivityFeed.ReadDlp'],
          },
        ],
      },
    ],
  });
  db = await openControlDb(path.join(dir, 'control.db'));
  tenants = new TenantService(new TenantRepository(db), SecretBox.open(dir, {}));
});

afterAll(async () => {
  await sim?.close();
  await db?.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

function endpoints() {
  return { authorityHost: sim.url, managementApiBase: sim.url, graphBase: sim.url, caCertificate: ca };
}

describe('tenant credentials against the simulated identity platform', () => {
  it('gets a token with a client secret, trusting only the configured CA', async () => {
    await tenants.put('secret', {
      tenantId: TENANT,
      clientId: SECRET_APP,
      cloud: 'custom',
      endpoints: endpoints(),
      credentials: { clientSecret: SECRET },
    });
    const token = await (await tenants.connectionByName('secret')).getToken(sim.url);
    expect(tokenRoles(token)).toEqual(['ActivityFeed.Read']);
  });

  it('gets a token with a certificate (PEM with its private key)', async () => {
    await tenants.put('cert', {
      tenantId: TENANT,
      clientId: CERT_APP,
      cloud: 'custom',
      endpoints: endpoints(),
      credentials: { certificate: `${cert.certPem}\n${cert.keyPem}` },
    });
    const token = await (await tenants.connectionByName('cert')).getToken(sim.url);
    expect(tokenRoles(token)).toEqual(['ActivityFeed.Read', 'ActivityFeed.ReadDlp']);
  });

  it('reports a wrong secret and an unknown certificate by their AADSTS codes, never with the secret', async () => {
    await tenants.put('wrong', {
      tenantId: TENANT,
      clientId: SECRET_APP,
      cloud: 'custom',
      endpoints: endpoints(),
      credentials: { clientSecret: 'not-the-secret' },
    });
    const err = (await (
      await tenants.connectionByName('wrong')
    )
      .getToken(sim.url)
      .catch((e: unknown) => e)) as {
      code: string;
      details: { aadsts?: number };
      message: string;
    };
    expect(err).toMatchObject({ code: 'TokenRequestFailed', details: { aadsts: 7000215 } });
    expect(err.message).not.toContain('not-the-secret');

    await tenants.put('badcert', {
      tenantId: TENANT,
      clientId: CERT_APP,
      cloud: 'custom',
      endpoints: endpoints(),
      credentials: { certificate: `${otherCert.certPem}\n${otherCert.keyPem}` },
    });
    const certErr = (await (
      await tenants.connectionByName('badcert')
    )
      .getToken(sim.url)
      .catch((e: unknown) => e)) as {
      details: { aadsts?: number };
    };
    expect(certErr.details.aadsts).toBe(700027);
  });

  it('refuses a server whose certificate the configured CA did not sign', async () => {
    const other = ensureCertificates(path.join(dir, 'other-tls'));
    await tenants.put('untrusted', {
      tenantId: TENANT,
      clientId: SECRET_APP,
      cloud: 'custom',
      endpoints: { ...endpoints(), caCertificate: other.ca },
      credentials: { clientSecret: SECRET },
    });
    await expect((await tenants.connectionByName('untrusted')).getToken(sim.url)).rejects.toMatchObject({
      code: 'TokenRequestFailed',
    });
  });
});

describe('a custom authority that serves only the token endpoint (no OpenID discovery)', () => {
  it('gets the token from the token endpoint directly, and reports its AADSTS errors', async () => {
    const tls = ensureCertificates(path.join(dir, 'tls'));
    const requests: string[] = [];
    const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        requests.push(`${req.method} ${req.url}`);
        const form = new URLSearchParams(body);
        if (req.method !== 'POST' || req.url !== `/${TENANT}/oauth2/v2.0/token`) {
          res.writeHead(404).end();
          return;
        }
        if (form.get('client_secret') !== SECRET) {
          res.writeHead(401, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              error: 'invalid_client',
              error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x',
              error_codes: [7000215],
            }),
          );
          return;
        }
        const payload = Buffer.from(JSON.stringify({ roles: ['ActivityFeed.Read'], tid: TENANT })).toString(
          'base64url',
        );
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ token_type: 'Bearer', expires_in: '3599', access_token: `h.${payload}.s` }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const endpoints = { authorityHost: url, managementApiBase: url, graphBase: url, caCertificate: tls.ca };
      await tenants.put('bare', {
        tenantId: TENANT,
        clientId: SECRET_APP,
        cloud: 'custom',
        endpoints,
        credentials: { clientSecret: SECRET },
      });
      const token = await (await tenants.connectionByName('bare')).getToken('https://manage.office.com');
      expect(tokenRoles(token)).toEqual(['ActivityFeed.Read']);
      expect(requests).toContain(`POST /${TENANT}/oauth2/v2.0/token`);
      // Cached: no second request.
      const before = requests.length;
      await (await tenants.connectionByName('bare')).getToken('https://manage.office.com');
      expect(requests.length).toBe(before);

      await tenants.put('bare-wrong', {
        tenantId: TENANT,
        clientId: SECRET_APP,
        cloud: 'custom',
        endpoints,
        credentials: { clientSecret: 'wrong' },
      });
      const err = await (await tenants.connectionByName('bare-wrong'))
        .getToken('https://manage.office.com')
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'TokenRequestFailed', details: { aadsts: 7000215, status: 401 } });
      expect((err as Error).message).not.toContain('wrong');
    } finally {
      server.close();
    }
  });
});

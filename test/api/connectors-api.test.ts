import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { SecurityInsights } from '@azure/arm-securityinsight';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/serve.js';
import { httpsRequest } from '../connectors/harness.js';

const TENANT = '0b1c2d3e-4f50-4617-8899-aabbccddeeff';
const SECRET = 'Client~Secret.value-never-to-be-seen-0123456789';
const ARM =
  '/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.OperationalInsights/workspaces/ws1/providers/Microsoft.SecurityInsights';
const V = 'api-version=2025-09-01';

interface Reply {
  status: number;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field
  body: any;
}

let dir: string;
let server: RunningServer;
let ca: Buffer;
let admin = '';
let reader = '';
let contributor = '';
const logChunks: string[] = [];

async function call(method: string, pathname: string, token?: string, body?: unknown): Promise<Reply> {
  const res = await httpsRequest(new URL(pathname, server.url).toString(), {
    method,
    ca: ca.toString(),
    token,
    body,
  });
  let parsed: unknown;
  try {
    parsed = res.text ? JSON.parse(res.text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { ...res, body: parsed };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-connectors-api-'));
  let out = '';
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _e, done) {
        logChunks.push(String(chunk));
        done();
      },
    }),
  );
  server = await startServer({
    dataDir: dir,
    port: 0,
    host: '127.0.0.1',
    logger,
    out: (t) => {
      out += t;
    },
    handleSignals: false,
    connectorOptions: { pollIntervalMs: 60_000 },
  });
  ca = fs.readFileSync(server.caFile!);
  admin = /vgl_[A-Za-z0-9_-]+/.exec(out)![0];
  reader = (await call('POST', '/api/tokens', admin, { name: 'reader', role: 'Reader' })).body.token;
  contributor = (await call('POST', '/api/tokens', admin, { name: 'contributor', role: 'Contributor' })).body
    .token;
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const tenantBody = {
  properties: {
    tenantId: TENANT,
    clientId: 'app-1',
    cloud: 'custom',
    // Nothing listens there: the runtime's polls fail, which is not what these tests look at.
    endpoints: {
      authorityHost: 'https://127.0.0.1:9',
      managementApiBase: 'https://127.0.0.1:9',
      graphBase: 'https://127.0.0.1:9',
    },
    credentials: { clientSecret: SECRET },
  },
};

describe('tenant connections API', () => {
  it('lets a Contributor create one and never returns or logs the secret', async () => {
    expect((await call('PUT', '/api/tenants/contoso', reader, tenantBody)).status).toBe(403);
    const created = await call('PUT', '/api/tenants/contoso', contributor, tenantBody);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'contoso',
      type: 'Vigil/tenants',
      properties: { tenantId: TENANT, credentialKind: 'clientSecret' },
    });
    const listed = await call('GET', '/api/tenants', reader);
    expect(listed.status).toBe(200);
    for (const text of [
      created.text,
      listed.text,
      (await call('GET', '/api/tenants/contoso', reader)).text,
    ]) {
      expect(text).not.toContain(SECRET);
    }
  });

  it('rejects unknown keys and bad values with a 400 naming them', async () => {
    const unknown = await call('PUT', '/api/tenants/x', contributor, {
      properties: { ...tenantBody.properties, credentials: { password: 'y' } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/credentials.*additional properties|password/);
    const badGuid = await call('PUT', '/api/tenants/x', contributor, {
      properties: { ...tenantBody.properties, tenantId: 'nope' },
    });
    expect(badGuid.status).toBe(400);
    expect(badGuid.text).not.toContain(SECRET);
  });
});

describe('Microsoft.SecurityInsights dataConnectors (ARM)', () => {
  const office = {
    kind: 'Office365',
    properties: {
      tenantId: TENANT,
      dataTypes: {
        exchange: { state: 'Enabled' },
        sharePoint: { state: 'Enabled' },
        teams: { state: 'Disabled' },
      },
    },
  };

  it('requires a token, the api-version, and Contributor to connect', async () => {
    expect((await call('GET', `${ARM}/dataConnectors?${V}`)).status).toBe(401);
    const noVersion = await call('GET', `${ARM}/dataConnectors`, reader);
    expect(noVersion.status).toBe(400);
    expect(noVersion.body.error.code).toBe('MissingApiVersionParameter');
    const asReader = await call('PUT', `${ARM}/dataConnectors/o365?${V}`, reader, office);
    expect(asReader.status).toBe(403);
  });

  it('validates the kinds it implements with messages a person can act on', async () => {
    const noTenant = await call('PUT', `${ARM}/dataConnectors/other?${V}`, contributor, {
      ...office,
      properties: { ...office.properties, tenantId: '99999999-4f50-4617-8899-aabbccddeeff' },
    });
    expect(noTenant.status).toBe(400);
    expect(noTenant.body.error.message).toMatch(/PUT \/api\/tenants/);
    const badType = await call('PUT', `${ARM}/dataConnectors/other?${V}`, contributor, {
      ...office,
      properties: {
        ...office.properties,
        dataTypes: { ...office.properties.dataTypes, yammer: { state: 'Enabled' } },
      },
    });
    expect(badType.status).toBe(400);
    expect(badType.body.error.message).toMatch(/yammer.*exchange, sharePoint, teams/);
    const missing = await call('PUT', `${ARM}/dataConnectors/other?${V}`, contributor, {
      kind: 'Office365',
      properties: { tenantId: TENANT, dataTypes: { exchange: { state: 'Enabled' } } },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/sharePoint\.state is required/);
  });

  it('works with @azure/arm-securityinsight unchanged: create, get, list, stale etag, delete', async () => {
    const credential: TokenCredential = {
      getToken: async (): Promise<AccessToken> => ({
        token: contributor,
        expiresOnTimestamp: Date.now() + 3600_000,
      }),
    };
    const client = new SecurityInsights(credential, 's1', {
      endpoint: server.url,
      credentialScopes: ['https://management.azure.com/.default'],
      tlsOptions: { ca: ca.toString() },
      apiVersion: '2025-09-01',
    } as ConstructorParameters<typeof SecurityInsights>[2]);
    const created = await client.dataConnectors.createOrUpdate('rg1', 'ws1', 'o365', {
      kind: 'Office365',
      tenantId: TENANT,
      dataTypes: {
        exchange: { state: 'Enabled' },
        sharePoint: { state: 'Enabled' },
        teams: { state: 'Disabled' },
      },
    } as Parameters<typeof client.dataConnectors.createOrUpdate>[3]);
    expect(created).toMatchObject({
      name: 'o365',
      kind: 'Office365',
      type: 'Microsoft.SecurityInsights/dataConnectors',
    });
    expect(created.id).toBe(`${ARM}/dataConnectors/o365`);
    const got = (await client.dataConnectors.get('rg1', 'ws1', 'o365')) as {
      tenantId?: string;
      etag?: string;
    };
    expect(got.tenantId).toBe(TENANT);
    const all = [];
    for await (const c of client.dataConnectors.list('rg1', 'ws1')) all.push(c.name);
    expect(all).toContain('o365');

    const stale = await call('PUT', `${ARM}/dataConnectors/o365?${V}`, contributor, {
      ...office,
      etag: '"not-the-current-one"',
    });
    expect(stale.status).toBe(409);
    const current = await call('PUT', `${ARM}/dataConnectors/o365?${V}`, contributor, {
      ...office,
      etag: got.etag,
    });
    expect(current.status).toBe(200);

    // A kind Vigil does not implement is stored as sent, as ARM does.
    const other = await call('PUT', `${ARM}/dataConnectors/asc?${V}`, contributor, {
      kind: 'AzureSecurityCenter',
      properties: { subscriptionId: 'sub', dataTypes: { alerts: { state: 'Enabled' } } },
    });
    expect(other.status).toBe(201);

    await client.dataConnectors.delete('rg1', 'ws1', 'asc');
    const gone = await call('GET', `${ARM}/dataConnectors/asc?${V}`, reader);
    expect(gone.status).toBe(404);
  });

  it("shows the gallery, the connector page, and the connected resource's status", async () => {
    const gallery = await call('GET', '/api/connectors', reader);
    expect(gallery.status).toBe(200);
    const kinds = gallery.body.value.map((c: { kind: string }) => c.kind);
    expect(kinds).toEqual([
      'Office365',
      'Dynamics365',
      'OfficePowerBI',
      'MicrosoftPurviewInformationProtection',
      'OfficeIRM',
    ]);
    expect(gallery.body.value[0]).toMatchObject({ status: 'Connected', connections: ['o365'] });
    expect(gallery.body.value[1]).toMatchObject({ status: 'NotConnected', lastDataReceived: null });
    const page = await call('GET', '/api/connectors/OfficeIRM', reader);
    expect(page.body.caseGeneration).toEqual({ filterProduct: 'Microsoft 365 Insider Risk Management' });
    expect(page.body.dataTypes[0].lastDataReceivedQuery).toMatch(/summarize Time = max\(TimeGenerated\)/);
    expect((await call('GET', '/api/connectors/Nope', reader)).status).toBe(404);
    const status = await call('GET', '/api/dataConnectors/o365/status', reader);
    expect(status.status).toBe(200);
    expect(status.body.dataTypes.map((d: { key: string; state: string }) => `${d.key}:${d.state}`)).toEqual([
      'exchange:Enabled',
      'sharePoint:Enabled',
      'teams:Disabled',
    ]);
    const prereq = await call('GET', `/api/connectors/Office365/prerequisites?tenantId=${TENANT}`, reader);
    expect(prereq.status).toBe(200);
    expect(prereq.body.value[0]).toMatchObject({ type: 'workspace', state: 'notMet' });
    // The identity platform is unreachable: the app permission row says why.
    expect(prereq.body.value[1]).toMatchObject({ type: 'appPermissions', state: 'notMet' });
    const check = await call('POST', `${ARM}/dataConnectorsCheckRequirements?${V}`, reader, {
      kind: 'Office365',
      properties: { tenantId: TENANT },
    });
    expect(check.body.properties).toMatchObject({ authorizationState: 'Invalid', licenseState: 'Valid' });
    expect(
      (await call('POST', '/api/dataConnectors/o365/backfill', reader, { from: '2026-01-01T00:00:00Z' }))
        .status,
    ).toBe(403);
    const bad = await call('POST', '/api/dataConnectors/o365/backfill', contributor, { from: 'yesterday' });
    expect(bad.status).toBe(400);
  });

  it('serves Prometheus metrics and never logs the secret', async () => {
    const metrics = await call('GET', '/metrics', reader);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('vigil_connector_requests_total');
    expect(logChunks.join('')).not.toContain(SECRET);
  });
});

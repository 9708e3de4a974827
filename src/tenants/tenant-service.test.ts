import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlDb, openControlDb } from '../storage/control/database.js';
import { TenantRepository } from '../storage/control/tenants.js';
import { SecretBox } from './secret-box.js';
import { TenantService } from './tenant-service.js';

const SECRET = 'Sup3r~Secret.Value_that-must-never-leak';
const TENANT = '11111111-2222-3333-4444-555555555555';
let dir: string;
let db: ControlDb;
let service: TenantService;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tenants-'));
  db = await openControlDb(path.join(dir, 'control.db'));
  service = new TenantService(new TenantRepository(db), SecretBox.open(dir, {}));
});

afterAll(async () => {
  await db?.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('SecretBox', () => {
  it('round-trips, binds a ciphertext to its record, and refuses another key', () => {
    const box = SecretBox.open(dir, {});
    const sealed = box.seal('hello', 'tenant:a');
    expect(sealed).not.toContain('hello');
    expect(box.open(sealed, 'tenant:a')).toBe('hello');
    expect(() => box.open(sealed, 'tenant:b')).toThrow(/cannot be decrypted/);
    const other = SecretBox.open(dir, { VIGIL_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') });
    expect(() => other.open(sealed, 'tenant:a')).toThrow(/cannot be decrypted/);
    expect(fs.statSync(path.join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
  });

  it('rejects a key of the wrong size, naming its source but not its value', () => {
    expect(() => SecretBox.open(dir, { VIGIL_SECRET_KEY: 'c2hvcnQ=' })).toThrow(
      /VIGIL_SECRET_KEY must hold a 32-byte key/,
    );
  });
});

describe('TenantService', () => {
  it('stores the secret encrypted and never shows it', async () => {
    const { view, created } = await service.put('contoso', {
      tenantId: TENANT,
      clientId: 'app-1',
      credentials: { clientSecret: SECRET },
    });
    expect(created).toBe(true);
    expect(JSON.stringify(view)).not.toContain(SECRET);
    expect(view).toMatchObject({ cloud: 'public', credentialKind: 'clientSecret' });
    expect(view.endpoints.managementApiBase).toBe('https://manage.office.com');
    const raw = JSON.stringify(await db.selectFrom('tenants').selectAll().execute());
    expect(raw).not.toContain(SECRET);
    expect(JSON.stringify(await service.list())).not.toContain(SECRET);
  });

  it('uses the sovereign cloud hosts, and custom endpoints only with cloud custom', async () => {
    const { view } = await service.put('gov', {
      tenantId: TENANT.replace('1111', '2222'),
      clientId: 'app-2',
      cloud: 'gccHigh',
      credentials: { clientSecret: 'x' },
    });
    expect(view.endpoints).toMatchObject({
      authorityHost: 'https://login.microsoftonline.us',
      managementApiBase: 'https://manage.office365.us',
      graphBase: 'https://graph.microsoft.us',
    });
    await expect(
      service.put('bad', {
        tenantId: TENANT,
        clientId: 'a',
        cloud: 'public',
        endpoints: { authorityHost: 'https://x' },
        credentials: { clientSecret: 'x' },
      }),
    ).rejects.toMatchObject({ code: 'InvalidTenant' });
    await expect(
      service.put('bad', {
        tenantId: TENANT,
        clientId: 'a',
        cloud: 'custom',
        credentials: { clientSecret: 'x' },
      }),
    ).rejects.toMatchObject({ code: 'InvalidTenant' });
    const custom = await service.put('lab', {
      tenantId: TENANT.replace('1111', '3333'),
      clientId: 'a',
      cloud: 'custom',
      endpoints: {
        authorityHost: 'https://127.0.0.1:9999/',
        managementApiBase: 'https://127.0.0.1:9999',
        graphBase: 'https://127.0.0.1:9999',
        caCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      },
      credentials: { clientSecret: 'x' },
    });
    expect(custom.view.endpoints).toMatchObject({
      authorityHost: 'https://127.0.0.1:9999',
      managementResource: 'https://127.0.0.1:9999',
      caCertificate: 'configured',
    });
  });

  it('refuses a stale etag and finds a connection by tenant id', async () => {
    const before = await service.get('contoso');
    await service.put(
      'contoso',
      { tenantId: TENANT, clientId: 'app-1', credentials: { clientSecret: 'new' } },
      before.etag,
    );
    await expect(
      service.put(
        'contoso',
        { tenantId: TENANT, clientId: 'app-1', credentials: { clientSecret: 'x' } },
        before.etag,
      ),
    ).rejects.toMatchObject({ code: 'EtagMismatch' });
    const conn = await service.connectionForTenantId(TENANT.toUpperCase());
    expect(conn.name).toBe('contoso');
    await expect(service.connectionForTenantId('99999999-2222-3333-4444-555555555555')).rejects.toMatchObject(
      {
        code: 'TenantNotConnected',
      },
    );
  });

  it('reports an unreachable identity platform without the secret', async () => {
    await service.put('unreachable', {
      tenantId: TENANT.replace('1111', '4444'),
      clientId: 'a',
      cloud: 'custom',
      endpoints: {
        authorityHost: 'https://127.0.0.1:1',
        managementApiBase: 'https://127.0.0.1:1',
        graphBase: 'https://127.0.0.1:1',
      },
      credentials: { clientSecret: SECRET },
    });
    const conn = await service.connectionByName('unreachable');
    const err = await conn.getToken('https://127.0.0.1:1').catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'TenantError', code: 'TokenRequestFailed' });
    expect(String((err as Error).message)).not.toContain(SECRET);
  });
});

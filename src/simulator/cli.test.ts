import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSimulatorCommand } from '../cli/commands/simulator.js';
import { DEMO_CLIENT_SECRET, DEMO_TENANT_ID } from './index.js';
import { form, simFetch } from './test-client.js';

describe('vigil simulator', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-sim-cli-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints where it runs and a 0600 credentials file, never the secret, after generating the history', async () => {
    let printed = '';
    const { sim, info } = await runSimulatorCommand(
      { port: 0, host: '127.0.0.1', data: dir, seed: 1, records: 300, rate: 0, historyHours: 23, json: true },
      (t) => {
        printed += t;
      },
      () => undefined,
    );
    try {
      expect(printed).not.toContain(DEMO_CLIENT_SECRET);
      expect(JSON.parse(printed)).toEqual(info);
      expect(info.caFile).toBe(path.join(dir, 'tls', 'ca.pem'));
      expect(fs.statSync(info.credentialsFile).mode & 0o777).toBe(0o600);
      const creds = JSON.parse(fs.readFileSync(info.credentialsFile, 'utf8')) as Record<string, string>;
      expect(creds).toMatchObject({
        tenantId: DEMO_TENANT_ID,
        clientSecret: DEMO_CLIENT_SECRET,
        authorityHost: info.url,
      });
      // The history is there, subscribed, and served from the blob directory.
      const ca = fs.readFileSync(info.caFile, 'utf8');
      const token = (
        await simFetch(`${info.url}/${DEMO_TENANT_ID}/oauth2/v2.0/token`, {
          method: 'POST',
          ca,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form({
            grant_type: 'client_credentials',
            client_id: creds.clientId!,
            client_secret: creds.clientSecret!,
            scope: `${info.url}/.default`,
          }),
        })
      ).json<{ access_token: string }>().access_token;
      const list = await simFetch(
        `${info.url}/api/v1.0/${DEMO_TENANT_ID}/activity/feed/subscriptions/content?contentType=Audit.Exchange&PublisherIdentifier=${DEMO_TENANT_ID}`,
        { ca, headers: { authorization: `Bearer ${token}` } },
      );
      const items = list.json<{ contentUri: string }[]>();
      expect(items.length).toBeGreaterThan(0);
      const blob = await simFetch(`${items[0]!.contentUri}?PublisherIdentifier=${DEMO_TENANT_ID}`, {
        ca,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(blob.json<unknown[]>().length).toBeGreaterThan(0);
      expect(fs.readdirSync(path.join(dir, 'simulator', 'blobs', DEMO_TENANT_ID)).length).toBeGreaterThan(0);
    } finally {
      await sim.close();
    }
  });
});

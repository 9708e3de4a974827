/**
 * `vigil serve --demo` (the built CLI, as `npm start` runs it): the in-process simulated tenant and the five
 * Office-fed connectors get rows into OfficeActivity and SecurityAlert within about 30 seconds, readable
 * through the Query API.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  type CliProcess,
  httpsOk,
  killAllCli,
  queryScalar,
  startCli,
  stopCli,
} from './harness.js';

let dir: string | undefined;
let server: CliProcess | undefined;

afterAll(async () => {
  await stopCli(server, 'SIGTERM', 5000);
  await killAllCli();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('vigil serve --demo', () => {
  it('gets rows into OfficeActivity and SecurityAlert within 30 s', { timeout: 60_000 }, async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-demo-'));
    const dataDir = path.join(dir, 'data');
    const started = Date.now();
    server = startCli(['serve', '--demo', '--port', '0', '--data-dir', dataDir, '--poll-interval', '0.5']);
    const [, url] = await server.waitFor(/Vigil is running at (\S+)/, 30_000);
    const token = (await server.waitFor(ADMIN_TOKEN, 5000))[1]!;
    await server.waitFor(/Demo: a simulated Microsoft 365 tenant/, 30_000);
    const ca = fs.readFileSync(path.join(dataDir, 'tls', 'ca.pem'), 'utf8');
    const { workspaceId } = JSON.parse(await httpsOk(`${url}/health`, { ca })) as { workspaceId: string };

    const rows = { OfficeActivity: 0, SecurityAlert: 0 };
    while (Date.now() - started < 30_000) {
      for (const t of Object.keys(rows) as (keyof typeof rows)[]) {
        rows[t] = Number(await queryScalar(url!, ca, token, workspaceId, `${t} | count`));
      }
      if (rows.OfficeActivity > 0 && rows.SecurityAlert > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    console.log(
      `vigil serve --demo: ${JSON.stringify(rows)} after ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(rows.OfficeActivity, server.output().slice(-4000)).toBeGreaterThan(0);
    expect(rows.SecurityAlert, server.output().slice(-4000)).toBeGreaterThan(0);

    await stopCli(server, 'SIGTERM');
    expect((await server.exit).code).toBe(0);
  });
});

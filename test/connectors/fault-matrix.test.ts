import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fault, FaultEndpoint } from '../../src/simulator/index.js';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../../src/simulator/index.js';
import { CONNECT_ALL, compare, type Harness, isExact, startHarness, waitFor } from './harness.js';

let h: Harness;
let tenantId: string;

beforeAll(async () => {
  h = await startHarness();
  tenantId = h.sim.tenants[0]!.tenantId;
  const now = Date.now();
  await h.sim.activity.generate({
    tenantId,
    count: 600,
    from: now - 2 * 3600_000,
    to: now - 60_000,
    subscribed: true,
  });
  for (const [name, body] of Object.entries(CONNECT_ALL)) await h.services.connectors.put(name, body);
  const first = await waitFor(() => compare(h.ws, h.sim), isExact, 60_000, 200);
  expect(isExact(first)).toBe(true);
}, 90_000);

/** The same tenant connection again: the credential is rebuilt, as after a secret rotation. */
async function rotatedSecret() {
  const current = await h.services.tenants.get('simulated');
  const { caCertificate: _ca, ...endpoints } = current.endpoints;
  const ca = (await h.services.tenants.connectionByName('simulated')).endpoints.caCertificate;
  return {
    tenantId,
    clientId: DEMO_CLIENT_ID,
    cloud: 'custom' as const,
    endpoints: { ...endpoints, ...(ca ? { caCertificate: ca } : {}) },
    credentials: { clientSecret: DEMO_CLIENT_SECRET },
  };
}

afterAll(async () => {
  await h?.close();
});

/**
 * `lasting`: on every matching request until a poll failed (a Failure row), then switched off — "while they
 * lasted". Otherwise the fault fires on the next requests only and the poll's own retries absorb it.
 */
type Case = [FaultEndpoint, Fault, { lasting: boolean }];
const cases: Case[] = [];
const GENERAL = { contentType: 'Audit.General' };
for (const endpoint of ['token', 'subscriptions.list', 'content', 'blob'] as const) {
  const scope = endpoint === 'content' || endpoint === 'blob' ? GENERAL : {};
  cases.push([endpoint, { kind: 'serverError', ...scope }, { lasting: true }]);
  // MSAL remembers a failed token request (5xx, 429) and refuses to repeat it for a minute: a token fault
  // always fails the poll, so there is no short token case.
  if (endpoint !== 'token') {
    cases.push([endpoint, { kind: 'serverError', status: 503, count: 2, ...scope }, { lasting: false }]);
  }
  cases.push([endpoint, { kind: 'http429', retryAfterSeconds: 0, ...scope }, { lasting: true }]);
  cases.push([endpoint, { kind: 'timeout', holdMs: 2500, ...scope }, { lasting: true }]);
  cases.push([endpoint, { kind: 'truncated', ...scope }, { lasting: true }]);
}
for (const endpoint of ['subscriptions.list', 'content', 'blob'] as const) {
  const scope = endpoint === 'subscriptions.list' ? {} : GENERAL;
  cases.push([endpoint, { kind: 'throttle', ...scope }, { lasting: true }]);
  cases.push([endpoint, { kind: 'throttle', status: 429, count: 2, ...scope }, { lasting: false }]);
}
cases.push(['blob', { kind: 'expired', count: 2, ...GENERAL }, { lasting: false }]);
cases.push(['blob', { kind: 'duplicate', probability: 0.5 }, { lasting: false }]);
cases.push(['blob', { kind: 'stringNumbers', probability: 1 }, { lasting: false }]);

function chTime(iso: string): string {
  return iso.replace('T', ' ').replace('Z', '');
}

describe('fault matrix: each fault on each endpoint, then exactly the distinct records', () => {
  it.each(cases)(
    '%s %j',
    async (endpoint, fault, { lasting }) => {
      const since = new Date().toISOString();
      const now = Date.now();
      // New content in every content type, so every feed meets the fault.
      await h.sim.activity.generate({
        tenantId,
        count: 200,
        from: now - 10 * 60_000,
        to: now - 500,
        subscribed: true,
      });
      h.sim.faults.set(endpoint, fault);
      if (endpoint === 'token' || endpoint === 'subscriptions.list') {
        // Tokens are cached for an hour and subscriptions checked when a feed starts: a rotated secret makes
        // the runtime ask for both again.
        await h.services.tenants.put('simulated', await rotatedSecret());
        h.services.runtime.tenantChanged(tenantId);
        await h.services.runtime.reconcile();
      }
      if (lasting) {
        const failures = await waitFor(
          () =>
            h.ws.store.query<{ n: string }>(
              `SELECT count() AS n FROM vigil.SentinelHealth WHERE Status = 'Failure' AND TimeGenerated >= '${chTime(since)}'`,
            ),
          (r) => Number(r[0]!.n) > 0,
          30_000,
        );
        expect(Number(failures[0]!.n), 'a Failure row while the fault lasted').toBeGreaterThan(0);
        h.sim.faults.clear();
        if (endpoint === 'token') {
          // MSAL's own memory of the failure would hold for a minute; a fixed secret starts afresh.
          await h.services.tenants.put('simulated', await rotatedSecret());
          h.services.runtime.tenantChanged(tenantId);
          await h.services.runtime.reconcile();
        }
      }
      const result = await waitFor(() => compare(h.ws, h.sim), isExact, 60_000, 200);
      h.sim.faults.clear();
      expect(result.filter((r) => r.missing.length || r.extra.length || r.twice.length)).toEqual([]);
      // Recovered: every data type's current status is Success again.
      const states = await waitFor(
        async () => {
          const out: string[] = [];
          for (const name of Object.keys(CONNECT_ALL)) {
            for (const d of await h.services.runtime.status(name))
              out.push(`${name}/${d.dataType}:${d.health.status}`);
          }
          return out;
        },
        (s) => s.every((x) => x.endsWith(':Success')),
        30_000,
      );
      expect(states.filter((s) => !s.endsWith(':Success'))).toEqual([]);
    },
    120_000,
  );

  it('reported expired content as data loss in SentinelHealth, with the content id', async () => {
    const rows = await h.ws.store.query<{ Reason: string; ContentId: string }>(
      "SELECT Reason, JSONExtractString(ExtendedProperties, 'ContentId') AS ContentId FROM vigil.SentinelHealth WHERE Reason = 'ContentExpired'",
    );
    const expired = h.sim.truth.expiredBlobs().map((b) => b.contentId);
    expect(expired.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.ContentId))).toEqual(new Set(expired));
  });
});

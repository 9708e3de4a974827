import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCast } from '../../src/simulator/generators/cast.js';
import { tenantDomain } from '../../src/simulator/tenants.js';
import { CONNECT_ALL, compare, type Harness, healthRows, isExact, startHarness, waitFor } from './harness.js';

// chdb: one workspace per test file (process).
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  const now = Date.now();
  await h.sim.activity.generate({
    tenantId: h.sim.tenants[0]!.tenantId,
    count: 3000,
    from: now - 3 * 3600_000,
    to: now - 60_000,
    subscribed: true,
    mix: {
      'Audit.Exchange': 0.25,
      'Audit.SharePoint': 0.25,
      'Audit.AzureActiveDirectory': 0.1,
      'Audit.General': 0.4,
    },
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('the five Office-fed connectors against the simulated tenant', () => {
  it('connecting them lands every distinct record once, in the right table', async () => {
    for (const [name, body] of Object.entries(CONNECT_ALL)) {
      const { created } = await h.services.connectors.put(name, body);
      expect(created).toBe(true);
    }
    const result = await waitFor(() => compare(h.ws, h.sim), isExact, 60_000, 250);
    expect(result).toEqual(result.map((r) => ({ ...r, missing: [], extra: [], twice: [] })));
    for (const r of result) expect(r.expected, r.table).toBeGreaterThan(0);
    // Connected one after another, they shared the first listing: each blob was fetched once, not once for
    // Teams and again for the four connectors that joined Audit.General a moment later.
    expect(fetchedTwice(h.sim.requests())).toEqual([]);
  }, 90_000);

  it('maps columns as tables.md says', async () => {
    const office = await h.ws.store.query<{ RecordType: string; OfficeWorkload: string; n: string }>(
      'SELECT RecordType, OfficeWorkload, count() AS n FROM vigil.OfficeActivity GROUP BY RecordType, OfficeWorkload ORDER BY n DESC',
    );
    const names = office.map((r) => r.RecordType);
    expect(names).toContain('SharePointFileOperation');
    expect(names).toContain('ExchangeItem');
    expect(office.map((r) => r.OfficeWorkload)).toEqual(
      expect.arrayContaining(['Exchange', 'SharePoint', 'MicrosoftTeams']),
    );
    expect(names.every((n) => !/^\d+$/.test(n))).toBe(true);
    // The cast's accented display names arrive as they were sent (blobs holding one are decoded as UTF-8,
    // the others as ASCII).
    const tenant = h.sim.tenants[0]!;
    const cast = buildCast(7, tenant.tenantId, tenantDomain(tenant));
    const displayNames = new Set(cast.users.map((u) => u.displayName));
    const resolved = await h.ws.store.query<{ name: string }>(
      "SELECT DISTINCT ModifiedObjectResolvedName AS name FROM vigil.OfficeActivity WHERE ModifiedObjectResolvedName != ''",
    );
    expect(resolved.length).toBeGreaterThan(0);
    for (const r of resolved) expect(displayNames).toContain(r.name);
    expect(resolved.some((r) => /[^\x00-\x7f]/.test(r.name))).toBe(true);

    const [crm] = await h.ws.store.query<{ n: string; entities: string }>(
      "SELECT count() AS n, uniqExact(EntityName) AS entities FROM vigil.Dynamics365Activity WHERE OfficeWorkload = 'CRM'",
    );
    expect(Number(crm!.n)).toBeGreaterThan(0);
    expect(Number(crm!.entities)).toBeGreaterThan(1);

    const [pbi] = await h.ws.store.query<{ n: string; blank: string }>(
      "SELECT count() AS n, countIf(Activity = '' OR ActorName = '') AS blank FROM vigil.PowerBIActivity",
    );
    expect(Number(pbi!.n)).toBeGreaterThan(0);
    expect(Number(pbi!.blank)).toBe(0);

    const alerts = await h.ws.store.query<{
      ProductName: string;
      AlertSeverity: string;
      Status: string;
      SystemAlertId: string;
    }>(
      'SELECT ProductName, AlertSeverity, Status, toString(SystemAlertId) AS SystemAlertId FROM vigil.SecurityAlert',
    );
    expect(alerts.length).toBeGreaterThan(0);
    expect(new Set(alerts.map((a) => a.ProductName))).toEqual(
      new Set(['Microsoft 365 Insider Risk Management']),
    );
    expect(alerts.every((a) => ['Low', 'Medium', 'High', 'Informational'].includes(a.AlertSeverity))).toBe(
      true,
    );
    expect(alerts.every((a) => ['New', 'InProgress', 'Resolved', 'Dismissed'].includes(a.Status))).toBe(true);
    // Versions of one alert share its SystemAlertId.
    expect(new Set(alerts.map((a) => a.SystemAlertId)).size).toBeLessThanOrEqual(alerts.length);
  });

  it('fetches each new blob once although five connectors read Audit.General', async () => {
    // Content made available while all five are connected (a connector connected later must fetch older
    // blobs again for itself: that is not sharing's job).
    const before = h.sim.requests().length;
    const now = Date.now();
    await h.sim.activity.generate({
      tenantId: h.sim.tenants[0]!.tenantId,
      count: 1000,
      from: now - 20 * 60_000,
      to: now - 1000,
      subscribed: true,
      contentTypes: ['Audit.General'],
    });
    const result = await waitFor(() => compare(h.ws, h.sim), isExact, 60_000, 250);
    expect(isExact(result)).toBe(true);
    const requests = h.sim.requests().slice(before);
    expect(requests.filter((r) => r.endpoint === 'blob' && r.status === 200).length).toBeGreaterThan(5);
    expect(fetchedTwice(requests)).toEqual([]);
    // Every call carried PublisherIdentifier (its own throttling pool).
    const management = new Set(['subscriptions.start', 'subscriptions.list', 'content', 'blob']);
    const calls = h.sim.requests().filter((r) => management.has(r.endpoint));
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((r) => !r.publisherId)).toEqual([]);
  }, 90_000);

  it('reports Success per data type in SentinelHealth and the status API', async () => {
    const rows = await healthRows(h.ws);
    const success = new Set(rows.filter((r) => r.Status === 'Success').map((r) => r.SentinelResourceName));
    expect(success).toEqual(new Set(Object.keys(CONNECT_ALL)));
    const status = (await h.services.connectors.status('office365')) as {
      dataTypes: { key: string; lastDataReceived: string | null; health: { status: string } }[];
    };
    expect(status.dataTypes.map((d) => [d.key, d.health.status])).toEqual([
      ['exchange', 'Success'],
      ['sharePoint', 'Success'],
      ['teams', 'Success'],
    ]);
    expect(status.dataTypes.every((d) => d.lastDataReceived !== null)).toBe(true);
  });

  it('evaluates prerequisites live against the tenant', async () => {
    const tenantId = h.sim.tenants[0]!.tenantId;
    const irm = await h.services.connectors.prerequisites('OfficeIRM', tenantId, 'Reader');
    const byType = Object.fromEntries(
      irm.map((p) => [p.type === 'custom' ? p.description.slice(0, 12) : p.type, p.state]),
    );
    expect(byType.workspace).toBe('notMet');
    expect(byType.appPermissions).toBe('met');
    expect(byType.license).toBe('met');
    const contributor = await h.services.connectors.prerequisites('Office365', tenantId, 'Contributor');
    expect(contributor.find((p) => p.type === 'workspace')?.state).toBe('met');
    expect(contributor.find((p) => p.type === 'custom')?.state).toBe('met');
  });
});

/** Blobs downloaded more than once, with their download counts. */
function fetchedTwice(requests: ReturnType<Harness['sim']['requests']>): [string, number][] {
  const perBlob = new Map<string, number>();
  for (const r of requests) {
    if (r.endpoint !== 'blob' || r.status !== 200) continue;
    const blob = new URL(r.url, 'https://x').pathname;
    perBlob.set(blob, (perBlob.get(blob) ?? 0) + 1);
  }
  return [...perBlob.entries()].filter(([, n]) => n > 1);
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLIENT_SECRET, DEMO_TENANT_ID } from '../../src/simulator/index.js';
import { CONNECT_ALL, compare, type Harness, healthRows, isExact, startHarness, waitFor } from './harness.js';

// No history is generated as subscribed: the runtime must start the subscriptions itself.
let h: Harness;

beforeAll(async () => {
  // A one-day first window, so that the backfill test has something older to fetch.
  h = await startHarness({
    // Failure summaries every second instead of every hour.
    summaryIntervalMs: 1000,
    requestTimeoutMs: 5000,
    stallIntervals: 4,
    pollIntervalMs: 300,
    initialLookbackMs: 24 * 3600_000,
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

function listings(contentType: string) {
  return h.sim
    .requests()
    .filter((r) => r.endpoint === 'content' && r.contentType === contentType)
    .map((r) => {
      const u = new URL(r.url, 'https://x');
      return {
        status: r.status,
        code: r.code,
        start: u.searchParams.get('startTime'),
        nextPage: u.searchParams.has('nextPage'),
      };
    });
}

describe('connector runtime behaviour against the simulated tenant', () => {
  it('starts the missing subscriptions itself, then collects what arrives', async () => {
    await h.services.connectors.put('office365', CONNECT_ALL.office365!);
    const started = await waitFor(
      async () => h.sim.requests().filter((r) => r.endpoint === 'subscriptions.start' && r.status === 200),
      (r) => r.length >= 3,
      20_000,
    );
    expect(new Set(started.map((r) => r.contentType))).toEqual(
      new Set(['Audit.Exchange', 'Audit.SharePoint', 'Audit.General']),
    );
    const now = Date.now();
    // Content made available after the subscriptions started (not backdated: `subscribed` is not set).
    await h.sim.activity.generate({
      tenantId: DEMO_TENANT_ID,
      count: 300,
      from: now + 100,
      to: now + 2000,
      contentTypes: ['Audit.Exchange', 'Audit.SharePoint'],
    });
    const result = await waitFor(() => compare(h.ws, h.sim), isExact, 30_000, 200);
    expect(result.find((r) => r.table === 'OfficeActivity')).toMatchObject({
      missing: [],
      extra: [],
      twice: [],
    });
    expect(result.find((r) => r.table === 'OfficeActivity')!.expected).toBeGreaterThan(0);
  }, 60_000);

  it('treats "subscription already enabled" (AF20024) as success and restarts a disabled one (AF20023)', async () => {
    h.sim.disableSubscription(DEMO_TENANT_ID, 'Audit.Exchange');
    const before = h.sim.requests().length;
    const now = Date.now();
    await h.sim.activity.generate({
      tenantId: DEMO_TENANT_ID,
      count: 100,
      from: now + 100,
      to: now + 1000,
      contentTypes: ['Audit.Exchange'],
    });
    // Force a fresh feed: it checks (lists) the subscriptions and starts what is not enabled.
    h.services.runtime.tenantChanged(DEMO_TENANT_ID);
    await h.services.runtime.reconcile();
    const starts = await waitFor(
      async () =>
        h.sim
          .requests()
          .slice(before)
          .filter((r) => r.endpoint === 'subscriptions.start'),
      (r) => r.some((x) => x.contentType === 'Audit.Exchange' && x.status === 200),
      20_000,
    );
    expect(starts.some((x) => x.contentType === 'Audit.Exchange' && x.status === 200)).toBe(true);
    const status = await waitFor(
      () => h.services.runtime.status('office365'),
      (s) => s.every((d) => d.health.status === 'Success'),
      20_000,
    );
    expect(status.map((s) => s.health.status)).toEqual(['Success', 'Success', 'Success']);
  }, 60_000);

  it('never moves past a throttled window: the next listing starts at or before it', async () => {
    const before = listings('Audit.SharePoint').length;
    h.sim.faults.set('content', { kind: 'throttle', contentType: 'Audit.SharePoint' });
    const now = Date.now();
    await h.sim.activity.generate({
      tenantId: DEMO_TENANT_ID,
      count: 200,
      from: now + 100,
      to: now + 1000,
      contentTypes: ['Audit.SharePoint'],
    });
    await waitFor(
      async () =>
        listings('Audit.SharePoint')
          .slice(before)
          .filter((l) => l.code === 'AF429'),
      (t) => t.length >= 4,
      20_000,
    );
    h.sim.faults.clear();
    const result = await waitFor(() => compare(h.ws, h.sim), isExact, 30_000, 200);
    expect(isExact(result)).toBe(true);
    const after = listings('Audit.SharePoint')
      .slice(before)
      .filter((l) => !l.nextPage);
    const firstThrottled = after.findIndex((l) => l.code === 'AF429');
    const throttledStart = after[firstThrottled]!.start!;
    // Every first-page listing after the throttling began starts no later than the throttled one.
    for (const l of after.slice(firstThrottled))
      expect(l.start! <= throttledStart || l.status === 200).toBe(true);
    const firstOk = after.slice(firstThrottled).find((l) => l.status === 200)!;
    expect(firstOk.start! <= throttledStart).toBe(true);
    const rows = await healthRows(h.ws, 'office365');
    expect(rows.some((r) => r.Status === 'Failure' && r.Reason === 'Throttled')).toBe(true);
  }, 60_000);

  it('backfills content older than the connection from up to 7 days back', async () => {
    const now = Date.now();
    // Content made available three days ago (subscribed then): before this connector's first window.
    await h.sim.activity.generate({
      tenantId: DEMO_TENANT_ID,
      count: 150,
      from: now - 3 * 24 * 3600_000,
      to: now - 3 * 24 * 3600_000 + 3600_000,
      subscribed: true,
      contentTypes: ['Audit.Exchange'],
    });
    await new Promise((r) => setTimeout(r, 1500));
    const missing = await compare(h.ws, h.sim);
    expect(missing.find((r) => r.table === 'OfficeActivity')!.missing.length).toBeGreaterThan(0);
    const { from } = await h.services.connectors.backfill(
      'office365',
      new Date(now - 8 * 24 * 3600_000).toISOString(),
    );
    // Clamped to what the API still lists (7 days).
    expect(Date.parse(from)).toBeGreaterThan(now - 7 * 24 * 3600_000);
    const result = await waitFor(() => compare(h.ws, h.sim), isExact, 30_000, 200);
    expect(result.find((r) => r.table === 'OfficeActivity')).toMatchObject({
      missing: [],
      extra: [],
      twice: [],
    });
  }, 60_000);

  it('shows a wrong secret on the connector as a config failure with its AADSTS code, and recovers when fixed', async () => {
    const good = await h.services.tenants.connectionByName('simulated');
    const put = (secret: string) =>
      h.services.tenants.put('simulated', {
        tenantId: DEMO_TENANT_ID,
        clientId: good.clientId,
        cloud: 'custom',
        endpoints: good.endpoints,
        credentials: { clientSecret: secret },
      });
    await put('the-secret-id-instead-of-its-value');
    h.services.runtime.tenantChanged(DEMO_TENANT_ID);
    await h.services.runtime.reconcile();
    const failed = await waitFor(
      () => h.services.runtime.status('office365'),
      (s) => s.every((d) => d.health.lastFailure?.reason === 'AADSTS7000215'),
      20_000,
    );
    expect(failed[0]!.health).toMatchObject({
      status: 'Failure',
      lastFailure: { kind: 'config', reason: 'AADSTS7000215' },
    });
    expect(failed[0]!.health.lastFailure!.hint).toMatch(/secret value/);
    expect(JSON.stringify(failed)).not.toContain('the-secret-id-instead-of-its-value');
    await put(DEMO_CLIENT_SECRET);
    h.services.runtime.tenantChanged(DEMO_TENANT_ID);
    await h.services.runtime.reconcile();
    const recovered = await waitFor(
      () => h.services.runtime.status('office365'),
      (s) => s.every((d) => d.health.status === 'Success'),
      20_000,
    );
    expect(recovered.map((d) => d.health.status)).toEqual(['Success', 'Success', 'Success']);
  }, 60_000);

  it('reports a stalled data type when no poll succeeds for several intervals', async () => {
    // Requests hang for longer than the stall limit (4 × 300 ms) before they time out.
    h.sim.faults.set('content', { kind: 'timeout', holdMs: 8000, contentType: 'Audit.Exchange' });
    const rows = await waitFor(
      () => healthRows(h.ws, 'office365'),
      (r) => r.some((x) => x.Reason === 'Stalled'),
      20_000,
    );
    h.sim.faults.clear();
    expect(rows.some((x) => x.Status === 'Failure' && x.Reason === 'Stalled')).toBe(true);
  }, 40_000);

  it('writes a periodic failure summary with the status codes and reasons of the failures', async () => {
    const rows = await waitFor(
      () =>
        h.ws.store.query<{ Status: string; Summary: string }>(
          "SELECT Status, JSONExtractRaw(ExtendedProperties, 'FailureSummary') AS Summary FROM vigil.SentinelHealth WHERE OperationName = 'Data fetch failure summary'",
        ),
      (r) => r.some((x) => x.Summary.includes('Throttled')),
      10_000,
    );
    expect(rows.every((r) => r.Status === 'Informational')).toBe(true);
    const all = rows.flatMap(
      (r) => JSON.parse(r.Summary) as { StatusCode: number; StatusMessage: string; Count: number }[],
    );
    expect(all.find((f) => f.StatusMessage === 'Throttled')).toMatchObject({ StatusCode: 403 });
    expect(all.every((f) => f.Count >= 1)).toBe(true);
  });
});

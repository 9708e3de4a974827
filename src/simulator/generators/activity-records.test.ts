import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Blob, ContentStore } from '../content.js';
import { DEMO_TENANT_ID } from '../tenants.js';
import { type ContentType, IRM_PRODUCT } from './activity-records.js';
import { buildCast } from './cast.js';

const FROM = Date.parse('2026-03-01T00:00:00Z');
const TO = Date.parse('2026-03-01T12:00:00Z');
const dirs: string[] = [];

function store(seed: number, blobDir?: string): ContentStore {
  const cast = buildCast(seed, DEMO_TENANT_ID, 'contoso.onmicrosoft.com');
  return new ContentStore(
    seed,
    () => cast,
    () => 'emea0036',
    blobDir,
    () => TO + 3_600_000,
  );
}

/** Every blob of a store, in listing order per content type (subscribed by generate). */
function blobsOf(s: ContentStore, ct: ContentType): Blob[] {
  return s.list(DEMO_TENANT_ID, ct, FROM - 1, TO + 1, undefined, 1_000_000).items;
}

type Rec = Record<string, unknown>;

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('activity generator', () => {
  it('is deterministic by seed: same seed, same blobs and bodies; another seed, other records', async () => {
    const a = store(3);
    const b = store(3);
    const c = store(4);
    for (const s of [a, b, c])
      await s.generate({ tenantId: DEMO_TENANT_ID, count: 500, from: FROM, to: TO, subscribed: true });
    const ba = blobsOf(a, 'Audit.Exchange');
    const bb = blobsOf(b, 'Audit.Exchange');
    expect(ba.map((x) => x.contentId)).toEqual(bb.map((x) => x.contentId));
    expect(await a.body(ba[0]!)).toBe(await b.body(bb[0]!));
    const idsA = [...a.truth(DEMO_TENANT_ID)].map((r) => r.id);
    const idsC = [...c.truth(DEMO_TENANT_ID)].map((r) => r.id);
    expect(idsA).toHaveLength(500);
    expect(idsA.filter((id) => idsC.includes(id))).toEqual([]);
  });

  it('splits the count across content types exactly and produces the documented RecordType mix', async () => {
    const s = store(11);
    const res = await s.generate({
      tenantId: DEMO_TENANT_ID,
      count: 6001,
      from: FROM,
      to: TO,
      contentTypes: ['Audit.Exchange', 'Audit.SharePoint', 'Audit.AzureActiveDirectory', 'Audit.General'],
      mix: { 'Audit.General': 3 },
      subscribed: true,
    });
    const counts = Object.values(res.byContentType).reduce((n, c) => n + c!.records, 0);
    expect(counts).toBe(6001);
    // 6001 × 3/6 = 3000.5: the largest remainder takes the spare record.
    expect(res.byContentType['Audit.General']!.records).toBe(3001);
    const expected: Record<string, number[]> = {
      'Audit.Exchange': [1, 2, 50],
      'Audit.SharePoint': [4, 6, 7, 14],
      'Audit.AzureActiveDirectory': [8, 15],
      'Audit.General': [20, 21, 25, 40, 43, 83, 93, 94, 95, 96],
    };
    const general: Rec[] = [];
    for (const [ct, types] of Object.entries(expected)) {
      const seen = new Set<number>();
      for (const blob of blobsOf(s, ct as ContentType))
        for (const r of JSON.parse(await s.body(blob)) as Rec[]) {
          seen.add(r.RecordType as number);
          expect(r.CreationTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
          expect(Date.parse(`${r.CreationTime}Z`)).toBeLessThanOrEqual(blob.created);
          expect(r.OrganizationId).toBe(DEMO_TENANT_ID);
          if (ct === 'Audit.General') general.push(r);
        }
      expect(
        [...seen].sort((x, y) => x - y),
        ct,
      ).toEqual(types);
    }
    const crm = general.find((r) => r.RecordType === 21)!;
    expect(crm).toMatchObject({ Workload: 'CRM' });
    for (const k of ['CrmOrganizationUniqueName', 'EntityName', 'Message', 'Query', 'InstanceUrl'])
      expect(crm).toHaveProperty(k);
    const pbi = general.find((r) => r.RecordType === 20)!;
    for (const k of ['Activity', 'WorkSpaceName', 'DatasetName']) expect(pbi).toHaveProperty(k);
    for (const t of [83, 93, 94, 95, 96]) {
      const aip = general.find((r) => r.RecordType === t)!;
      expect(aip.Workload).toBe('Aip');
      expect(aip.Common).toMatchObject({ ApplicationName: expect.any(String), Platform: expect.any(Number) });
    }
    expect(general.find((r) => r.RecordType === 94)!.SensitivityLabelEventData).toHaveProperty(
      'LabelEventType',
    );
    expect(general.find((r) => r.RecordType === 95)!.ProtectionEventData).toHaveProperty('ProtectionType');
    const alerts = general.filter((r) => r.RecordType === 40);
    for (const a of alerts) {
      expect(a).toMatchObject({
        Workload: 'SecurityComplianceCenter',
        UserId: 'SecurityComplianceAlerts',
        UserKey: 'SecurityComplianceAlerts',
      });
      expect(typeof a.Data).toBe('string');
      expect(JSON.parse(a.Data as string)).toHaveProperty('etype');
    }
    const irm = alerts.filter((a) => a.Category === 'InsiderRiskManagement');
    expect(irm.length).toBeGreaterThan(0);
    expect(new Set(alerts.map((a) => a.Category)).size).toBeGreaterThan(3);
    // One alert is triggered, then updated, under the same AlertId.
    const byAlert = new Map<string, Set<string>>();
    for (const a of alerts)
      byAlert.set(
        a.AlertId as string,
        (byAlert.get(a.AlertId as string) ?? new Set()).add(a.Operation as string),
      );
    expect([...byAlert.values()].some((ops) => ops.has('AlertTriggered') && ops.has('AlertUpdated'))).toBe(
      true,
    );
    // Customised (re-labelled) IRM alerts carry the original product name in Data.
    const custom = irm.filter((a) => a.AlertType === 'Custom');
    expect(custom.length).toBeGreaterThan(0);
    expect(JSON.parse(custom[0]!.Data as string)).toMatchObject({ OriginalProductName: IRM_PRODUCT });
    expect(
      irm.some((a) => a.AlertType === 'System' && !('OriginalProductName' in JSON.parse(a.Data as string))),
    ).toBe(true);
  });

  it('repeats records in a later blob with the same Id; the truth counts them once; later blobs hold older events', async () => {
    const s = store(5);
    await s.generate({
      tenantId: DEMO_TENANT_ID,
      count: 2000,
      from: FROM,
      to: TO,
      contentTypes: ['Audit.SharePoint'],
      recordsPerBlob: 40,
      duplicateRate: 0.1,
      disorder: 0.2,
      subscribed: true,
    });
    const seen = new Map<string, number>();
    let served = 0;
    let late = false;
    let newestSoFar = 0;
    for (const blob of blobsOf(s, 'Audit.SharePoint')) {
      const recs = JSON.parse(await s.body(blob)) as Rec[];
      served += recs.length;
      let oldest = Number.POSITIVE_INFINITY;
      for (const r of recs) {
        seen.set(r.Id as string, (seen.get(r.Id as string) ?? 0) + 1);
        const t = Date.parse(`${r.CreationTime}Z`);
        oldest = Math.min(oldest, t);
        newestSoFar = Math.max(newestSoFar, t);
      }
      if (oldest < newestSoFar - 3_600_000) late = true;
    }
    const truth = [...s.truth(DEMO_TENANT_ID)];
    expect(truth).toHaveLength(2000);
    expect(new Set(truth.map((r) => r.id)).size).toBe(2000);
    expect(seen.size).toBe(2000);
    expect(served).toBeGreaterThan(2000 + 100);
    expect([...seen.values()].every((n) => n <= 2)).toBe(true);
    expect(late).toBe(true);
    // Truth rows name the first blob holding each record.
    const first = new Map<string, string>();
    for (const blob of blobsOf(s, 'Audit.SharePoint'))
      for (const id of s.recordIds(blob)) if (!first.has(id)) first.set(id, blob.contentId);
    for (const r of truth) expect(r.blobId).toBe(first.get(r.id));
  });

  it('pre-generates bodies into blobDir, identical to the ones built on demand', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-sim-blobs-'));
    dirs.push(dir);
    const disk = store(9, dir);
    const mem = store(9);
    for (const s of [disk, mem])
      await s.generate({ tenantId: DEMO_TENANT_ID, count: 300, from: FROM, to: TO, subscribed: true });
    const d = blobsOf(disk, 'Audit.General');
    const m = blobsOf(mem, 'Audit.General');
    expect(d[0]!.file).toBeDefined();
    expect(fs.existsSync(d[0]!.file!)).toBe(true);
    expect(await disk.body(d[0]!)).toBe(await mem.body(m[0]!));
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureCertificates } from '../server/tls.js';
import {
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
  DEMO_TENANT_ID,
  demoTenant,
  type RunningSimulator,
  startSimulator,
} from './index.js';
import { DroppedError, form, type SimResponse, simFetch } from './test-client.js';

const OTHER_TENANT = '7a7a7a7a-1b1b-4c2c-8d3d-9e9e9e9e9e9e';
const OTHER_APP = '33333333-4444-4555-8666-777777777777';
const NO_ROLE_APP = '44444444-5555-4666-8777-888888888888';
const READ_ONLY_APP = '55555555-6666-4777-8888-999999999999';
const QUIET_TENANT = '8b8b8b8b-2c2c-4d3d-8e4e-afafafafafaf';
const PUBLISHER = '0f0f0f0f-1e1e-4d2d-8c3c-4b4b4b4b4b4b';
const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-10T12:00:00Z');

interface Descriptor {
  contentType: string;
  contentId: string;
  contentUri: string;
  contentCreated: string;
  contentExpiration: string;
}

describe('emulated Management Activity API', () => {
  let dir: string;
  let ca: string;
  let sim: RunningSimulator;
  let clock = T0;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-sim-mgmt-'));
    const tls = ensureCertificates(path.join(dir, 'tls'));
    ca = tls.ca;
    const demo = demoTenant();
    sim = await startSimulator({
      tls,
      seed: 7,
      now: () => clock,
      tenants: [
        {
          ...demo,
          apps: [
            ...demo.apps,
            { clientId: NO_ROLE_APP, secret: 's2', roles: ['Organization.Read.All'] },
            { clientId: READ_ONLY_APP, secret: 's3', roles: ['ActivityFeed.Read'] },
          ],
        },
        {
          tenantId: OTHER_TENANT,
          domain: 'fabrikam.onmicrosoft.com',
          apps: [{ clientId: OTHER_APP, secret: 's1', roles: ['ActivityFeed.Read'] }],
        },
        {
          tenantId: QUIET_TENANT,
          apps: [{ clientId: OTHER_APP, secret: 's1', roles: ['ActivityFeed.Read'] }],
          auditLoggingEnabled: false,
        },
      ],
    });
  });
  afterAll(async () => {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    sim.faults.clear();
    Object.assign(sim.knobs, {
      pageSize: 100,
      emptyPageProbability: 0,
      trailingEmptyPage: false,
      throttleStatus: 403,
      requestsPerMinute: 60_000,
      sharedRequestsPerMinute: 2_000,
    });
  });

  async function tokenFor(
    tenant = DEMO_TENANT_ID,
    clientId = DEMO_CLIENT_ID,
    secret = DEMO_CLIENT_SECRET,
  ): Promise<string> {
    const key = `${tenant}|${clientId}`;
    const cached = tokens.get(key);
    if (cached) return cached;
    const res = await simFetch(`${sim.url}/${tenant}/oauth2/v2.0/token`, {
      method: 'POST',
      ca,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secret,
        scope: 'https://manage.office.com/.default',
      }),
    });
    const t = res.json<{ access_token: string }>().access_token;
    tokens.set(key, t);
    return t;
  }

  async function call(
    url: string,
    o: {
      method?: string;
      token?: string | null;
      publisher?: boolean;
      body?: string;
      timeoutMs?: number;
    } = {},
  ): Promise<SimResponse> {
    const full = url.startsWith('https://')
      ? url
      : `${sim.url}/api/v1.0/${DEMO_TENANT_ID}/activity/feed/${url}`;
    const u = new URL(full);
    if (o.publisher !== false && !u.searchParams.has('PublisherIdentifier'))
      u.searchParams.set('PublisherIdentifier', PUBLISHER);
    const token = o.token === undefined ? await tokenFor() : o.token;
    return simFetch(u.toString(), {
      method: o.method ?? 'GET',
      ca,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(o.body ? { 'content-type': 'application/json' } : {}),
      },
      ...(o.body ? { body: o.body } : {}),
      ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    });
  }

  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19);
  const code = (r: SimResponse) => r.json<{ error: { code: string } }>().error.code;

  async function listAll(
    contentType: string,
    start: number,
    end: number,
  ): Promise<{ items: Descriptor[]; pages: SimResponse[] }> {
    const items: Descriptor[] = [];
    const pages: SimResponse[] = [];
    let url: string | undefined =
      `subscriptions/content?contentType=${contentType}&startTime=${iso(start)}&endTime=${iso(end)}`;
    while (url) {
      const res = await call(url);
      expect(res.status, res.text).toBe(200);
      pages.push(res);
      items.push(...res.json<Descriptor[]>());
      url = res.headers.nextpageuri as string | undefined;
      expect(pages.length).toBeLessThan(200);
    }
    return { items, pages };
  }

  it('subscriptions: start, AF20024 on a repeated start, list, stop; content needs one (AF20022)', async () => {
    expect((await call('subscriptions/list')).json()).toEqual([]);
    const noSub = await call(`subscriptions/content?contentType=Audit.Exchange`);
    expect(noSub.status).toBe(400);
    expect(code(noSub)).toBe('AF20022');
    const start = await call('subscriptions/start?contentType=Audit.Exchange', { method: 'POST' });
    expect(start.status).toBe(200);
    expect(start.json()).toEqual({ contentType: 'Audit.Exchange', status: 'enabled', webhook: null });
    const again = await call('subscriptions/start?contentType=Audit.Exchange', { method: 'POST' });
    expect(again.status).toBe(400);
    expect(code(again)).toBe('AF20024');
    expect((await call('subscriptions/list')).json()).toEqual([
      { contentType: 'Audit.Exchange', status: 'enabled', webhook: null },
    ]);
    expect((await call('subscriptions/stop?contentType=Audit.Exchange', { method: 'POST' })).status).toBe(
      200,
    );
    expect((await call('subscriptions/list')).json()).toEqual([
      { contentType: 'Audit.Exchange', status: 'disabled', webhook: null },
    ]);
    expect(code(await call('subscriptions/content?contentType=Audit.Exchange'))).toBe('AF20022');
    const bad = await call('subscriptions/start?contentType=Audit.Nothing', { method: 'POST' });
    expect([bad.status, code(bad)]).toEqual([400, 'AF20020']);
  });

  it('content created while a subscription was stopped is never listed', async () => {
    clock = T0;
    await call('subscriptions/start?contentType=Audit.SharePoint', { method: 'POST' });
    // Content over the next 6 hours; stopped between +2 h and +4 h.
    await sim.activity.generate({
      tenantId: DEMO_TENANT_ID,
      count: 600,
      from: T0,
      to: T0 + 6 * HOUR,
      contentTypes: ['Audit.SharePoint'],
      recordsPerBlob: 10,
      duplicateRate: 0,
    });
    clock = T0 + 2 * HOUR;
    await call('subscriptions/stop?contentType=Audit.SharePoint', { method: 'POST' });
    clock = T0 + 4 * HOUR;
    await call('subscriptions/start?contentType=Audit.SharePoint', { method: 'POST' });
    clock = T0 + 7 * HOUR;
    const { items } = await listAll('Audit.SharePoint', T0, T0 + 7 * HOUR);
    const created = items.map((d) => Date.parse(d.contentCreated));
    expect(created.length).toBeGreaterThan(20);
    expect(created.filter((t) => t >= T0 + 2 * HOUR && t < T0 + 4 * HOUR)).toEqual([]);
    expect(created.some((t) => t < T0 + 2 * HOUR)).toBe(true);
    expect(created.some((t) => t >= T0 + 4 * HOUR)).toBe(true);
    // Truth says which records are unreachable.
    const truth = [...sim.truth.records(DEMO_TENANT_ID)].filter((r) => r.contentType === 'Audit.SharePoint');
    const listedBlobs = new Set(items.map((d) => d.contentId));
    for (const r of truth) expect(listedBlobs.has(r.blobId), r.blobId).toBe(r.listable);
  });

  it('lists on contentCreated in [start, end), follows the window rules, and defaults to the last 24 hours', async () => {
    clock = T0 + 7 * HOUR;
    const { items } = await listAll('Audit.SharePoint', T0 + 4 * HOUR, T0 + 7 * HOUR);
    const first = Date.parse(items[0]!.contentCreated);
    const second = Date.parse(items[1]!.contentCreated);
    // Fractions are accepted; a blob created exactly at startTime is in, exactly at endTime is out.
    const exact = await call(
      `subscriptions/content?contentType=Audit.SharePoint&startTime=${new Date(first).toISOString()}&endTime=${new Date(second).toISOString()}`,
    );
    expect(exact.json<Descriptor[]>().map((d) => d.contentId)).toEqual([items[0]!.contentId]);
    const d0 = items[0]!;
    expect(d0.contentUri).toBe(`${sim.url}/api/v1.0/${DEMO_TENANT_ID}/activity/feed/audit/${d0.contentId}`);
    expect(Date.parse(d0.contentExpiration) - Date.parse(d0.contentCreated)).toBe(7 * 24 * HOUR);
    expect(d0.contentCreated).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(d0.contentId).toMatch(/^\d{21}\$\d{21}\$audit_sharepoint\$Audit_SharePoint\$[a-z]+\d+$/);

    const q = (s: string) => call(`subscriptions/content?contentType=Audit.SharePoint&${s}`);
    const cases: [string, string][] = [
      [`startTime=${iso(T0)}`, 'AF20055'],
      [`endTime=${iso(T0)}`, 'AF20055'],
      [`startTime=${iso(T0 + HOUR)}&endTime=${iso(T0)}`, 'AF20030'],
      [`startTime=${iso(T0)}&endTime=${iso(T0)}`, 'AF20030'],
      [`startTime=${iso(T0)}&endTime=${iso(T0 + 25 * HOUR)}`, 'AF20055'],
      [`startTime=${iso(clock - 8 * 24 * HOUR)}&endTime=${iso(clock - 7.5 * 24 * HOUR)}`, 'AF20055'],
      ['startTime=yesterday&endTime=today', 'AF20055'],
    ];
    for (const [query, expected] of cases) {
      const res = await q(query);
      expect([res.status, code(res)], query).toEqual([400, expected]);
    }
    for (const [s, e] of [
      ['2026-03-10', '2026-03-11'],
      ['2026-03-10T12:00', '2026-03-10T19:00'],
      ['2026-03-10T12:00:00Z', '2026-03-10T19:00:00Z'],
      ['2026-03-10T13:00:00+01:00', '2026-03-10T19:00:00.0000000Z'],
    ])
      expect(
        (await q(`startTime=${encodeURIComponent(s!)}&endTime=${encodeURIComponent(e!)}`)).status,
        s,
      ).toBe(200);
    // Omitted: the last 24 hours up to now.
    const dflt = await q('');
    expect(dflt.json<Descriptor[]>().length).toBe(
      items.length + (await listAll('Audit.SharePoint', clock - 24 * HOUR, T0 + 4 * HOUR)).items.length,
    );
  });

  it('pages with NextPageUri in the /api/v1/ form; AF20031 for a bad nextPage', async () => {
    sim.knobs.pageSize = 5;
    const all = await listAll('Audit.SharePoint', T0, T0 + 7 * HOUR);
    expect(all.pages.length).toBeGreaterThan(3);
    const next = all.pages[0]!.headers.nextpageuri as string;
    expect(next.startsWith(`${sim.url}/api/v1/${DEMO_TENANT_ID}/activity/feed/subscriptions/content?`)).toBe(
      true,
    );
    expect(new URL(next).searchParams.get('nextPage')).toMatch(/^\d{10}R\d{9}$/);
    expect(all.pages.at(-1)!.headers.nextpageuri).toBeUndefined();
    sim.knobs.pageSize = 100;
    const one = await listAll('Audit.SharePoint', T0, T0 + 7 * HOUR);
    expect(all.items.map((d) => d.contentId)).toEqual(one.items.map((d) => d.contentId));
    const bad = await call(
      `subscriptions/content?contentType=Audit.SharePoint&startTime=${iso(T0)}&endTime=${iso(T0 + 7 * HOUR)}&nextPage=garbage`,
    );
    expect([bad.status, code(bad)]).toEqual([400, 'AF20031']);
  });

  it('empty pages that still carry NextPageUri, and a trailing empty page, lose nothing', async () => {
    const reference = (await listAll('Audit.SharePoint', T0, T0 + 7 * HOUR)).items.map((d) => d.contentId);
    sim.knobs.pageSize = 7;
    sim.knobs.emptyPageProbability = 1;
    sim.knobs.trailingEmptyPage = true;
    const { items, pages } = await listAll('Audit.SharePoint', T0, T0 + 7 * HOUR);
    expect(items.map((d) => d.contentId)).toEqual(reference);
    const empties = pages.filter((p) => p.json<unknown[]>().length === 0);
    expect(empties.length).toBeGreaterThan(3);
    expect(pages[0]!.json<unknown[]>()).toEqual([]);
    expect(pages[0]!.headers.nextpageuri).toBeDefined();
    expect(pages.at(-1)!.json<unknown[]>()).toEqual([]);
  });

  it('serves blobs as JSON arrays of records; 7-day expiry is AF20051 and recorded in the truth', async () => {
    clock = T0 + 7 * HOUR;
    const { items } = await listAll('Audit.SharePoint', T0, T0 + 7 * HOUR);
    const blob = await call(items[0]!.contentUri);
    expect(blob.status).toBe(200);
    const records = blob.json<Record<string, unknown>[]>();
    expect(Array.isArray(records)).toBe(true);
    expect(records[0]!.CreationTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    expect(typeof records[0]!.RecordType).toBe('number');
    const truthIds = [...sim.truth.records(DEMO_TENANT_ID)]
      .filter((r) => r.blobId === items[0]!.contentId)
      .map((r) => r.id);
    expect(records.map((r) => r.Id)).toEqual(truthIds);

    const badId = await call(`${sim.url}/api/v1.0/${DEMO_TENANT_ID}/activity/feed/audit/not-a-content-id`);
    expect(code(badId)).toBe('AF20052');
    const missing = await call(
      items[0]!.contentUri.replace(/\$(\d{21})\$/, (_m, d: string) => `$${d.slice(0, 17)}9999$`),
    );
    expect(code(missing)).toBe('AF20050');

    clock = Date.parse(items[0]!.contentCreated) + 7 * 24 * HOUR + 1000;
    const expired = await call(items[0]!.contentUri);
    expect([expired.status, code(expired)]).toEqual([400, 'AF20051']);
    const listed = sim.truth.expiredBlobs().find((b) => b.contentId === items[0]!.contentId);
    expect(listed).toMatchObject({ reason: 'age', recordIds: truthIds });
    clock = T0 + 7 * HOUR;
  });

  it('checks the token: 401 without one, AF20010 for another tenant, AF10001 without ActivityFeed.Read, AF20013, AF20011 with audit logging off', async () => {
    const none = await call('subscriptions/list', { token: null });
    expect(none.status).toBe(401);
    const foreign = await call('subscriptions/list', {
      token: await tokenFor(OTHER_TENANT, OTHER_APP, 's1'),
    });
    expect([foreign.status, code(foreign)]).toEqual([401, 'AF20010']);
    const noRole = await call('subscriptions/list', {
      token: await tokenFor(DEMO_TENANT_ID, NO_ROLE_APP, 's2'),
    });
    expect([noRole.status, code(noRole)]).toEqual([401, 'AF10001']);
    const noDlp = await call('subscriptions/start?contentType=DLP.All', {
      method: 'POST',
      token: await tokenFor(DEMO_TENANT_ID, READ_ONLY_APP, 's3'),
    });
    expect(code(noDlp)).toBe('AF10001');
    const notGuid = await call(
      `${sim.url}/api/v1.0/contoso.onmicrosoft.com/activity/feed/subscriptions/list`,
    );
    expect(code(notGuid)).toBe('AF20013');
    const quiet = await call(
      `${sim.url}/api/v1.0/${QUIET_TENANT}/activity/feed/subscriptions/start?contentType=Audit.General`,
      {
        method: 'POST',
        token: await tokenFor(QUIET_TENANT, OTHER_APP, 's1'),
      },
    );
    expect([quiet.status, code(quiet)]).toEqual([400, 'AF20011']);
    expect(quiet.text).toContain(`Tenant ${QUIET_TENANT} does not exist`);
  });

  it('accepts tokens for the real resource or for its own origin, and refuses other audiences', async () => {
    const tokenWith = async (scope: string) =>
      (
        await simFetch(`${sim.url}/${DEMO_TENANT_ID}/oauth2/v2.0/token`, {
          method: 'POST',
          ca,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form({
            grant_type: 'client_credentials',
            client_id: DEMO_CLIENT_ID,
            client_secret: DEMO_CLIENT_SECRET,
            scope,
          }),
        })
      ).json<{ access_token: string }>().access_token;
    expect((await call('subscriptions/list', { token: await tokenWith(`${sim.url}/.default`) })).status).toBe(
      200,
    );
    const localhost = sim.url.replace('127.0.0.1', 'localhost');
    expect(
      (await call('subscriptions/list', { token: await tokenWith(`${localhost}/api/.default`) })).status,
    ).toBe(200);
    const graph = await call('subscriptions/list', {
      token: await tokenWith('https://graph.microsoft.com/.default'),
    });
    expect(graph.status).toBe(401);
    expect(graph.json()).toEqual({ Message: 'Authorization has been denied for this request.' });
  });

  it('AF429 per PublisherIdentifier, a shared pool without it, HTTP 403 by default, no Retry-After', async () => {
    clock = Date.parse('2026-03-10T20:00:00Z');
    sim.knobs.sharedRequestsPerMinute = 3;
    sim.knobs.requestsPerMinute = 5;
    const shared: SimResponse[] = [];
    for (let i = 0; i < 4; i++) shared.push(await call('subscriptions/list', { publisher: false }));
    expect(shared.map((r) => r.status)).toEqual([200, 200, 200, 403]);
    expect(shared[3]!.json()).toEqual({
      error: {
        code: 'AF429',
        message:
          'Too many requests. Method=ListSubscriptions, PublisherId=00000000-0000-0000-0000-000000000000',
      },
    });
    expect(shared[3]!.headers['retry-after']).toBeUndefined();
    // The publisher's own pool is untouched, until it too runs out.
    const own: number[] = [];
    for (let i = 0; i < 6; i++) own.push((await call('subscriptions/list')).status);
    expect(own).toEqual([200, 200, 200, 200, 200, 403]);
    sim.knobs.throttleStatus = 429;
    expect((await call('subscriptions/list')).status).toBe(429);
    // A new minute, a new allowance.
    clock += 60_000;
    expect((await call('subscriptions/list')).status).toBe(200);
    const s = sim.stats().endpoints['subscriptions.list']!;
    expect(s.codes.AF429).toBeGreaterThanOrEqual(3);
    clock = T0 + 7 * HOUR;
  });

  it('faults: throttle, http429, serverError, truncated, timeout, by count and by probability', async () => {
    sim.faults.set('subscriptions.list', { kind: 'throttle', count: 1 });
    const t = await call('subscriptions/list');
    expect([t.status, code(t)]).toEqual([403, 'AF429']);
    expect((await call('subscriptions/list')).status).toBe(200);

    sim.faults.set('subscriptions.list', { kind: 'http429', retryAfterSeconds: 7, count: 1 });
    const h = await call('subscriptions/list');
    expect([h.status, h.headers['retry-after']]).toEqual([429, '7']);

    sim.faults.set('subscriptions.list', { kind: 'serverError', status: 503, count: 2 });
    const e1 = await call('subscriptions/list');
    const e2 = await call('subscriptions/list');
    expect([e1.status, e2.status, code(e1)]).toEqual([503, 503, 'AF50000']);
    expect((await call('subscriptions/list')).status).toBe(200);

    sim.faults.set('subscriptions.list', { kind: 'truncated', count: 1 });
    const cut = await call('subscriptions/list');
    expect(cut.status).toBe(200);
    expect(() => JSON.parse(cut.text)).toThrow();

    sim.faults.set('subscriptions.list', { kind: 'timeout', holdMs: 300, count: 1 });
    const started = Date.now();
    await expect(call('subscriptions/list')).rejects.toBeInstanceOf(DroppedError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(sim.stats().endpoints['subscriptions.list']!.statuses.timeout).toBe(1);

    sim.faults.set('subscriptions.list', { kind: 'serverError', probability: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await call('subscriptions/list')).status);
    const failures = statuses.filter((s) => s === 500).length;
    expect(failures).toBeGreaterThan(8);
    expect(failures).toBeLessThan(32);
    sim.faults.clear('subscriptions.list');
    expect((await call('subscriptions/list')).status).toBe(200);
  });

  it('faults on blobs: expired (recorded as data loss), duplicate (a later blob with the same records), stringNumbers', async () => {
    clock = T0 + 7 * HOUR;
    const { items } = await listAll('Audit.SharePoint', T0, T0 + 7 * HOUR);
    const target = items[3]!;
    sim.faults.set('blob', { kind: 'expired', count: 1 });
    const gone = await call(target.contentUri);
    expect(code(gone)).toBe('AF20051');
    // Expiry is permanent, as it is for real content.
    expect(code(await call(target.contentUri))).toBe('AF20051');
    expect(sim.truth.expiredBlobs().find((b) => b.contentId === target.contentId)?.reason).toBe('fault');

    sim.faults.set('blob', { kind: 'stringNumbers', count: 1 });
    const strings = (await call(items[4]!.contentUri)).json<Record<string, unknown>[]>();
    expect(typeof strings[0]!.RecordType).toBe('string');
    expect(strings[0]!.Version).toBe('1');

    sim.faults.set('blob', { kind: 'duplicate', count: 1 });
    const original = (await call(items[5]!.contentUri)).json<{ Id: string }[]>();
    clock += 60_000;
    const later = await listAll('Audit.SharePoint', clock - 2 * 60_000, clock);
    expect(later.items.length).toBe(1);
    const copy = (await call(later.items[0]!.contentUri)).json<{ Id: string }[]>();
    expect(copy.map((r) => r.Id)).toEqual(original.map((r) => r.Id));
    expect(later.items[0]!.contentId).not.toBe(items[5]!.contentId);
    // The truth counts the re-delivered records once.
    const ids = [...sim.truth.records(DEMO_TENANT_ID)].map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('late blobs appear in listings after blobs created later than them', async () => {
    clock = T0 + 20 * HOUR;
    await call('subscriptions/start?contentType=Audit.Exchange', { method: 'POST' });
    const res = await sim.activity.generate({
      tenantId: DEMO_TENANT_ID,
      count: 400,
      from: T0 + 20 * HOUR,
      to: T0 + 21 * HOUR,
      contentTypes: ['Audit.Exchange'],
      recordsPerBlob: 10,
      lateBlobRate: 0.3,
      lateBlobDelayMs: 2 * HOUR,
    });
    clock = T0 + 21 * HOUR + 60_000;
    const early = await listAll('Audit.Exchange', T0 + 20 * HOUR, clock);
    expect(early.items.length).toBeLessThan(res.blobs);
    const newest = Math.max(...early.items.map((d) => Date.parse(d.contentCreated)));
    clock = T0 + 25 * HOUR; // the latest a late blob can be: 21 h + 1.5 × 2 h
    const all = await listAll('Audit.Exchange', T0 + 20 * HOUR, clock);
    expect(all.items.length).toBe(res.blobs);
    const seen = new Set(early.items.map((d) => d.contentId));
    const late = all.items.filter((d) => !seen.has(d.contentId));
    expect(late.some((d) => Date.parse(d.contentCreated) < newest)).toBe(true);
    // Before it is available, a GET says it does not exist.
    clock = T0 + 21 * HOUR + 60_000;
    expect(code(await call(late[0]!.contentUri))).toBe('AF20050');
  });

  it('AF20023 after an administrator disables a subscription; a start enables it again', async () => {
    await call('subscriptions/start?contentType=Audit.General', { method: 'POST' });
    sim.disableSubscription(DEMO_TENANT_ID, 'Audit.General');
    const r = await call('subscriptions/content?contentType=Audit.General');
    expect([r.status, code(r)]).toEqual([400, 'AF20023']);
    expect((await call('subscriptions/start?contentType=Audit.General', { method: 'POST' })).status).toBe(
      200,
    );
    expect((await call('subscriptions/content?contentType=Audit.General')).status).toBe(200);
  });

  it('the duplicate fault on listing re-delivers a listed blob later', async () => {
    clock = T0 + 8 * HOUR;
    sim.faults.set('content', { kind: 'duplicate', count: 1 });
    const first = (
      await call(
        `subscriptions/content?contentType=Audit.SharePoint&startTime=${iso(T0)}&endTime=${iso(T0 + 7 * HOUR)}`,
      )
    ).json<Descriptor[]>();
    clock += 1000;
    const later = await listAll('Audit.SharePoint', clock - 2000, clock);
    expect(later.items).toHaveLength(1);
    const a = (await call(first[0]!.contentUri)).json<{ Id: string }[]>().map((r) => r.Id);
    const b = (await call(later.items[0]!.contentUri)).json<{ Id: string }[]>().map((r) => r.Id);
    expect(b).toEqual(a);
  });

  it('live activity becomes available as (simulated) time passes', async () => {
    clock = T0 + 10 * HOUR;
    await call('subscriptions/start?contentType=Audit.AzureActiveDirectory', { method: 'POST' });
    const before = [...sim.truth.records(DEMO_TENANT_ID)].length;
    sim.activity.startLive({
      tenantId: DEMO_TENANT_ID,
      recordsPerMinute: 600,
      tickMs: 10,
      latencyMs: 1000,
      contentTypes: ['Audit.AzureActiveDirectory'],
    });
    for (let i = 0; i < 10; i++) {
      clock += 60_000;
      await new Promise((r) => setTimeout(r, 40));
    }
    sim.activity.stopLive();
    clock += 5000;
    const produced = [...sim.truth.records(DEMO_TENANT_ID)].length - before;
    expect(produced).toBeGreaterThanOrEqual(5400);
    expect(produced).toBeLessThanOrEqual(6000);
    const { items } = await listAll('Audit.AzureActiveDirectory', T0 + 10 * HOUR, clock);
    expect(items.length).toBeGreaterThan(50);
  });

  it('is driven through /_simulator too', async () => {
    const put = await simFetch(`${sim.url}/_simulator/faults/content`, {
      method: 'PUT',
      ca,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'serverError', count: 1 }),
    });
    expect(put.status).toBe(200);
    expect(sim.faults.list()).toMatchObject([
      { endpoint: 'content', fault: { kind: 'serverError', count: 1 }, remaining: 1 },
    ]);
    const r = await call(`subscriptions/content?contentType=Audit.SharePoint`);
    expect([r.status, code(r)]).toEqual([500, 'AF50000']);
    const bad = await simFetch(`${sim.url}/_simulator/faults/content`, {
      method: 'PUT',
      ca,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'meteor' }),
    });
    expect(bad.status).toBe(400);
    expect((await simFetch(`${sim.url}/_simulator/faults`, { method: 'DELETE', ca })).status).toBe(204);
    const stats = (await simFetch(`${sim.url}/_simulator/stats`, { ca })).json<{
      endpoints: Record<string, unknown>;
    }>();
    expect(stats.endpoints.content).toBeDefined();
    const knobs = await simFetch(`${sim.url}/_simulator/knobs`, {
      method: 'PUT',
      ca,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pageSize: 3 }),
    });
    expect(knobs.json()).toMatchObject({ pageSize: 3 });
    expect(sim.knobs.pageSize).toBe(3);
  });
});

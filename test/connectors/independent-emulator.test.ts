import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { officeFedConnections } from '../../src/connectors/demo.js';
import { type ConnectorServices, createConnectorServices } from '../../src/connectors/index.js';
import { IngestService } from '../../src/ingest/service.js';
import { ensureCertificates } from '../../src/server/tls.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { compareIds, FAST, isExact, waitFor } from './harness.js';

/*
 * Vigil against a Management Activity API written for this test from the public reference
 * (../shared/reference/source-apis.md §1-2), sharing no code with src/simulator, so that an assumption the
 * simulator and the client share cannot hide here. A tenant with custom endpoints; the v2 token endpoint
 * only (no OpenID discovery); no subscription until Vigil starts one (AF20022, AF20024 on a second start);
 * listings of 3 descriptors a page linked by an absolute `NextPageUri` on `/api/v1/` (as the reference's
 * sample has it); every 7th request throttled with AF429 on HTTP 403 and no Retry-After; records repeated
 * across blobs; one expired blob (AF20051); `CreationTime` without a zone; content ids with `$`.
 */

const TENANT = '7b0e4c1d-2a3f-4e5d-9c6b-1a2b3c4d5e6f';
const CLIENT = 'c0ffee00-1111-4222-8333-444455556666';
const SECRET = 'emulator~secret.0123456789abcdefghij';
const PAGE = 3;

type Table =
  | 'OfficeActivity'
  | 'Dynamics365Activity'
  | 'PowerBIActivity'
  | 'MicrosoftPurviewInformationProtection'
  | 'SecurityAlert';

interface Blob {
  readonly contentType: string;
  readonly contentId: string;
  readonly created: number;
  readonly records: Record<string, unknown>[];
  readonly expired: boolean;
}

/** `CreationTime` as the reference shows it: UTC, no zone, no fraction. */
function creationTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** The reference's observed content id shape: two 21-digit timestamps, the type, a region. */
function contentId(contentType: string, created: number, n: number): string {
  const stamp = (ms: number) =>
    new Date(ms).toISOString().replace(/\D/g, '').slice(0, 17) + String(n).padStart(4, '0');
  const lower = contentType.toLowerCase().replace('.', '_');
  return `${stamp(created - 90_000)}$${stamp(created)}$${lower}$${contentType.replace('.', '_')}$emea0036`;
}

/** Each record with the table it belongs in (undefined: no connector takes it). */
function makeRecords(contentType: string, created: number, count: number, seed: number) {
  const out: { record: Record<string, unknown>; table: Table | undefined }[] = [];
  for (let i = 0; i < count; i++) {
    const at = creationTime(created - 60_000 - i * 1000);
    const base = {
      Id: crypto.randomUUID(),
      CreationTime: at,
      OrganizationId: TENANT,
      UserType: 0,
      UserKey: `10030000${seed}${i}`,
      UserId: `user${(seed + i) % 5}@contoso.example`,
      ClientIP: `192.0.2.${(seed + i) % 250}`,
      ResultStatus: 'Succeeded',
      Version: 1,
    };
    if (contentType === 'Audit.Exchange') {
      out.push({
        record: {
          ...base,
          RecordType: 2,
          Workload: 'Exchange',
          Operation: 'Send',
          MailboxOwnerUPN: base.UserId,
        },
        table: 'OfficeActivity',
      });
    } else if (contentType === 'Audit.SharePoint') {
      out.push({
        record: {
          ...base,
          RecordType: 6,
          Workload: 'SharePoint',
          Operation: 'FileAccessed',
          ObjectId: `https://contoso.sharepoint.com/sites/hr/Shared Documents/plan${i}.docx`,
          SiteUrl: 'https://contoso.sharepoint.com/sites/hr/',
          SourceFileName: `plan${i}.docx`,
        },
        table: 'OfficeActivity',
      });
    } else {
      // Audit.General: every workload that rides it, including ones no connector takes.
      const kinds: { record: Record<string, unknown>; table: Table | undefined }[] = [
        {
          record: {
            ...base,
            RecordType: 25,
            Workload: 'MicrosoftTeams',
            Operation: 'MessageSent',
            TeamName: 'Ops',
          },
          table: 'OfficeActivity',
        },
        {
          record: { ...base, RecordType: 21, Workload: 'CRM', Operation: 'Retrieve', EntityName: 'account' },
          table: 'Dynamics365Activity',
        },
        {
          record: {
            ...base,
            RecordType: 20,
            Workload: 'PowerBI',
            Operation: 'ViewReport',
            Activity: 'ViewReport',
          },
          table: 'PowerBIActivity',
        },
        {
          record: {
            ...base,
            RecordType: 94,
            Workload: 'Aip',
            Operation: 'SensitivityLabelApplied',
            ProcessName: 'WINWORD',
          },
          table: 'MicrosoftPurviewInformationProtection',
        },
        {
          record: {
            ...base,
            RecordType: 40,
            Workload: 'SecurityComplianceCenter',
            UserId: 'SecurityComplianceAlerts',
            Operation: 'AlertTriggered',
            Category: 'InsiderRiskManagement',
            AlertId: crypto.randomUUID(),
            Name: 'Data leak by departing user',
            Severity: 'High',
            Status: 'Active',
            Data: JSON.stringify({ f3u: base.UserId, an: 'Data leak by departing user' }),
          },
          table: 'SecurityAlert',
        },
        {
          record: {
            ...base,
            RecordType: 64,
            Workload: 'AirInvestigation',
            Operation: 'AirInvestigationData',
          },
          table: undefined,
        },
      ];
      out.push(kinds[(seed + i) % kinds.length]!);
    }
  }
  return out;
}

/** A small Management Activity API: the state a test asserts on, and the server. */
async function startEmulator(tls: { cert: string; key: string }, blobs: Blob[]) {
  const tokens = new Map<string, string>();
  const enabled = new Set<string>();
  const seen = {
    requests: 0,
    throttled: 0,
    nextPages: 0,
    starts: [] as string[],
    violations: [] as string[],
  };
  /** `loopPaging`: every page of a listing is its first, and names the same next page (a service bug). */
  const mode = { loopPaging: false };
  let origin = '';

  const json = (res: import('node:http').ServerResponse, status: number, body: unknown, headers = {}) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  const error = (res: import('node:http').ServerResponse, status: number, code: string, message: string) =>
    json(res, status, { error: { code, message } });
  const parseTime = (s: string | null) => {
    if (!s || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?Z?$/.test(s)) return Number.NaN;
    return Date.parse(s.endsWith('Z') ? s : `${s}Z`);
  };

  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', origin);
      if (req.method === 'POST' && url.pathname === `/${TENANT}/oauth2/v2.0/token`) {
        const form = new URLSearchParams(body);
        if (form.get('client_id') !== CLIENT || form.get('client_secret') !== SECRET) {
          json(res, 401, {
            error: 'invalid_client',
            error_description: 'AADSTS7000215: Invalid client secret provided.',
            error_codes: [7000215],
          });
          return;
        }
        const claims = {
          tid: TENANT,
          aud: 'https://manage.office.com',
          roles: ['ActivityFeed.Read'],
          exp: Math.floor(Date.now() / 1000) + 3600,
        };
        const token = `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${crypto.randomUUID()}`;
        tokens.set(token, TENANT);
        json(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
        return;
      }
      const m = /^\/api\/v1(?:\.0)?\/([^/]+)\/activity\/feed\/(.+)$/.exec(url.pathname);
      if (!m) {
        error(res, 404, 'NotFound', `no such resource ${url.pathname}`);
        return;
      }
      seen.requests++;
      const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (tokens.get(bearer) !== m[1] || m[1] !== TENANT) {
        seen.violations.push(`bad token or tenant on ${req.method} ${url.pathname}`);
        error(res, 401, 'AF20010', 'The tenant in the URL does not match the token.');
        return;
      }
      if (url.searchParams.get('PublisherIdentifier') !== TENANT) {
        seen.violations.push(`no PublisherIdentifier on ${req.method} ${url.pathname}${url.search}`);
      }
      if (seen.requests % 7 === 0) {
        seen.throttled++;
        error(res, 403, 'AF429', `Too many requests. Method=${m[2]}, PublisherId=${TENANT}`);
        return;
      }
      const op = decodeURIComponent(m[2]!);
      const contentType = url.searchParams.get('contentType') ?? '';
      if (req.method === 'GET' && op === 'subscriptions/list') {
        json(
          res,
          200,
          [...enabled].map((t) => ({ contentType: t, status: 'enabled', webhook: null })),
        );
      } else if (req.method === 'POST' && op === 'subscriptions/start') {
        seen.starts.push(contentType);
        if (enabled.has(contentType))
          error(res, 400, 'AF20024', 'The subscription is already enabled. No property change.');
        else {
          enabled.add(contentType);
          json(res, 200, { contentType, status: 'enabled', webhook: null });
        }
      } else if (req.method === 'GET' && op === 'subscriptions/content') {
        if (!enabled.has(contentType)) {
          error(res, 400, 'AF20022', `No subscription found for the specified content type ${contentType}`);
          return;
        }
        const start = parseTime(url.searchParams.get('startTime'));
        const end = parseTime(url.searchParams.get('endTime'));
        if (
          !(start < end) ||
          end - start > 24 * 3600_000 ||
          start < Date.now() - 7 * 24 * 3600_000 - 3600_000
        ) {
          error(
            res,
            400,
            'AF20055',
            'Start time and end time must both be specified, at most 24 hours apart, within the last 7 days.',
          );
          return;
        }
        const listed = blobs
          .filter((b) => b.contentType === contentType && b.created >= start && b.created < end)
          .sort((a, b) => a.created - b.created);
        const from = mode.loopPaging ? 0 : Number(url.searchParams.get('nextPage') ?? '0');
        if (url.searchParams.has('nextPage')) seen.nextPages++;
        if (!Number.isInteger(from) || from < 0 || from > listed.length) {
          error(res, 400, 'AF20031', 'Invalid nextPage input.');
          return;
        }
        const page = listed.slice(from, from + PAGE).map((b) => ({
          contentType: b.contentType,
          contentId: b.contentId,
          contentUri: `${origin}/api/v1.0/${TENANT}/activity/feed/audit/${b.contentId}`,
          contentCreated: new Date(b.created).toISOString(),
          contentExpiration: new Date(b.created + 7 * 24 * 3600_000).toISOString(),
        }));
        const headers: Record<string, string> = {};
        if (from + PAGE < listed.length) {
          const next = new URL(`${origin}/api/v1/${TENANT}/activity/feed/subscriptions/content`);
          next.searchParams.set('contentType', contentType);
          next.searchParams.set('startTime', url.searchParams.get('startTime')!);
          next.searchParams.set('endTime', url.searchParams.get('endTime')!);
          next.searchParams.set('nextPage', String(from + PAGE));
          headers.NextPageUri = next.toString();
        }
        json(res, 200, page, headers);
      } else if (req.method === 'GET' && op.startsWith('audit/')) {
        const blob = blobs.find((b) => b.contentId === op.slice('audit/'.length));
        if (!blob) error(res, 400, 'AF20052', 'Content ID in the URL is invalid.');
        else if (blob.expired)
          error(res, 400, 'AF20051', 'Content requested with the key has already expired.');
        else json(res, 200, blob.records);
      } else {
        error(res, 400, 'AF20001', `unsupported ${req.method} ${op}`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, seen, mode, blobs, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let dir: string;
let ws: Workspace;
let services: ConnectorServices;
let emulator: Awaited<ReturnType<typeof startEmulator>>;
const expected = new Map<Table, Set<string>>();
let expiredId = '';

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-independent-'));
  const tls = ensureCertificates(path.join(dir, 'tls'));
  const now = Date.now();
  const blobs: Blob[] = [];
  for (const table of [
    'OfficeActivity',
    'Dynamics365Activity',
    'PowerBIActivity',
    'MicrosoftPurviewInformationProtection',
    'SecurityAlert',
  ] as const)
    expected.set(table, new Set());
  let seed = 0;
  for (const contentType of ['Audit.Exchange', 'Audit.SharePoint', 'Audit.General']) {
    let previous: Record<string, unknown>[] = [];
    for (let n = 0; n < 11; n++) {
      // Spread over the last 30 hours, so listings span two 24-hour windows.
      const created = now - 30 * 3600_000 + n * 2.7 * 3600_000 + seed * 60_000;
      const made = makeRecords(contentType, created, 12, seed++);
      const expired = contentType === 'Audit.SharePoint' && n === 4;
      // Each blob repeats two records of the one before (the service's retries do this).
      const records = [...made.map((r) => r.record), ...previous.slice(0, 2)];
      const blob = { contentType, contentId: contentId(contentType, created, n), created, records, expired };
      blobs.push(blob);
      if (expired) expiredId = blob.contentId;
      else for (const r of made) if (r.table) expected.get(r.table)!.add(String(r.record.Id).toLowerCase());
      previous = made.map((r) => r.record);
    }
  }
  // A record repeated from the expired blob arrives in the blob after it, so it is expected after all.
  for (const b of blobs)
    if (!b.expired)
      for (const r of b.records.slice(12)) {
        const origin = blobs.find((x) => x.records.slice(0, 12).includes(r))!;
        if (origin.expired) expected.get('OfficeActivity')!.add(String(r.Id).toLowerCase());
      }
  emulator = await startEmulator(tls, blobs);
  ws = await Workspace.open(path.join(dir, 'data'));
  const quiet = { info() {}, warn() {}, error() {} };
  services = createConnectorServices(ws, new IngestService(ws), quiet, { ...FAST, fetchConcurrency: 3 });
  await services.tenants.put('independent', {
    tenantId: TENANT,
    clientId: CLIENT,
    cloud: 'custom',
    endpoints: {
      authorityHost: emulator.origin,
      managementApiBase: emulator.origin,
      graphBase: emulator.origin,
      caCertificate: tls.ca,
    },
    credentials: { clientSecret: SECRET },
  });
  await services.runtime.start();
}, 60_000);

afterAll(async () => {
  await services?.runtime.stop();
  await emulator?.close();
  await ws?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the five Office-fed connectors against an independent Management Activity API emulator', () => {
  it('store exactly its distinct records, through paging, throttling, duplicates and an expired blob', async () => {
    for (const [name, body] of Object.entries(officeFedConnections(TENANT)))
      await services.connectors.put(name, body);
    const result = await waitFor(() => compareIds(ws, expected), isExact, 60_000, 250);
    expect(result).toEqual(result.map((r) => ({ ...r, missing: [], extra: [], twice: [] })));
    for (const r of result) expect(r.expected, r.table).toBeGreaterThan(0);

    const { seen } = emulator;
    expect(seen.violations).toEqual([]);
    expect(seen.throttled).toBeGreaterThan(0);
    expect(seen.nextPages).toBeGreaterThan(0);
    // Vigil started the three subscriptions itself; a second start of one (AF20024) would be harmless.
    expect(new Set(seen.starts)).toEqual(new Set(['Audit.Exchange', 'Audit.SharePoint', 'Audit.General']));
    const lost = await ws.store.query<{ ContentId: string }>(
      "SELECT JSONExtractString(ExtendedProperties, 'ContentId') AS ContentId FROM vigil.SentinelHealth WHERE Reason = 'ContentExpired'",
    );
    expect(lost.map((r) => r.ContentId)).toContain(expiredId);
  }, 90_000);

  it('reports a listing whose NextPageUri goes round in a loop, and lists that window again once it is fixed', async () => {
    const now = Date.now();
    const added: Record<string, unknown>[] = [];
    for (let n = 0; n < 5; n++) {
      const created = now - 20 * 60_000 + n * 60_000;
      const made = makeRecords('Audit.Exchange', created, 4, 100 + n);
      emulator.blobs.push({
        contentType: 'Audit.Exchange',
        contentId: contentId('Audit.Exchange', created, 100 + n),
        created,
        records: made.map((r) => r.record),
        expired: false,
      });
      for (const r of made) added.push(r.record);
    }
    emulator.mode.loopPaging = true;
    const failure = await waitFor(
      () =>
        ws.store.query<{ Status: string; Description: string }>(
          "SELECT Status, Description FROM vigil.SentinelHealth WHERE SentinelResourceName = 'office365' AND Description LIKE '%goes round in a loop%'",
        ),
      (rows) => rows.length > 0,
      30_000,
      200,
    );
    expect(failure[0]?.Status).toBe('Failure');
    const requestsWhileLooping = emulator.seen.requests;
    emulator.mode.loopPaging = false;
    for (const r of added) expected.get('OfficeActivity')!.add(String(r.Id).toLowerCase());
    const result = await waitFor(() => compareIds(ws, expected), isExact, 30_000, 250);
    expect(result).toEqual(result.map((r) => ({ ...r, missing: [], extra: [], twice: [] })));
    // The loop was cut short each time, not followed for thousands of pages.
    expect(requestsWhileLooping).toBeLessThan(2000);
  }, 60_000);
});

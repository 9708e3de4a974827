/**
 * The Log Analytics Query API through Microsoft's own client, `@azure/monitor-query-logs`, against the real
 * server over HTTPS with the generated CA: every result type must come out as the SDK expects it.
 */
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { LogsQueryClient, LogsQueryResultStatus } from '@azure/monitor-query-logs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/serve.js';

let dir: string;
let server: RunningServer;
let ca: Buffer;
let admin: string;
let workspaceId: string;
let client: LogsQueryClient;

function request(method: string, pathname: string, body?: string, contentType = 'application/json') {
  return new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    const req = https.request(
      new URL(pathname, server.url),
      {
        method,
        ca,
        headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': contentType } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString().slice(0, 19);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-query-sdk-'));
  let out = '';
  server = await startServer({
    dataDir: dir,
    port: 0,
    host: '127.0.0.1',
    logger: pino({ level: 'silent' }),
    out: (text) => {
      out += text;
    },
    handleSignals: false,
  });
  ca = fs.readFileSync(server.caFile!);
  admin = /vgl_[A-Za-z0-9_-]+/.exec(out)![0];
  workspaceId = ((await request('GET', '/health')).body as { workspaceId: string }).workspaceId;
  const records = [
    {
      CreationTime: minutesAgo(10),
      Id: 'q-1',
      Operation: 'FileDownloaded',
      RecordType: 6,
      UserId: 'alice@contoso.com',
      Members: [{ UPN: 'a' }],
    },
    {
      CreationTime: minutesAgo(20),
      Id: 'q-2',
      Operation: 'FileDownloaded',
      RecordType: 6,
      UserId: 'bob@contoso.com',
    },
    {
      CreationTime: minutesAgo(30),
      Id: 'q-3',
      Operation: 'FileAccessed',
      RecordType: 6,
      UserId: 'alice@contoso.com',
    },
    // Two days old: outside a one-day timespan.
    {
      CreationTime: minutesAgo(2 * 24 * 60),
      Id: 'q-4',
      Operation: 'FileAccessed',
      RecordType: 6,
      UserId: 'old@contoso.com',
    },
  ];
  const ingested = await request(
    'POST',
    '/api/ingest/OfficeActivity?source=sdk-test',
    records.map((r) => JSON.stringify(r)).join('\n'),
    'application/x-ndjson',
  );
  expect(ingested.status).toBe(200);
  const credential = { getToken: async () => ({ token: admin, expiresOnTimestamp: Date.now() + 3_600_000 }) };
  client = new LogsQueryClient(credential, { endpoint: `${server.url}/v1`, tlsOptions: { ca } } as never);
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Query API through @azure/monitor-query-logs', () => {
  it('runs a summarize and applies the timespan to TimeGenerated', async () => {
    const result = await client.queryWorkspace(
      workspaceId,
      'OfficeActivity | summarize n = count() by Operation | order by Operation asc',
      { duration: 'P1D' },
    );
    expect(result.status).toBe(LogsQueryResultStatus.Success);
    if (result.status !== LogsQueryResultStatus.Success) return;
    const table = result.tables[0]!;
    expect(table.name).toBe('PrimaryResult');
    expect(table.columnDescriptors.map((c) => [c.name, c.type])).toEqual([
      ['Operation', 'string'],
      ['n', 'long'],
    ]);
    // The two-day-old record is outside P1D.
    expect(table.rows).toEqual([
      ['FileAccessed', 1],
      ['FileDownloaded', 2],
    ]);
  });

  it('reads every column type as the SDK expects it', async () => {
    const result = await client.queryWorkspace(
      workspaceId,
      `datatable(b:bool, i:int, l:long, r:real, d:datetime, t:timespan, s:string, dy:dynamic, g:guid)
         [true, 7, 9007199254740991, 1.5, datetime(2024-05-01 10:00:00.1234567), time(1.02:03:04), "x",
          dynamic({"a":[1,2]}), guid(74be27de-1e4e-49d9-b579-fe0b331d3642)]`,
      { duration: 'P1D' },
    );
    expect(result.status).toBe(LogsQueryResultStatus.Success);
    if (result.status !== LogsQueryResultStatus.Success) return;
    const [row] = result.tables[0]!.rows;
    expect(row![0]).toBe(true);
    expect(row![1]).toBe(7);
    expect(row![2]).toBe(9007199254740991);
    expect(row![3]).toBe(1.5);
    expect(row![4]).toBeInstanceOf(Date);
    expect((row![4] as Date).toISOString()).toBe('2024-05-01T10:00:00.123Z');
    expect(row![5]).toBe('1.02:03:04');
    expect(row![6]).toBe('x');
    expect(row![7]).toEqual({ a: [1, 2] });
    expect(row![8]).toBe('74be27de-1e4e-49d9-b579-fe0b331d3642');
  });

  it('returns the render operator as visualization metadata when asked', async () => {
    const result = await client.queryWorkspace(
      workspaceId,
      'OfficeActivity | summarize n = count() by Operation | render columnchart with (title="Activity")',
      { duration: 'P1D' },
      { includeVisualization: true },
    );
    expect(result.status).toBe(LogsQueryResultStatus.Success);
    expect(result.visualization).toMatchObject({ visualization: 'columnchart', title: 'Activity' });
  });

  it('answers a query that does not bind with Kusto diagnostic in the error envelope', async () => {
    const err = await client
      .queryWorkspace(workspaceId, 'OfficeActivity | where NoSuchColumn == 1', { duration: 'P1D' })
      .then(
        () => undefined,
        (e: unknown) => e as { statusCode?: number; code?: string; details?: unknown },
      );
    expect(err?.statusCode).toBe(400);
    expect(err?.code).toBe('BadArgumentError');
    const details = err!.details as { error: { innererror: { code: string; innererror: { code: string } } } };
    const inner = details.error.innererror;
    expect(inner.code).toBe('SemanticError');
    expect(inner.innererror.code).toMatch(/^KS\d+$/);
  });

  it('answers a batch in request order, one failure not failing the others', async () => {
    const results = await client.queryBatch([
      { workspaceId, query: 'OfficeActivity | count', timespan: { duration: 'P1D' } },
      { workspaceId, query: 'OfficeActivity | wher x', timespan: { duration: 'P1D' } },
      {
        workspaceId,
        query: 'OfficeActivity | where UserId =~ "ALICE@contoso.com" | count',
        timespan: { duration: 'P7D' },
      },
    ]);
    expect(results.map((r) => r.status)).toEqual([
      LogsQueryResultStatus.Success,
      LogsQueryResultStatus.PartialFailure,
      LogsQueryResultStatus.Success,
    ]);
    const counts = results.map((r) =>
      r.status === LogsQueryResultStatus.Success ? r.tables[0]!.rows[0]![0] : null,
    );
    expect(counts).toEqual([3, null, 2]);
  });

  it('refuses a query from a token that is not known', async () => {
    const stranger = new LogsQueryClient(
      { getToken: async () => ({ token: 'vgl_not-a-token', expiresOnTimestamp: Date.now() + 3_600_000 }) },
      { endpoint: `${server.url}/v1`, tlsOptions: { ca } } as never,
    );
    const err = await stranger
      .queryWorkspace(workspaceId, 'OfficeActivity | count', { duration: 'P1D' })
      .then(
        () => undefined,
        (e: unknown) => e as { statusCode?: number },
      );
    expect(err?.statusCode).toBe(401);
  });

  it('records every answered query in LAQueryLogs, with who asked, the status and the row count', async () => {
    // Rows are written in the background about a second after the query.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const result = await client.queryWorkspace(
      workspaceId,
      `LAQueryLogs
       | where AADEmail == "administrator"
       | summarize n = count(), returned = sum(ResponseRowCount) by ResponseCode
       | order by ResponseCode asc`,
      { duration: 'P1D' },
    );
    expect(result.status).toBe(LogsQueryResultStatus.Success);
    if (result.status !== LogsQueryResultStatus.Success) return;
    // Earlier tests: 5 answered queries (summarize, datatable, render, 2 batch items) and 2 refused with 400.
    expect(result.tables[0]!.rows).toEqual([
      [200, 5, 2 + 1 + 2 + 1 + 1],
      [400, 2, 0],
    ]);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sqlString } from '../storage/log-store.js';
import { Workspace } from '../workspace/workspace.js';
import { datetimeFromMillis } from './coerce.js';
import { IngestError } from './errors.js';
import { IngestService, MAX_RECORD_BYTES } from './service.js';

/** Small batches, so that a few thousand lines cross several batch boundaries. */
const BATCH_ROWS = 1000;

import type { IngestSummary } from './types.js';

// chdb allows one data directory per process: one workspace for the whole file.
let dir: string;
let ws: Workspace;
let service: IngestService;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ingest-test-'));
  ws = await Workspace.open(dir);
  service = new IngestService(ws, { batchRows: BATCH_ROWS });
});

afterAll(async () => {
  await ws?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Tables keep 90 days: timestamps are recent so that no row is dropped by the TTL. */
function creationTime(secondsAgo: number): string {
  return new Date(Date.now() - 3_600_000 - secondsAgo * 1000).toISOString().slice(0, 19);
}

function office(id: string, secondsAgo = 0, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    CreationTime: creationTime(secondsAgo),
    Id: id,
    Operation: 'FileAccessed',
    RecordType: 6,
    UserType: 0,
    Workload: 'SharePoint',
    UserId: 'alice@contoso.com',
    ...extra,
  };
}

function ndjson(records: readonly unknown[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

async function* chunks(data: string | Buffer, size = 4096): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(data);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function scalar(sql: string): Promise<number> {
  const rows = await ws.store.query<{ v: string | number }>(sql);
  return Number(rows[0]!.v);
}

function officeCount(prefix: string): Promise<number> {
  return scalar(
    `SELECT count() AS v FROM vigil.OfficeActivity WHERE startsWith(OfficeId, ${sqlString(prefix)})`,
  );
}

function officeUnique(prefix: string): Promise<number> {
  return scalar(
    `SELECT uniqExact(OfficeId) AS v FROM vigil.OfficeActivity WHERE startsWith(OfficeId, ${sqlString(prefix)})`,
  );
}

function ingest(
  table: string,
  source: string,
  data: string | Buffer,
  options: { startOffset?: number; checkpoint?: boolean; chunk?: number; via?: IngestService } = {},
): Promise<IngestSummary> {
  return (options.via ?? service).ingestStream({
    table,
    source,
    input: chunks(data, options.chunk),
    startOffset: options.startOffset,
    checkpoint: options.checkpoint,
  });
}

describe('IngestService: de-duplication by record key', () => {
  // 100 distinct records, 50 repeats of them (same batch), 2,400 more distinct records, then 200 repeats of
  // the first records (a later batch): 2,750 lines, so two batches.
  const prefix = 'dup-';
  const ids: string[] = [];
  for (let i = 0; i < 100; i++) ids.push(`${prefix}${i}`);
  for (let i = 0; i < 50; i++) ids.push(`${prefix}${i}`);
  for (let i = 100; i < 2500; i++) ids.push(`${prefix}${i}`);
  for (let i = 0; i < 200; i++) ids.push(`${prefix}${i}`);
  // A repeat may differ in other fields (the API re-delivers records): still the same record.
  const text = ndjson(
    ids.map((id, n) => office(id, n % 600, n >= 2550 ? { Operation: 'FileModified' } : {})),
  );

  it('stores each distinct record once within a batch and across batches', async () => {
    expect(ids.length).toBeGreaterThan(BATCH_ROWS);
    const summary = await ingest('OfficeActivity', 'test:dups', text, { chunk: 65_536 });
    expect(summary).toEqual({
      table: 'OfficeActivity',
      source: 'test:dups',
      rowsWritten: 2500,
      duplicates: 250,
      quarantined: 0,
      linesRead: 2750,
      startOffset: 0,
      endOffset: Buffer.byteLength(text),
      badLines: [],
    });
    expect(await officeCount(prefix)).toBe(2500);
    expect(await officeUnique(prefix)).toBe(2500);
    // The first delivery is the one kept.
    expect(await scalar(`SELECT countIf(Operation = 'FileModified') AS v FROM vigil.OfficeActivity`)).toBe(0);
  });

  it('stores nothing again when the same input is ingested in a second run', async () => {
    const summary = await ingest('OfficeActivity', 'test:dups', text);
    expect(summary.rowsWritten).toBe(0);
    expect(summary.duplicates).toBe(2750);
    expect(summary.quarantined).toBe(0);
    expect(await officeCount(prefix)).toBe(2500);
  });

  it('recognises stored records after a restart (key index loaded from the store)', async () => {
    const fresh = new IngestService(ws, { batchRows: BATCH_ROWS });
    const summary = await ingest('OfficeActivity', 'test:dups', text, { via: fresh });
    expect(summary.rowsWritten).toBe(0);
    expect(summary.duplicates).toBe(2750);
    expect(await officeCount(prefix)).toBe(2500);
    expect(await officeUnique(prefix)).toBe(2500);
  });

  it('recognises a stored composite key holding a datetime after a restart (McasShadowItReporting)', async () => {
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const records = [
      {
        StreamName: 'Proxy',
        Date: day,
        AppId: 1,
        UserName: 'alice',
        IpAddress: '10.0.0.1',
        MachineName: 'pc1',
      },
      { StreamName: 'Proxy', Date: day, AppId: 1, UserName: 'bob', IpAddress: '10.0.0.2' },
      {
        StreamName: 'Proxy',
        Date: `${day}T00:00:00Z`,
        AppId: 2,
        UserName: 'alice',
        TotalBytes: '5000000000',
      },
    ];
    const first = await ingest('McasShadowItReporting', 'test:mcas', ndjson(records));
    expect([first.rowsWritten, first.duplicates]).toEqual([3, 0]);
    const again = await ingest('McasShadowItReporting', 'test:mcas', ndjson(records), {
      via: new IngestService(ws, { batchRows: BATCH_ROWS }),
    });
    expect([again.rowsWritten, again.duplicates]).toEqual([0, 3]);
    expect(await scalar('SELECT count() AS v FROM vigil.McasShadowItReporting')).toBe(3);
    expect(await scalar('SELECT sum(TotalBytes) AS v FROM vigil.McasShadowItReporting')).toBe(5_000_000_000);
  });

  it('recognises a stored key holding a line break, a tab or a backslash after a restart', async () => {
    const records = [
      office('nl-1\nsecond part'),
      office('nl-2\ttab'),
      office('nl-3\\back\\slash\\n'),
      office('nl-4\r'),
      office("nl-5'quote"),
      office('nl-6\u0000\b\f'),
    ];
    const first = await ingest('OfficeActivity', 'test:nl', ndjson(records));
    expect([first.rowsWritten, first.duplicates]).toEqual([6, 0]);
    const again = await ingest('OfficeActivity', 'test:nl', ndjson(records), {
      via: new IngestService(ws, { batchRows: BATCH_ROWS }),
    });
    expect([again.rowsWritten, again.duplicates]).toEqual([0, 6]);
    expect(await officeCount('nl-')).toBe(6);
  });
});

describe('IngestService: quarantine', () => {
  const source = 'test:quarantine';
  const lines = [
    JSON.stringify(office('q-1', 1)),
    '{"Id": "q-2", "CreationTime": ',
    JSON.stringify(office('q-3', 3, { CreationTime: '2025-02-30T00:00:00' })),
    JSON.stringify({ CreationTime: creationTime(4), Operation: 'FileAccessed' }),
    '   ',
    '[1,2]',
    JSON.stringify(office('q-7', 7)),
    JSON.stringify(office('q-1', 8)),
  ];
  // Line 6 ends with \r\n: the quarantined text must not carry the \r.
  const text = lines.map((l, i) => (i === 5 ? `${l}\r\n` : `${l}\n`)).join('');
  let summary: IngestSummary;
  let before: number;
  let after: number;

  beforeAll(async () => {
    before = Date.now();
    summary = await ingest('OfficeActivity', source, text, { chunk: 7 });
    after = Date.now();
  });

  it('reports exact counts and the bad lines', () => {
    let parseError = '';
    try {
      JSON.parse(lines[1]!);
    } catch (err) {
      parseError = (err as Error).message;
    }
    expect(summary).toEqual({
      table: 'OfficeActivity',
      source,
      rowsWritten: 2,
      duplicates: 1,
      quarantined: 4,
      linesRead: 7,
      startOffset: 0,
      endOffset: Buffer.byteLength(text),
      badLines: [
        { line: 2, reason: 'MalformedJson', details: parseError },
        {
          line: 3,
          reason: 'InvalidValue',
          details: `column 'TimeGenerated' (datetime): expected datetime, got "2025-02-30T00:00:00"`,
        },
        {
          line: 4,
          reason: 'MissingRecordKey',
          details: 'the record key (OfficeId) is empty, so duplicates of this record could not be recognised',
        },
        { line: 6, reason: 'NotAnObject', details: 'a record must be a JSON object, got an array' },
      ],
    });
  });

  it('writes the bad records to IngestionQuarantine with reason, position and the exact raw text', async () => {
    const rows = await ws.store.query<Record<string, unknown>>(
      `SELECT TargetTable, Source, SourcePosition, Reason, RawRecord, TenantId, SourceSystem, Type,
              _IsBillable, _BilledSize
       FROM vigil.IngestionQuarantine WHERE Source = ${sqlString(source)}
       ORDER BY toUInt32(substring(SourcePosition, 6))`,
    );
    const common = { TargetTable: 'OfficeActivity', Source: source, TenantId: ws.id, SourceSystem: 'Vigil' };
    expect(rows).toEqual([
      {
        ...common,
        SourcePosition: 'line 2',
        Reason: 'MalformedJson',
        RawRecord: lines[1],
        Type: 'IngestionQuarantine',
        _IsBillable: false,
        _BilledSize: Buffer.byteLength(lines[1]!),
      },
      {
        ...common,
        SourcePosition: 'line 3',
        Reason: 'InvalidValue',
        RawRecord: lines[2],
        Type: 'IngestionQuarantine',
        _IsBillable: false,
        _BilledSize: Buffer.byteLength(lines[2]!),
      },
      {
        ...common,
        SourcePosition: 'line 4',
        Reason: 'MissingRecordKey',
        RawRecord: lines[3],
        Type: 'IngestionQuarantine',
        _IsBillable: false,
        _BilledSize: Buffer.byteLength(lines[3]!),
      },
      {
        ...common,
        SourcePosition: 'line 6',
        Reason: 'NotAnObject',
        RawRecord: '[1,2]',
        Type: 'IngestionQuarantine',
        _IsBillable: false,
        _BilledSize: 6,
      },
    ]);
  });

  it('still stores the good rows of the batch, with the pipeline columns set', async () => {
    const rows = await ws.store.query<Record<string, unknown>>(
      `SELECT OfficeId, SourceRecordId, RecordType, UserType, OfficeWorkload, TenantId, Type, SourceSystem,
              toString(TimeGenerated) AS tg, toUnixTimestamp64Milli(_TimeReceived) AS received, _IsBillable,
              _BilledSize, toInt32(length(_ItemId)) AS itemIdLength
       FROM vigil.OfficeActivity WHERE startsWith(OfficeId, 'q-') ORDER BY OfficeId`,
    );
    expect(rows.map((r) => r.OfficeId)).toEqual(['q-1', 'q-7']);
    for (const [i, row] of rows.entries()) {
      const line = lines[i === 0 ? 0 : 6]!;
      const record = JSON.parse(line) as { CreationTime: string };
      expect(row).toMatchObject({
        SourceRecordId: row.OfficeId,
        RecordType: 'SharePointFileOperation',
        UserType: 'Regular',
        OfficeWorkload: 'SharePoint',
        TenantId: ws.id,
        Type: 'OfficeActivity',
        SourceSystem: 'Azure',
        tg: `${record.CreationTime.replace('T', ' ')}.0000000`,
        _IsBillable: true,
        _BilledSize: Buffer.byteLength(line),
        itemIdLength: 36,
      });
      const received = Number(row.received);
      expect(received).toBeGreaterThanOrEqual(before);
      expect(received).toBeLessThanOrEqual(after);
    }
    expect(ws.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('quarantines a record longer than the limit with its first 64 KiB', async () => {
    const head = '{"Id":"big-1","Payload":"';
    const big = head + 'x'.repeat(MAX_RECORD_BYTES + 10 - head.length) + '"}';
    const text2 = `${JSON.stringify(office('big-0'))}\n${big}\n${JSON.stringify(office('big-2'))}\n`;
    const summary2 = await ingest('OfficeActivity', 'test:big', text2, { chunk: 1024 * 1024 });
    expect(summary2.rowsWritten).toBe(2);
    expect(summary2.quarantined).toBe(1);
    expect(summary2.badLines.map((b) => [b.line, b.reason])).toEqual([[2, 'RecordTooLarge']]);
    expect(summary2.endOffset).toBe(Buffer.byteLength(text2));
    const rows = await ws.store.query<{ RawRecord: string; SourcePosition: string; _BilledSize: number }>(
      `SELECT RawRecord, SourcePosition, _BilledSize FROM vigil.IngestionQuarantine WHERE Source = 'test:big'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.SourcePosition).toBe('line 2');
    expect(rows[0]!.RawRecord).toBe(big.slice(0, 64 * 1024));
    expect(rows[0]!._BilledSize).toBe(Buffer.byteLength(big));
    expect(await officeCount('big-')).toBe(2);
  });
});

describe('IngestService: checkpoints', () => {
  it('saves the position after the store acknowledged, and resumes from it', async () => {
    const source = 'file:/data/office-part.ndjson';
    const part1 = ndjson([office('cp-1'), office('cp-2'), office('cp-3')]);
    const part2 = `${JSON.stringify(office('cp-4'))}\nnot json\n${JSON.stringify(office('cp-5'))}`;
    expect(await service.position(source, 'OfficeActivity')).toEqual({ offset: 0, line: 1 });

    const s1 = await ingest('OfficeActivity', source, part1, { checkpoint: true });
    expect([s1.rowsWritten, s1.startOffset, s1.endOffset]).toEqual([3, 0, Buffer.byteLength(part1)]);
    expect(await service.position(source, 'OfficeActivity')).toMatchObject({
      offset: Buffer.byteLength(part1),
      line: 4,
      totals: { rowsWritten: 3, duplicates: 0, quarantined: 0 },
    });

    const start = Buffer.byteLength(part1);
    const s2 = await ingest('OfficeActivity', source, part2, { checkpoint: true, startOffset: start });
    const total = start + Buffer.byteLength(part2);
    expect(s2).toMatchObject({
      rowsWritten: 2,
      quarantined: 1,
      linesRead: 3,
      startOffset: start,
      endOffset: total,
    });
    // Line numbers continue from the checkpoint.
    expect(s2.badLines).toEqual([{ line: 5, reason: 'MalformedJson', details: expect.any(String) }]);
    expect(await service.position(source, 'OfficeActivity')).toMatchObject({
      offset: total,
      line: 7,
      totals: { rowsWritten: 5, duplicates: 0, quarantined: 1 },
    });
    const q = await ws.store.query<{ SourcePosition: string; RawRecord: string }>(
      `SELECT SourcePosition, RawRecord FROM vigil.IngestionQuarantine WHERE Source = ${sqlString(source)}`,
    );
    expect(q).toEqual([{ SourcePosition: 'line 5', RawRecord: 'not json' }]);
    expect(await officeCount('cp-')).toBe(5);
  });

  it('counts a byte-order mark in the checkpointed position', async () => {
    const source = 'file:/data/bom.ndjson';
    const data = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ndjson([office('bom-1')]))]);
    const s = await service.ingestStream({
      table: 'OfficeActivity',
      source,
      input: chunks(data, 1),
      checkpoint: true,
    });
    expect([s.rowsWritten, s.quarantined, s.endOffset]).toEqual([1, 0, data.length]);
    expect((await service.position(source, 'OfficeActivity')).offset).toBe(data.length);
  });

  it('refuses a run whose start offset is not the checkpoint with OffsetMismatch', async () => {
    const source = 'file:/data/mismatch.ndjson';
    const text = ndjson([office('mm-1')]);
    await ingest('OfficeActivity', source, text, { checkpoint: true });
    const len = Buffer.byteLength(text);

    const wrong = ingest('OfficeActivity', source, text, { checkpoint: true, startOffset: 0 });
    await expect(wrong).rejects.toBeInstanceOf(IngestError);
    await expect(wrong).rejects.toMatchObject({ code: 'OffsetMismatch', details: { expectedOffset: len } });
    await expect(
      ingest('OfficeActivity', 'file:/data/never-seen.ndjson', text, { checkpoint: true, startOffset: 10 }),
    ).rejects.toMatchObject({ name: 'IngestError', code: 'OffsetMismatch', details: { expectedOffset: 0 } });
    // Nothing moved.
    expect((await service.position(source, 'OfficeActivity')).offset).toBe(len);
    expect(await service.position('file:/data/never-seen.ndjson', 'OfficeActivity')).toEqual({
      offset: 0,
      line: 1,
    });
    expect(await officeCount('mm-')).toBe(1);
  });

  it('forgets a position with resetPosition', async () => {
    const source = 'file:/data/reset.ndjson';
    const text = ndjson([office('rs-1'), office('rs-2')]);
    await ingest('OfficeActivity', source, text, { checkpoint: true });
    await service.resetPosition(source, 'OfficeActivity');
    expect(await service.position(source, 'OfficeActivity')).toEqual({ offset: 0, line: 1 });
    const again = await ingest('OfficeActivity', source, text, { checkpoint: true });
    expect([again.rowsWritten, again.duplicates]).toEqual([0, 2]);
    expect(await officeCount('rs-')).toBe(2);
  });
});

describe('IngestService: idempotent batch writes', () => {
  beforeAll(async () => {
    await ws.createCustomTable({
      name: 'Test_CL',
      columns: [
        { name: 'TimeGenerated', type: 'datetime' },
        { name: 'Msg', type: 'string' },
      ],
    });
  });

  function testRows(prefix: string, n: number, first = 0): string {
    const records: unknown[] = [];
    for (let i = first; i < first + n; i++) {
      records.push({
        TimeGenerated: new Date(Date.now() - 60_000 - i * 1000).toISOString(),
        Msg: `${prefix}${i}`,
      });
    }
    return ndjson(records);
  }

  function countMsg(prefix: string): Promise<number> {
    return scalar(`SELECT count() AS v FROM vigil.Test_CL WHERE startsWith(Msg, ${sqlString(prefix)})`);
  }

  it('stores the rows of one insert token once, even when the replayed rows differ', async () => {
    const now = datetimeFromMillis(Date.now());
    const row = (itemId: string) =>
      Buffer.from(
        `${JSON.stringify({ TimeGenerated: now, Msg: 'tok-a', _ItemId: itemId, TenantId: ws.id })}\n`,
      );
    await ws.store.insertJsonEachRow('Test_CL', row('item-1'), { token: 'token-test-1' });
    await ws.store.insertJsonEachRow('Test_CL', row('item-2'), { token: 'token-test-1' });
    expect(await countMsg('tok-a')).toBe(1);
    const ids = await ws.store.query<{ _ItemId: string }>(
      `SELECT _ItemId FROM vigil.Test_CL WHERE Msg = 'tok-a'`,
    );
    expect(ids).toEqual([{ _ItemId: 'item-1' }]);
    // Another token stores them again.
    await ws.store.insertJsonEachRow('Test_CL', row('item-3'), { token: 'token-test-2' });
    expect(await countMsg('tok-a')).toBe(2);
  });

  it('also stores an OfficeActivity batch once when its token is replayed', async () => {
    const rows = Buffer.from(
      ndjson([
        { TimeGenerated: datetimeFromMillis(Date.now()), OfficeId: 'tok-o-1', _ItemId: 'a' },
        { TimeGenerated: datetimeFromMillis(Date.now() - 86_400_000), OfficeId: 'tok-o-2', _ItemId: 'b' },
      ]),
    );
    await ws.store.insertJsonEachRow('OfficeActivity', rows, { token: 'token-office-1' });
    await ws.store.insertJsonEachRow('OfficeActivity', rows, { token: 'token-office-1' });
    expect(await officeCount('tok-o-')).toBe(2);
  });

  it('stores a keyless table twice when the checkpoint is reset (documented), once when resumed', async () => {
    const source = 'file:/data/test-cl.ndjson';
    const text = testRows('reset-', 5);
    const s1 = await ingest('Test_CL', source, text, { checkpoint: true });
    expect([s1.rowsWritten, s1.duplicates]).toEqual([5, 0]);

    // Resumed: the caller sends the bytes after the checkpoint, here none.
    const pos = await service.position(source, 'Test_CL');
    expect(pos.offset).toBe(Buffer.byteLength(text));
    const resumed = await ingest('Test_CL', source, '', { checkpoint: true, startOffset: pos.offset });
    expect([resumed.rowsWritten, resumed.linesRead, resumed.endOffset]).toEqual([0, 0, pos.offset]);
    expect(await countMsg('reset-')).toBe(5);

    // Reset: a new run with new tokens and no record key to recognise the rows by.
    await service.resetPosition(source, 'Test_CL');
    const s2 = await ingest('Test_CL', source, text, { checkpoint: true });
    expect([s2.rowsWritten, s2.duplicates]).toEqual([5, 0]);
    expect(await countMsg('reset-')).toBe(10);
  });

  it('does not store a batch twice when a crash came between its insert and its checkpoint', async () => {
    const source = 'file:/data/crash.ndjson';
    // Three batches: 1,000, 1,000 and 500 lines.
    const text = testRows('crash-', 2500);
    const realSave = ws.checkpoints.save.bind(ws.checkpoints);
    let saves = 0;
    const spy = vi.spyOn(ws.checkpoints, 'save').mockImplementation(async (id, position, version) => {
      saves++;
      // Save 1 is the run's first checkpoint (before any batch); save 2 follows the first batch's insert.
      if (saves === 2) throw new Error('simulated crash before the checkpoint');
      return realSave(id, position, version);
    });
    try {
      await expect(ingest('Test_CL', source, text, { checkpoint: true, chunk: 65_536 })).rejects.toThrow(
        'simulated crash before the checkpoint',
      );
    } finally {
      spy.mockRestore();
    }
    expect(saves).toBe(2);
    // The first batch is stored; the checkpoint does not know it.
    expect(await countMsg('crash-')).toBe(BATCH_ROWS);
    const pos = await service.position(source, 'Test_CL');
    expect(pos.offset).toBe(0);

    // The next run resumes from the checkpoint (same run id, so the same insert tokens).
    const resumed = await ingest('Test_CL', source, text, {
      checkpoint: true,
      startOffset: pos.offset,
      chunk: 1000,
    });
    expect(resumed.endOffset).toBe(Buffer.byteLength(text));
    expect(await countMsg('crash-')).toBe(2500);
    expect(
      await scalar(`SELECT uniqExact(Msg) AS v FROM vigil.Test_CL WHERE startsWith(Msg, 'crash-')`),
    ).toBe(2500);
    expect(await service.position(source, 'Test_CL')).toMatchObject({
      offset: Buffer.byteLength(text),
      line: 2501,
      totals: { rowsWritten: 2500, duplicates: 0, quarantined: 0 },
    });
  });

  it('does not store a keyed batch twice after such a crash either', async () => {
    const source = 'file:/data/crash-office.ndjson';
    const ids = Array.from({ length: 2100 }, (_, i) => `crash-o-${i}`);
    const text = ndjson(ids.map((id, i) => office(id, i % 600)));
    const realSave = ws.checkpoints.save.bind(ws.checkpoints);
    let saves = 0;
    const spy = vi.spyOn(ws.checkpoints, 'save').mockImplementation(async (id, position, version) => {
      saves++;
      if (saves === 2) throw new Error('simulated crash');
      return realSave(id, position, version);
    });
    try {
      await expect(ingest('OfficeActivity', source, text, { checkpoint: true })).rejects.toThrow(
        'simulated crash',
      );
    } finally {
      spy.mockRestore();
    }
    expect(await officeCount('crash-o-')).toBe(BATCH_ROWS);
    const resumed = await ingest('OfficeActivity', source, text, { checkpoint: true, startOffset: 0 });
    expect(await officeCount('crash-o-')).toBe(2100);
    expect(await officeUnique('crash-o-')).toBe(2100);
    expect(resumed.rowsWritten + resumed.duplicates).toBe(2100);
    expect(resumed.rowsWritten).toBe(2100 - BATCH_ROWS);
  });
});

describe("IngestService: Vigil's own tables", () => {
  it('refuses writes into the quarantine and the query audit table from anyone but Vigil', async () => {
    for (const table of ['IngestionQuarantine', 'LAQueryLogs']) {
      await expect(
        ingest(table, 'file:/data/forged.ndjson', ndjson([{ QueryText: 'forged', Reason: 'forged' }])),
      ).rejects.toMatchObject({ name: 'WorkspaceError', code: 'ReadOnlyTable' });
    }
    expect(await scalar("SELECT count() AS v FROM vigil.LAQueryLogs WHERE QueryText = 'forged'")).toBe(0);
  });
});

describe('IngestService.ingestBatch (records a connector holds)', () => {
  /** Records as a connector hands them over: one JSON text each. */
  const blob = (records: unknown[]) =>
    records.map((r, i) => {
      const bytes = Buffer.from(JSON.stringify(r));
      return { number: i + 1, bytes, length: bytes.length };
    });

  it('writes only the selected records, quarantines bad ones, and stores a replayed token once', async () => {
    const records = [
      office('batch-1', 10, { RecordType: 25, Workload: 'MicrosoftTeams' }),
      office('batch-2', 20),
      office('batch-3', 30, { RecordType: '25', Workload: 'MicrosoftTeams' }),
      office('batch-4', 40, { RecordType: 25, Workload: 'MicrosoftTeams', CreationTime: 'not a time' }),
    ];
    const request = {
      table: 'OfficeActivity',
      source: 'Office365/t1/Audit.General',
      records: blob(records),
      token: 'Office365/t1/Audit.General/blob-1',
      select: { field: 'RecordType', in: [25] },
    };
    const first = await service.ingestBatch(request);
    expect(first).toMatchObject({ rowsWritten: 2, skipped: 1, quarantined: 1, duplicates: 0 });
    expect(first.badRecords[0]).toMatchObject({ line: 4, reason: 'InvalidValue' });
    const replay = await service.ingestBatch(request);
    expect(replay).toMatchObject({ rowsWritten: 0, duplicates: 2, quarantined: 1 });
    expect(await officeCount('batch-')).toBe(2);
    const q = await ws.store.query<{ SourcePosition: string; n: string }>(
      "SELECT SourcePosition, count() AS n FROM vigil.IngestionQuarantine WHERE Source = 'Office365/t1/Audit.General' GROUP BY SourcePosition",
    );
    // The replayed quarantine insert carried the same token: one row, not two.
    expect(q).toEqual([{ SourcePosition: 'record 4', n: '1' }]);
  });

  it('takes records already parsed, and quarantines what is not a record even when a selector is set', async () => {
    const lines = [
      {
        number: 1,
        bytes: undefined,
        length: 100,
        record: office('parsed-1', 5, { RecordType: 25, Workload: 'MicrosoftTeams' }),
      },
      { number: 2, bytes: undefined, length: 100, record: 42 },
      { number: 3, bytes: undefined, length: 100, record: office('parsed-3', 5) },
    ];
    const summary = await service.ingestBatch({
      table: 'OfficeActivity',
      source: 'Office365/t2/Audit.General',
      records: lines,
      token: 'parsed-blob',
      select: { field: 'RecordType', in: [25] },
    });
    expect(summary).toMatchObject({ rowsWritten: 1, skipped: 1, quarantined: 1 });
    const q = await ws.store.query<{ RawRecord: string; Reason: string }>(
      "SELECT RawRecord, Reason FROM vigil.IngestionQuarantine WHERE Source = 'Office365/t2/Audit.General'",
    );
    expect(q).toEqual([{ RawRecord: '42', Reason: 'NotAnObject' }]);
  });

  it('serialises concurrent batches of one table so each record is stored once', async () => {
    const a = blob([office('conc-1'), office('conc-2'), office('conc-3')]);
    const b = blob([office('conc-2'), office('conc-3'), office('conc-4')]);
    const results = await Promise.all([
      service.ingestBatch({ table: 'OfficeActivity', source: 's', records: a, token: 'conc-a' }),
      service.ingestBatch({ table: 'OfficeActivity', source: 's', records: b, token: 'conc-b' }),
    ]);
    expect(results[0]!.rowsWritten + results[1]!.rowsWritten).toBe(4);
    expect(await officeCount('conc-')).toBe(4);
  });

  it('lets few rows that may linger wait for the next batches of their table, so they share one insert', async () => {
    // Parts of a table: one per insert (merges wait for 16).
    const parts = () =>
      scalar(
        "SELECT count() AS v FROM system.parts WHERE database = 'vigil' AND table = 'PowerBIActivity' AND active",
      );
    const powerBi = (id: string) => ({
      Id: id,
      CreationTime: creationTime(5),
      RecordType: 20,
      Workload: 'PowerBI',
      Operation: 'ViewReport',
      UserId: 'alice@contoso.com',
    });
    // Five one-record batches 20 ms apart, as a connector's blobs arrive.
    const spread = async (prefix: string, lingerMs: number) => {
      const written: Promise<{ rowsWritten: number }>[] = [];
      for (let i = 0; i < 5; i++) {
        written.push(
          service.ingestBatch({
            table: 'PowerBIActivity',
            source: 's',
            records: blob([powerBi(`${prefix}-${i}`)]),
            token: `${prefix}-${i}`,
            lingerMs,
          }),
        );
        await new Promise((r) => setTimeout(r, 20));
      }
      return (await Promise.all(written)).reduce((n, r) => n + r.rowsWritten, 0);
    };
    const before = await parts();
    expect(await spread('eager', 0)).toBe(5);
    const afterEager = await parts();
    expect(await spread('linger', 300)).toBe(5);
    expect(afterEager - before).toBeGreaterThan(1);
    expect((await parts()) - afterEager).toBe(1);

    // Many rows do not wait, whatever they were allowed.
    const many = Array.from({ length: 250 }, (_, i) => powerBi(`many-${i}`));
    const started = Date.now();
    const summary = await service.ingestBatch({
      table: 'PowerBIActivity',
      source: 's',
      records: blob(many),
      token: 'many',
      lingerMs: 60_000,
    });
    expect(summary.rowsWritten).toBe(250);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

describe('IngestService: JSON-valued columns', () => {
  it('stores a dynamic or string column given an object or array as its compact JSON text, a scalar as given', async () => {
    const extra = [
      { Key: 'Country', Value: 'DE "quoted" é\n' },
      { Key: 'n', Value: 2.5 },
    ];
    const parameters = [{ Name: 'Identity', Value: 'x\\y' }];
    const summary = await ingest(
      'OfficeActivity',
      'json-columns',
      ndjson([
        office('json-1', 0, { ExtraProperties: extra, Parameters: parameters }),
        office('json-2', 0, { ExtraProperties: '{"A": [1, 2]}', Parameters: '[not json' }),
        office('json-3', 0, { ExtraProperties: 'plain', Parameters: 42 }),
      ]),
    );
    expect(summary.rowsWritten).toBe(3);
    const rows = await ws.store.query<{ OfficeId: string; ExtraProperties: string; Parameters: string }>(
      `SELECT OfficeId, ExtraProperties, Parameters FROM vigil.OfficeActivity WHERE startsWith(OfficeId, 'json-') ORDER BY OfficeId`,
    );
    expect(rows).toEqual([
      { OfficeId: 'json-1', ExtraProperties: JSON.stringify(extra), Parameters: JSON.stringify(parameters) },
      { OfficeId: 'json-2', ExtraProperties: '{"A":[1,2]}', Parameters: '[not json' },
      { OfficeId: 'json-3', ExtraProperties: '"plain"', Parameters: '42' },
    ]);
  });
});

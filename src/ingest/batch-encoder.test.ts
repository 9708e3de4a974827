import { describe, expect, it } from 'vitest';
import { OfficeActivity } from '../workspace/tables/OfficeActivity.js';
import { encodeBatch, type RawLine } from './batch-encoder.js';

const RECEIVED = '2025-07-01 12:00:00.0000000';

function lines(records: readonly unknown[]): RawLine[] {
  return records.map((record, i) => {
    const bytes = Buffer.from(JSON.stringify(record));
    return { number: i + 1, bytes, length: bytes.length };
  });
}

function encode(input: readonly RawLine[]) {
  return encodeBatch({
    schema: OfficeActivity,
    retentionDays: 90,
    lines: input,
    receivedAt: RECEIVED,
    workspaceId: 'ws-1',
    source: 'test',
  });
}

/** The rows as parsed objects, read through `rowEnds` (so the offsets are checked too). */
function rowsOf(batch: ReturnType<typeof encode>): Record<string, unknown>[] {
  const text = Buffer.from(batch.rows.buffer, batch.rows.byteOffset, batch.rows.byteLength);
  const rows: Record<string, unknown>[] = [];
  let start = 0;
  for (const end of batch.rowEnds) {
    expect(text[end - 1]).toBe(10);
    rows.push(JSON.parse(text.subarray(start, end - 1).toString('utf8')) as Record<string, unknown>);
    start = end;
  }
  expect(start).toBe(text.length);
  return rows;
}

describe('encodeBatch', () => {
  it('writes one row a record and marks where each ends, also when rows outgrow their source lines', () => {
    // Rows carry columns the source lines lack (TenantId, _TimeReceived, ...): 3,000 tiny records make rows
    // several times longer than their lines, past the writer's first allocation.
    const records = Array.from({ length: 3000 }, (_, i) => ({ Id: `id-${i}` }));
    const batch = encode(lines(records));
    expect(batch.rows.byteLength).toBeGreaterThan(64 * 1024 + records.length * 20);
    const rows = rowsOf(batch);
    expect(rows.map((r) => r.OfficeId)).toEqual(records.map((r) => r.Id));
    expect(rows.every((r) => r.TenantId === 'ws-1' && r._TimeReceived === RECEIVED)).toBe(true);
    expect(batch.keys).toHaveLength(records.length);
  });

  it('keeps multi-byte characters intact (2-, 3- and 4-byte UTF-8)', () => {
    const names = ['Jürgen', '東京オフィス', 'rocket 🚀 launch', 'plain'];
    const batch = encode(lines(names.map((UserId, i) => ({ Id: `id-${i}`, UserId }))));
    expect(rowsOf(batch).map((r) => r.UserId)).toEqual(names);
  });

  it('leaves quarantined records out of the rows', () => {
    const input = lines([{ Id: 'a' }, { Id: 'b' }]);
    const bad: RawLine = { number: 3, bytes: Buffer.from('{"Id": '), length: 7 };
    const batch = encode([input[0]!, bad, input[1]!]);
    expect(rowsOf(batch).map((r) => r.OfficeId)).toEqual(['a', 'b']);
    expect(batch.bad).toEqual([expect.objectContaining({ line: 3, reason: 'MalformedJson' })]);
  });
});

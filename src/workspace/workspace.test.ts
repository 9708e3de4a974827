import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Workspace } from './workspace.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-workspace-'));

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function engineFull(ws: Workspace, table: string): Promise<string> {
  const [row] = await ws.store.query<{ engine_full: string }>(
    `SELECT engine_full FROM system.tables WHERE database = 'vigil' AND name = '${table}'`,
  );
  return row?.engine_full ?? '';
}

describe('Workspace.open on a data directory an earlier Vigil wrote', () => {
  it('brings existing tables to the current table settings, keeping their rows', async () => {
    let ws = await Workspace.open(dir);
    await ws.store.insertJsonEachRow(
      'OfficeActivity',
      Buffer.from('{"TimeGenerated":"2026-11-27 10:00:00.0000000","OfficeId":"a","TenantId":"t"}\n'),
    );
    // As a table created before these settings existed would be.
    await ws.store.command(
      'ALTER TABLE vigil.OfficeActivity MODIFY SETTING max_parts_to_merge_at_once = 100, merge_selector_base = 5',
    );
    expect(await engineFull(ws, 'OfficeActivity')).toContain('max_parts_to_merge_at_once = 100');
    await ws.close();

    ws = await Workspace.open(dir);
    try {
      const settings = await engineFull(ws, 'OfficeActivity');
      expect(settings).toContain('max_parts_to_merge_at_once = 16');
      expect(settings).toContain('min_age_to_force_merge_on_partition_only = 1');
      expect(settings).toContain('merge_selector_base = 10');
      expect(await ws.store.query('SELECT OfficeId FROM vigil.OfficeActivity')).toEqual([{ OfficeId: 'a' }]);
    } finally {
      await ws.close();
    }
  });
});

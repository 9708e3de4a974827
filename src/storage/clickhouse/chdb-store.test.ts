import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChdbLogStore } from './chdb-store.js';

let dir: string;
let store: ChdbLogStore;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-chdb-store-'));
  store = await ChdbLogStore.open(dir);
});

afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('ChdbLogStore: the engine it loads', () => {
  it('runs the engine with Vigil’s allocator settings (freed pages returned after 300 ms, one arena, 4 KiB thread caches)', async () => {
    const [row] = await store.query<Record<string, string>>('SELECT * FROM system.jemalloc_stats');
    const stats = String(Object.values(row ?? {})[0]);
    expect(stats).toMatch(/opt\.dirty_decay_ms: 300\b/);
    expect(stats).toMatch(/opt\.narenas: 1\b/);
    expect(stats).toMatch(/opt\.percpu_arena: "disabled"/);
    expect(stats).toMatch(/opt\.tcache_max: 4096\b/);
  });

  it('runs merges at a lower CPU priority than writes and queries, at most one per core', async () => {
    const [row] = await store.query<{ nice: string; ratio: string }>(
      "SELECT getServerSetting('os_threads_nice_value_merge_mutate') AS nice, getServerSetting('background_merges_mutations_concurrency_ratio') AS ratio",
    );
    expect(Number(row?.nice)).toBe(10);
    expect(Number(row?.ratio)).toBe(1);
  });
});

describe('ChdbLogStore: rows the engine would misread', () => {
  it('refuses rows holding a blank line, after which the engine would run the rest as a statement', async () => {
    await store.command('CREATE TABLE vigil.blank_line_probe (a Int64) ENGINE = MergeTree ORDER BY a');
    const injected = '{"a":1}\n\nCREATE TABLE vigil.blank_line_injected (x Int8) ENGINE = Memory\n';
    await expect(store.insertJsonEachRow('blank_line_probe', Buffer.from(injected))).rejects.toMatchObject({
      code: 'InsertRejected',
      message: expect.stringContaining('blank line'),
    });
    // Split across chunks of a bulk load, too.
    const chunks = (async function* () {
      yield '{"a":2}\n';
      yield '\nCREATE TABLE vigil.blank_line_injected (x Int8) ENGINE = Memory\n';
    })();
    await expect(store.bulkLoadJsonEachRow('blank_line_probe', chunks)).rejects.toMatchObject({
      code: 'InsertRejected',
    });
    const tables = await store.query<{ name: string }>(
      "SELECT name FROM system.tables WHERE database = 'vigil' AND name LIKE 'blank_line%'",
    );
    expect(tables.map((t) => t.name)).toEqual(['blank_line_probe']);
    // Rows without one go in as before.
    await store.insertJsonEachRow('blank_line_probe', Buffer.from('{"a":3}\n{"a":4}\n'));
    const rows = await store.query<{ a: string }>('SELECT a FROM vigil.blank_line_probe');
    expect(rows.map((r) => r.a)).toEqual(expect.arrayContaining(['3', '4']));
  });
});

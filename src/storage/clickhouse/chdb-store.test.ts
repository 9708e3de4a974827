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

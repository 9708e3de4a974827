/**
 * `npm run bench:storage-types`: the measurement behind src/storage/clickhouse/types.ts — how to store Kusto's
 * `dynamic`, `datetime` and `guid` in ClickHouse. One run, one process, the embedded engine.
 *
 * For each candidate it loads the same N rows and prints insert time, bytes on disk, the time of a typical
 * query, and whether values come back exactly as sent (Kusto's `dynamic` must round-trip any JSON value).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prng } from '../src/simulator/generators/office365-audit.js';
import { ChdbLogStore } from '../src/storage/clickhouse/chdb-store.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e6];
}

async function main(): Promise<void> {
  const n = Number(arg('rows') ?? 300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-types-'));
  const store = await ChdbLogStore.open(dir, 'bench');
  try {
    const r = prng(5);
    const start = Date.now() - 3600_000;
    const rows: string[] = [];
    for (let i = 0; i < n; i++) {
      const bag = {
        UPN: `user${Math.floor(r() * 5000)}@contoso.com`,
        Role: Math.floor(r() * 3),
        Tags: ['a', Math.floor(r() * 10), r() < 0.5],
        Nested: { Country: ['DE', 'US', 'FR'][Math.floor(r() * 3)], Score: Math.round(r() * 1000) / 10 },
      };
      const when = new Date(start + i * 10).toISOString().replace('T', ' ').replace('Z', '0000');
      const id = `${Math.floor(r() * 0xffffffff)
        .toString(16)
        .padStart(8, '0')}-1234-4abc-8def-${i.toString(16).padStart(12, '0')}`;
      rows.push(JSON.stringify({ t: when, id, bag: JSON.stringify(bag), obj: bag }));
    }
    const candidates: { name: string; ddl: string; query: string; check: string }[] = [
      {
        name: 'dynamic as String (JSON text)',
        ddl: "t DateTime64(7, 'UTC'), id String, bag String",
        query:
          "SELECT JSONExtractString(bag, 'Nested', 'Country') AS c, count() FROM {T} GROUP BY c ORDER BY c",
        check: 'SELECT bag FROM {T} LIMIT 1',
      },
      {
        name: 'dynamic as JSON (typed subcolumns)',
        ddl: "t DateTime64(7, 'UTC'), id String, obj JSON",
        query: 'SELECT toString(obj.Nested.Country) AS c, count() FROM {T} GROUP BY c ORDER BY c',
        check: 'SELECT toJSONString(obj) FROM {T} LIMIT 1',
      },
      {
        name: 'datetime as DateTime64(7), guid as UUID',
        ddl: "t DateTime64(7, 'UTC'), id UUID",
        query: `SELECT count() FROM {T} WHERE t >= now64(7) - INTERVAL 30 MINUTE`,
        check: 'SELECT t, id FROM {T} LIMIT 1',
      },
      {
        name: 'datetime and guid as String',
        ddl: 't String, id String',
        query: `SELECT count() FROM {T} WHERE parseDateTime64BestEffort(t, 7) >= now64(7) - INTERVAL 30 MINUTE`,
        check: 'SELECT t, id FROM {T} LIMIT 1',
      },
    ];
    process.stdout.write(`bench:storage-types: ${n.toLocaleString('en-US')} rows\n`);
    for (const [i, c] of candidates.entries()) {
      const table = `c${i}`;
      await store.command(
        `CREATE TABLE bench.${table} (${c.ddl}) ENGINE = MergeTree ORDER BY tuple() SETTINGS index_granularity = 8192`,
      );
      const columns = c.ddl.split(',').map((d) => d.trim().split(' ')[0]!);
      const projected = Buffer.from(
        rows
          .map((line) => {
            const o = JSON.parse(line) as Record<string, unknown>;
            return JSON.stringify(Object.fromEntries(columns.map((k) => [k, o[k]])));
          })
          .join('\n') + '\n',
      );
      const [, insertMs] = await timed(() => store.insertJsonEachRow(table, projected));
      await store.command(`OPTIMIZE TABLE bench.${table} FINAL`);
      const [size] = await store.query<{ b: string }>(
        `SELECT sum(bytes_on_disk) AS b FROM system.parts WHERE database = 'bench' AND table = '${table}' AND active`,
      );
      const sql = c.query.replace('{T}', `bench.${table}`);
      await store.queryText(sql, 'TSV');
      const times: number[] = [];
      for (let k = 0; k < 5; k++) times.push((await timed(() => store.queryText(sql, 'TSV')))[1]);
      times.sort((a, b) => a - b);
      const sample = (await store.queryText(c.check.replace('{T}', `bench.${table}`), 'TSV')).trim();
      process.stdout.write(
        `${c.name.padEnd(42)} insert ${insertMs.toFixed(0).padStart(6)} ms  disk ${(Number(size!.b) / 1048576).toFixed(1).padStart(6)} MiB  query ${times[2]!.toFixed(1).padStart(7)} ms  sample ${sample.slice(0, 110)}\n`,
      );
    }
    process.stdout.write(`sent bag: ${JSON.parse(rows[0]!).bag}\n`);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();

/**
 * KQL conformance corpus: every `cases/*.kql-case.json` file holds an array of cases, each a query run
 * through the whole engine (Kusto parser/binder → IR → SQL) against the real embedded store.
 *
 * Case shape:
 *   { name, query, tables?: { X_CL: { columns: {name: type}, rows: [{...}] } },
 *     expected: { columns?: ["name:type"], rows?: [[...]], ordered?: boolean, error?: "KS142",
 *                 absentColumns?: ["_ItemId"], render?: { visualization, title?, ... } | null },
 *     skip?: "reason" }
 * Rows compare unordered (sorted as JSON) unless `ordered` is true: Kusto leaves the order of
 * summarize, distinct, union and take unspecified.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KqlError } from '../../src/kql/errors.js';
import { runQuery } from '../../src/kql/run.js';
import { Workspace } from '../../src/workspace/workspace.js';

interface Case {
  readonly name: string;
  readonly query: string;
  readonly tables?: Record<string, { columns: Record<string, string>; rows: Record<string, unknown>[] }>;
  readonly expected: {
    readonly columns?: string[];
    readonly rows?: unknown[][];
    readonly ordered?: boolean;
    readonly error?: string;
    /** Column names that must not appear (hidden standard columns). */
    readonly absentColumns?: string[];
    /** The `render` metadata of the result (`null`: none). */
    readonly render?: Record<string, unknown> | null;
  };
  readonly skip?: string;
}

const casesDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'cases');
const files = fs
  .readdirSync(casesDir)
  .filter((f) => f.endsWith('.kql-case.json'))
  .sort();

let dir: string;
let ws: Workspace;
const created = new Set<string>();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-kql-'));
  ws = await Workspace.open(dir);
});

afterAll(async () => {
  await ws?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function createTables(tables: NonNullable<Case['tables']>): Promise<void> {
  for (const [name, def] of Object.entries(tables)) {
    if (created.has(name)) continue;
    await ws.createCustomTable({
      name,
      columns: Object.entries(def.columns).map(([n, type]) => ({ name: n, type })),
    });
    const ndjson = def.rows
      .map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, materialise(v)]))))
      .join('\n');
    await ws.store.insertJsonEachRow(name, Buffer.from(ndjson));
    created.add(name);
  }
}

/** Table rows may say `"@ago(2h)"` for a datetime: tables have a TTL, so stored rows must be recent. */
function materialise(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const m = /^@ago\((\d+)([hmd])\)$/.exec(value);
  if (!m) return value;
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
  return new Date(Date.now() - Number(m[1]) * unit).toISOString().replace('T', ' ').replace('Z', '');
}

const sortRows = (rows: unknown[][]) => rows.map((r) => JSON.stringify(r)).sort();

for (const file of files) {
  const cases = JSON.parse(fs.readFileSync(path.join(casesDir, file), 'utf8')) as Case[];
  describe(file.replace('.kql-case.json', ''), () => {
    for (const c of cases) {
      const run = c.skip ? it.skip : it;
      run(c.name, async () => {
        if (c.tables) await createTables(c.tables);
        if (c.expected.error) {
          const err = await runQuery(ws, c.query).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(KqlError);
          expect((err as KqlError).code).toBe(c.expected.error);
          return;
        }
        const result = await runQuery(ws, c.query);
        if (c.expected.columns) {
          expect(result.columns.map((col) => `${col.name}:${col.type}`)).toEqual(c.expected.columns);
        }
        if (c.expected.render !== undefined) expect(result.render ?? null).toEqual(c.expected.render);
        for (const absent of c.expected.absentColumns ?? []) {
          expect(result.columns.map((col) => col.name)).not.toContain(absent);
        }
        if (c.expected.rows) {
          if (c.expected.ordered) expect(result.rows).toEqual(c.expected.rows);
          else expect(sortRows(result.rows)).toEqual(sortRows(c.expected.rows));
        }
      });
    }
  });
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Workspace } from '../workspace/workspace.js';
import { runQuery } from './run.js';

let dir: string;
let ws: Workspace;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-kql-limits-'));
  ws = await Workspace.open(dir);
});

afterAll(async () => {
  await ws?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('runQuery row limit', () => {
  it('returns the first maxRows rows in the query order and says the result was cut', async () => {
    const result = await runQuery(ws, 'range x from 1 to 10 step 1 | order by x desc', { maxRows: 3 });
    expect(result.rows).toEqual([[10], [9], [8]]);
    expect(result.truncated).toBe(true);
  });

  it('does not flag a result that fits', async () => {
    const result = await runQuery(ws, 'range x from 1 to 3 step 1', { maxRows: 3 });
    expect(result.rows).toHaveLength(3);
    expect(result.truncated).toBeUndefined();
  });
});

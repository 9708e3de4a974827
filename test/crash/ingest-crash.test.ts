/**
 * Crash test of the ingest protocol (issue 2): `vigil ingest` of 200k+ records is killed with SIGKILL at
 * random moments, at least 20 times, and resumed each time. Afterwards the table must hold exactly the
 * distinct records of the file (0 lost, 0 duplicated) and the quarantine exactly one row per bad line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRecord, prng } from '../../src/simulator/generators/office365-audit.js';
import { Workspace } from '../../src/workspace/workspace.js';

const CLI = path.resolve('dist/src/cli/main.js');
const RECORDS = 200_000;
const KILLS = 20;

let dir: string;
let file: string;
let expectedDistinct: number;
let badLines: number;

function run(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out })));
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-crash-'));
  file = path.join(dir, 'records.ndjson');
  const options = { seed: 11, startMs: Date.now() - 12 * 3600_000, stepMs: 150 };
  const random = prng(99);
  const ids = new Set<string>();
  const fd = fs.openSync(file, 'w');
  let lines: string[] = [];
  badLines = 0;
  for (let i = 0; i < RECORDS; i++) {
    const roll = random();
    let line: string;
    if (roll < 0.001) {
      line = '{"CreationTime": "2024-01-01T00:00:00", "Id": ';
      badLines++;
    } else if (roll < 0.05 && i > 10) {
      // A re-delivery of an earlier record, as the Management Activity API does (its index may be one that
      // was not delivered itself, so it can also be the first delivery).
      const record = auditRecord(Math.floor(random() * i), options);
      ids.add(record.Id as string);
      line = JSON.stringify(record);
    } else {
      const record = auditRecord(i, options);
      ids.add(record.Id as string);
      line = JSON.stringify(record);
    }
    lines.push(line);
    if (lines.length === 5000) {
      fs.writeSync(fd, lines.join('\n') + '\n');
      lines = [];
    }
  }
  fs.writeSync(fd, lines.join('\n') + '\n');
  fs.closeSync(fd);
  expectedDistinct = ids.size;
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('vigil ingest under SIGKILL', () => {
  it(`keeps exactly the distinct records after ${KILLS} kills and resumes`, {
    timeout: 600_000,
  }, async () => {
    const dataDir = path.join(dir, 'data');
    const random = prng(Number(process.env.CRASH_SEED ?? 4242));
    let killed = 0;
    while (killed < KILLS) {
      const child = run(['ingest', '--table', 'OfficeActivity', file, '--data-dir', dataDir]);
      const done = exited(child);
      // Anywhere from process start (opening the store takes ~0.7 s) to the middle of a batch write; short
      // enough that the file is not finished before the last kill.
      const delay = 100 + Math.floor(random() * 1700);
      const timer = setTimeout(() => child.kill('SIGKILL'), delay);
      const result = await done;
      clearTimeout(timer);
      expect(result.signal, `the ingest finished after ${killed} kills: ${result.out}`).toBe('SIGKILL');
      killed++;
    }
    const final = await exited(
      run(['ingest', '--table', 'OfficeActivity', file, '--data-dir', dataDir, '--json']),
    );
    expect(final.code, final.out).toBe(0);

    const ws = await Workspace.open(dataDir);
    try {
      const [stats] = await ws.store.query<{ n: string; ids: string }>(
        'SELECT count() AS n, uniqExact(OfficeId) AS ids FROM vigil.OfficeActivity',
      );
      const [quarantine] = await ws.store.query<{ n: string; lines: string }>(
        "SELECT count() AS n, uniqExact(SourcePosition) AS lines FROM vigil.IngestionQuarantine WHERE Reason = 'MalformedJson'",
      );
      const position = await ws.checkpoints.get<{ offset: number }>(
        `ingest:OfficeActivity:file:${fs.realpathSync(file)}`,
      );
      expect({ killed, rows: Number(stats!.n), distinct: Number(stats!.ids) }).toEqual({
        killed: KILLS,
        rows: expectedDistinct,
        distinct: expectedDistinct,
      });
      expect(Number(quarantine!.n)).toBe(badLines);
      expect(Number(quarantine!.lines)).toBe(badLines);
      expect(position?.position.offset).toBe(fs.statSync(file).size);
    } finally {
      await ws.close();
    }
  });
});

/**
 * Runs a benchmark's two phases against each other on a shared, noisy machine: alternating rounds, each
 * phase after a `sync`, every run printed and checked, the fastest run of each compared (bench/README.md).
 */
import { spawnSync } from 'node:child_process';

/** What a phase's child process reports. */
export interface PhaseResult {
  phase: string;
  rows: number;
  seconds: number;
  maxRssMiB: number;
}

export function rate(r: PhaseResult): number {
  return r.rows / r.seconds;
}

export function phaseLine(label: string, r: PhaseResult): string {
  return `${label} ${r.rows.toLocaleString('en-US')} rows in ${r.seconds.toFixed(1)} s = ${Math.round(rate(r)).toLocaleString('en-US')} rows/s, peak RSS ${r.maxRssMiB.toFixed(0)} MiB`;
}

/**
 * Runs `phases` for `rounds` rounds, the first phase first in odd rounds and second in even ones (so
 * neither always follows the other), each after a `sync` (no phase pays for writing back the one before).
 * Every run must store exactly `expectedRows`. Returns the runs of each phase, in order.
 */
export function alternateRounds<P extends string>(
  rounds: number,
  phases: readonly [P, P],
  expectedRows: number,
  run: (phase: P, round: number) => PhaseResult,
): Record<P, PhaseResult[]> {
  const runs = { [phases[0]]: [], [phases[1]]: [] } as unknown as Record<P, PhaseResult[]>;
  const width = Math.max(phases[0].length, phases[1].length);
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? phases : ([phases[1], phases[0]] as const);
    for (const phase of order) {
      spawnSync('sync');
      const result = run(phase, round);
      if (result.rows !== expectedRows)
        throw new Error(`${phase} stored ${result.rows} rows, expected ${expectedRows}`);
      runs[phase].push(result);
      process.stdout.write(`  round ${round} ${phaseLine(phase.padEnd(width), result)}\n`);
    }
  }
  return runs;
}

/**
 * The fastest run: noise on a shared machine only ever slows a run down (seen: the ceiling taking 29 s in
 * one round and 54 s in the next), and a median of three can still pair a slowed ceiling with an unslowed
 * run of the other phase.
 */
export function fastest(runs: readonly PhaseResult[]): PhaseResult {
  return runs.reduce((best, r) => (rate(r) > rate(best) ? r : best));
}

/** One side of a comparison: which phase, and how its fastest run is labelled. */
export interface ComparedPhase<P extends string> {
  readonly phase: P;
  readonly label: string;
}

/**
 * Prints (b) the ceiling's and (a) the measured phase's fastest runs, their ratio a/b and the measured phase's
 * highest peak RSS, each against its target.
 */
export function printComparison<P extends string>(
  runs: Record<P, PhaseResult[]>,
  ceiling: ComparedPhase<P>,
  measured: ComparedPhase<P> & { readonly rssName: string },
  targets: { readonly ratio: number; readonly peakRssMiB: number },
): void {
  const b = fastest(runs[ceiling.phase]);
  const a = fastest(runs[measured.phase]);
  const peakRss = Math.max(...runs[measured.phase].map((r) => r.maxRssMiB));
  const width = Math.max(ceiling.label.length, measured.label.length);
  process.stdout.write(`${phaseLine(`(b) ${ceiling.label} (fastest):`.padEnd(width + 15), b)}\n`);
  process.stdout.write(`${phaseLine(`(a) ${measured.label} (fastest):`.padEnd(width + 15), a)}\n`);
  process.stdout.write(
    `ratio a/b = ${(rate(a) / rate(b)).toFixed(2)} (target >= ${targets.ratio.toFixed(2)}); ${measured.rssName} peak RSS ${peakRss.toFixed(0)} MiB, the highest of ${runs[measured.phase].length} (target <= ${targets.peakRssMiB} MiB)\n`,
  );
}

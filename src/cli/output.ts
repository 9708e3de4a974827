import { CommanderError, InvalidArgumentError } from 'commander';

/** An error the user can act on: printed as one line, without a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Domain errors carry a message written for people; anything else is a bug and says so. */
function messageOf(err: unknown): string {
  if (err instanceof Error && err.name === 'KqlError') {
    const e = err as Error & { code?: string; start?: number };
    return `${e.code}${e.start !== undefined ? ` at position ${e.start}` : ''}: ${e.message}`;
  }
  if (err instanceof Error) {
    const named = [
      'CliError',
      'WorkspaceError',
      'LogStoreError',
      'IngestError',
      'TokenError',
      'CheckpointConflictError',
    ];
    if (named.includes(err.name)) return err.message;
    return `unexpected error: ${err.message} (run with VIGIL_DEBUG=1 for details)`;
  }
  return String(err);
}

export async function runMain(main: () => Promise<unknown>): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its own message (or the help); keep its exit code, 2 for usage errors.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (process.env.VIGIL_DEBUG) console.error(err);
    process.stderr.write(`vigil: ${messageOf(err)}\n`);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  }
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function defaultDataDir(): string {
  return process.env.VIGIL_DATA_DIR ?? './data';
}

/** A `--port` value: 0–65535 (0 picks a free port). */
export function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535))
    throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  return port;
}

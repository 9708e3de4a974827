import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_RUNTIME_OPTIONS, type RuntimeOptions } from '../../connectors/runtime/runtime.js';
import { ServeError, startServer } from '../../server/serve.js';
import { CliError, defaultDataDir, parsePort } from '../output.js';

const DEFAULT_PORT = 8443;
const DEFAULT_HOST = '127.0.0.1';

function portFromEnv(): number {
  const value = process.env.VIGIL_PORT;
  if (value === undefined || value === '') return DEFAULT_PORT;
  try {
    return parsePort(value);
  } catch {
    throw new CliError(`VIGIL_PORT must be a port number from 0 to 65535 (got '${value}')`, 2);
  }
}

interface ServeCommandOptions {
  dataDir: string;
  port?: number;
  host?: string;
  http?: boolean;
  demo?: boolean;
  pollInterval?: number;
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0 && n <= 86_400))
    throw new InvalidArgumentError('expected seconds from 0 to 86400.');
  return n;
}

/** Numeric runtime settings `VIGIL_CONNECTOR_OPTIONS` may set (JSON object); anything else is refused by name. */
const TUNABLE: readonly (keyof RuntimeOptions)[] = [
  'pollIntervalMs',
  'jitter',
  'concurrency',
  'delayMs',
  'overlapMs',
  'initialLookbackMs',
  'settleMs',
  'stallIntervals',
  'summaryIntervalMs',
  'fetchConcurrency',
  'attempts',
  'requestsPerMinute',
  'requestTimeoutMs',
];

function connectorOptions(pollInterval: number | undefined): Partial<RuntimeOptions> {
  const out: Record<string, unknown> = {};
  const env = process.env.VIGIL_CONNECTOR_OPTIONS;
  if (env) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env);
    } catch {
      throw new CliError('VIGIL_CONNECTOR_OPTIONS must be a JSON object, e.g. {"pollIntervalMs":60000}', 2);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new CliError('VIGIL_CONNECTOR_OPTIONS must be a JSON object, e.g. {"pollIntervalMs":60000}', 2);
    }
    for (const [key, value] of Object.entries(parsed)) {
      if (key === 'backoff') {
        const b = value as Record<string, unknown>;
        const keys = ['initialMs', 'maxMs', 'throttledInitialMs'];
        if (
          !b ||
          typeof b !== 'object' ||
          Object.entries(b).some(([k, v]) => !keys.includes(k) || typeof v !== 'number')
        ) {
          throw new CliError(`VIGIL_CONNECTOR_OPTIONS.backoff takes numbers ${keys.join(', ')}`, 2);
        }
        out.backoff = { ...DEFAULT_RUNTIME_OPTIONS.backoff, ...b };
        continue;
      }
      if (!(TUNABLE as readonly string[]).includes(key) || typeof value !== 'number' || !(value >= 0)) {
        throw new CliError(
          `VIGIL_CONNECTOR_OPTIONS: unknown or non-numeric setting '${key}'; known: ${TUNABLE.join(', ')}, backoff`,
          2,
        );
      }
      out[key] = value;
    }
  }
  const fromEnv = process.env.VIGIL_POLL_INTERVAL;
  const seconds = pollInterval ?? (fromEnv ? parseSeconds(fromEnv) : undefined);
  if (seconds !== undefined) out.pollIntervalMs = Math.round(seconds * 1000);
  return out as Partial<RuntimeOptions>;
}

/** `vigil serve`: the HTTPS API on a data directory; runs until SIGINT or SIGTERM. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the Vigil server (HTTPS API) on a data directory until interrupted')
    .option('-d, --data-dir <dir>', 'data directory (env VIGIL_DATA_DIR)', defaultDataDir())
    .option('--port <port>', `port to listen on (default ${DEFAULT_PORT}, env VIGIL_PORT)`, parsePort)
    .option('--host <host>', `address to listen on (default ${DEFAULT_HOST}, env VIGIL_HOST)`)
    .option('--http', 'serve plain HTTP instead of HTTPS (Azure SDK clients refuse to send tokens over it)')
    .option(
      '--demo',
      'start a simulated Microsoft 365 tenant in-process and connect the five Office-fed connectors to it',
    )
    .option(
      '--poll-interval <seconds>',
      'seconds between connector polls (default 180, env VIGIL_POLL_INTERVAL)',
      parseSeconds,
    )
    .action(async (options: ServeCommandOptions) => {
      const port = options.port ?? portFromEnv();
      const host = options.host ?? (process.env.VIGIL_HOST || DEFAULT_HOST);
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer({
          dataDir: options.dataDir,
          port,
          host,
          http: options.http ?? false,
          demo: options.demo ?? false,
          connectorOptions: connectorOptions(options.pollInterval),
        });
      } catch (err) {
        if (err instanceof ServeError) throw new CliError(err.message);
        throw err;
      }
      await server.closed;
    });
}

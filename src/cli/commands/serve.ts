import { type Command, InvalidArgumentError } from 'commander';
import { ServeError, startServer } from '../../server/serve.js';
import { CliError, defaultDataDir } from '../output.js';

const DEFAULT_PORT = 8443;
const DEFAULT_HOST = '127.0.0.1';

function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535))
    throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  return port;
}

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
    .action(async (options: ServeCommandOptions) => {
      const port = options.port ?? portFromEnv();
      const host = options.host ?? (process.env.VIGIL_HOST || DEFAULT_HOST);
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer({ dataDir: options.dataDir, port, host, http: options.http ?? false });
      } catch (err) {
        if (err instanceof ServeError) throw new CliError(err.message);
        throw err;
      }
      await server.closed;
    });
}

import fs from 'node:fs';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { ensureCertificates } from '../../server/tls.js';
import {
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
  DEMO_TENANT_ID,
  type RunningSimulator,
  startSimulator,
} from '../../simulator/index.js';
import { defaultDataDir, formatCount, parsePort } from '../output.js';

const DEFAULT_PORT = 9443;
const DEFAULT_HOST = '127.0.0.1';

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number.');
  return Number(value);
}

function parseHours(value: string): number {
  const h = Number(value);
  if (!(h > 0 && h <= 24 * 7)) throw new InvalidArgumentError('expected hours from 0 to 168.');
  return h;
}

interface SimulatorCommandOptions {
  port: number;
  host: string;
  data?: string;
  dataDir: string;
  seed: number;
  records: number;
  rate: number;
  historyHours: number;
  requestsPerMinute?: number;
  json?: boolean;
}

/** What `vigil simulator` prints (also as `--json`). */
export interface SimulatorInfo {
  readonly url: string;
  readonly caFile: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly credentialsFile: string;
}

/** Starts the simulator as `vigil simulator` does and prints the start-up information to `out`. */
export async function runSimulatorCommand(
  options: Omit<SimulatorCommandOptions, 'dataDir'> & { dataDir?: string },
  out: (text: string) => void = (t) => process.stdout.write(t),
  note: (text: string) => void = (t) => process.stderr.write(t),
): Promise<{ sim: RunningSimulator; info: SimulatorInfo }> {
  // History is generated before anything is printed: a caller that waits for the URL sees all of it.
  const dataDir = path.resolve(options.data ?? options.dataDir ?? defaultDataDir());
  const simDir = path.join(dataDir, 'simulator');
  const blobDir = path.join(simDir, 'blobs');
  // Blob bodies are a cache of this run's generated content: start clean.
  fs.rmSync(blobDir, { recursive: true, force: true });
  fs.mkdirSync(simDir, { recursive: true, mode: 0o700 });
  const tls = ensureCertificates(path.join(dataDir, 'tls'));
  const sim = await startSimulator({
    host: options.host,
    port: options.port,
    tls,
    seed: options.seed,
    blobDir,
    ...(options.requestsPerMinute !== undefined
      ? { knobs: { requestsPerMinute: options.requestsPerMinute } }
      : {}),
  });
  if (options.records > 0) {
    const to = Date.now();
    note(`vigil: generating ${formatCount(options.records)} records of history…\n`);
    const started = Date.now();
    const res = await sim.activity.generate({
      tenantId: DEMO_TENANT_ID,
      count: options.records,
      from: to - options.historyHours * 3_600_000,
      to,
      subscribed: true,
    });
    note(
      `vigil: generated ${formatCount(res.records)} records in ${formatCount(res.blobs)} blobs (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
    );
  }
  const credentialsFile = path.join(simDir, 'demo-credentials.json');
  const credentials = {
    tenantId: DEMO_TENANT_ID,
    clientId: DEMO_CLIENT_ID,
    clientSecret: DEMO_CLIENT_SECRET,
    authorityHost: sim.url,
    managementApiBase: sim.url,
    graphBase: sim.url,
    caFile: tls.caFile,
  };
  fs.writeFileSync(credentialsFile, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(credentialsFile, 0o600);

  if (options.rate > 0) sim.activity.startLive({ tenantId: DEMO_TENANT_ID, recordsPerMinute: options.rate });

  const info = {
    url: sim.url,
    caFile: tls.caFile,
    tenantId: DEMO_TENANT_ID,
    clientId: DEMO_CLIENT_ID,
    credentialsFile,
  };
  if (options.json) out(`${JSON.stringify(info)}\n`);
  else
    out(
      [
        `Simulated Microsoft tenant at ${sim.url}`,
        `  (identity platform authority host, Management Activity API base and Graph base)`,
        `CA certificate:    ${tls.caFile}`,
        `Demo tenant id:    ${DEMO_TENANT_ID} (contoso.onmicrosoft.com)`,
        `Demo client id:    ${DEMO_CLIENT_ID}`,
        `Demo credentials:  ${credentialsFile} (mode 0600; holds the client secret)`,
        `Control API:       ${sim.url}/_simulator/ (faults, knobs, stats, truth)`,
        '',
      ].join('\n'),
    );

  return { sim, info };
}

/**
 * `vigil simulator`: the simulated Microsoft tenant (identity platform, Management Activity API, Graph
 * subscribedSkus) as a standalone HTTPS process, until interrupted.
 */
export function registerSimulator(program: Command): void {
  program
    .command('simulator')
    .description(
      'run the simulated Microsoft tenant (identity, Office 365 Management Activity API, Graph) until interrupted',
    )
    .option(
      '--port <port>',
      `port to listen on (default ${DEFAULT_PORT}; 0 = any free port)`,
      parsePort,
      DEFAULT_PORT,
    )
    .option('--host <host>', `address to listen on (default ${DEFAULT_HOST})`, DEFAULT_HOST)
    .option('--data <dir>', 'data directory (the same as `vigil serve` shares its CA; default --data-dir)')
    .option('-d, --data-dir <dir>', 'data directory (env VIGIL_DATA_DIR)', defaultDataDir())
    .option('--seed <n>', 'seed of the generated activity (default 1)', parseCount, 1)
    .option('--records <n>', 'records of history to generate at start, subscribed (default 0)', parseCount, 0)
    .option(
      '--history-hours <h>',
      'hours of history the --records span, ending now (default 23)',
      parseHours,
      23,
    )
    .option('--rate <n>', 'live records per minute for the demo tenant (default 0: none)', parseCount, 0)
    .option(
      '--requests-per-minute <n>',
      'Management API requests per minute per PublisherIdentifier (default 60000)',
      parseCount,
    )
    .option('--json', 'print the start-up information as JSON')
    .action(async (options: SimulatorCommandOptions) => {
      const { sim } = await runSimulatorCommand(options);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void sim.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}

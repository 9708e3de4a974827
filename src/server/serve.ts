import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { startDemo } from '../connectors/demo.js';
import { type ConnectorServices, createConnectorServices } from '../connectors/index.js';
import type { RuntimeOptions } from '../connectors/runtime/runtime.js';
import { IngestService } from '../ingest/service.js';
import { compileQuery } from '../kql/run.js';
import type { RunningSimulator } from '../simulator/index.js';
import { LogStoreError } from '../storage/log-store.js';
import { dataPaths, Workspace } from '../workspace/workspace.js';
import { buildApp } from './app.js';
import { TOKEN_PREFIX, TokenService } from './auth/token-service.js';
import { ensureCertificates } from './tls.js';

export interface ServeOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  /** Plain HTTP instead of HTTPS (the Azure SDKs then refuse to send tokens). */
  readonly http?: boolean;
  /** Structured logs; by default JSON lines on stderr, so stdout carries only what a person must read. */
  readonly logger?: FastifyBaseLogger;
  /** Where the first-start message goes (stdout by default). */
  readonly out?: (text: string) => void;
  /** Close on SIGINT and SIGTERM (default true). */
  readonly handleSignals?: boolean;
  /** Connector runtime settings (poll interval, back-off ...); tests shorten them. */
  readonly connectorOptions?: Partial<RuntimeOptions>;
  /** Start the simulated tenant in-process and connect the five Office-fed connectors to it. */
  readonly demo?: boolean;
}

export interface RunningServer {
  readonly url: string;
  /** The CA certificate clients trust; undefined over plain HTTP. */
  readonly caFile?: string;
  /** Resolves once the server and the workspace are closed, by `close()` or by a signal. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** A start-up failure the user can act on; its message is one line. */
export class ServeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServeError';
  }
}

/** What `<run>/server.json` holds: how CLI commands on this machine reach the server (`cli/server-client.ts`). */
export interface ServerRunInfo {
  readonly pid: number;
  readonly url: string;
  readonly caFile?: string;
  readonly startedAt: string;
}

function runFiles(dataDir: string) {
  const run = dataPaths(dataDir).run;
  return { dir: run, info: path.join(run, 'server.json'), token: path.join(run, 'local-token') };
}

function defaultLogger(): FastifyBaseLogger {
  return pino({ level: process.env.VIGIL_LOG_LEVEL ?? 'info' }, pino.destination({ dest: 2, sync: true }));
}

/**
 * Runs `vigil serve`: opens the workspace (this process then owns the embedded store), makes the TLS
 * certificates and, on the very first start, the administrator token, and listens. CLI commands on the same
 * machine find the server through `<run>/server.json` and authenticate with `<run>/local-token`, a random
 * Owner token that lives only as long as this process.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const logger = options.logger ?? defaultLogger();
  const out = options.out ?? ((text: string) => void process.stdout.write(text));
  const paths = dataPaths(options.dataDir);
  const files = runFiles(options.dataDir);

  // Refuse cleanly when a server already runs here (opening the store would fail anyway, noisily).
  const running = await runningServer(files.info);
  if (running)
    throw new ServeError(
      `the data directory ${paths.root} is in use by vigil serve (pid ${running.pid}, ${running.url})`,
    );

  let workspace: Workspace;
  try {
    workspace = await Workspace.open(options.dataDir);
  } catch (err) {
    throw openError(err, options.dataDir);
  }

  let app: FastifyInstance | undefined;
  let url: string;
  let caFile: string | undefined;
  let connectors: ConnectorServices | undefined;
  let demo: RunningSimulator | undefined;
  try {
    const tls = options.http ? undefined : ensureCertificates(paths.tls);
    caFile = tls?.caFile;
    const tokens = new TokenService(workspace.tokens);
    const firstStart = (await workspace.tokens.count()) === 0;
    const localToken = TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
    const ingest = new IngestService(workspace);
    connectors = createConnectorServices(workspace, ingest, logger, options.connectorOptions);
    app = buildApp({
      workspace,
      ingest,
      connectors,
      tokens,
      localToken,
      logger,
      https: tls ? { key: tls.key, cert: tls.cert } : undefined,
    });
    // Load Kusto's language service and bind the catalog (~1 s of CPU) before listening, rather than on the
    // first query, where it would stall that request and every connector poll behind it.
    const warm = performance.now();
    compileQuery('OfficeActivity | take 1', workspace.catalog, workspace.store.database);
    logger.info({ ms: Math.round(performance.now() - warm) }, 'KQL language service loaded');
    try {
      await app.listen({ port: options.port, host: options.host });
    } catch (err) {
      throw listenError(err, options.port, options.host);
    }
    url = serverUrl(app, tls ? 'https' : 'http', options.host);
    writeRunFiles(files, { pid: process.pid, url, caFile, startedAt: new Date().toISOString() }, localToken);
    // Made only once listening succeeded: a token printed by a start that then failed would be lost.
    if (firstStart) {
      const { token } = await tokens.create('administrator', 'Owner');
      out(firstStartMessage(url, token, caFile, paths.root));
    }
    logger.info({ url, workspaceId: workspace.id, dataDir: paths.root, caFile }, 'Vigil is listening');
    await connectors.runtime.start();
    if (options.demo) {
      // The simulator serves HTTPS with this data directory's certificate (the one clients already trust).
      demo = await startDemo(connectors, tls ?? ensureCertificates(paths.tls));
      out(
        `Demo: a simulated Microsoft 365 tenant (${demo.url}) is connected; its events stream into OfficeActivity, Dynamics365Activity, PowerBIActivity, MicrosoftPurviewInformationProtection and SecurityAlert.\n`,
      );
    }
  } catch (err) {
    removeRunFiles(files);
    await connectors?.runtime.stop().catch(() => undefined);
    await demo?.close().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await workspace.close().catch(() => undefined);
    throw err;
  }

  const started = app;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // First, so no CLI command tries to reach a server that is going away.
      removeRunFiles(files);
      try {
        // Polls end at a content boundary; what they wrote is checkpointed.
        await connectors?.runtime.stop();
        await demo?.close();
        await started.close();
      } finally {
        await workspace.close();
        logger.info('Vigil stopped');
        resolveClosed();
      }
    })();
    return closing;
  };
  // A second signal while closing gets the default behaviour (the process ends at once).
  function onSignal(signal: NodeJS.Signals) {
    logger.info({ signal }, 'shutting down');
    close().catch((err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exitCode = 1;
    });
  }
  if (options.handleSignals ?? true) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  return { url, caFile, closed, close };
}

function openError(err: unknown, dataDir: string): unknown {
  if (!(err instanceof LogStoreError)) return err;
  const root = dataPaths(dataDir).root;
  if (err.code === 'StoreLocked') {
    return new ServeError(
      `the data directory ${root} is in use by another process (a 'vigil serve' or 'vigil ingest')`,
    );
  }
  // chdb reports a locked directory from its constructor only as a failed connection (the engine's code 76
  // goes to stderr), so name the likely cause.
  if (/Failed to create connection/.test(err.message)) {
    return new ServeError(
      `cannot open the store in ${root}: another process (a 'vigil serve' or 'vigil ingest') is probably using it`,
    );
  }
  return new ServeError(err.message.split('\n')[0]!);
}

/**
 * The server described by the run files if it answers: a live pid alone is not proof (a crashed server's pid
 * may belong to another process by now), so ask its /health.
 */
async function runningServer(infoFile: string): Promise<ServerRunInfo | undefined> {
  const info = readRunInfo(infoFile);
  if (!info || info.pid === process.pid || !pidAlive(info.pid)) return undefined;
  return (await answers(info)) ? info : undefined;
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function answers(info: ServerRunInfo): Promise<boolean> {
  return new Promise((resolve) => {
    let url: URL;
    let ca: Buffer | undefined;
    try {
      url = new URL('/health', info.url);
      ca = url.protocol === 'https:' && info.caFile ? fs.readFileSync(info.caFile) : undefined;
    } catch {
      resolve(false);
      return;
    }
    const req = (url.protocol === 'https:' ? https : http).get(url, { ca, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function listenError(err: unknown, port: number, host: string): unknown {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return new ServeError(`port ${port} on ${host} is already in use`);
    case 'EACCES':
      return new ServeError(
        `not allowed to listen on port ${port} on ${host} (ports below 1024 need privileges)`,
      );
    case 'EADDRNOTAVAIL':
      return new ServeError(`cannot listen on ${host}: the address is not on this machine`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ServeError(`cannot listen on ${host}: the host name does not resolve`);
    default:
      return err;
  }
}

/** The URL clients use: the port actually bound (port 0 picks one), and a name the certificate covers. */
function serverUrl(app: FastifyInstance, scheme: 'http' | 'https', host: string): string {
  const { port } = app.server.address() as AddressInfo;
  const unspecified = host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
  const name = unspecified ? 'localhost' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${scheme}://${name}:${port}`;
}

function writeRunFiles(files: ReturnType<typeof runFiles>, info: ServerRunInfo, localToken: string): void {
  fs.mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  // The token before the info: a reader that finds server.json also finds the token. Written to a fresh file and
  // renamed so the 0600 mode holds even when a crashed run left an old file behind.
  writeFresh(files.token, `${localToken}\n`, 0o600);
  writeFresh(files.info, `${JSON.stringify(info, null, 2)}\n`, 0o644);
}

function writeFresh(file: string, content: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode });
  fs.renameSync(tmp, file);
}

function removeRunFiles(files: ReturnType<typeof runFiles>): void {
  const mine = readRunInfo(files.info);
  if (mine && mine.pid !== process.pid) return;
  fs.rmSync(files.info, { force: true });
  fs.rmSync(files.token, { force: true });
}

function readRunInfo(file: string): ServerRunInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ServerRunInfo;
  } catch {
    return undefined;
  }
}

function firstStartMessage(url: string, token: string, caFile: string | undefined, dataDir: string): string {
  const lines = [
    '',
    `Vigil is running at ${url}`,
    '',
    'Administrator token (an Owner; shown this once, store it now):',
    `  ${token}`,
    '',
  ];
  if (caFile) {
    lines.push(
      'The server certificate is signed by a CA generated for this data directory:',
      `  ${caFile}`,
      'Trust it in Node.js clients (Azure SDKs included) with:',
      `  export NODE_EXTRA_CA_CERTS=${caFile}`,
      `and with curl: curl --cacert ${caFile} -H "Authorization: Bearer <token>" ${url}/api/tables`,
      '',
    );
  } else {
    lines.push('Plain HTTP: the Azure SDKs refuse to send tokens over it; use it only for local tests.', '');
  }
  lines.push(`More tokens: vigil token create --role Reader --name <name> --data-dir ${dataDir}`, '');
  return lines.join('\n');
}

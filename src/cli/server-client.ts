import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pidAlive } from '../server/serve.js';
import { dataPaths } from '../workspace/workspace.js';
import { CliError } from './output.js';

/** A `vigil serve` running on this data directory, as its run files describe it. */
export interface RunningServer {
  readonly url: string;
  readonly caFile?: string;
  readonly token: string;
}

/** The server that owns this data directory's store, if one runs (its pid is alive and it wrote its token). */
export function findRunningServer(dataDir: string): RunningServer | undefined {
  const run = dataPaths(dataDir).run;
  try {
    const info = JSON.parse(fs.readFileSync(path.join(run, 'server.json'), 'utf8')) as {
      pid: number;
      url: string;
      caFile?: string;
    };
    if (!pidAlive(info.pid)) return undefined;
    const token = fs.readFileSync(path.join(run, 'local-token'), 'utf8').trim();
    return { url: info.url, caFile: info.caFile, token };
  } catch {
    return undefined;
  }
}

export interface ApiResponse<T> {
  readonly status: number;
  readonly body: T;
}

/** One request to the running server with its local token; the body may be a stream. */
export function callServer<T>(
  server: RunningServer,
  method: string,
  pathAndQuery: string,
  body?: Readable | string,
  contentType = 'application/json',
): Promise<ApiResponse<T>> {
  const url = new URL(pathAndQuery, server.url);
  const isHttps = url.protocol === 'https:';
  const ca = isHttps && server.caFile ? fs.readFileSync(server.caFile) : undefined;
  return new Promise((resolve, reject) => {
    const req = (isHttps ? https : http).request(
      url,
      {
        method,
        ca,
        headers: {
          authorization: `Bearer ${server.token}`,
          ...(body !== undefined ? { 'content-type': contentType } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
        res.on('error', reject);
      },
    );
    req.on('error', (err) =>
      reject(new CliError(`cannot reach the server at ${server.url}: ${err.message}`)),
    );
    if (body === undefined) req.end();
    else if (typeof body === 'string') req.end(body);
    else body.pipe(req);
  });
}

/** The message of an Azure error envelope, for a one-line CLI error. */
export function envelopeMessage(body: unknown, status: number): string {
  const e = (body as { error?: { code?: string; message?: string } })?.error;
  return e ? `${e.code}: ${e.message}` : `the server answered ${status}`;
}

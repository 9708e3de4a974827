/**
 * A minimal HTTPS client for tests of the simulator (and of code that talks to it): trusts a CA given as
 * PEM per request, without touching process-wide settings, and reports socket drops as `dropped`.
 */
import https from 'node:https';

export interface SimResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json<T = unknown>(): T;
}

export interface SimRequest {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** The CA certificate (PEM) to trust. */
  readonly ca: string;
  /** Abort after this long (default 10 s). */
  readonly timeoutMs?: number;
}

export class DroppedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DroppedError';
  }
}

export function simFetch(url: string, req: SimRequest): Promise<SimResponse> {
  return new Promise((resolve, reject) => {
    const r = https.request(
      url,
      {
        method: req.method ?? 'GET',
        headers: req.headers,
        ca: req.ca,
        agent: false,
        timeout: req.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new DroppedError(e.message)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: <T>() => JSON.parse(text) as T,
          });
        });
      },
    );
    r.on('timeout', () => r.destroy(new DroppedError('client timeout')));
    r.on('error', (e) => reject(e instanceof DroppedError ? e : new DroppedError(e.message)));
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

/** A form-encoded body. */
export function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

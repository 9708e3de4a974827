import http from 'node:http';
import https from 'node:https';

export interface HttpResponse {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

/** The request never got a complete answer: refused, reset, timed out, or the body was cut short. */
export class TransportError extends Error {
  constructor(
    readonly reason: 'Timeout' | 'ConnectionFailed' | 'BodyTooLarge' | 'Aborted',
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface HttpRequest {
  readonly method?: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** PEM of the only CA to trust (custom endpoints); the system's CAs otherwise. */
  readonly ca?: string;
  /** No byte for this long (connect, headers or body) ends the request. */
  readonly timeoutMs?: number;
  readonly maxBodyBytes?: number;
  readonly signal?: AbortSignal;
}

const agents = new Map<string, https.Agent>();

/** One keep-alive agent per trusted CA: connections are reused across requests of a tenant. */
function agentFor(ca: string | undefined): https.Agent {
  const key = ca ?? '';
  let agent = agents.get(key);
  if (!agent) {
    agent = new https.Agent({ keepAlive: true, maxSockets: 16, ...(ca ? { ca } : {}) });
    agents.set(key, agent);
  }
  return agent;
}

const plainAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/**
 * One HTTP request, body fully read. Kept small on purpose: the connector runtime owns retries, back-off
 * and rate limits, so nothing here retries. Plain `http:` is allowed only because a custom cloud may name
 * it; every Microsoft endpoint is HTTPS.
 */
export function httpRequest(request: HttpRequest): Promise<HttpResponse> {
  const url = new URL(request.url);
  const secure = url.protocol === 'https:';
  const transport = secure ? https : http;
  const timeoutMs = request.timeoutMs ?? 60_000;
  const maxBody = request.maxBodyBytes ?? 512 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    if (request.signal?.aborted) {
      reject(new TransportError('Aborted', 'the request was cancelled'));
      return;
    }
    const req = transport.request(
      url,
      {
        method: request.method ?? 'GET',
        headers: {
          'accept-encoding': 'identity',
          ...(request.body !== undefined
            ? { 'content-length': String(Buffer.byteLength(request.body)) }
            : {}),
          ...request.headers,
        },
        agent: secure ? agentFor(request.ca) : plainAgent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBody) {
            req.destroy(new TransportError('BodyTooLarge', `the response body exceeds ${maxBody} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (!res.complete) {
            reject(
              new TransportError(
                'ConnectionFailed',
                'the connection closed before the response was complete',
              ),
            );
            return;
          }
          const headers: Record<string, string | undefined> = {};
          for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
        });
        res.on('error', (err) => reject(asTransportError(err, url)));
        res.on('aborted', () =>
          reject(
            new TransportError('ConnectionFailed', 'the connection closed before the response was complete'),
          ),
        );
      },
    );
    req.setTimeout(timeoutMs, () => {
      req.destroy(
        new TransportError('Timeout', `no answer from ${url.host} within ${Math.round(timeoutMs / 1000)} s`),
      );
    });
    const onAbort = () => req.destroy(new TransportError('Aborted', 'the request was cancelled'));
    request.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => request.signal?.removeEventListener('abort', onAbort));
    req.on('error', (err) => reject(asTransportError(err, url)));
    if (request.body !== undefined) req.write(request.body);
    req.end();
  });
}

function asTransportError(err: Error, url: URL): TransportError {
  if (err instanceof TransportError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  // The path may carry ids; the host and the error code are what a person needs.
  return new TransportError('ConnectionFailed', `${url.host}: ${code ?? err.message}`);
}

/** The `code` of an Azure-style error body (`{"error":{"code":"AF20022","message":...}}`), if it has one. */
export function errorCodeOf(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { code?: unknown } };
    return typeof parsed?.error?.code === 'string' ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}

import { TenantError } from '../../../tenants/errors.js';
import type { TenantConnection } from '../../../tenants/tenant-service.js';
import { parseRetryAfter } from '../backoff.js';
import { errorCodeOf, type HttpResponse, httpRequest, TransportError } from '../http.js';
import { classifyOutcome, type Outcome, SourceError, TRANSPORT_OUTCOME } from '../outcomes.js';
import type { RateLimiter } from '../rate-limiter.js';
import { apiTime, MANAGEMENT_ACTIVITY_API, MANAGEMENT_ACTIVITY_OUTCOMES } from './api.js';

/** One item of a content listing. */
export interface ContentDescriptor {
  readonly contentType: string;
  readonly contentId: string;
  readonly contentUri: string;
  /** Epoch ms. */
  readonly contentCreated: number;
  readonly contentExpiration?: number;
}

export interface ClientObserver {
  request(operation: string, outcome: string): void;
  bytes(n: number): void;
}

/**
 * Calls the Management Activity API of one tenant: token, `PublisherIdentifier` on every call (including
 * content URIs), the shared rate limiter, and classification of every answer through the error table.
 * Retrying is the caller's (the feed's) decision.
 */
export class ManagementActivityClient {
  private readonly base: string;
  private readonly origin: string;

  constructor(
    private readonly tenant: TenantConnection,
    private readonly limiter: RateLimiter,
    private readonly observer: ClientObserver,
    private readonly options: { readonly publisherId?: string; readonly timeoutMs?: number } = {},
  ) {
    this.base = `${tenant.endpoints.managementApiBase}/api/v1.0/${tenant.tenantId}/activity/feed`;
    this.origin = new URL(tenant.endpoints.managementApiBase).origin;
  }

  private get publisherId(): string {
    return this.options.publisherId ?? this.tenant.tenantId;
  }

  /**
   * Adds `PublisherIdentifier` when the URL lacks it. A URL the API hands out (next page, content URI) on
   * another host than the configured base gets the base's origin when its path is the API's own
   * (`/api/v1...`: a proxy or an emulator that writes the public host); anything else is refused, since the
   * request would carry the token.
   */
  private withPublisher(url: string): string {
    const u = new URL(url);
    if (u.origin !== this.origin) {
      if (!u.pathname.startsWith('/api/v1')) {
        throw new SourceError(
          { action: 'fail', kind: 'config', reason: 'UnexpectedHost' },
          `the API pointed to ${u.origin}, not ${this.origin}; the request was not sent`,
        );
      }
      const base = new URL(this.origin);
      u.protocol = base.protocol;
      u.host = base.host;
    }
    if (!u.searchParams.has('PublisherIdentifier'))
      u.searchParams.set('PublisherIdentifier', this.publisherId);
    return u.toString();
  }

  private async call(
    operation: string,
    method: 'GET' | 'POST',
    url: string,
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    const target = this.withPublisher(url);
    let token: string;
    try {
      token = await this.tenant.getToken(this.tenant.endpoints.managementResource, signal);
    } catch (err) {
      this.observer.request('token', 'TokenRequestFailed');
      throw tokenFailure(err);
    }
    await this.limiter.take(signal);
    let response: HttpResponse;
    try {
      response = await httpRequest({
        method,
        url: target,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        ...(method === 'POST' ? { body: '' } : {}),
        ca: this.tenant.endpoints.caCertificate,
        timeoutMs: this.options.timeoutMs ?? 60_000,
        signal,
      });
    } catch (err) {
      if (err instanceof TransportError && err.reason === 'Aborted') throw err;
      this.observer.request(operation, TRANSPORT_OUTCOME.reason);
      throw new SourceError(TRANSPORT_OUTCOME, `${operation}: ${(err as Error).message}`);
    }
    this.observer.bytes(response.body.length);
    if (response.status >= 200 && response.status < 300) {
      this.observer.request(operation, 'ok');
      return response;
    }
    const code = errorCodeOf(response.body);
    const outcome = classifyOutcome(MANAGEMENT_ACTIVITY_OUTCOMES, response.status, code, operation);
    this.observer.request(operation, outcome.reason);
    if (outcome.action === 'ignore') return response;
    throw new SourceError(
      outcome,
      `${operation}: HTTP ${response.status}${code ? ` ${code}` : ''}${errorMessage(response.body)}`,
      response.status,
      code,
      parseRetryAfter(response.headers['retry-after']),
    );
  }

  async startSubscription(contentType: string, signal?: AbortSignal): Promise<void> {
    await this.call(
      'subscriptions/start',
      'POST',
      `${this.base}/${MANAGEMENT_ACTIVITY_API.paths.start}?contentType=${encodeURIComponent(contentType)}`,
      signal,
    );
  }

  async listSubscriptions(signal?: AbortSignal): Promise<{ contentType: string; status: string }[]> {
    const res = await this.call(
      'subscriptions/list',
      'GET',
      `${this.base}/${MANAGEMENT_ACTIVITY_API.paths.list}`,
      signal,
    );
    const body = parseJson(res.body, 'subscriptions/list');
    return Array.isArray(body) ? (body as { contentType: string; status: string }[]) : [];
  }

  /**
   * Lists the content made available in [startMs, endMs), page by page (follows `NextPageUri` even after
   * an empty page: a page may be empty and still not the last).
   */
  async *listContent(
    contentType: string,
    startMs: number,
    endMs: number,
    signal?: AbortSignal,
  ): AsyncGenerator<ContentDescriptor[]> {
    let url: string | undefined =
      `${this.base}/${MANAGEMENT_ACTIVITY_API.paths.content}?contentType=${encodeURIComponent(contentType)}` +
      `&startTime=${apiTime(startMs)}&endTime=${apiTime(endMs)}`;
    // A service that names a page it already sent would be followed forever: fail the listing instead (the
    // window is listed again at the next poll, never skipped).
    const requested = new Set<string>();
    while (url) {
      if (requested.has(url)) {
        throw new SourceError(
          TRANSPORT_OUTCOME,
          `subscriptions/content: NextPageUri names a page already listed (${requested.size} pages); the listing goes round in a loop`,
        );
      }
      requested.add(url);
      const res = await this.call('subscriptions/content', 'GET', url, signal);
      const body = parseJson(res.body, 'subscriptions/content');
      if (!Array.isArray(body)) {
        throw new SourceError(TRANSPORT_OUTCOME, 'subscriptions/content: the listing is not a JSON array');
      }
      yield body.map((d) => descriptor(d, contentType));
      url = undefined;
      for (const name of MANAGEMENT_ACTIVITY_API.nextPageHeaders) {
        const next = res.headers[name];
        if (next) {
          // Absolute as documented; a relative one resolves against the page that named it.
          url = new URL(next, url).toString();
          break;
        }
      }
    }
  }

  /** The body of one content blob (a JSON array of records), unparsed. */
  async fetchContent(contentUri: string, signal?: AbortSignal): Promise<Buffer> {
    const res = await this.call('content', 'GET', contentUri, signal);
    return res.body;
  }
}

function descriptor(d: unknown, contentType: string): ContentDescriptor {
  const o = (d ?? {}) as Record<string, unknown>;
  const created = Date.parse(String(o.contentCreated ?? ''));
  if (typeof o.contentId !== 'string' || typeof o.contentUri !== 'string' || Number.isNaN(created)) {
    throw new SourceError(
      TRANSPORT_OUTCOME,
      'subscriptions/content: a listed item lacks contentId, contentUri or contentCreated',
    );
  }
  const expiration = Date.parse(String(o.contentExpiration ?? ''));
  return {
    contentType: typeof o.contentType === 'string' ? o.contentType : contentType,
    contentId: o.contentId,
    contentUri: o.contentUri,
    contentCreated: created,
    ...(Number.isNaN(expiration) ? {} : { contentExpiration: expiration }),
  };
}

function parseJson(body: Buffer, operation: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    // A cut-short answer: the transport's fault, worth another try.
    throw new SourceError(TRANSPORT_OUTCOME, `${operation}: the answer is not complete JSON`);
  }
}

function errorMessage(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { message?: unknown } };
    const m = parsed?.error?.message;
    return typeof m === 'string' ? `: ${m.slice(0, 300)}` : '';
  } catch {
    return '';
  }
}

/** AADSTS codes that say "try again" rather than "fix the configuration". */
const TRANSIENT_AADSTS = new Set([90033, 50196]);

/** Token failures: bad credentials are config failures; an unreachable or failing identity platform is transient. */
function tokenFailure(err: unknown): SourceError {
  const status = err instanceof TenantError ? err.details.status : undefined;
  const aadsts = err instanceof TenantError ? err.details.aadsts : undefined;
  const serverSide = status !== undefined && (status >= 500 || status === 429);
  if (aadsts !== undefined && !serverSide && !TRANSIENT_AADSTS.has(aadsts)) {
    return new SourceError(
      {
        action: 'fail',
        kind: 'config',
        reason: `AADSTS${aadsts}`,
        hint: 'Check the tenant connection: tenant id, client id, and the secret value (not its id) or certificate.',
      },
      (err as Error).message,
      status,
    );
  }
  const outcome: Outcome =
    aadsts === undefined && status !== undefined && !serverSide
      ? { action: 'fail', kind: 'config', reason: 'TokenRequestFailed' }
      : { action: 'retry', kind: 'transient', reason: 'TokenRequestFailed' };
  return new SourceError(outcome, (err as Error).message, status);
}

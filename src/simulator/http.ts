/** HTTP plumbing shared by the emulated APIs: request statistics, fault application, the request context. */
import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ContentStore } from './content.js';
import type { Fault, FaultController, FaultEndpoint, FaultKind } from './faults.js';
import type { Cast } from './generators/cast.js';
import type { SimTenantConfig } from './tenants.js';

/** Endpoint names used in stats (the fault endpoints plus the ones faults do not target). */
export type StatsEndpoint =
  | FaultEndpoint
  | 'subscriptions.stop'
  | 'notifications'
  | 'dlpSensitiveTypes'
  | 'openid-configuration'
  | 'instance-discovery'
  | 'jwks'
  | 'control'
  | 'unknown';

export interface EndpointStats {
  requests: number;
  /** HTTP status → count; `timeout` for requests held and dropped. */
  statuses: Record<string, number>;
  /** Error code (AF…, AADSTS…, Graph code) → count. */
  codes: Record<string, number>;
}

export interface RequestLogEntry {
  /** Real time of the response (epoch ms). */
  readonly at: number;
  /** Simulated time of the response (the `now` option), for window and throttling assertions. */
  readonly simAt: number;
  readonly endpoint: StatsEndpoint;
  readonly method: string;
  readonly url: string;
  readonly status: number | 'timeout';
  readonly code?: string;
  readonly tenantId?: string;
  readonly publisherId?: string;
  readonly contentType?: string;
}

export interface RequestStats {
  readonly total: number;
  readonly endpoints: Partial<Record<StatsEndpoint, EndpointStats>>;
}

const LOG_LIMIT = 20_000;

export class StatsRecorder {
  private readonly endpoints = new Map<StatsEndpoint, EndpointStats>();
  private readonly ring: RequestLogEntry[] = [];
  private total = 0;

  record(e: RequestLogEntry): void {
    this.total++;
    let s = this.endpoints.get(e.endpoint);
    if (!s) {
      s = { requests: 0, statuses: {}, codes: {} };
      this.endpoints.set(e.endpoint, s);
    }
    s.requests++;
    const st = String(e.status);
    s.statuses[st] = (s.statuses[st] ?? 0) + 1;
    if (e.code) s.codes[e.code] = (s.codes[e.code] ?? 0) + 1;
    this.ring.push(e);
    if (this.ring.length > LOG_LIMIT) this.ring.splice(0, this.ring.length - LOG_LIMIT);
  }

  snapshot(): RequestStats {
    const endpoints: Partial<Record<StatsEndpoint, EndpointStats>> = {};
    for (const [k, v] of this.endpoints)
      endpoints[k] = { requests: v.requests, statuses: { ...v.statuses }, codes: { ...v.codes } };
    return { total: this.total, endpoints };
  }

  /** The most recent requests (up to 20,000), oldest first. */
  log(): RequestLogEntry[] {
    return [...this.ring];
  }

  reset(): void {
    this.endpoints.clear();
    this.ring.length = 0;
    this.total = 0;
  }
}

/** Knobs of the emulated Management Activity API, changeable at run time (`sim.knobs`, `/_simulator/knobs`). */
export interface ManagementKnobs {
  /** Content descriptors per listing page (default 100). */
  pageSize: number;
  /** Chance that a page which has items is served empty, still carrying NextPageUri (seeded; default 0). */
  emptyPageProbability: number;
  /** The last page with items still carries NextPageUri, leading to an empty final page (default false). */
  trailingEmptyPage: boolean;
  /** HTTP status of AF429 (documented 403; some clients expect 429). */
  throttleStatus: number;
  /** Requests per minute per (tenant, PublisherIdentifier) (default 60,000: the dedicated pool). */
  requestsPerMinute: number;
  /** Requests per minute of the shared pool used by calls without PublisherIdentifier (default 2,000). */
  sharedRequestsPerMinute: number;
  /** Window when startTime/endTime are omitted: the reference's last 24 h, or the troubleshooting guide's today. */
  defaultWindow: 'last24h' | 'today';
  /** HTTP status of AF20050/AF20051/AF20052 (undocumented; default 400). */
  blobErrorStatus: number;
  /** Wait required between a stop and the next start of one content type (doc: 15 min; default 0 = off). */
  startCooldownMs: number;
}

export function defaultManagementKnobs(): ManagementKnobs {
  return {
    pageSize: 100,
    emptyPageProbability: 0,
    trailingEmptyPage: false,
    throttleStatus: 403,
    requestsPerMinute: 60_000,
    sharedRequestsPerMinute: 2_000,
    defaultWindow: 'last24h',
    blobErrorStatus: 400,
    startCooldownMs: 0,
  };
}

export interface SimContext {
  readonly tenants: SimTenantConfig[];
  readonly store: ContentStore;
  readonly faults: FaultController;
  readonly stats: StatsRecorder;
  readonly knobs: ManagementKnobs;
  readonly signingKey: crypto.KeyObject;
  readonly publicJwk: crypto.JsonWebKey & { kid: string };
  readonly kid: string;
  /** Simulated time (content availability, windows, expiry). */
  readonly now: () => number;
  /** Time for issuing and checking access tokens (the real clock: clients cache tokens by it). */
  readonly tokenNow: () => number;
  readonly random: () => number;
  readonly castOf: (tenantId: string) => Cast;
  /** Requests held open by the `timeout` fault, released on close. */
  readonly held: Set<NodeJS.Timeout>;
}

/** Per-request notes the stats hook reads. */
export interface RequestNotes {
  endpoint: StatsEndpoint;
  code?: string;
  tenantId?: string;
  publisherId?: string;
  contentType?: string;
}

const notes = new WeakMap<FastifyRequest, RequestNotes>();

export function note(req: FastifyRequest, patch: Partial<RequestNotes>): RequestNotes {
  const n = notes.get(req) ?? { endpoint: 'unknown' };
  Object.assign(n, patch);
  notes.set(req, n);
  return n;
}

export function notesOf(req: FastifyRequest): RequestNotes {
  return notes.get(req) ?? { endpoint: 'unknown' };
}

/** `https://host:port` as the client addressed us (used in contentUri, NextPageUri, discovery documents). */
export function originOf(req: FastifyRequest): string {
  return `https://${req.headers.host ?? 'localhost'}`;
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How each API family words an error, for faults that are not specific to one API. */
export interface ErrorDialect {
  /** Status of a `throttle` fault without its own `status` (default: the Management API knob, 403). */
  readonly throttleStatus?: number;
  throttled(status: number, retryAfter?: number): { body: unknown; code: string };
  serverError(status: number): { body: unknown; code: string };
}

/** The modifiers a fired fault leaves for the handler to apply. */
export interface FaultEffects {
  truncated: boolean;
  expired: boolean;
  duplicate: boolean;
  stringNumbers: boolean;
}

const TERMINAL: readonly FaultKind[] = ['throttle', 'http429', 'serverError', 'timeout'];

/**
 * Fires the endpoint's faults. Terminal ones (throttle, http429, serverError, timeout) answer the request
 * here and return undefined; the others come back as effects for the handler.
 */
export function applyFaults(
  ctx: SimContext,
  req: FastifyRequest,
  reply: FastifyReply,
  endpoint: FaultEndpoint,
  dialect: ErrorDialect,
  scope: { tenantId?: string; contentType?: string },
  allowed: readonly FaultKind[],
): FaultEffects | undefined {
  const fired = ctx.faults.take(endpoint, scope, [...TERMINAL, ...allowed]);
  const effects: FaultEffects = { truncated: false, expired: false, duplicate: false, stringNumbers: false };
  for (const f of fired) {
    if (TERMINAL.includes(f.kind)) {
      terminal(ctx, req, reply, f, dialect);
      return undefined;
    }
    if (f.kind === 'truncated') effects.truncated = true;
    if (f.kind === 'expired') effects.expired = true;
    if (f.kind === 'duplicate') effects.duplicate = true;
    if (f.kind === 'stringNumbers') effects.stringNumbers = true;
  }
  return effects;
}

function terminal(
  ctx: SimContext,
  req: FastifyRequest,
  reply: FastifyReply,
  f: Fault,
  dialect: ErrorDialect,
): void {
  if (f.kind === 'timeout') {
    const n = note(req, { code: 'timeout' });
    reply.hijack();
    const timer = setTimeout(() => {
      ctx.held.delete(timer);
      ctx.stats.record({ ...entryOf(req, n), simAt: ctx.now(), status: 'timeout' });
      req.raw.socket?.destroy();
    }, f.holdMs ?? 30_000);
    ctx.held.add(timer);
    return;
  }
  if (f.kind === 'throttle') {
    const status = f.status ?? dialect.throttleStatus ?? ctx.knobs.throttleStatus;
    const { body, code } = dialect.throttled(status);
    note(req, { code });
    void reply.code(status).send(body);
    return;
  }
  if (f.kind === 'http429') {
    const retry = f.retryAfterSeconds ?? 5;
    const { body, code } = dialect.throttled(429, retry);
    note(req, { code });
    void reply.code(429).header('retry-after', String(retry)).send(body);
    return;
  }
  const status = f.status ?? 500;
  const { body, code } = dialect.serverError(status);
  note(req, { code });
  void reply.code(status).send(body);
}

export function entryOf(req: FastifyRequest, n: RequestNotes): Omit<RequestLogEntry, 'status' | 'simAt'> {
  return {
    at: Date.now(),
    endpoint: n.endpoint,
    method: req.method,
    url: req.url,
    ...(n.code ? { code: n.code } : {}),
    ...(n.tenantId ? { tenantId: n.tenantId } : {}),
    ...(n.publisherId ? { publisherId: n.publisherId } : {}),
    ...(n.contentType ? { contentType: n.contentType } : {}),
  };
}

/** Sends JSON, cut in the middle when the `truncated` fault fired (status and headers stay valid). */
export function sendJson(
  reply: FastifyReply,
  status: number,
  body: unknown,
  truncated: boolean,
): FastifyReply {
  let text = typeof body === 'string' ? body : JSON.stringify(body);
  if (truncated) text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
  return reply.code(status).type('application/json; charset=utf-8').send(text);
}

export function requestId(): string {
  return crypto.randomUUID();
}

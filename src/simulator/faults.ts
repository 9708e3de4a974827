/**
 * Run-time switchable faults, per endpoint. A fault fires on a request when its trigger says so:
 * `count` (the next N matching requests), `probability` (a seeded draw, so runs repeat), or neither (every
 * request until cleared). Matching can be narrowed to a tenant or content type.
 */
import { prng } from './generators/office365-audit.js';

export const FAULT_ENDPOINTS = [
  'token',
  'subscriptions.start',
  'subscriptions.list',
  'content',
  'blob',
  'skus',
] as const;
export type FaultEndpoint = (typeof FAULT_ENDPOINTS)[number];

export const FAULT_KINDS = [
  'throttle',
  'http429',
  'serverError',
  'timeout',
  'truncated',
  'expired',
  'duplicate',
  'stringNumbers',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  readonly kind: FaultKind;
  /** Fire on each matching request with this probability (seeded). */
  readonly probability?: number;
  /** Fire on the next N matching requests, then stop. */
  readonly count?: number;
  /** `throttle`: 403 (documented, default) or 429. `serverError`: 500 (default) or 503. */
  readonly status?: number;
  /** `http429`: the Retry-After header in seconds (default 5). */
  readonly retryAfterSeconds?: number;
  /** `timeout`: how long the request is held before the socket is dropped (default 30 s). */
  readonly holdMs?: number;
  /** Only requests for this tenant. */
  readonly tenantId?: string;
  /** Only requests for this content type. */
  readonly contentType?: string;
}

interface Armed {
  readonly fault: Fault;
  remaining: number | undefined;
  fired: number;
}

export interface FaultState {
  readonly endpoint: FaultEndpoint;
  readonly fault: Fault;
  readonly remaining?: number;
  readonly fired: number;
}

export function isFaultEndpoint(s: string): s is FaultEndpoint {
  return (FAULT_ENDPOINTS as readonly string[]).includes(s);
}

/** Checks a fault description from an API body or a test; throws with a message naming the problem. */
export function validateFault(v: unknown): Fault {
  if (typeof v !== 'object' || v === null) throw new Error('a fault is an object with a `kind`');
  const f = v as Record<string, unknown>;
  if (typeof f.kind !== 'string' || !(FAULT_KINDS as readonly string[]).includes(f.kind))
    throw new Error(`fault kind must be one of ${FAULT_KINDS.join(', ')}`);
  const allowed = [
    'kind',
    'probability',
    'count',
    'status',
    'retryAfterSeconds',
    'holdMs',
    'tenantId',
    'contentType',
  ];
  for (const k of Object.keys(f)) if (!allowed.includes(k)) throw new Error(`unknown fault field '${k}'`);
  if (
    f.probability !== undefined &&
    !(typeof f.probability === 'number' && f.probability >= 0 && f.probability <= 1)
  )
    throw new Error('probability must be a number from 0 to 1');
  if (f.count !== undefined && !(Number.isInteger(f.count) && (f.count as number) >= 0))
    throw new Error('count must be a whole number');
  for (const k of ['status', 'retryAfterSeconds', 'holdMs'])
    if (f[k] !== undefined && !(typeof f[k] === 'number' && (f[k] as number) >= 0))
      throw new Error(`${k} must be a number`);
  return f as unknown as Fault;
}

export class FaultController {
  private readonly armed = new Map<FaultEndpoint, Armed[]>();
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = prng(seed ^ 0xfa017);
  }

  /** Replaces the faults of an endpoint. */
  set(endpoint: FaultEndpoint, fault: Fault | readonly Fault[]): void {
    const list = (Array.isArray(fault) ? fault : [fault]) as Fault[];
    this.armed.set(
      endpoint,
      list.map((f) => {
        const checked = validateFault(f);
        return { fault: checked, remaining: checked.count, fired: 0 };
      }),
    );
  }

  /** Adds a fault to an endpoint's list. */
  add(endpoint: FaultEndpoint, fault: Fault): void {
    const checked = validateFault(fault);
    const list = this.armed.get(endpoint) ?? [];
    list.push({ fault: checked, remaining: checked.count, fired: 0 });
    this.armed.set(endpoint, list);
  }

  clear(endpoint?: FaultEndpoint): void {
    if (endpoint) this.armed.delete(endpoint);
    else this.armed.clear();
  }

  list(): FaultState[] {
    const out: FaultState[] = [];
    for (const [endpoint, list] of this.armed)
      for (const a of list)
        out.push({
          endpoint,
          fault: a.fault,
          fired: a.fired,
          ...(a.remaining !== undefined ? { remaining: a.remaining } : {}),
        });
    return out;
  }

  /**
   * The faults that fire for this request (each consumed once). `kinds` limits which kinds the caller can
   * act on at this point, so a fault is not used up where it cannot apply.
   */
  take(
    endpoint: FaultEndpoint,
    ctx: { tenantId?: string; contentType?: string },
    kinds?: readonly FaultKind[],
  ): Fault[] {
    const list = this.armed.get(endpoint);
    if (!list) return [];
    const fired: Fault[] = [];
    for (const a of list) {
      const f = a.fault;
      if (kinds && !kinds.includes(f.kind)) continue;
      if (f.tenantId && f.tenantId !== ctx.tenantId) continue;
      if (f.contentType && f.contentType !== ctx.contentType) continue;
      if (a.remaining !== undefined && a.remaining <= 0) continue;
      if (f.probability !== undefined && !(this.random() < f.probability)) continue;
      if (a.remaining !== undefined) a.remaining--;
      a.fired++;
      fired.push(f);
    }
    return fired;
  }
}

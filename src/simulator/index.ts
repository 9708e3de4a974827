/**
 * The simulated Microsoft tenant: one HTTPS origin that is at once the identity platform (authority host),
 * the Office 365 Management Activity API and Microsoft Graph (`/v1.0/subscribedSkus`), plus a control API
 * under `/_simulator/`. See README.md.
 */
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  ContentStore,
  type ExpiredBlob,
  type GenerateOptions,
  type GenerateResult,
  type TruthRecord,
} from './content.js';
import { registerControl } from './control.js';
import { FaultController } from './faults.js';
import type { ContentType } from './generators/activity-records.js';
import { buildCast, type Cast, hash32, stringHash } from './generators/cast.js';
import { prng } from './generators/office365-audit.js';
import { registerGraph } from './graph.js';
import {
  defaultManagementKnobs,
  entryOf,
  type ManagementKnobs,
  notesOf,
  type RequestLogEntry,
  type RequestStats,
  type SimContext,
  StatsRecorder,
} from './http.js';
import { registerIdentity } from './identity.js';
import { registerManagement } from './management.js';
import { demoTenant, type SimTenantConfig, tenantDomain } from './tenants.js';

export { GRAPH_AUDIENCES, MANAGEMENT_AUDIENCES, rolesFor } from './audiences.js';
export type { ExpiredBlob, GenerateOptions, GenerateResult, TruthRecord } from './content.js';
export type { Fault, FaultEndpoint, FaultKind, FaultState } from './faults.js';
export { FAULT_ENDPOINTS, FAULT_KINDS, FaultController } from './faults.js';
export type { ContentType, RecordHead } from './generators/activity-records.js';
export { buildRecord, CONTENT_TYPES, IRM_PRODUCT, recordHead } from './generators/activity-records.js';
export type { EndpointStats, ManagementKnobs, RequestLogEntry, RequestStats } from './http.js';
export type { ServicePlan, SimApp, SimTenantConfig, SubscribedSku } from './tenants.js';
export { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, demoTenant, e5Skus } from './tenants.js';

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (ephemeral). */
  readonly port?: number;
  /** HTTPS always (MSAL refuses http authorities); from `ensureCertificates(tlsDir)` in src/server/tls.ts. */
  readonly tls: { cert: string; key: string };
  /** Seed of everything generated (records, casts, fault probabilities). Default 1. */
  readonly seed?: number;
  /** Where blob bodies are written at `generate()` and served from; default: rebuilt in memory per GET. */
  readonly blobDir?: string;
  /** Default: `[demoTenant()]`. */
  readonly tenants?: SimTenantConfig[];
  /** Simulated clock (epoch ms) for content availability, windows and expiry. Default Date.now. */
  readonly now?: () => number;
  /** Clock for access tokens (issue and check). Default Date.now: clients cache tokens by the real clock. */
  readonly tokenNow?: () => number;
  /** Initial Management Activity API knobs (changeable later through `sim.knobs`). */
  readonly knobs?: Partial<ManagementKnobs>;
}

export interface LiveOptions {
  readonly tenantId: string;
  readonly recordsPerMinute: number;
  readonly contentTypes?: readonly ContentType[];
  readonly mix?: Partial<Record<ContentType, number>>;
  /** Event-to-availability delay of live content (default 30 s, so a demo shows data soon). */
  readonly latencyMs?: number;
  /** How often a slice of activity is generated (default 10 s). */
  readonly tickMs?: number;
  /** Default 50. */
  readonly recordsPerBlob?: number;
  readonly duplicateRate?: number;
}

export interface ActivityFeed {
  /** Creates history: blobs with `contentCreated` spread over [from, to). See GenerateOptions. */
  generate(o: GenerateOptions): Promise<GenerateResult>;
  /** Generates activity continuously for a tenant until stopLive. */
  startLive(o: LiveOptions): void;
  stopLive(tenantId?: string): void;
}

export interface GroundTruth {
  /** Every distinct record produced for the tenant (repeats and re-deliveries once), in generation order. */
  records(tenantId: string): IterableIterator<TruthRecord>;
  /** Blobs answered with AF20051 (age or the `expired` fault), with their record ids. */
  expiredBlobs(): ExpiredBlob[];
}

export interface RunningSimulator {
  /** `https://127.0.0.1:PORT`: authority host, Management Activity API base and Graph base. */
  readonly url: string;
  readonly tenants: SimTenantConfig[];
  readonly activity: ActivityFeed;
  readonly faults: FaultController;
  readonly truth: GroundTruth;
  /** An administrator disables a subscription: listing answers AF20023 until the client starts it again. */
  disableSubscription(tenantId: string, contentType: ContentType): void;
  /** Management API knobs, mutable at run time. */
  readonly knobs: ManagementKnobs;
  stats(): RequestStats;
  /** The most recent requests (up to 20,000), oldest first. */
  requests(): RequestLogEntry[];
  close(): Promise<void>;
}

const REGIONS = ['emea0036', 'na0030', 'apac0012', 'emea0021'];

export async function startSimulator(o: SimulatorOptions): Promise<RunningSimulator> {
  const seed = o.seed ?? 1;
  const tenants = o.tenants ?? [demoTenant()];
  const now = o.now ?? Date.now;
  const casts = new Map<string, Cast>();
  const castOf = (tenantId: string): Cast => {
    let c = casts.get(tenantId);
    if (!c) {
      const t = tenants.find((x) => x.tenantId === tenantId);
      if (!t) throw new Error(`unknown simulated tenant ${tenantId}`);
      c = buildCast(seed, t.tenantId, tenantDomain(t));
      casts.set(tenantId, c);
    }
    return c;
  };
  const store = new ContentStore(
    seed,
    castOf,
    (t) => REGIONS[hash32(stringHash(t)) % REGIONS.length]!,
    o.blobDir,
    now,
  );
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = crypto
    .createHash('sha1')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url');
  const ctx: SimContext = {
    tenants,
    store,
    faults: new FaultController(seed),
    stats: new StatsRecorder(),
    knobs: { ...defaultManagementKnobs(), ...o.knobs },
    signingKey: privateKey,
    publicJwk: { ...(publicKey.export({ format: 'jwk' }) as crypto.JsonWebKey), kid },
    kid,
    now,
    tokenNow: o.tokenNow ?? Date.now,
    random: prng(hash32(seed, 0xe3)),
    castOf,
    held: new Set(),
  };

  const live = new Map<string, NodeJS.Timeout>();
  const startLive = (l: LiveOptions) => {
    if (!tenants.some((t) => t.tenantId === l.tenantId))
      throw new Error(`unknown simulated tenant ${l.tenantId}`);
    if (!(l.recordsPerMinute > 0)) throw new Error('recordsPerMinute must be positive');
    stopLive(l.tenantId);
    const tick = l.tickMs ?? 10_000;
    const latency = l.latencyMs ?? 30_000;
    let last = now();
    let owed = 0;
    const timer = setInterval(() => {
      const t = now();
      owed += (l.recordsPerMinute * (t - last)) / 60_000;
      const count = Math.floor(owed);
      if (count > 0 && t > last) {
        owed -= count;
        void store
          .generate({
            tenantId: l.tenantId,
            count,
            from: last + latency,
            to: t + latency,
            latencyMs: latency,
            recordsPerBlob: l.recordsPerBlob ?? 50,
            disorder: 0.01,
            lateMaxMs: 10 * 60_000,
            duplicateRate: l.duplicateRate ?? 0.01,
            ...(l.contentTypes ? { contentTypes: l.contentTypes } : {}),
            ...(l.mix ? { mix: l.mix } : {}),
          })
          .catch(() => undefined);
      }
      last = t;
    }, tick);
    timer.unref();
    live.set(l.tenantId, timer);
  };
  const stopLive = (tenantId?: string) => {
    for (const [t, timer] of live)
      if (!tenantId || t === tenantId) {
        clearInterval(timer);
        live.delete(t);
      }
  };

  const app = buildApp(ctx, o.tls, { store, startLive, stopLive });
  const host = o.host ?? '127.0.0.1';
  await app.listen({ host, port: o.port ?? 0 });
  const port = (app.server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `https://${urlHost}:${port}`,
    tenants,
    activity: {
      generate: (g) => store.generate(g),
      startLive,
      stopLive,
    },
    faults: ctx.faults,
    truth: {
      records: (tenantId) => store.truth(tenantId),
      expiredBlobs: () => store.expiredBlobs(),
    },
    disableSubscription: (tenantId, contentType) =>
      store.subscriptions.adminDisable(tenantId, contentType, now()),
    knobs: ctx.knobs,
    stats: () => ctx.stats.snapshot(),
    requests: () => ctx.stats.log(),
    close: async () => {
      stopLive();
      for (const t of ctx.held) clearTimeout(t);
      ctx.held.clear();
      await app.close();
    },
  };
}

function buildApp(
  ctx: SimContext,
  tls: { cert: string; key: string },
  hooks: Parameters<typeof registerControl>[2],
): FastifyInstance {
  const app = Fastify({
    https: { cert: tls.cert, key: tls.key },
    logger: false,
    routerOptions: { maxParamLength: 500 },
    forceCloseConnections: true,
    bodyLimit: 10 * 1024 * 1024,
  });
  // Lenient bodies: an empty JSON body (subscriptions/start without a webhook) is no body.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body).trim();
    if (!text) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      const err = new Error('invalid JSON body') as Error & { statusCode: number };
      err.statusCode = 400;
      done(err, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addHook('onResponse', async (req, reply) => {
    const n = notesOf(req);
    if (n.code === 'timeout') return;
    ctx.stats.record({ ...entryOf(req, n), simAt: ctx.now(), status: reply.statusCode });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .send({ error: { code: 'NotFound', message: `No route for ${req.method} ${req.url.split('?')[0]}` } });
  });

  registerIdentity(app, ctx);
  registerManagement(app, ctx);
  registerGraph(app, ctx);
  registerControl(app, ctx, hooks);
  return app;
}

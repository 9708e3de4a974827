/**
 * The emulated Office 365 Management Activity API (source-apis.md §2): subscriptions, content listing by
 * `contentCreated` with NextPageUri paging, blob retrieval with 7-day expiry, AF error codes and AF429
 * throttling per PublisherIdentifier. Routes answer under `/api/v1.0/` and `/api/v1/` (NextPageUri's form).
 */
import fs from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MANAGEMENT_AUDIENCES } from './audiences.js';
import { type Blob, CONTENT_ID_PATTERN, CONTENT_RETENTION_MS } from './content.js';
import type { FaultEndpoint, FaultKind } from './faults.js';
import { CONTENT_TYPES, type ContentType, isContentType } from './generators/activity-records.js';
import {
  applyFaults,
  type ErrorDialect,
  type FaultEffects,
  GUID,
  note,
  originOf,
  type SimContext,
  type StatsEndpoint,
  sendJson,
} from './http.js';
import { type AccessTokenClaims, checkAccessToken, findTenant } from './identity.js';
import type { SimTenantConfig } from './tenants.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NO_PUBLISHER = '00000000-0000-0000-0000-000000000000';

const WINDOW_MESSAGE =
  'Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time no more than 7 days in the past.';
const ORDER_MESSAGE =
  'Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time prior to end time and start time no more than 7 days in the past.';

function afBody(code: string, message: string) {
  return { error: { code, message } };
}

const METHOD: Partial<Record<StatsEndpoint, string>> = {
  'subscriptions.start': 'StartSubscription',
  'subscriptions.stop': 'StopSubscription',
  'subscriptions.list': 'ListSubscriptions',
  content: 'ListContent',
  notifications: 'ListNotifications',
  blob: 'GetBlob',
  dlpSensitiveTypes: 'GetDlpSensitiveTypes',
};

function dialect(endpoint: StatsEndpoint, publisher: string | undefined): ErrorDialect {
  return {
    throttled: () => ({
      body: afBody(
        'AF429',
        `Too many requests. Method=${METHOD[endpoint] ?? 'Unknown'}, PublisherId=${publisher ?? NO_PUBLISHER}`,
      ),
      code: 'AF429',
    }),
    serverError: () => ({
      body: afBody('AF50000', 'An internal error occurred. Retry the request.'),
      code: 'AF50000',
    }),
  };
}

/** Zone-less times are UTC. Accepts the documented forms plus a trailing Z, a fraction or an offset. */
const TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,7})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

export function parseApiTime(s: string): number | undefined {
  const m = TIME.exec(s.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', zone = 'Z'] = m;
  const z =
    zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec}${frac ? frac.slice(0, 4) : ''}${z}`);
  return Number.isFinite(ms) ? ms : undefined;
}

interface Guarded {
  readonly tenant: SimTenantConfig;
  readonly claims: AccessTokenClaims;
  readonly effects: FaultEffects;
  readonly publisher?: string;
  readonly fail: (status: number, code: string, message: string) => FastifyReply;
}

type Req = FastifyRequest<{
  Params: { ver: string; tenant: string; contentId?: string };
  Querystring: Record<string, string>;
}>;

export function registerManagement(app: FastifyInstance, ctx: SimContext): void {
  const windows = new Map<string, { minute: number; count: number }>();

  /** Counts the request in its pool; true when the pool is over its limit this minute. */
  function throttled(tenantId: string, publisher: string | undefined): boolean {
    const key = publisher ? `${tenantId}|${publisher.toLowerCase()}` : 'shared';
    const limit = publisher ? ctx.knobs.requestsPerMinute : ctx.knobs.sharedRequestsPerMinute;
    const minute = Math.floor(ctx.now() / 60_000);
    let w = windows.get(key);
    if (!w || w.minute !== minute) {
      w = { minute, count: 0 };
      windows.set(key, w);
    }
    w.count++;
    return w.count > limit;
  }

  /** The checks every Management API call goes through, in order; undefined when the request was answered. */
  function guard(
    req: Req,
    reply: FastifyReply,
    endpoint: StatsEndpoint,
    allowed: readonly FaultKind[],
  ): Guarded | undefined {
    if (req.params.ver !== 'v1.0' && req.params.ver !== 'v1') {
      void reply.code(404).send({
        error: { code: 'NotFound', message: 'No HTTP resource was found that matches the request URI.' },
      });
      return undefined;
    }
    const q = req.query;
    const publisherRaw = q.PublisherIdentifier ?? q.publisheridentifier;
    const publisher = publisherRaw && GUID.test(publisherRaw) ? publisherRaw : undefined;
    const urlTenant = req.params.tenant;
    note(req, {
      endpoint,
      tenantId: urlTenant,
      ...(publisher ? { publisherId: publisher } : {}),
      ...(q.contentType ? { contentType: q.contentType } : {}),
    });
    const d = dialect(endpoint, publisher);
    // A blob URL carries no contentType parameter; its content id names it (`...$Audit_General$region`).
    const blobType =
      endpoint === 'blob' ? /\$(Audit_[A-Za-z]+|DLP_All)\$/.exec(req.params.contentId ?? '')?.[1] : undefined;
    const contentType = q.contentType ?? blobType?.replace('_', '.');
    const scope = { tenantId: urlTenant, ...(contentType ? { contentType } : {}) };
    let effects: FaultEffects | undefined = {
      truncated: false,
      expired: false,
      duplicate: false,
      stringNumbers: false,
    };
    const faultEndpoint: FaultEndpoint | undefined =
      endpoint === 'subscriptions.start' ||
      endpoint === 'subscriptions.list' ||
      endpoint === 'content' ||
      endpoint === 'blob'
        ? endpoint
        : undefined;
    if (faultEndpoint) effects = applyFaults(ctx, req, reply, faultEndpoint, d, scope, allowed);
    if (!effects) return undefined;
    const fx = effects;
    const fail = (status: number, code: string, message: string) => {
      note(req, { code });
      return sendJson(reply, status, afBody(code, message), fx.truncated);
    };
    const auth = checkAccessToken(ctx, req, MANAGEMENT_AUDIENCES);
    if (!auth.ok) {
      note(req, { code: 'Unauthorized' });
      void sendJson(reply, 401, { Message: 'Authorization has been denied for this request.' }, false);
      return undefined;
    }
    if (!GUID.test(urlTenant)) {
      void fail(400, 'AF20013', `The tenant ID passed in the URL (${urlTenant}) is not a valid GUID.`);
      return undefined;
    }
    if (auth.claims.tid.toLowerCase() !== urlTenant.toLowerCase()) {
      void fail(
        401,
        'AF20010',
        `The tenant ID passed in the URL (${urlTenant}) does not match the tenant ID passed in the access token (${auth.claims.tid}).`,
      );
      return undefined;
    }
    const roles = auth.claims.roles;
    const needsDlp = q.contentType === 'DLP.All';
    if (!roles.includes('ActivityFeed.Read') || (needsDlp && !roles.includes('ActivityFeed.ReadDlp'))) {
      void fail(
        401,
        'AF10001',
        `The permission set (${roles.join(' ')}) sent in the request does not include the expected permission.`,
      );
      return undefined;
    }
    if (throttled(urlTenant, publisher)) {
      const { body, code } = d.throttled(ctx.knobs.throttleStatus);
      note(req, { code });
      void sendJson(reply, ctx.knobs.throttleStatus, body, false);
      return undefined;
    }
    const tenant = findTenant(ctx, urlTenant);
    if (!tenant || tenant.auditLoggingEnabled === false) {
      void fail(
        400,
        'AF20011',
        `Microsoft.Office.Compliance.Audit.DataServiceException: Tenant ${urlTenant} does not exist.`,
      );
      return undefined;
    }
    return { tenant, claims: auth.claims, effects: fx, ...(publisher ? { publisher } : {}), fail };
  }

  function contentTypeOf(req: Req, g: Guarded): ContentType | undefined {
    const ct = req.query.contentType;
    if (!ct) {
      void g.fail(400, 'AF20001', 'Missing parameter: contentType.');
      return undefined;
    }
    if (!isContentType(ct)) {
      void g.fail(
        400,
        'AF20020',
        `The content type (${ct}) is invalid. Valid values are ${CONTENT_TYPES.join(', ')}.`,
      );
      return undefined;
    }
    return ct;
  }

  const feed = '/api/:ver/:tenant/activity/feed';

  app.post(`${feed}/subscriptions/start`, async (req: Req, reply) => {
    const g = guard(req, reply, 'subscriptions.start', ['truncated']);
    if (!g) return reply;
    const ct = contentTypeOf(req, g);
    if (!ct) return reply;
    const body = req.body as { webhook?: Record<string, unknown> } | undefined;
    const webhook = body?.webhook
      ? {
          status: 'enabled',
          address: body.webhook.address ?? null,
          authId: body.webhook.authId ?? null,
          expiration: body.webhook.expiration || null,
        }
      : null;
    const state = ctx.store.subscriptions.get(g.tenant.tenantId, ct);
    if (state?.enabled)
      return g.fail(400, 'AF20024', 'The subscription is already enabled. No property change.');
    const lastEnd = state?.periods[state.periods.length - 1]?.end;
    if (
      ctx.knobs.startCooldownMs > 0 &&
      lastEnd !== undefined &&
      ctx.now() - lastEnd < ctx.knobs.startCooldownMs
    )
      return g.fail(400, 'AF429', 'Too many requests. Wait before starting this subscription again.');
    ctx.store.subscriptions.start(g.tenant.tenantId, ct, ctx.now(), webhook);
    return sendJson(reply, 200, { contentType: ct, status: 'enabled', webhook }, g.effects.truncated);
  });

  app.post(`${feed}/subscriptions/stop`, async (req: Req, reply) => {
    const g = guard(req, reply, 'subscriptions.stop', []);
    if (!g) return reply;
    const ct = contentTypeOf(req, g);
    if (!ct) return reply;
    const state = ctx.store.subscriptions.get(g.tenant.tenantId, ct);
    if (!state?.enabled)
      return g.fail(400, 'AF20022', 'No subscription found for the specified content type.');
    ctx.store.subscriptions.stop(g.tenant.tenantId, ct, ctx.now());
    return reply.code(200).send();
  });

  app.get(`${feed}/subscriptions/list`, async (req: Req, reply) => {
    const g = guard(req, reply, 'subscriptions.list', ['truncated']);
    if (!g) return reply;
    return sendJson(reply, 200, ctx.store.subscriptions.list(g.tenant.tenantId), g.effects.truncated);
  });

  app.get(`${feed}/subscriptions/notifications`, async (req: Req, reply) => {
    const g = guard(req, reply, 'notifications', []);
    if (!g) return reply;
    const ct = contentTypeOf(req, g);
    if (!ct) return reply;
    if (!ctx.store.subscriptions.get(g.tenant.tenantId, ct)?.enabled)
      return g.fail(400, 'AF20022', 'No subscription found for the specified content type.');
    // No webhooks are delivered by the simulator, so the delivery history is empty.
    return sendJson(reply, 200, [], false);
  });

  app.get(`${feed}/resources/dlpSensitiveTypes`, async (req: Req, reply) => {
    const g = guard(req, reply, 'dlpSensitiveTypes', []);
    if (!g) return reply;
    return sendJson(
      reply,
      200,
      [
        { id: '50842eb7-edc8-4019-85dd-5a5c1f2bb085', name: 'Credit Card Number' },
        { id: 'a44669fe-0d48-453d-a9b1-2cc83f2cba77', name: 'U.S. Social Security Number (SSN)' },
        { id: 'e55e2a32-f92d-4985-a35d-a0b269eb687b', name: 'International Banking Account Number (IBAN)' },
      ],
      false,
    );
  });

  app.get(`${feed}/subscriptions/content`, async (req: Req, reply) => {
    const g = guard(req, reply, 'content', ['truncated', 'duplicate']);
    if (!g) return reply;
    const ct = contentTypeOf(req, g);
    if (!ct) return reply;
    const tenantId = g.tenant.tenantId;
    const sub = ctx.store.subscriptions.get(tenantId, ct);
    if (sub?.adminDisabled)
      return g.fail(400, 'AF20023', 'The subscription was disabled by an administrator.');
    if (!sub?.enabled) return g.fail(400, 'AF20022', 'No subscription found for the specified content type.');
    const q = req.query;
    const now = ctx.now();
    let start: number;
    let end: number;
    if (q.startTime === undefined && q.endTime === undefined) {
      end = now;
      if (ctx.knobs.defaultWindow === 'today') start = Math.floor(now / DAY) * DAY;
      else start = now - DAY;
    } else {
      if (q.startTime === undefined || q.endTime === undefined) return g.fail(400, 'AF20055', WINDOW_MESSAGE);
      const s = parseApiTime(q.startTime);
      const e = parseApiTime(q.endTime);
      if (s === undefined || e === undefined) return g.fail(400, 'AF20055', WINDOW_MESSAGE);
      if (s >= e) return g.fail(400, 'AF20030', ORDER_MESSAGE);
      if (e - s > DAY || s < now - 7 * DAY) return g.fail(400, 'AF20055', WINDOW_MESSAGE);
      start = s;
      end = e;
    }
    // nextPage: <yyyyMMddHH><flag><9 digits>; R = after blob seq, E = same but never served empty again,
    // S = from the start but never served empty again (after an empty first page).
    let after: { created: number; seq: number } | undefined;
    let noEmpty = false;
    if (q.nextPage !== undefined) {
      const m = /^\d{10}([RES])(\d{9})$/.exec(q.nextPage);
      const seqBlob = m && m[1] !== 'S' ? ctx.store.blobBySeq(Number(m[2])) : undefined;
      if (!m || (m[1] !== 'S' && (!seqBlob || seqBlob.tenantId !== tenantId || seqBlob.contentType !== ct)))
        return g.fail(400, 'AF20031', `Invalid nextPage Input: ${q.nextPage}.`);
      if (seqBlob) after = { created: seqBlob.created, seq: seqBlob.seq };
      noEmpty = m[1] !== 'R';
    }
    const page = ctx.store.list(tenantId, ct, start, end, after, Math.max(1, ctx.knobs.pageSize));
    const nextUri = (flag: 'R' | 'E' | 'S', seq: number, created: number) => {
      const token = `${new Date(created).toISOString().slice(0, 13).replace(/[-T]/g, '')}${flag}${String(seq).padStart(9, '0')}`;
      const params = new URLSearchParams({
        contentType: ct,
        startTime: q.startTime ?? new Date(start).toISOString().slice(0, 19),
        endTime: q.endTime ?? new Date(end).toISOString().slice(0, 19),
        nextPage: token,
      });
      return `${originOf(req)}/api/v1/${tenantId}/activity/feed/subscriptions/content?${params.toString()}`;
    };
    if (
      page.items.length > 0 &&
      !noEmpty &&
      ctx.knobs.emptyPageProbability > 0 &&
      ctx.random() < ctx.knobs.emptyPageProbability
    ) {
      // An empty page that still carries NextPageUri, pointing at the same position.
      const uri = after ? nextUri('E', after.seq, after.created) : nextUri('S', 0, start);
      void reply.header('NextPageUri', uri);
      return sendJson(reply, 200, [], g.effects.truncated);
    }
    if (page.next) void reply.header('NextPageUri', nextUri('R', page.next.seq, page.next.created));
    else if (ctx.knobs.trailingEmptyPage && page.items.length > 0) {
      const last = page.items[page.items.length - 1]!;
      void reply.header('NextPageUri', nextUri('R', last.seq, last.created));
    }
    if (g.effects.duplicate && page.items[0]) ctx.store.duplicate(page.items[0], now);
    const origin = originOf(req);
    const items = page.items.map((b) => ({
      contentType: ct,
      contentId: b.contentId,
      contentUri: `${origin}/api/v1.0/${tenantId}/activity/feed/audit/${b.contentId}`,
      contentCreated: new Date(b.created).toISOString(),
      contentExpiration: new Date(b.created + CONTENT_RETENTION_MS).toISOString(),
    }));
    return sendJson(reply, 200, items, g.effects.truncated);
  });

  app.get(`${feed}/audit/:contentId`, async (req: Req, reply) => {
    const g = guard(req, reply, 'blob', ['truncated', 'expired', 'duplicate', 'stringNumbers']);
    if (!g) return reply;
    const id = req.params.contentId ?? '';
    const status = ctx.knobs.blobErrorStatus;
    if (!CONTENT_ID_PATTERN.test(id))
      return g.fail(status, 'AF20052', `Content ID ${id} in the URL is invalid.`);
    const blob = ctx.store.blob(id);
    const now = ctx.now();
    if (!blob || blob.tenantId !== g.tenant.tenantId || blob.available > now)
      return g.fail(status, 'AF20050', 'The specified content does not exist.');
    note(req, { contentType: blob.contentType });
    if (g.effects.expired || blob.expired) {
      ctx.store.markExpired(blob, 'fault');
      return g.fail(status, 'AF20051', 'The content requested has expired and is no longer available.');
    }
    if (now - blob.created > CONTENT_RETENTION_MS) {
      ctx.store.markExpired(blob, 'age');
      return g.fail(status, 'AF20051', 'The content requested has expired and is no longer available.');
    }
    if (g.effects.duplicate) ctx.store.duplicate(blob, now);
    return sendBlob(reply, ctx, blob, g.effects);
  });
}

async function sendBlob(
  reply: FastifyReply,
  ctx: SimContext,
  blob: Blob,
  fx: FaultEffects,
): Promise<FastifyReply> {
  if (blob.file && !fx.stringNumbers && !fx.truncated) {
    // Pre-generated: stream the file; the CPU cost of a GET is a read.
    const { size } = await fs.promises.stat(blob.file);
    return reply
      .code(200)
      .type('application/json; charset=utf-8')
      .header('content-length', String(size))
      .send(fs.createReadStream(blob.file));
  }
  let text = await ctx.store.body(blob);
  if (fx.stringNumbers) text = text.replace(/"(RecordType|UserType|Version)":(\d+)/g, '"$1":"$2"');
  return sendJson(reply, 200, text, fx.truncated);
}

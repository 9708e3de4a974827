/**
 * `/_simulator/...`: the control API of a standalone simulator process (faults, knobs, stats, truth,
 * history and live activity), for tests and benchmarks that drive the simulator from another process.
 * Unauthenticated by design: the simulator binds to loopback and holds no real data.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ContentStore, GenerateOptions } from './content.js';
import { type Fault, isFaultEndpoint, validateFault } from './faults.js';
import { type ManagementKnobs, note, type SimContext, sendJson } from './http.js';
import type { LiveOptions } from './index.js';

export interface ControlHooks {
  readonly store: ContentStore;
  readonly startLive: (o: LiveOptions) => void;
  readonly stopLive: (tenantId?: string) => void;
}

const KNOB_TYPES: Record<keyof ManagementKnobs, 'number' | 'boolean' | 'string'> = {
  pageSize: 'number',
  emptyPageProbability: 'number',
  trailingEmptyPage: 'boolean',
  throttleStatus: 'number',
  requestsPerMinute: 'number',
  sharedRequestsPerMinute: 'number',
  defaultWindow: 'string',
  blobErrorStatus: 'number',
  startCooldownMs: 'number',
};

/** Applies a partial knob update after checking every field; throws on an unknown or mistyped one. */
export function updateKnobs(knobs: ManagementKnobs, patch: unknown): void {
  if (typeof patch !== 'object' || patch === null) throw new Error('knobs: expected an object');
  const entries = Object.entries(patch);
  for (const [k, v] of entries) {
    const t = KNOB_TYPES[k as keyof ManagementKnobs];
    if (!t) throw new Error(`knobs: unknown knob '${k}'`);
    if (typeof v !== t) throw new Error(`knobs: '${k}' must be a ${t}`);
    if (k === 'defaultWindow' && v !== 'last24h' && v !== 'today')
      throw new Error("knobs: defaultWindow is 'last24h' or 'today'");
  }
  Object.assign(knobs, Object.fromEntries(entries));
}

export function registerControl(app: FastifyInstance, ctx: SimContext, hooks: ControlHooks): void {
  const bad = (reply: FastifyReply, err: unknown) =>
    sendJson(
      reply,
      400,
      { error: { code: 'BadRequest', message: err instanceof Error ? err.message : String(err) } },
      false,
    );

  app.addHook('onRequest', async (req) => {
    if (req.url.startsWith('/_simulator/')) note(req, { endpoint: 'control' });
  });

  app.get('/_simulator/faults', async (_req, reply) =>
    sendJson(reply, 200, { faults: ctx.faults.list() }, false),
  );
  app.put<{ Params: { endpoint: string } }>('/_simulator/faults/:endpoint', async (req, reply) => {
    const { endpoint } = req.params;
    if (!isFaultEndpoint(endpoint)) return bad(reply, new Error(`unknown endpoint '${endpoint}'`));
    try {
      const body = req.body as unknown;
      const list: Fault[] = Array.isArray(body) ? body.map(validateFault) : [validateFault(body)];
      ctx.faults.set(endpoint, list);
    } catch (err) {
      return bad(reply, err);
    }
    return sendJson(reply, 200, { faults: ctx.faults.list() }, false);
  });
  app.delete('/_simulator/faults', async (_req, reply) => {
    ctx.faults.clear();
    return reply.code(204).send();
  });
  app.delete<{ Params: { endpoint: string } }>('/_simulator/faults/:endpoint', async (req, reply) => {
    if (!isFaultEndpoint(req.params.endpoint))
      return bad(reply, new Error(`unknown endpoint '${req.params.endpoint}'`));
    ctx.faults.clear(req.params.endpoint);
    return reply.code(204).send();
  });

  app.get('/_simulator/knobs', async (_req, reply) => sendJson(reply, 200, ctx.knobs, false));
  app.put('/_simulator/knobs', async (req, reply) => {
    try {
      updateKnobs(ctx.knobs, req.body);
    } catch (err) {
      return bad(reply, err);
    }
    return sendJson(reply, 200, ctx.knobs, false);
  });

  app.get('/_simulator/stats', async (_req, reply) => sendJson(reply, 200, ctx.stats.snapshot(), false));
  app.get('/_simulator/requests', async (_req, reply) => sendJson(reply, 200, ctx.stats.log(), false));
  app.delete('/_simulator/stats', async (_req, reply) => {
    ctx.stats.reset();
    return reply.code(204).send();
  });

  app.get('/_simulator/truth', async (_req, reply) => {
    const perTenant: Record<
      string,
      { records: number; listable: number; byContentType: Record<string, number> }
    > = {};
    for (const t of ctx.tenants) {
      const s = { records: 0, listable: 0, byContentType: {} as Record<string, number> };
      for (const r of hooks.store.truth(t.tenantId)) {
        s.records++;
        if (r.listable) s.listable++;
        s.byContentType[r.contentType] = (s.byContentType[r.contentType] ?? 0) + 1;
      }
      perTenant[t.tenantId] = s;
    }
    return sendJson(reply, 200, { tenants: perTenant, content: hooks.store.summary() }, false);
  });
  app.get<{ Params: { tenant: string } }>('/_simulator/truth/:tenant/records', async (req, reply) => {
    // NDJSON, streamed: a million records must not be one string.
    reply.type('application/x-ndjson');
    const iter = hooks.store.truth(req.params.tenant);
    const { Readable } = await import('node:stream');
    return reply.send(
      Readable.from(
        (function* () {
          for (const r of iter) yield `${JSON.stringify(r)}\n`;
        })(),
      ),
    );
  });
  app.get('/_simulator/truth/expired', async (_req, reply) =>
    sendJson(reply, 200, hooks.store.expiredBlobs(), false),
  );

  app.post('/_simulator/generate', async (req, reply) => {
    try {
      const result = await hooks.store.generate(req.body as GenerateOptions);
      return sendJson(reply, 200, result, false);
    } catch (err) {
      return bad(reply, err);
    }
  });
  app.post('/_simulator/live', async (req, reply) => {
    try {
      hooks.startLive(req.body as LiveOptions);
    } catch (err) {
      return bad(reply, err);
    }
    return reply.code(204).send();
  });
  app.delete('/_simulator/live', async (_req, reply) => {
    hooks.stopLive();
    return reply.code(204).send();
  });
}

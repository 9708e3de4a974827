import crypto from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ConnectorServices } from '../connectors/index.js';
import type { IngestService } from '../ingest/service.js';
import { runQuery } from '../kql/run.js';
import type { TokenRecord } from '../storage/control/tokens.js';
import type { ResolvedTable } from '../workspace/catalog.js';
import type { TableStats, Workspace } from '../workspace/workspace.js';
import { registerAuth } from './auth/plugin.js';
import type { TokenService } from './auth/token-service.js';
import { registerConnectorRoutes } from './connectors/routes.js';
import { ApiError, installErrorHandling } from './errors.js';
import { registerManagementRoutes } from './management/routes.js';
import { QueryLogWriter } from './query/query-log.js';
import { registerQueryRoutes } from './query/routes.js';

export interface AppOptions {
  readonly workspace: Workspace;
  readonly ingest: IngestService;
  readonly tokens: TokenService;
  /** The running server's in-memory Owner token for CLI commands on this machine (see serve.ts). */
  readonly localToken?: string;
  readonly logger: FastifyBaseLogger;
  /** Tenants, connector runtime and connector management; without them the connector routes are absent. */
  readonly connectors?: ConnectorServices;
  /** Serve HTTPS with this key and certificate; plain HTTP without. */
  readonly https?: { readonly key: string; readonly cert: string };
}

/**
 * The most one ingest request may stream. The body is never buffered (it flows batch by batch into the
 * store), so this guards the disk against a runaway client, not memory; larger inputs resume by offset.
 */
export const INGEST_BODY_LIMIT = 64 * 1024 ** 3;

/** Content types the ingest route streams: one JSON object a line. */
const NDJSON_TYPES = ['application/x-ndjson', 'text/plain'];

export interface TableView {
  readonly name: string;
  readonly kind: string;
  readonly rows: number;
  readonly bytesOnDisk: number;
  readonly retentionDays: number;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
}

function tableView(table: ResolvedTable, stats?: TableStats): TableView {
  return {
    name: table.name,
    kind: table.schema.kind,
    rows: stats?.rows ?? 0,
    bytesOnDisk: stats?.bytesOnDisk ?? 0,
    retentionDays: table.retentionDays,
    columns: table.columns.filter((c) => !c.hidden).map((c) => ({ name: c.name, type: c.type })),
  };
}

/** A token as the API shows it: picked field by field so a hash can never slip into a response. */
function tokenView(record: TokenRecord) {
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    prefix: record.prefix,
    createdAt: record.createdAt,
    lastUsedAt: record.lastUsedAt,
    revokedAt: record.revokedAt,
  };
}

const tableNameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1 } },
} as const;

const ingestParams = {
  type: 'object',
  required: ['table'],
  properties: { table: { type: 'string', minLength: 1 } },
} as const;

const sourceQuery = {
  type: 'object',
  required: ['source'],
  additionalProperties: false,
  properties: { source: { type: 'string', minLength: 1 } },
} as const;

/**
 * The Fastify application, not listening. Handlers stay thin: they validate the request shape, call a
 * service and shape the answer; errors go to `errors.ts`.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const { workspace, ingest, tokens } = options;
  const app = Fastify({
    loggerInstance: options.logger,
    genReqId: () => crypto.randomUUID(),
    // Unknown keys are rejected with a named error (Principle 3), never silently stripped.
    ajv: { customOptions: { removeAdditional: false } },
    ...(options.https ? { https: { key: options.https.key, cert: options.https.cert } } : {}),
    // The raw server is https.Server or http.Server; routes and hooks do not care which.
  }) as unknown as FastifyInstance;

  installErrorHandling(app);
  app.addHook('onRequest', async (request, reply) => {
    // Azure's header for the id a user quotes when reporting a failure (it is also in 5xx messages and logs).
    reply.header('x-ms-request-id', request.id);
  });
  registerAuth(app, { tokens, localToken: options.localToken });

  // Ingest requests still streaming when the server closes stop at a batch boundary (checkpoints stay exact).
  const inflight = new Set<AbortController>();
  app.addHook('preClose', async () => {
    for (const controller of inflight) controller.abort();
  });

  const queryLog = new QueryLogWriter(options.ingest, options.logger);
  app.addHook('onClose', async () => queryLog.flush());
  registerQueryRoutes(app, {
    workspace,
    run: (text, runOptions) => runQuery(workspace, text, runOptions),
    log: (entry) => queryLog.record(entry),
  });

  if (options.connectors) {
    registerManagementRoutes(app, options.connectors.connectors);
    registerConnectorRoutes(app, options.connectors);
  }

  app.get('/health', { config: { public: true } }, async () => ({
    status: 'Healthy',
    workspaceId: workspace.id,
    store: workspace.store.engine,
  }));

  app.get('/api/tables', { config: { role: 'Reader' } }, async () => {
    const stats = new Map((await workspace.tableStats()).map((s) => [s.name, s]));
    return { value: workspace.catalog.list().map((t) => tableView(t, stats.get(t.name))) };
  });

  app.put<{ Params: { name: string }; Body: Record<string, unknown> }>(
    '/api/tables/:name',
    { config: { role: 'Contributor' }, schema: { params: tableNameParams, body: { type: 'object' } } },
    async (request, reply) => {
      const { name } = request.params;
      const body = request.body;
      if (body.name !== undefined && body.name !== name) {
        throw new ApiError(
          400,
          'BadRequest',
          `The table name in the body (${JSON.stringify(body.name)}) differs from the one in the path ('${name}').`,
        );
      }
      const table = await workspace.createCustomTable({ ...body, name });
      return reply.code(201).send(tableView(table));
    },
  );

  app.get('/api/tokens', { config: { role: 'Owner' } }, async () => ({
    value: (await tokens.list()).map(tokenView),
  }));

  app.post<{ Body: { name: string; role: string } }>(
    '/api/tokens',
    {
      config: { role: 'Owner' },
      schema: {
        body: {
          type: 'object',
          required: ['name', 'role'],
          additionalProperties: false,
          properties: { name: { type: 'string' }, role: { type: 'string' } },
        },
      },
    },
    async (request, reply) => {
      const { token, record } = await tokens.create(request.body.name, request.body.role);
      request.log.info(
        { tokenId: record.id, role: record.role, by: request.principal?.tokenId },
        'token created',
      );
      // The clear token exists in this response only.
      return reply.code(201).send({ ...tokenView(record), token });
    },
  );

  app.delete<{ Params: { idOrName: string } }>(
    '/api/tokens/:idOrName',
    {
      config: { role: 'Owner' },
      schema: {
        params: {
          type: 'object',
          required: ['idOrName'],
          properties: { idOrName: { type: 'string', minLength: 1 } },
        },
      },
    },
    async (request, reply) => {
      await tokens.revoke(request.params.idOrName);
      request.log.info({ token: request.params.idOrName, by: request.principal?.tokenId }, 'token revoked');
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { table: string }; Querystring: { source: string } }>(
    '/api/ingest/:table/position',
    {
      config: { role: 'Contributor' },
      schema: {
        params: ingestParams,
        querystring: sourceQuery,
      },
    },
    async (request) => {
      workspace.catalog.require(request.params.table);
      return ingest.position(request.query.source, request.params.table);
    },
  );

  app.delete<{ Params: { table: string }; Querystring: { source: string } }>(
    '/api/ingest/:table/position',
    {
      config: { role: 'Contributor' },
      schema: { params: ingestParams, querystring: sourceQuery },
    },
    async (request, reply) => {
      workspace.catalog.require(request.params.table);
      await ingest.resetPosition(request.query.source, request.params.table);
      return reply.code(204).send();
    },
  );

  // The ingest route lives in its own scope so its streaming parsers do not replace the JSON parser elsewhere.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // Hand the request stream itself to the handler: the body is read batch by batch, never buffered.
    scope.addContentTypeParser(NDJSON_TYPES, (_request, payload, done) => done(null, payload));
    scope.addContentTypeParser('*', (request, _payload, done) => {
      const type = request.headers['content-type'];
      done(
        new ApiError(
          415,
          'UnsupportedMediaType',
          (type ? `Content-Type '${type}' is not accepted here` : 'The request has no Content-Type') +
            `; send NDJSON (one JSON object a line) as ${NDJSON_TYPES.join(' or ')}.`,
        ),
        undefined,
      );
    });

    scope.post<{
      Params: { table: string };
      Querystring: { source: string; offset: number; checkpoint?: boolean };
    }>(
      '/api/ingest/:table',
      {
        config: { role: 'Contributor' },
        bodyLimit: INGEST_BODY_LIMIT,
        schema: {
          params: ingestParams,
          querystring: {
            type: 'object',
            required: ['source'],
            additionalProperties: false,
            properties: {
              source: { type: 'string', minLength: 1 },
              offset: { type: 'integer', minimum: 0, default: 0 },
              checkpoint: { type: 'boolean' },
            },
          },
        },
      },
      async (request, reply) => {
        const { table } = request.params;
        workspace.catalog.require(table);
        if (Number(request.headers['content-length']) > INGEST_BODY_LIMIT) throw bodyTooLarge();
        const input = (request.body as AsyncIterable<Buffer> | undefined) ?? request.raw;
        const counted = { bytes: 0, exceeded: false };
        const controller = new AbortController();
        // The client went away before the answer: stop the run (what is stored stays stored and checkpointed).
        const onClose = () => {
          if (!reply.raw.writableFinished) controller.abort();
        };
        reply.raw.once('close', onClose);
        inflight.add(controller);
        try {
          return await ingest.ingestStream({
            table,
            source: request.query.source,
            input: limitBytes(input, INGEST_BODY_LIMIT, counted),
            startOffset: request.query.offset,
            checkpoint: request.query.checkpoint,
            signal: controller.signal,
          });
        } catch (err) {
          if (counted.exceeded) throw bodyTooLarge();
          throw err;
        } finally {
          inflight.delete(controller);
          reply.raw.off('close', onClose);
        }
      },
    );
  });

  return app;
}

function bodyTooLarge(): ApiError {
  return new ApiError(
    413,
    'ContentLengthLimitExceeded',
    `One ingest request streams at most ${INGEST_BODY_LIMIT} bytes; send the rest in another request from the offset reached.`,
  );
}

/** Passes the body through, counting bytes, and fails once it passes the limit (chunked bodies have no length). */
async function* limitBytes(
  input: AsyncIterable<Buffer | Uint8Array | string>,
  limit: number,
  state: { bytes: number; exceeded: boolean },
): AsyncIterable<Buffer | Uint8Array | string> {
  for await (const chunk of input) {
    state.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (state.bytes > limit) {
      state.exceeded = true;
      throw bodyTooLarge();
    }
    yield chunk;
  }
}

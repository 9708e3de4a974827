import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { QueryResult } from '../../kql/run.js';
import type { Workspace } from '../../workspace/workspace.js';
import { ApiError, toHttpError } from '../errors.js';
import type { QueryLogEntry } from './query-log.js';
import {
  encodeCell,
  type Preferences,
  parsePrefer,
  parseTimespan,
  type TimeRange,
  TimespanError,
} from './wire.js';

/** Runs KQL for the Query API; the time range filters `TimeGenerated` of every table the query reads. */
export type KqlRunner = (
  text: string,
  options: { timeRange?: TimeRange; maxRows?: number },
) => Promise<QueryResult>;

/** Log Analytics' limit on the rows one query returns; more gives a partial result with a PartialError. */
export const MAX_RESULT_ROWS = 500_000;

/**
 * Log Analytics' limit on the size of one result, 64 MB (Kusto's `truncationmaxsize`, 67,108,864 bytes): a
 * larger result is cut and answered as a partial result with a PartialError, like the row limit.
 * Measured on the rows as the response encodes them (JSON text).
 */
export const MAX_RESULT_BYTES = 64 * 1024 * 1024;

/** The leading rows whose JSON text fits in `maxBytes` (each row counted with its separator). */
export function limitResultBytes(rows: unknown[][], maxBytes: number): { rows: unknown[][]; cut: boolean } {
  let bytes = 2;
  for (let i = 0; i < rows.length; i++) {
    bytes += Buffer.byteLength(JSON.stringify(rows[i])) + 1;
    if (bytes > maxBytes) return { rows: rows.slice(0, i), cut: true };
  }
  return { rows, cut: false };
}

interface QueryBody {
  readonly query?: unknown;
  readonly timespan?: unknown;
  readonly workspaces?: unknown;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkWorkspace(workspace: Workspace, id: string): void {
  if (!GUID.test(id)) throw new ApiError(404, 'PathNotFoundError', 'The requested path does not exist');
  if (id.toLowerCase() !== workspace.id.toLowerCase()) {
    throw new ApiError(
      400,
      'FailedToResolveResource',
      `Workspace '${id}' is not this workspace; its id is ${workspace.id}.`,
    );
  }
}

function badArgument(message: string): ApiError {
  return new ApiError(400, 'BadArgumentError', message);
}

/** One query, as both the single endpoint and each batch item run it. Throws for the error envelope. */
async function answer(
  run: KqlRunner,
  body: QueryBody,
  prefs: Preferences,
  audit?: Audit,
  maxBytes?: number,
): Promise<Record<string, unknown>> {
  const receivedAt = Date.now();
  let status = 200;
  let rowCount = 0;
  try {
    const response = await answerUnaudited(run, body, prefs, maxBytes);
    rowCount = (response.tables as { rows: unknown[] }[])[0]?.rows.length ?? 0;
    return response;
  } catch (err) {
    status = toHttpError(err).status;
    throw err;
  } finally {
    audit?.({
      receivedAt,
      queryText: typeof body.query === 'string' ? body.query : '',
      context: { timespan: typeof body.timespan === 'string' ? body.timespan : null },
      status,
      durationMs: Date.now() - receivedAt,
      rowCount,
    });
  }
}

/** Records one answered query; the route fills in who asked. */
type Audit = (
  entry: Pick<QueryLogEntry, 'receivedAt' | 'queryText' | 'context' | 'status' | 'durationMs' | 'rowCount'>,
) => void;

async function answerUnaudited(
  run: KqlRunner,
  body: QueryBody,
  prefs: Preferences,
  maxBytes = MAX_RESULT_BYTES,
): Promise<Record<string, unknown>> {
  if (typeof body.query !== 'string' || body.query.trim() === '') {
    throw badArgument("The request needs a 'query' string with the KQL to run.");
  }
  if (body.timespan !== undefined && body.timespan !== null && typeof body.timespan !== 'string') {
    throw badArgument("'timespan' must be an ISO 8601 string such as PT1H or start/end.");
  }
  let timeRange: TimeRange | undefined;
  try {
    timeRange = parseTimespan((body.timespan as string | null | undefined) ?? undefined);
  } catch (err) {
    if (err instanceof TimespanError) throw badArgument(err.message);
    throw err;
  }
  const started = process.hrtime.bigint();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ApiError(
            504,
            'GatewayTimeout',
            `The query ran longer than ${prefs.waitSeconds} s (raise it with the header Prefer: wait=<seconds>, at most 600).`,
          ),
        ),
      prefs.waitSeconds * 1000,
    );
  });
  let result: QueryResult;
  try {
    result = await Promise.race([run(body.query, { timeRange, maxRows: MAX_RESULT_ROWS }), timeout]);
  } finally {
    clearTimeout(timer);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const columns = result.columns.map((c) => ({ name: c.name, type: c.type === 'null' ? 'string' : c.type }));
  const sized = limitResultBytes(
    result.rows.map((row) => row.map((v, i) => encodeCell(v, columns[i]!.type))),
    maxBytes,
  );
  const response: Record<string, unknown> = {
    tables: [{ name: 'PrimaryResult', columns, rows: sized.rows }],
  };
  if (sized.cut) {
    response.error = {
      code: 'PartialError',
      message: 'There were some errors when processing your query.',
      details: [
        {
          code: 'EngineError',
          message: `Query result set has exceeded the internal data size limit ${maxBytes} (E_QUERY_RESULT_SET_TOO_LARGE); the first ${sized.rows.length} records are returned.`,
        },
      ],
    };
  } else if (result.truncated) {
    // Log Analytics answers 200 with the partial table and this error; the SDK reports PartialFailure.
    response.error = {
      code: 'PartialError',
      message: 'There were some errors when processing your query.',
      details: [
        {
          code: 'EngineError',
          message: `Query result set has exceeded the internal record count limit ${MAX_RESULT_ROWS} records; the first ${MAX_RESULT_ROWS} are returned.`,
        },
      ],
    };
  }
  if (prefs.includeStatistics) response.statistics = { query: { executionTime: seconds } };
  // Log Analytics answers `render` only when asked; a query without the operator renders as a table.
  if (prefs.includeRender) response.render = result.render ?? { visualization: 'table', title: null };
  return response;
}

function bodyOf(request: FastifyRequest): QueryBody {
  const body = request.body;
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badArgument('The request body must be a JSON object with a query.');
  }
  return body as QueryBody;
}

/**
 * The Log Analytics Query API: `POST|GET /v1/workspaces/{id}/query` and `POST /v1/$batch`, as Microsoft's
 * SDK clients call them (azure-api-compat.md §2). Readers may query.
 */
export function registerQueryRoutes(
  app: FastifyInstance,
  options: {
    workspace: Workspace;
    run: KqlRunner;
    log?: (entry: QueryLogEntry) => void;
    /** The result-size limit (default `MAX_RESULT_BYTES`; tests lower it). */
    maxResultBytes?: number;
  },
): void {
  const { workspace, run, log, maxResultBytes } = options;
  // A batch item's correlation id is the request's plus the item id: each query is its own LAQueryLogs row.
  const auditFor =
    (request: FastifyRequest, itemId?: string): Audit =>
    (entry) =>
      log?.({
        ...entry,
        tokenId: request.principal?.tokenId ?? '',
        tokenName: request.principal?.name ?? '',
        correlationId: itemId === undefined ? String(request.id) : `${request.id}/${itemId}`,
        clientApp: String(request.headers['user-agent'] ?? ''),
        context: { ...entry.context, workspaces: [workspace.id] },
      });

  app.post<{ Params: { workspaceId: string } }>(
    '/v1/workspaces/:workspaceId/query',
    { config: { role: 'Reader' } },
    async (request, reply) => {
      checkWorkspace(workspace, request.params.workspaceId);
      const result = await answer(
        run,
        bodyOf(request),
        parsePrefer(request.headers.prefer),
        auditFor(request),
        maxResultBytes,
      );
      return reply.type('application/json; charset=utf-8').send(result);
    },
  );

  app.get<{ Params: { workspaceId: string }; Querystring: { query?: string; timespan?: string } }>(
    '/v1/workspaces/:workspaceId/query',
    { config: { role: 'Reader' } },
    async (request, reply) => {
      checkWorkspace(workspace, request.params.workspaceId);
      const { query, timespan } = request.query;
      const result = await answer(
        run,
        { query, timespan },
        parsePrefer(request.headers.prefer),
        auditFor(request),
        maxResultBytes,
      );
      return reply.type('application/json; charset=utf-8').send(result);
    },
  );

  app.post('/v1/$batch', { config: { role: 'Reader' } }, async (request, reply) => {
    const body = bodyOf(request) as { requests?: unknown };
    if (!Array.isArray(body.requests)) throw badArgument("The batch needs a 'requests' array.");
    const ids = new Set<string>();
    for (const item of body.requests as { id?: unknown }[]) {
      if (typeof item?.id !== 'string') throw badArgument("Every batch request needs a string 'id'.");
      if (ids.has(item.id)) throw badArgument(`The batch repeats the request id '${item.id}'.`);
      ids.add(item.id);
    }
    // Answered in request order: the current SDK pairs results with requests by position.
    const responses = [];
    for (const raw of body.requests as Record<string, unknown>[]) {
      const id = raw.id as string;
      try {
        const path = (raw.path as string | undefined) ?? '/query';
        const method = ((raw.method as string | undefined) ?? 'POST').toUpperCase();
        if (path !== '/query' || method !== 'POST') {
          throw new ApiError(404, 'PathNotFoundError', 'The requested path does not exist');
        }
        checkWorkspace(workspace, String(raw.workspace ?? ''));
        const headers = Object.fromEntries(
          Object.entries((raw.headers as Record<string, string> | undefined) ?? {}).map(([k, v]) => [
            k.toLowerCase(),
            v,
          ]),
        );
        const item = raw.body;
        if (item === null || typeof item !== 'object')
          throw badArgument("Every batch request needs a 'body'.");
        responses.push({
          id,
          status: 200,
          body: await answer(
            run,
            item as QueryBody,
            parsePrefer(headers.prefer),
            auditFor(request, id),
            maxResultBytes,
          ),
        });
      } catch (err) {
        const mapped = toHttpError(err, { correlationId: request.id });
        if (mapped.internal) request.log.error({ err, batchItem: id }, 'batch query failed');
        responses.push({ id, status: mapped.status, body: mapped.body });
      }
    }
    return reply.type('application/json; charset=utf-8').send({ responses });
  });
}

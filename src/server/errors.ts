import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConnectorError } from '../connectors/errors.js';
import { IngestError } from '../ingest/errors.js';
import { KqlError } from '../kql/errors.js';
import { CheckpointConflictError } from '../storage/control/checkpoints.js';
import { LogStoreError } from '../storage/log-store.js';
import { TenantError } from '../tenants/errors.js';
import { WorkspaceError } from '../workspace/errors.js';
import { TokenError } from './auth/token-service.js';

/**
 * The one place where errors become HTTP responses. Every error body is Azure's envelope
 * (`{"error":{"code","message"}}`), which the Azure SDKs turn into a `RestError` with `code` and `message`.
 * Route handlers throw domain errors or `ApiError`; they never build error responses themselves.
 */

/** An error that already knows its HTTP status and Azure error code (auth failures, request checks). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface InnerError {
  readonly code: string;
  readonly message?: string;
  readonly innererror?: InnerError;
  /** Where in the query text a KQL diagnostic points (Vigil's addition; the SDKs ignore unknown keys). */
  readonly position?: { readonly start: number; readonly length: number };
}

export interface ErrorEnvelope {
  readonly error: { readonly code: string; readonly message: string; readonly innererror?: InnerError };
}

export interface HttpError {
  readonly status: number;
  readonly body: ErrorEnvelope;
  readonly headers?: Readonly<Record<string, string>>;
  /** A server-side failure: the response says nothing useful, so the original error must be logged. */
  readonly internal: boolean;
}

export interface ErrorContext {
  /** Quoted in 5xx messages so a user's report can be matched with the server log. */
  readonly correlationId?: string;
  /** The route's body limit, for a 413 message. */
  readonly bodyLimit?: number;
}

export function envelope(code: string, message: string): ErrorEnvelope {
  return { error: { code, message } };
}

function client(
  status: number,
  code: string,
  message: string,
  headers?: Readonly<Record<string, string>>,
): HttpError {
  return { status, body: envelope(code, message), headers, internal: false };
}

function unexpected(ctx: ErrorContext): HttpError {
  const id = ctx.correlationId ? ` (correlation id ${ctx.correlationId})` : '';
  return {
    status: 500,
    body: envelope('InternalServerError', `An unexpected error occurred${id}.`),
    internal: true,
  };
}

/**
 * A query that cannot run: Log Analytics' shape, `BadArgumentError` outside, `SyntaxError` or
 * `SemanticError` inside, and Kusto's own diagnostic (code, message, position) innermost. Kusto's codes do
 * not say which kind they are; "expected ..." diagnostics are the parser's.
 */
function kqlError(err: KqlError): HttpError {
  const position = err.start !== undefined ? { start: err.start, length: err.length ?? 0 } : undefined;
  const inner: InnerError = { code: err.code, message: err.message, ...(position ? { position } : {}) };
  let middle: InnerError;
  if (err.code.startsWith('KS')) {
    middle = /expected/i.test(err.message)
      ? { code: 'SyntaxError', message: 'A recognition error occurred in the query.', innererror: inner }
      : { code: 'SemanticError', message: 'A semantic error occurred.', innererror: inner };
  } else if (err.code === 'KQL_EXECUTION_FAILED') {
    middle = { code: 'EngineError', message: 'The query could not be executed.', innererror: inner };
  } else {
    middle = {
      code: 'NotSupported',
      message: 'The query uses KQL that Vigil does not run yet.',
      innererror: inner,
    };
  }
  return {
    status: 400,
    body: { error: { code: 'BadArgumentError', message: err.message, innererror: middle } },
    internal: false,
  };
}

const WORKSPACE_STATUS: Record<WorkspaceError['code'], [number, string]> = {
  UnknownTable: [404, 'TableNotFound'],
  TableExists: [409, 'Conflict'],
  InvalidTableName: [400, 'InvalidTableName'],
  InvalidTableDefinition: [400, 'InvalidTableDefinition'],
  InvalidColumn: [400, 'InvalidColumn'],
  // The server's own data directory: not the caller's doing.
  DataDirectoryUnwritable: [500, 'InternalServerError'],
  ReadOnlyTable: [403, 'ReadOnlyTable'],
};

const TOKEN_STATUS: Record<TokenError['code'], number> = {
  InvalidRole: 400,
  InvalidName: 400,
  TokenNotFound: 404,
};

const INGEST_STATUS: Record<IngestError['code'], number> = {
  OffsetMismatch: 409,
  InputUnreadable: 400,
};

interface AjvError {
  readonly instancePath?: string;
  readonly keyword?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

/** Ajv's errors as one sentence naming the field: `querystring.source is required`. */
function validationMessage(err: FastifyError): string {
  const context = (err as { validationContext?: string }).validationContext ?? 'body';
  const errors = (err.validation ?? []) as AjvError[];
  const parts = errors.map((e) => {
    const where = context + (e.instancePath ? e.instancePath.replace(/\//g, '.') : '');
    const p = e.params ?? {};
    switch (e.keyword) {
      case 'required':
        return `${where}.${String(p.missingProperty)} is required`;
      case 'additionalProperties':
        return `${where} has an unknown property '${String(p.additionalProperty)}'`;
      case 'enum':
        return `${where} must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      default:
        return `${where} ${e.message ?? 'is invalid'}`;
    }
  });
  return parts.length ? `Invalid request: ${parts.join('; ')}.` : `Invalid request: ${err.message}.`;
}

/** Fastify's own request errors (body parsing, validation, limits); everything else from Fastify is a bug. */
function fastifyError(err: FastifyError, ctx: ErrorContext): HttpError | undefined {
  if (err.validation) return client(400, 'BadRequest', validationMessage(err));
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return client(400, 'InvalidJsonBody', 'The request body is not valid JSON; send a JSON object.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return client(
        400,
        'InvalidJsonBody',
        "The request body is empty but Content-Type is 'application/json'.",
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = ctx.bodyLimit ? ` (${ctx.bodyLimit} bytes)` : '';
      return client(
        413,
        'ContentLengthLimitExceeded',
        `The request body is larger than this endpoint accepts${limit}.`,
      );
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return client(415, 'UnsupportedMediaType', "This endpoint does not accept the request's Content-Type.");
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return client(400, 'BadRequest', 'The request body does not match its Content-Length header.');
  }
  if (err.code?.startsWith('FST_') && err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return client(err.statusCode, 'BadRequest', err.message);
  }
  return undefined;
}

const CONNECTOR_STATUS: Record<ConnectorError['code'], [number, string]> = {
  UnknownConnectorKind: [404, 'NotFound'],
  InvalidDataConnector: [400, 'BadRequest'],
  DataConnectorNotFound: [404, 'NotFound'],
  EtagConflict: [409, 'Conflict'],
  NotConnected: [409, 'Conflict'],
};

const TENANT_STATUS: Record<TenantError['code'], [number, string]> = {
  InvalidTenant: [400, 'BadRequest'],
  TenantNotFound: [404, 'NotFound'],
  TenantNotConnected: [400, 'BadRequest'],
  EtagMismatch: [412, 'PreconditionFailed'],
  // The identity platform's answer is about the caller's configuration, never a Vigil fault.
  TokenRequestFailed: [400, 'TokenRequestFailed'],
};

/** Maps any thrown value to a status and an envelope. Messages of internal failures never reach the client. */
export function toHttpError(err: unknown, ctx: ErrorContext = {}): HttpError {
  if (err instanceof ApiError) return client(err.status, err.code, err.message, err.headers);
  if (err instanceof KqlError) return kqlError(err);
  if (err instanceof WorkspaceError) {
    const [status, code] = WORKSPACE_STATUS[err.code] ?? [400, 'BadRequest'];
    return client(status, code, err.message);
  }
  if (err instanceof TokenError) return client(TOKEN_STATUS[err.code] ?? 400, err.code, err.message);
  if (err instanceof IngestError) return client(INGEST_STATUS[err.code] ?? 400, err.code, err.message);
  if (err instanceof ConnectorError) {
    const [status, code] = CONNECTOR_STATUS[err.code];
    return client(status, code, err.message);
  }
  if (err instanceof TenantError) {
    const [status, code] = TENANT_STATUS[err.code];
    return client(status, code, err.message);
  }
  if (err instanceof CheckpointConflictError) {
    return client(
      409,
      'Conflict',
      'Another run of this source moved its checkpoint; read the position and resume from it.',
    );
  }
  if (err instanceof LogStoreError) {
    const id = ctx.correlationId ? ` (correlation id ${ctx.correlationId})` : '';
    if (err.code === 'StoreLocked') {
      return {
        status: 503,
        body: envelope('ServiceUnavailable', `The log store is not available; try again later${id}.`),
        internal: true,
      };
    }
    // The engine's text can carry SQL and internals: it goes to the log only.
    return {
      status: 500,
      body: envelope('InternalServerError', `The log store failed to process the request${id}.`),
      internal: true,
    };
  }
  if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('FST_')) {
    const mapped = fastifyError(err as FastifyError, ctx);
    if (mapped) return mapped;
  }
  if (err instanceof Error && (err as FastifyError).validation) {
    return client(400, 'BadRequest', validationMessage(err as FastifyError));
  }
  return unexpected(ctx);
}

function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): void {
  const mapped = toHttpError(err, { correlationId: request.id, bodyLimit: request.routeOptions?.bodyLimit });
  if (mapped.internal) {
    request.log.error({ err, correlationId: request.id, status: mapped.status }, 'request failed');
  } else {
    request.log.info({ status: mapped.status, code: mapped.body.error.code }, 'request rejected');
  }
  if (mapped.headers) reply.headers(mapped.headers);
  void reply.code(mapped.status).type('application/json; charset=utf-8').send(mapped.body);
}

/** Installs the error and not-found handlers on the root instance (child scopes inherit them). */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  app.setNotFoundHandler((_request, reply) => {
    void reply
      .code(404)
      .type('application/json; charset=utf-8')
      .send(envelope('PathNotFoundError', 'The requested path does not exist'));
  });
}

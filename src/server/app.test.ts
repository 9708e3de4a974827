import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestError } from '../ingest/errors.js';
import type { IngestService } from '../ingest/service.js';
import type { IngestStreamRequest } from '../ingest/types.js';
import { LogStoreError } from '../storage/log-store.js';
import { WorkspaceError } from '../workspace/errors.js';
import type { Workspace } from '../workspace/workspace.js';
import { buildApp } from './app.js';
import { TokenError, type TokenService } from './auth/token-service.js';
import { ApiError, toHttpError } from './errors.js';
import { type RunningServer, startServer } from './serve.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are checked field by field
  body: any;
}

interface CallOptions {
  token?: string;
  authorization?: string;
  body?: string;
  contentType?: string;
}

function capture() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), text: () => chunks.join('') };
}

describe('vigil serve over HTTPS', () => {
  let dir: string;
  let server: RunningServer;
  let ca: Buffer;
  let out = '';
  const logs = capture();
  const secrets: string[] = [];
  let admin: string;
  let reader: string;
  let contributor: string;

  function call(method: string, pathname: string, options: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.authorization !== undefined) headers.authorization = options.authorization;
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    return new Promise((resolve, reject) => {
      // The generated CA is the only trust anchor: no rejectUnauthorized: false anywhere.
      const req = https.request(new URL(pathname, server.url), { method, ca, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(options.body);
    });
  }

  async function createToken(name: string, role: string): Promise<string> {
    const res = await call('POST', '/api/tokens', { token: admin, body: JSON.stringify({ name, role }) });
    expect(res.status).toBe(201);
    secrets.push(res.body.token);
    return res.body.token as string;
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-app-'));
    server = await startServer({
      dataDir: dir,
      port: 0,
      host: '127.0.0.1',
      logger: logs.logger,
      out: (text) => {
        out += text;
      },
      handleSignals: false,
    });
    ca = fs.readFileSync(server.caFile!);
    admin = /vgl_[A-Za-z0-9_-]+/.exec(out)![0];
    secrets.push(admin, fs.readFileSync(path.join(dir, 'run', 'local-token'), 'utf8').trim());
    reader = await createToken('reader', 'Reader');
    contributor = await createToken('contributor', 'Contributor');
  });

  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints the URL, the administrator token and the CA once, on first start', () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(out).toContain(server.url);
    expect(out).toContain(server.caFile!);
    expect(out).toContain(`NODE_EXTRA_CA_CERTS=${server.caFile}`);
    expect(out.match(/vgl_/g)).toHaveLength(1);
  });

  it('writes the run files CLI commands use to reach it', async () => {
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'run', 'server.json'), 'utf8'));
    expect(info).toMatchObject({ pid: process.pid, url: server.url, caFile: server.caFile });
    expect(typeof info.startedAt).toBe('string');
    const tokenFile = path.join(dir, 'run', 'local-token');
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
    const local = fs.readFileSync(tokenFile, 'utf8').trim();
    // The local token is an Owner and is not stored among the tokens.
    const res = await call('GET', '/api/tokens', { token: local });
    expect(res.status).toBe(200);
    expect(res.body.value.map((t: { name: string }) => t.name)).toEqual([
      'administrator',
      'reader',
      'contributor',
    ]);
  });

  it('answers /health without a token', async () => {
    const res = await call('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'Healthy', store: 'chdb' });
    expect(res.body.workspaceId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a request without a token with AuthenticationFailed', async () => {
    const res = await call('GET', '/api/tables');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: {
        code: 'AuthenticationFailed',
        message: "Authentication failed. The 'Authorization' header is missing.",
      },
    });
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('refuses a wrong token, another scheme and a revoked token with InvalidAuthenticationToken', async () => {
    for (const authorization of [
      'Bearer vgl_not-a-real-token',
      'Bearer nonsense',
      `Basic ${admin}`,
      'Bearer',
    ]) {
      const res = await call('GET', '/api/tables', { authorization });
      expect(res.status, authorization).toBe(401);
      expect(res.body.error.code).toBe('InvalidAuthenticationToken');
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.text).not.toContain(admin);
    }
    const doomed = await createToken('doomed', 'Reader');
    expect((await call('GET', '/api/tables', { token: doomed })).status).toBe(200);
    const revoke = await call('DELETE', '/api/tokens/doomed', { token: admin });
    expect(revoke.status).toBe(204);
    const res = await call('GET', '/api/tables', { token: doomed });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('InvalidAuthenticationToken');
  });

  it('forbids a Reader to create a table, naming the role needed', async () => {
    const res = await call('PUT', '/api/tables/Reader_CL', {
      token: reader,
      body: JSON.stringify({ columns: [{ name: 'Message', type: 'string' }] }),
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('AuthorizationFailed');
    expect(res.body.error.message).toContain('Contributor');
  });

  it('lets a Contributor create a custom table, which is then listed', async () => {
    const res = await call('PUT', '/api/tables/Test_CL', {
      token: contributor,
      body: JSON.stringify({
        columns: [
          { name: 'TimeGenerated', type: 'datetime' },
          { name: 'Message', type: 'string' },
          { name: 'Id', type: 'string' },
        ],
        recordKey: ['Id'],
        retentionDays: 30,
      }),
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Test_CL', kind: 'custom', rows: 0, retentionDays: 30 });
    const list = await call('GET', '/api/tables', { token: reader });
    expect(list.status).toBe(200);
    const table = list.body.value.find((t: { name: string }) => t.name === 'Test_CL');
    expect(table).toMatchObject({ kind: 'custom', retentionDays: 30 });
    const columns = table.columns.map((c: { name: string }) => c.name);
    expect(columns).toEqual(expect.arrayContaining(['TimeGenerated', 'Message', 'Id']));
    expect(columns.some((c: string) => c.startsWith('_'))).toBe(false);
    expect(list.body.value.find((t: { name: string }) => t.name === 'OfficeActivity')).toBeDefined();

    const again = await call('PUT', '/api/tables/Test_CL', {
      token: contributor,
      body: JSON.stringify({ columns: [{ name: 'Message', type: 'string' }] }),
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('Conflict');
  });

  it('rejects a bad table definition with a named 400', async () => {
    const bad = await call('PUT', '/api/tables/Bad_CL', {
      token: contributor,
      body: JSON.stringify({ columns: [{ name: 'X', type: 'varchar' }] }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('InvalidColumn');
    const name = await call('PUT', '/api/tables/NoSuffix', {
      token: contributor,
      body: JSON.stringify({ columns: [{ name: 'X', type: 'string' }] }),
    });
    expect(name.status).toBe(400);
    expect(name.body.error.code).toBe('InvalidTableName');
  });

  it('lets only an Owner list tokens, without hashes or tokens', async () => {
    const denied = await call('GET', '/api/tokens', { token: reader });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('AuthorizationFailed');
    expect((await call('GET', '/api/tokens', { token: contributor })).status).toBe(403);
    const res = await call('GET', '/api/tokens', { token: admin });
    expect(res.status).toBe(200);
    expect(res.body.value.length).toBeGreaterThanOrEqual(3);
    expect(Object.keys(res.body.value[0]).sort()).toEqual(
      ['createdAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'role'].sort(),
    );
    expect(res.text).not.toMatch(/hash/i);
    for (const secret of secrets) expect(res.text).not.toContain(secret);
  });

  it('checks token creation requests', async () => {
    const role = await call('POST', '/api/tokens', {
      token: admin,
      body: JSON.stringify({ name: 'x', role: 'Admin' }),
    });
    expect(role.status).toBe(400);
    expect(role.body.error.code).toBe('InvalidRole');
    const missing = await call('POST', '/api/tokens', { token: admin, body: JSON.stringify({ name: 'x' }) });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toEqual({
      code: 'BadRequest',
      message: 'Invalid request: body.role is required.',
    });
    const extra = await call('POST', '/api/tokens', {
      token: admin,
      body: JSON.stringify({ name: 'x', role: 'Reader', expires: 'never' }),
    });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toContain("unknown property 'expires'");
    const gone = await call('DELETE', '/api/tokens/no-such-token', { token: admin });
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('TokenNotFound');
  });

  it('answers an unknown path with PathNotFoundError, with or without a token', async () => {
    for (const token of [undefined, reader]) {
      const res = await call('GET', '/api/nothing-here', { token });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({
        error: { code: 'PathNotFoundError', message: 'The requested path does not exist' },
      });
    }
    const verb = await call('PATCH', '/api/tables', { token: reader });
    expect(verb.status).toBe(404);
    expect(verb.body.error.code).toBe('PathNotFoundError');
  });

  it('answers a malformed JSON body with a 400 envelope, not a 500', async () => {
    const res = await call('POST', '/api/tokens', { token: admin, body: '{"name": "x", "role":' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidJsonBody');
    expect(typeof res.body.error.message).toBe('string');
    const empty = await call('PUT', '/api/tables/Empty_CL', { token: contributor, body: '' });
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('InvalidJsonBody');
  });

  it('streams NDJSON into a table', async () => {
    const rows = [
      { TimeGenerated: '2024-05-01T10:00:00Z', Message: 'one', Id: '1' },
      { TimeGenerated: '2024-05-01T10:00:01Z', Message: 'two', Id: '2' },
    ];
    const res = await call('POST', '/api/ingest/Test_CL?source=test%3Aapp&checkpoint=true', {
      token: contributor,
      body: rows.map((r) => JSON.stringify(r)).join('\n') + '\n',
      contentType: 'application/x-ndjson',
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ table: 'Test_CL', source: 'test:app', rowsWritten: 2, linesRead: 2 });
    const position = await call('GET', '/api/ingest/Test_CL/position?source=test%3Aapp', {
      token: contributor,
    });
    expect(position.status).toBe(200);
    expect(position.body.offset).toBe(res.body.endOffset);
    const stale = await call('POST', '/api/ingest/Test_CL?source=test%3Aapp&checkpoint=true&offset=0', {
      token: contributor,
      body: '{}\n',
      contentType: 'text/plain',
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('OffsetMismatch');
  });

  it('checks ingest requests before reading them', async () => {
    const noSource = await call('POST', '/api/ingest/Test_CL', {
      token: contributor,
      body: '{}\n',
      contentType: 'application/x-ndjson',
    });
    expect(noSource.status).toBe(400);
    expect(noSource.body.error.message).toContain('querystring.source is required');
    const unknown = await call('POST', '/api/ingest/Nope_CL?source=s', {
      token: contributor,
      body: '{}\n',
      contentType: 'application/x-ndjson',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('TableNotFound');
    const type = await call('POST', '/api/ingest/Test_CL?source=s', { token: contributor, body: '[{}]' });
    expect(type.status).toBe(415);
    expect(type.body.error.code).toBe('UnsupportedMediaType');
    const role = await call('POST', '/api/ingest/Test_CL?source=s', {
      token: reader,
      body: '{}\n',
      contentType: 'application/x-ndjson',
    });
    expect(role.status).toBe(403);
  });

  it('never writes a token to its log', () => {
    const text = logs.text();
    expect(text).toContain('incoming request');
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain('vgl_not-a-real-token');
  });

  it('removes its run files on close', async () => {
    await server.close();
    expect(fs.existsSync(path.join(dir, 'run', 'server.json'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'run', 'local-token'))).toBe(false);
    await server.closed;
  });
});

describe('error mapping', () => {
  it('maps domain errors to Azure envelopes', () => {
    expect(toHttpError(new WorkspaceError('UnknownTable', 'Unknown table X.'))).toMatchObject({
      status: 404,
      body: { error: { code: 'TableNotFound', message: 'Unknown table X.' } },
    });
    expect(toHttpError(new WorkspaceError('TableExists', 'exists')).status).toBe(409);
    expect(toHttpError(new WorkspaceError('InvalidColumn', 'bad')).status).toBe(400);
    expect(toHttpError(new TokenError('TokenNotFound', 'none')).status).toBe(404);
    expect(toHttpError(new TokenError('InvalidRole', 'role')).status).toBe(400);
    expect(toHttpError(new IngestError('OffsetMismatch', 'offset')).status).toBe(409);
    expect(toHttpError(new IngestError('InputUnreadable', 'input')).status).toBe(400);
    expect(toHttpError(new ApiError(418, 'Teapot', 'short and stout')).body.error.code).toBe('Teapot');
  });

  it('never shows the engine text, SQL or a stack', () => {
    const locked = toHttpError(new LogStoreError('StoreLocked', 'Cannot lock file /secret/path'), {
      correlationId: 'c1',
    });
    expect(locked.status).toBe(503);
    expect(locked.body.error.code).toBe('ServiceUnavailable');
    expect(locked.body.error.message).not.toContain('/secret/path');
    const failed = toHttpError(
      new LogStoreError('StoreFailed', 'Code: 62. Syntax error: SELECT * FROM vigil.x'),
    );
    expect(failed.status).toBe(500);
    expect(failed.body.error.code).toBe('InternalServerError');
    expect(JSON.stringify(failed.body)).not.toMatch(/SELECT|Code: 62/);
    const bug = toHttpError(new TypeError("Cannot read properties of undefined (reading 'x')"), {
      correlationId: 'abc',
    });
    expect(bug).toMatchObject({ status: 500, internal: true });
    expect(bug.body.error).toEqual({
      code: 'InternalServerError',
      message: 'An unexpected error occurred (correlation id abc).',
    });
  });
});

describe('the app with stub services', () => {
  const fakeWorkspace = {
    id: '00000000-0000-0000-0000-000000000001',
    store: { engine: 'chdb' },
    catalog: {
      require(name: string) {
        if (name !== 'Stub_CL') throw new WorkspaceError('UnknownTable', `Unknown table '${name}'.`);
        return { name };
      },
    },
  } as unknown as Workspace;
  const fakeTokens = {
    authenticate: async (token: string) =>
      token === 'vgl_stub' ? { tokenId: 't', name: 'stub', role: 'Contributor' as const } : undefined,
  } as unknown as TokenService;

  function app(ingest: Partial<IngestService>) {
    const logs = capture();
    return {
      logs,
      app: buildApp({
        workspace: fakeWorkspace,
        ingest: ingest as IngestService,
        tokens: fakeTokens,
        localToken: 'vgl_local',
        logger: logs.logger,
      }),
    };
  }

  it('hides an unexpected failure behind a correlation id, and logs it', async () => {
    const { app: server, logs } = app({
      position: async () => {
        throw new Error('boom: SELECT secret FROM internals');
      },
    });
    const res = await server.inject({
      method: 'GET',
      url: '/api/ingest/Stub_CL/position?source=s',
      headers: { authorization: 'Bearer vgl_stub' },
    });
    expect(res.statusCode).toBe(500);
    const body = res.json();
    expect(body.error.code).toBe('InternalServerError');
    expect(body.error.message).toContain(`correlation id ${res.headers['x-ms-request-id']}`);
    expect(res.body).not.toContain('boom');
    expect(logs.text()).toContain('boom: SELECT secret FROM internals');
    await server.close();
  });

  it('streams a body larger than the JSON body limit to the ingest service without buffering it', async () => {
    let seen: IngestStreamRequest | undefined;
    let bytes = 0;
    let chunks = 0;
    const { app: server } = app({
      ingestStream: async (request) => {
        seen = request;
        for await (const chunk of request.input) {
          bytes += chunk.length;
          chunks++;
        }
        return { table: request.table, source: request.source, rowsWritten: 0 } as never;
      },
    });
    const line = `${JSON.stringify({ Message: 'x'.repeat(200) })}\n`;
    const payload = line.repeat(Math.ceil((3 * 1024 * 1024) / line.length));
    const res = await server.inject({
      method: 'POST',
      url: '/api/ingest/Stub_CL?source=s&offset=12&checkpoint=true',
      headers: { authorization: 'Bearer vgl_local', 'content-type': 'application/x-ndjson' },
      payload,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(bytes).toBe(Buffer.byteLength(payload));
    expect(chunks).toBeGreaterThan(0);
    expect(seen).toMatchObject({ table: 'Stub_CL', source: 's', startOffset: 12, checkpoint: true });
    expect(seen?.signal).toBeInstanceOf(AbortSignal);
    await server.close();
  });
});

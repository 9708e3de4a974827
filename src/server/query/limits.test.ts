import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { Workspace } from '../../workspace/workspace.js';
import { installErrorHandling } from '../errors.js';
import { limitResultBytes, MAX_RESULT_BYTES, registerQueryRoutes } from './routes.js';

const WS = '3f2a1b4c-0000-4000-8000-00000000abcd';

describe('result-size limit', () => {
  it('is 64 MB, as in Log Analytics', () => {
    expect(MAX_RESULT_BYTES).toBe(67_108_864);
  });

  it('keeps the leading rows that fit', () => {
    const rows = [['a'.repeat(10)], ['b'.repeat(10)], ['c'.repeat(10)]];
    expect(limitResultBytes(rows, 1000)).toEqual({ rows, cut: false });
    const cut = limitResultBytes(rows, 2 + 2 * 17);
    expect(cut).toEqual({ rows: rows.slice(0, 2), cut: true });
  });

  it('answers 200 with the rows that fit and a PartialError naming the limit', async () => {
    const app = Fastify();
    installErrorHandling(app);
    registerQueryRoutes(app, {
      workspace: { id: WS } as Workspace,
      maxResultBytes: 1000,
      run: async () => ({
        columns: [{ name: 'Text', type: 'string' }],
        rows: Array.from({ length: 100 }, (_, i) => [`row ${i} ${'x'.repeat(40)}`]),
      }),
    });
    const res = await app.inject({
      method: 'POST',
      url: `/v1/workspaces/${WS}/query`,
      payload: { query: 'T' },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json() as {
      tables: { rows: unknown[][] }[];
      error: { code: string; details: { code: string; message: string }[] };
    };
    expect(body.tables[0]!.rows.length).toBeGreaterThan(0);
    expect(body.tables[0]!.rows.length).toBeLessThan(100);
    expect(JSON.stringify(body.tables[0]!.rows).length).toBeLessThanOrEqual(1000);
    expect(body.error.code).toBe('PartialError');
    expect(body.error.details[0]!.code).toBe('EngineError');
    expect(body.error.details[0]!.message).toMatch(/E_QUERY_RESULT_SET_TOO_LARGE/);
    await app.close();
  });
});

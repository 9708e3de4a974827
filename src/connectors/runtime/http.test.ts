import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, TransportError } from './http.js';

// A body of ~1.5 MB with varied bytes, sent in pieces so the client sees many socket reads.
const BODY = Buffer.from(Array.from({ length: 60_000 }, (_, i) => `{"n":${i},"s":"é${i % 97}"}`).join(','));

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/declared') res.writeHead(200, { 'content-length': String(BODY.length) });
    else if (req.url === '/short') res.writeHead(200, { 'content-length': String(BODY.length + 10) });
    else res.writeHead(200); // chunked: no declared length
    let at = 0;
    const send = () => {
      if (at >= BODY.length) {
        if (req.url === '/short') res.destroy();
        else res.end();
        return;
      }
      res.write(BODY.subarray(at, at + 100_000), send);
      at += 100_000;
    };
    send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('httpRequest: response bodies', () => {
  it('returns a body of declared length byte for byte', async () => {
    const res = await httpRequest({ url: `${base}/declared` });
    expect(res.body.equals(BODY)).toBe(true);
  });

  it('returns a chunked body (no declared length) byte for byte', async () => {
    const res = await httpRequest({ url: `${base}/chunked` });
    expect(res.body.equals(BODY)).toBe(true);
  });

  it('rejects a body cut short of its declared length', async () => {
    await expect(httpRequest({ url: `${base}/short` })).rejects.toMatchObject({ reason: 'ConnectionFailed' });
  });

  it('stops reading a body larger than the limit', async () => {
    const err = await httpRequest({ url: `${base}/declared`, maxBodyBytes: 1_000_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err.reason).toBe('BodyTooLarge');
  });
});

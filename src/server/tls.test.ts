import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCertificates, type ServerCertificates } from './tls.js';

describe('ensureCertificates', () => {
  let dir: string;
  let first: ServerCertificates;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tls-'));
    first = ensureCertificates(path.join(dir, 'tls'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('makes a CA that can sign certificates', () => {
    const ca = new crypto.X509Certificate(first.ca);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toContain('CN=Vigil local CA');
    expect(ca.verify(ca.publicKey)).toBe(true);
    const years = (Date.parse(ca.validTo) - Date.now()) / (365.25 * 24 * 3600 * 1000);
    expect(years).toBeGreaterThan(9.9);
    expect(fs.readFileSync(first.caFile, 'utf8')).toBe(first.ca);
  });

  it('makes a server certificate for localhost, 127.0.0.1, ::1 and the host name, signed by the CA', () => {
    const cert = new crypto.X509Certificate(first.cert);
    const ca = new crypto.X509Certificate(first.ca);
    expect(cert.ca).toBe(false);
    const san = cert.subjectAltName ?? '';
    expect(san).toContain('DNS:localhost');
    expect(san).toContain('IP Address:127.0.0.1');
    expect(san).toMatch(/IP Address:(0:0:0:0:0:0:0:1|::1)/);
    const host = os.hostname().toLowerCase();
    if (host && host !== 'localhost' && /^[a-z0-9.-]+$/.test(host)) expect(san).toContain(`DNS:${host}`);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
    expect(cert.checkPrivateKey(crypto.createPrivateKey(first.key))).toBe(true);
    const days = (Date.parse(cert.validTo) - Date.now()) / (24 * 3600 * 1000);
    expect(days).toBeGreaterThan(824);
    expect(days).toBeLessThanOrEqual(825);
  });

  it('keeps the private keys private', () => {
    for (const name of ['ca-key.pem', 'server-key.pem']) {
      expect(fs.statSync(path.join(dir, 'tls', name)).mode & 0o777).toBe(0o600);
    }
  });

  it('reuses the certificates on later calls', () => {
    const again = ensureCertificates(path.join(dir, 'tls'));
    expect(again).toEqual(first);
  });

  it('replaces a server certificate not signed by the CA, keeping the CA', () => {
    const tlsDir = path.join(dir, 'tls');
    const other = ensureCertificates(path.join(dir, 'other'));
    fs.writeFileSync(path.join(tlsDir, 'server.pem'), other.cert);
    fs.writeFileSync(path.join(tlsDir, 'server-key.pem'), other.key);
    const renewed = ensureCertificates(tlsDir);
    expect(renewed.ca).toBe(first.ca);
    expect(renewed.cert).not.toBe(other.cert);
    expect(new crypto.X509Certificate(renewed.cert).checkIssued(new crypto.X509Certificate(first.ca))).toBe(
      true,
    );
  });
});

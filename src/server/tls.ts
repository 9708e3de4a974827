import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';

/** What the HTTPS server and its clients need; PEM text except `caFile`. */
export interface ServerCertificates {
  /** The CA certificate users trust (`NODE_EXTRA_CA_CERTS=<caFile>` or a client's `tlsOptions.ca`). */
  readonly caFile: string;
  /** The server certificate. */
  readonly cert: string;
  /** The server certificate's private key. */
  readonly key: string;
  /** The CA certificate. */
  readonly ca: string;
}

const CA_VALID_YEARS = 10;
/** The longest validity Apple and browsers accept for a server certificate. */
const SERVER_VALID_DAYS = 825;
/** A server certificate this close to expiry is replaced on start (signed by the same CA, so trust is kept). */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
const CA_CN = 'Vigil local CA';

function files(tlsDir: string) {
  return {
    ca: path.join(tlsDir, 'ca.pem'),
    caKey: path.join(tlsDir, 'ca-key.pem'),
    server: path.join(tlsDir, 'server.pem'),
    serverKey: path.join(tlsDir, 'server-key.pem'),
  };
}

/**
 * The CA and server certificate of this data directory, generated on the first call and reused afterwards:
 * users trust the CA once. Keys come from Node's crypto (fast, native); node-forge only builds and signs the
 * certificates, which Node cannot do.
 */
export function ensureCertificates(tlsDir: string): ServerCertificates {
  const f = files(tlsDir);
  fs.mkdirSync(tlsDir, { recursive: true, mode: 0o700 });

  let ca: { cert: string; key: string };
  if (fs.existsSync(f.ca) && fs.existsSync(f.caKey)) {
    ca = { cert: fs.readFileSync(f.ca, 'utf8'), key: fs.readFileSync(f.caKey, 'utf8') };
  } else {
    ca = createCa();
    // Key first: a crash between the two writes leaves no CA certificate without its key.
    writeAtomic(f.caKey, ca.key, 0o600);
    writeAtomic(f.ca, ca.cert, 0o644);
    // A new CA invalidates any server certificate signed by an older one.
    fs.rmSync(f.server, { force: true });
  }

  let server: { cert: string; key: string } | undefined;
  if (fs.existsSync(f.server) && fs.existsSync(f.serverKey)) {
    server = { cert: fs.readFileSync(f.server, 'utf8'), key: fs.readFileSync(f.serverKey, 'utf8') };
    if (!serverCertUsable(server.cert, ca.cert)) server = undefined;
  }
  if (!server) {
    server = createServerCert(ca);
    writeAtomic(f.serverKey, server.key, 0o600);
    writeAtomic(f.server, server.cert, 0o644);
  }
  return { caFile: f.ca, cert: server.cert, key: server.key, ca: ca.cert };
}

/** Still valid for a while and signed by this CA (a restored or replaced CA makes it useless). */
function serverCertUsable(certPem: string, caPem: string): boolean {
  try {
    const cert = new crypto.X509Certificate(certPem);
    const ca = new crypto.X509Certificate(caPem);
    return (
      cert.checkIssued(ca) &&
      cert.verify(ca.publicKey) &&
      Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_MS
    );
  } catch {
    return false;
  }
}

function writeAtomic(file: string, content: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode });
  fs.renameSync(tmp, file);
}

function rsaKeyPair(): {
  privatePem: string;
  publicKey: forge.pki.rsa.PublicKey;
  privateKey: forge.pki.rsa.PrivateKey;
} {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    privatePem: privateKey,
    publicKey: forge.pki.publicKeyFromPem(publicKey),
    privateKey: forge.pki.privateKeyFromPem(privateKey),
  };
}

/** A positive serial of 16 random bytes (RFC 5280: positive, at most 20 octets). */
function serialNumber(): string {
  const bytes = crypto.randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

/** Back-dated a little so a client whose clock runs slightly behind accepts a fresh certificate. */
function notBefore(): Date {
  return new Date(Date.now() - 5 * 60 * 1000);
}

function createCa(): { cert: string; key: string } {
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = notBefore();
  const notAfter = new Date();
  notAfter.setFullYear(notAfter.getFullYear() + CA_VALID_YEARS);
  cert.validity.notAfter = notAfter;
  const subject = [
    { name: 'commonName', value: CA_CN },
    { name: 'organizationName', value: 'Vigil' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.privatePem };
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The machine's hostname when it is a usable DNS name (not `localhost`, which is always in). */
function hostnameSan(): string | undefined {
  const name = os.hostname().toLowerCase();
  if (!name || name === 'localhost' || name.length > 253) return undefined;
  return name.split('.').every((label) => DNS_LABEL.test(label)) ? name : undefined;
}

function createServerCert(ca: { cert: string; key: string }): { cert: string; key: string } {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = notBefore();
  cert.validity.notAfter = new Date(Date.now() + SERVER_VALID_DAYS * 24 * 3600 * 1000);
  cert.setSubject([
    { name: 'commonName', value: 'localhost' },
    { name: 'organizationName', value: 'Vigil' },
  ]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames: { type: number; value?: string; ip?: string }[] = [
    { type: 2, value: 'localhost' },
    { type: 7, ip: '127.0.0.1' },
    { type: 7, ip: '::1' },
  ];
  const host = hostnameSan();
  if (host) altNames.push({ type: 2, value: host });
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.privatePem };
}

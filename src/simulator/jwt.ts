/**
 * The few JWT operations the emulated identity platform needs: sign access tokens (RS256), read and verify
 * client assertions (RS256 + `x5t`, PS256 + `x5t#S256`) and verify the tokens it issued. Written against
 * node:crypto directly: the formats are small and fixed, and a dependency would hide what is checked.
 */
import crypto from 'node:crypto';

export function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export interface DecodedJwt {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  /** `base64url(header).base64url(payload)`: the signed bytes. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

/** Splits and parses a compact JWS; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown;
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    if (!isObject(header) || !isObject(payload)) return undefined;
    return {
      header,
      payload,
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function signRs256(
  payload: Record<string, unknown>,
  key: crypto.KeyObject,
  header: Record<string, unknown> = {},
): string {
  const input = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', ...header }))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${b64url(crypto.sign('sha256', Buffer.from(input), key))}`;
}

/** Verifies an RS256 or PS256 signature; any other `alg` fails. */
export function verifySignature(jwt: DecodedJwt, key: crypto.KeyObject): boolean {
  const data = Buffer.from(jwt.signingInput);
  try {
    if (jwt.header.alg === 'RS256') return crypto.verify('sha256', data, key, jwt.signature);
    if (jwt.header.alg === 'PS256')
      return crypto.verify(
        'sha256',
        data,
        { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        jwt.signature,
      );
  } catch {
    return false;
  }
  return false;
}

/** base64url SHA-1 (`x5t`) and SHA-256 (`x5t#S256`) thumbprints of a PEM certificate's DER bytes. */
export function thumbprints(certPem: string): { x5t: string; x5tS256: string; publicKey: crypto.KeyObject } {
  const cert = new crypto.X509Certificate(certPem);
  return {
    x5t: b64url(crypto.createHash('sha1').update(cert.raw).digest()),
    x5tS256: b64url(crypto.createHash('sha256').update(cert.raw).digest()),
    publicKey: cert.publicKey,
  };
}

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Names the key's source in errors, never its value. */
export class SecretKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretKeyError';
  }
}

const VERSION = 'v1';
const KEY_ENV = 'VIGIL_SECRET_KEY';

/**
 * Encrypts tenant credentials at rest with AES-256-GCM: a fresh 96-bit nonce per secret and the record's
 * name as associated data, so a ciphertext copied onto another tenant row does not decrypt. The key comes
 * from `VIGIL_SECRET_KEY` (32 bytes, base64 or hex) or from `<data-dir>/secret.key`, created on first use
 * with mode 0600. Losing the key loses the stored secrets (tenants must be re-entered), nothing else.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static open(dataDir: string, env: NodeJS.ProcessEnv = process.env): SecretBox {
    const fromEnv = env[KEY_ENV];
    if (fromEnv) return new SecretBox(parseKey(fromEnv, KEY_ENV));
    const file = path.join(dataDir, 'secret.key');
    if (!fs.existsSync(file)) {
      fs.mkdirSync(dataDir, { recursive: true });
      const fresh = crypto.randomBytes(32).toString('base64');
      try {
        fs.writeFileSync(file, `${fresh}\n`, { mode: 0o600, flag: 'wx' });
      } catch (err) {
        // Another process created it first: use theirs.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    return new SecretBox(parseKey(fs.readFileSync(file, 'utf8').trim(), file));
  }

  seal(plaintext: string, context: string): string {
    const nonce = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      VERSION,
      nonce.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      body.toString('base64'),
    ].join('.');
  }

  open(sealed: string, context: string): string {
    const [version, nonce, tag, body] = sealed.split('.');
    if (version !== VERSION || !nonce || !tag || body === undefined) {
      throw new SecretKeyError('a stored secret has an unknown format');
    }
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretKeyError(
        `a stored secret cannot be decrypted with the current key (${KEY_ENV} or secret.key changed?): re-enter the tenant's credentials`,
      );
    }
  }
}

function parseKey(text: string, source: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) {
    throw new SecretKeyError(`${source} must hold a 32-byte key (base64 or 64 hex digits)`);
  }
  return key;
}

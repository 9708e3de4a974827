import crypto from 'node:crypto';
import type { TokenRecord, TokenRepository } from '../../storage/control/tokens.js';
import { isRole, ROLES, type Role } from './roles.js';

/** Every Vigil token starts with this, so secret scanners and people can recognise one. */
export const TOKEN_PREFIX = 'vgl_';

export class TokenError extends Error {
  constructor(
    readonly code: 'InvalidRole' | 'InvalidName' | 'TokenNotFound',
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface Principal {
  readonly tokenId: string;
  readonly name: string;
  readonly role: Role;
}

export class TokenService {
  constructor(private readonly tokens: TokenRepository) {}

  /** Creates a token and returns it in clear text: the only time it exists outside the caller's hands. */
  async create(name: string, role: string): Promise<{ token: string; record: TokenRecord }> {
    if (!isRole(role)) {
      throw new TokenError('InvalidRole', `Unknown role '${role}'; use one of ${ROLES.join(', ')}.`);
    }
    if (!/^[\w.@ -]{1,100}$/.test(name)) {
      throw new TokenError('InvalidName', 'A token name is 1 to 100 letters, digits, spaces or . _ - @.');
    }
    const token = TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
    const record = {
      id: crypto.randomUUID(),
      name,
      role,
      prefix: token.slice(0, TOKEN_PREFIX.length + 6),
      createdAt: new Date().toISOString(),
    };
    await this.tokens.insert({ ...record, hash: hashToken(token) });
    return { token, record: { ...record, lastUsedAt: null, revokedAt: null } };
  }

  /** The principal a bearer token stands for, or undefined for an unknown or revoked token. */
  async authenticate(token: string): Promise<Principal | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const record = await this.tokens.findActiveByHash(hashToken(token));
    if (!record || !isRole(record.role)) return undefined;
    void this.tokens.touch(record.id, new Date().toISOString()).catch(() => undefined);
    return { tokenId: record.id, name: record.name, role: record.role };
  }

  list(): Promise<TokenRecord[]> {
    return this.tokens.list();
  }

  async revoke(idOrName: string): Promise<void> {
    if ((await this.tokens.revoke(idOrName)) === 0) {
      throw new TokenError('TokenNotFound', `No active token with id or name '${idOrName}'.`);
    }
  }
}

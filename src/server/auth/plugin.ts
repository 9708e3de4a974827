import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import { type Role, roleAllows } from './roles.js';
import type { Principal, TokenService } from './token-service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a token (only `/health`). */
    public?: boolean;
    /** The least role a caller needs; Reader when unset. */
    role?: Role;
  }
  interface FastifyRequest {
    /** Who called: set for every authenticated route, null on public routes and before authentication. */
    principal: Principal | null;
  }
}

export interface AuthOptions {
  readonly tokens: TokenService;
  /**
   * The running server's in-memory token (written to `<run>/local-token` for CLI commands on this machine).
   * It is an Owner and exists only while this process runs.
   */
  readonly localToken?: string;
}

/** The principal of the local token: not a stored token, so its id cannot collide with one. */
export const LOCAL_PRINCIPAL: Principal = { tokenId: 'local', name: 'local', role: 'Owner' };

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/**
 * Bearer-token authentication and role checks for every route. A route opts out with `config: { public: true }`
 * and raises the bar with `config: { role: 'Contributor' }`. Failures are thrown as `ApiError`s so the
 * envelope comes from `errors.ts`. No `WWW-Authenticate` header is sent: a `claims=` challenge would start
 * the Azure SDK's continuous-access-evaluation loop, and the SDKs do not need a bare `Bearer` challenge.
 */
export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const localHash = options.localToken ? sha256(options.localToken) : undefined;

  app.decorateRequest('principal', null);

  async function principalFor(token: string): Promise<Principal | undefined> {
    // Compare digests in constant time: the local token is a secret held in memory.
    if (localHash && crypto.timingSafeEqual(sha256(token), localHash)) return LOCAL_PRINCIPAL;
    return options.tokens.authenticate(token);
  }

  app.addHook('onRequest', async (request: FastifyRequest) => {
    // Unknown paths answer 404 whoever asks: nothing is served there, and a client pointed at a wrong base URL
    // learns that rather than an authentication error.
    if (request.is404) return;
    const config = request.routeOptions.config;
    if (config.public) return;

    const header = request.headers.authorization;
    if (header === undefined || header === '') {
      throw new ApiError(
        401,
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is missing.",
      );
    }
    const match = BEARER.exec(header);
    if (!match) {
      throw new ApiError(
        401,
        'InvalidAuthenticationToken',
        "The 'Authorization' header must have the form 'Bearer <token>'.",
      );
    }
    const principal = await principalFor(match[1]!);
    if (!principal) {
      throw new ApiError(
        401,
        'InvalidAuthenticationToken',
        'The access token is invalid, unknown or revoked.',
      );
    }
    const required = config.role ?? 'Reader';
    if (!roleAllows(principal.role, required)) {
      throw new ApiError(
        403,
        'AuthorizationFailed',
        `The token '${principal.name}' has the role ${principal.role}; this operation needs ${required} or higher.`,
      );
    }
    request.principal = principal;
    request.log.debug({ tokenId: principal.tokenId, role: principal.role }, 'authenticated');
  });
}

function sha256(text: string): Buffer {
  return crypto.createHash('sha256').update(text, 'utf8').digest();
}

export type TenantErrorCode =
  | 'InvalidTenant'
  | 'TenantNotFound'
  | 'TenantNotConnected'
  | 'EtagMismatch'
  /** The identity platform refused or could not be reached; `details` says how (AADSTS code, status). */
  | 'TokenRequestFailed';

export class TenantError extends Error {
  constructor(
    readonly code: TenantErrorCode,
    message: string,
    readonly details: { status?: number; error?: string; aadsts?: number } = {},
  ) {
    super(message);
    this.name = 'TenantError';
  }
}

/**
 * Sentinel's roles (connectors.md): Reader reads data, incidents and rules; Responder also works incidents;
 * Contributor also connects connectors and changes rules and tables. Owner also manages API tokens (the
 * administrator token made on first start is an Owner). Each role includes those below it.
 */
export const ROLES = ['Reader', 'Responder', 'Contributor', 'Owner'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleAllows(held: Role, required: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(required);
}

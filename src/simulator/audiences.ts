/**
 * Which resource a token is for, and which of an app's roles it carries: as in Entra ID, a token holds only
 * the application permissions granted on the API it was requested for.
 */

/** The Office 365 Management APIs' resource in each cloud (source-apis.md §1). */
export const MANAGEMENT_AUDIENCES = [
  'https://manage.office.com',
  'https://manage-gcc.office.com',
  'https://manage.office365.us',
  'https://manage.protection.apps.mil',
  'https://manage.office365.cn',
];

export const GRAPH_AUDIENCES = [
  'https://graph.microsoft.com',
  'https://graph.microsoft.us',
  'https://dod-graph.microsoft.us',
  'https://microsoftgraph.chinacloudapi.cn',
  '00000003-0000-0000-c000-000000000000',
];

/** Application permissions defined by the Office 365 Management APIs (the rest are taken as Graph's). */
const MANAGEMENT_ROLES = new Set([
  'ActivityFeed.Read',
  'ActivityFeed.ReadDlp',
  'ServiceHealth.Read',
  'ActivityReports.Read',
  'ThreatIntelligence.Read',
]);

/**
 * The roles a token for `resource` carries. A resource that is neither the Management API nor Graph (such as
 * the simulator's own origin, which serves both) gets all of the app's roles.
 */
export function rolesFor(resource: string, roles: readonly string[]): string[] {
  const r = resource.replace(/\/+$/, '').toLowerCase();
  if (MANAGEMENT_AUDIENCES.includes(r)) return roles.filter((x) => MANAGEMENT_ROLES.has(x));
  if (GRAPH_AUDIENCES.includes(r)) return roles.filter((x) => !MANAGEMENT_ROLES.has(x));
  return [...roles];
}

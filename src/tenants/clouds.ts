/**
 * Where a tenant's identity platform and APIs live. Sovereign clouds use their own hosts, and a token's
 * scope names the cloud's own resource (source-apis.md §1). `custom` points at anything else: an emulator,
 * a proxy, a lab.
 */
export const CLOUDS = ['public', 'gcc', 'gccHigh', 'dod', 'china', 'custom'] as const;
export type CloudName = (typeof CLOUDS)[number];

export interface CloudEndpoints {
  /** Identity platform host, e.g. `https://login.microsoftonline.com`. */
  readonly authorityHost: string;
  /** Office 365 Management Activity API base, e.g. `https://manage.office.com`. */
  readonly managementApiBase: string;
  /** The resource a Management Activity API token is for (its scope without `/.default`). */
  readonly managementResource: string;
  /** Microsoft Graph base, e.g. `https://graph.microsoft.com`. */
  readonly graphBase: string;
  readonly graphResource: string;
  /** PEM of a CA to trust for these endpoints instead of the system's (a lab or emulator); custom only. */
  readonly caCertificate?: string;
}

function preset(authority: string, manage: string, graph: string): CloudEndpoints {
  return {
    authorityHost: `https://${authority}`,
    managementApiBase: `https://${manage}`,
    managementResource: `https://${manage}`,
    graphBase: `https://${graph}`,
    graphResource: `https://${graph}`,
  };
}

export const CLOUD_ENDPOINTS: Readonly<Record<Exclude<CloudName, 'custom'>, CloudEndpoints>> = {
  public: preset('login.microsoftonline.com', 'manage.office.com', 'graph.microsoft.com'),
  gcc: preset('login.microsoftonline.com', 'manage-gcc.office.com', 'graph.microsoft.com'),
  gccHigh: preset('login.microsoftonline.us', 'manage.office365.us', 'graph.microsoft.us'),
  dod: preset('login.microsoftonline.us', 'manage.protection.apps.mil', 'dod-graph.microsoft.us'),
  china: preset('login.chinacloudapi.cn', 'manage.office365.cn', 'microsoftgraph.chinacloudapi.cn'),
};

/** Removes a trailing slash so that paths can be appended with one. */
export function trimBase(url: string): string {
  return url.replace(/\/+$/, '');
}

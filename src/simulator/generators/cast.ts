/**
 * One consistent cast per simulated tenant: users, groups, devices, SharePoint sites and files, Teams,
 * Dynamics 365 organisations, Power BI workspaces, sensitivity labels and apps. Built from (seed, tenant)
 * only, so every record that names a user, a site or a label names one that exists in the same tenant, and
 * two runs with the same seed build the same cast.
 */
import { prng } from './office365-audit.js';

/** Fast deterministic 32-bit hash of a few integers (murmur3 finaliser over a fold). */
export function hash32(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= Math.floor(p / 4294967296) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A value in [0, 1) from a hash. */
export function unit(h: number): number {
  return h / 4294967296;
}

export function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Eight hex digits of one 32-bit draw (table lookups: this runs several times per record). */
function hex8(x: number): string {
  const v = Math.floor(x * 4294967296) >>> 0;
  return BYTE_HEX[v >>> 24]! + BYTE_HEX[(v >>> 16) & 255]! + BYTE_HEX[(v >>> 8) & 255]! + BYTE_HEX[v & 255]!;
}

/** A v4-shaped GUID from the generator (deterministic): four 32-bit draws. */
export function guidFrom(r: () => number): string {
  const a = hex8(r());
  const b = hex8(r());
  const c = hex8(r());
  const d = hex8(r());
  const variant = '89ab'[parseInt(c[0]!, 16) & 3];
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${d}`;
}

export interface CastUser {
  readonly upn: string;
  /** The user's OneDrive (personal site) URL, with a trailing slash. */
  readonly oneDriveUrl: string;
  readonly displayName: string;
  readonly objectId: string;
  readonly puid: string;
  readonly sid: string;
  readonly department: string;
  readonly homeIp: string;
  readonly device: CastDevice;
  readonly admin: boolean;
}
export interface CastDevice {
  readonly name: string;
  readonly id: string;
  readonly os: string;
  readonly browser: string;
  readonly compliant: boolean;
}
export interface CastSite {
  readonly name: string;
  readonly url: string;
  readonly siteId: string;
  readonly webId: string;
  readonly listId: string;
}
export interface CastTeam {
  readonly name: string;
  readonly teamGuid: string;
  readonly aadGroupId: string;
  readonly channels: readonly { name: string; guid: string }[];
}
export interface CastCrmOrg {
  readonly uniqueName: string;
  readonly instanceUrl: string;
}
export interface CastPbiWorkspace {
  readonly name: string;
  readonly id: string;
  readonly reports: readonly { name: string; id: string }[];
  readonly datasets: readonly { name: string; id: string }[];
  readonly dashboards: readonly { name: string; id: string }[];
}
export interface CastLabel {
  readonly id: string;
  readonly name: string;
  readonly order: number;
}
export interface CastApp {
  readonly id: string;
  readonly name: string;
}
export interface CastGroup {
  readonly id: string;
  readonly name: string;
}

export interface Cast {
  readonly tenantId: string;
  readonly domain: string;
  /** The SharePoint host prefix, e.g. `contoso` for `contoso.sharepoint.com`. */
  readonly spHost: string;
  readonly orgName: string;
  readonly users: readonly CastUser[];
  readonly groups: readonly CastGroup[];
  readonly devices: readonly CastDevice[];
  readonly sites: readonly CastSite[];
  readonly teams: readonly CastTeam[];
  readonly crmOrgs: readonly CastCrmOrg[];
  readonly pbiWorkspaces: readonly CastPbiWorkspace[];
  readonly labels: readonly CastLabel[];
  readonly apps: readonly CastApp[];
  readonly externalDomains: readonly string[];
}

const FIRST = [
  'Adele',
  'Alex',
  'Diego',
  'Grady',
  'Henrietta',
  'Isaiah',
  'Johanna',
  'Joni',
  'Lee',
  'Lidia',
  'Lynne',
  'Megan',
  'Miriam',
  'Nestor',
  'Patti',
  'Pradeep',
  'Irvin',
  'Allan',
  'Christie',
  'Enrico',
  'Zoë',
  'José',
];
const LAST = [
  'Vance',
  'Wilber',
  'Siciliani',
  'Archie',
  'Müller',
  'Langer',
  'Lorenz',
  'Sherman',
  'Gu',
  'Holloway',
  'Robbins',
  'Bowen',
  'Graham',
  'Wilke',
  'Fernández',
  'Gupta',
];
const DEPARTMENTS = [
  'Finance',
  'Legal',
  'Engineering',
  'Sales',
  'HR',
  'Marketing',
  'Executive',
  'Operations',
];
const OS = ['Windows 11', 'Windows 10', 'MacOs', 'iOS', 'Android'];
const BROWSERS = ['Edge', 'Chrome', 'Safari', 'Firefox'];

/** The cast of a tenant. 60 users, 12 sites, 8 teams: enough variety, small enough to cache per tenant. */
export function buildCast(seed: number, tenantId: string, domain: string): Cast {
  const r = prng(hash32(seed, stringHash(tenantId), 0xca57));
  const orgLabel = domain.split('.')[0] ?? 'contoso';
  const mailDomain = domain.endsWith('.onmicrosoft.com') ? `${orgLabel}.com` : domain;
  const orgName = orgLabel.charAt(0).toUpperCase() + orgLabel.slice(1);
  const devices: CastDevice[] = Array.from({ length: 70 }, (_, i) => ({
    name: `${orgLabel.toUpperCase().slice(0, 8)}-${i < 60 ? 'LT' : 'SRV'}${String(100 + i)}`,
    id: guidFrom(r),
    os: pick(r, OS),
    browser: pick(r, BROWSERS),
    compliant: r() < 0.8,
  }));
  const users: CastUser[] = [];
  const seen = new Set<string>();
  while (users.length < 60) {
    const first = pick(r, FIRST);
    const last = pick(r, LAST);
    // Display names keep their accents (real tenants have them, and so must every decoder on the way);
    // sign-in names are ASCII, as Entra ID's are.
    const upn = `${first}.${last}@${mailDomain}`.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    if (seen.has(upn)) continue;
    seen.add(upn);
    users.push({
      upn,
      oneDriveUrl: `https://${orgLabel}-my.sharepoint.com/personal/${upn.replace(/[@.]/g, '_')}/`,
      displayName: `${first} ${last}`,
      objectId: guidFrom(r),
      puid: `1003${Math.floor(r() * 0xfffffffff)
        .toString(16)
        .toUpperCase()
        .padStart(12, '0')}`,
      sid: `S-1-5-21-${1e9 + Math.floor(r() * 1e9)}-${1e9 + Math.floor(r() * 1e9)}-${1e9 + Math.floor(r() * 1e9)}-${1000 + users.length}`,
      department: pick(r, DEPARTMENTS),
      homeIp: `${20 + Math.floor(r() * 180)}.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}.${1 + Math.floor(r() * 254)}`,
      device: devices[users.length]!,
      admin: users.length < 4,
    });
  }
  const sites: CastSite[] = [...DEPARTMENTS, 'Projects', 'Contracts', 'Board', 'IT'].map((name) => ({
    name,
    url: `https://${orgLabel}.sharepoint.com/sites/${name}/`,
    siteId: guidFrom(r),
    webId: guidFrom(r),
    listId: guidFrom(r),
  }));
  const teams: CastTeam[] = [
    'Finance',
    'Legal',
    'Engineering',
    'Sales',
    'Incident Response',
    'Mergers',
    'HR',
    'All Company',
  ].map((name) => ({
    name,
    teamGuid: `19:${guidFrom(r).replace(/-/g, '')}@thread.tacv2`,
    aadGroupId: guidFrom(r),
    channels: ['General', 'Announcements', 'Deals', 'Incidents'].map((c) => ({
      name: c,
      guid: `19:${guidFrom(r).replace(/-/g, '')}@thread.tacv2`,
    })),
  }));
  const groups: CastGroup[] = [
    ...teams.map((t) => ({ id: t.aadGroupId, name: t.name })),
    { id: guidFrom(r), name: 'Global Admins' },
    { id: guidFrom(r), name: 'VPN Users' },
  ];
  const crmOrgs: CastCrmOrg[] = ['sales', 'service'].map((n) => ({
    uniqueName: `org${Math.floor(r() * 0xfffffff).toString(16)}`,
    instanceUrl: `https://${orgLabel}${n}.crm4.dynamics.com`,
  }));
  const pbiWorkspaces: CastPbiWorkspace[] = [
    'Finance Analytics',
    'Sales Pipeline',
    'HR Insights',
    'Executive KPIs',
  ].map((name) => ({
    name,
    id: guidFrom(r),
    reports: ['Overview', 'Quarterly', 'Forecast'].map((rep) => ({
      name: `${name} ${rep}`,
      id: guidFrom(r),
    })),
    datasets: ['Model', 'Actuals'].map((d) => ({ name: `${name} ${d}`, id: guidFrom(r) })),
    dashboards: [{ name: `${name} Dashboard`, id: guidFrom(r) }],
  }));
  const labels: CastLabel[] = [
    'Public',
    'General',
    'Confidential',
    'Highly Confidential',
    'Confidential\\Finance',
  ].map((name, order) => ({ id: guidFrom(r), name, order }));
  const apps: CastApp[] = [
    { id: '00000003-0000-0ff1-ce00-000000000000', name: 'Office 365 SharePoint Online' },
    { id: '00000002-0000-0ff1-ce00-000000000000', name: 'Office 365 Exchange Online' },
    { id: '1fec8e78-bce4-4aaf-ab1b-5451cc387264', name: 'Microsoft Teams' },
    { id: 'd3590ed6-52b3-4102-aeff-aad2292ab01c', name: 'Microsoft Office' },
    { id: 'de8bc8b5-d9f9-48b1-a8ad-b748da725064', name: 'Graph Explorer' },
    { id: '871c010f-5e61-4fb1-83ac-98610a7e9110', name: 'Power BI' },
    { id: '00000007-0000-0000-c000-000000000000', name: 'Dataverse' },
  ];
  return {
    tenantId,
    domain,
    spHost: orgLabel,
    orgName,
    users,
    groups,
    devices,
    sites,
    teams,
    crmOrgs,
    pbiWorkspaces,
    labels,
    apps,
    externalDomains: ['fabrikam.com', 'northwindtraders.com', 'gmail.com', 'outlook.com'],
  };
}

/**
 * Deterministic generator of Office 365 Management Activity API audit records (the shape of
 * source-apis.md's record schema): SharePoint/OneDrive file operations, Exchange mailbox access and admin
 * cmdlets, and Teams events, for one consistent cast of users and sites. The same seed and index give the
 * same record, so benchmarks, crash tests and (later) the simulated tenant agree on what exists.
 */

/** mulberry32: a small, fast, seedable PRNG (quality is ample for test data). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ORG = '4a1f0b2c-8d3e-4f5a-9b6c-7d8e9f0a1b2c';
const FIRST = [
  'adele',
  'alex',
  'diego',
  'grady',
  'henrietta',
  'isaiah',
  'johanna',
  'joni',
  'lee',
  'lidia',
  'lynne',
  'megan',
  'miriam',
  'nestor',
  'patti',
  'pradeep',
];
const LAST = [
  'vance',
  'wilber',
  'siciliani',
  'archie',
  'mueller',
  'langer',
  'lorenz',
  'sherman',
  'gu',
  'holloway',
  'robbins',
  'bowen',
  'graham',
  'wilke',
  'fernandez',
  'gupta',
];
const SITES = ['Finance', 'Legal', 'Engineering', 'Sales', 'HR', 'Marketing', 'Executive', 'Operations'];
const EXT = ['docx', 'xlsx', 'pptx', 'pdf', 'txt', 'csv', 'zip', 'png'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
  'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17531; Pro)',
  'OneDriveMpc-Transform_Thumbnail/1.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'python-requests/2.31.0',
];
const SP_OPS = [
  'FileAccessed',
  'FileAccessed',
  'FileAccessed',
  'FileDownloaded',
  'FileModified',
  'FileUploaded',
  'FilePreviewed',
  'FileDeleted',
  'SharingSet',
  'AnonymousLinkCreated',
];
const EXO_OPS = [
  'MailItemsAccessed',
  'MailItemsAccessed',
  'Send',
  'New-InboxRule',
  'Set-Mailbox',
  'HardDelete',
  'UpdateInboxRules',
];
const TEAMS_OPS = ['MessageSent', 'TeamsSessionStarted', 'MemberAdded', 'ChannelAdded', 'TeamCreated'];
const APPS = [
  'Microsoft Office',
  'Graph Explorer',
  'OneDrive SyncEngine',
  'SharePoint Online Web Client Extensibility',
  'Microsoft Teams',
];

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

/** A GUID-shaped id derived from the generator (deterministic). */
function guid(r: () => number): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
}

export interface AuditRecordOptions {
  readonly seed?: number;
  /** Start of the time range the records cover (epoch ms). */
  readonly startMs: number;
  /** Milliseconds between consecutive records (records are roughly in time order, with jitter). */
  readonly stepMs: number;
}

/** The `index`-th record of the stream described by `options`. */
export function auditRecord(index: number, options: AuditRecordOptions): Record<string, unknown> {
  const r = prng((options.seed ?? 1) * 1_000_003 + index);
  const user = `${pick(r, FIRST)}.${pick(r, LAST)}${Math.floor(r() * 40)}@contoso.com`;
  const ms = options.startMs + index * options.stepMs + Math.floor(r() * options.stepMs * 5);
  const creationTime = new Date(ms).toISOString().slice(0, 19);
  const base = {
    CreationTime: creationTime,
    Id: guid(r),
    OrganizationId: ORG,
    UserKey: `i:0h.f|membership|1003${Math.floor(r() * 1e12)}@live.com`,
    UserType: r() < 0.95 ? 0 : 2,
    Version: 1,
    UserId: user,
    ClientIP: `${20 + Math.floor(r() * 180)}.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`,
    UserAgent: pick(r, AGENTS),
    AppAccessContext: {
      AADSessionId: guid(r),
      ClientAppId: guid(r),
      ClientAppName: pick(r, APPS),
      CorrelationId: guid(r),
      UniqueTokenId: Math.floor(r() * 1e15).toString(36),
    },
    DeviceProperties: [
      { Name: 'Id', Value: guid(r) },
      { Name: 'DisplayName', Value: `CONTOSO-LT${Math.floor(r() * 900 + 100)}` },
      { Name: 'OS', Value: pick(r, ['Windows 11', 'Windows 10', 'MacOs', 'iOS']) },
      { Name: 'BrowserType', Value: pick(r, ['Edge', 'Chrome', 'Safari']) },
      { Name: 'IsCompliantAndManaged', Value: r() < 0.7 ? 'True' : 'False' },
      { Name: 'SessionId', Value: guid(r) },
    ],
    ClientRegion: pick(r, ['EUR', 'NAM', 'APC']),
  };
  const kind = r();
  if (kind < 0.6) {
    const site = pick(r, SITES);
    const ext = pick(r, EXT);
    const file = `Q${1 + Math.floor(r() * 4)}-${site}-report-${Math.floor(r() * 500)}.${ext}`;
    const siteUrl = `https://contoso.sharepoint.com/sites/${site}/`;
    return {
      ...base,
      RecordType: 6,
      Operation: pick(r, SP_OPS),
      Workload: r() < 0.8 ? 'SharePoint' : 'OneDrive',
      ObjectId: `${siteUrl}Shared Documents/${file}`,
      CorrelationId: guid(r),
      EventSource: 'SharePoint',
      ItemType: 'File',
      ListId: guid(r),
      ListItemUniqueId: guid(r),
      Site: guid(r),
      WebId: guid(r),
      SiteUrl: siteUrl,
      SourceFileExtension: ext,
      SourceFileName: file,
      SourceRelativeUrl: 'Shared Documents',
      GeoLocation: 'EUR',
      IsManagedDevice: r() < 0.7,
      DeviceDisplayName: `CONTOSO-LT${Math.floor(r() * 900 + 100)}`,
      Platform: 'WinDesktop',
      ApplicationDisplayName: pick(r, APPS),
      HighPriorityMediaProcessing: false,
      DoNotDistributeEvent: true,
      FromApp: false,
      ListBaseType: 1,
      ListServerTemplate: 101,
      BrowserName: 'Edge',
      BrowserVersion: '124.0.2478.51',
      AuthenticationType: 'OAuth',
    };
  }
  if (kind < 0.9) {
    const op = pick(r, EXO_OPS);
    const folder = pick(r, ['Inbox', 'Sent Items', 'Finance', 'Archive', 'Deleted Items']);
    return {
      ...base,
      RecordType: op === 'MailItemsAccessed' ? 50 : op.includes('-') ? 1 : 2,
      Operation: op,
      Workload: 'Exchange',
      ResultStatus: 'Succeeded',
      ObjectId: op.includes('-') ? `contoso.onmicrosoft.com/${user}` : '',
      ClientIPAddress: base.ClientIP,
      ClientInfoString: 'Client=OWA;Action=ViaProxy',
      ExternalAccess: false,
      InternalLogonType: 0,
      LogonType: 0,
      LogonUserSid: `S-1-5-21-${Math.floor(r() * 1e9)}-${Math.floor(r() * 1e9)}-${Math.floor(r() * 1e9)}-${Math.floor(r() * 1e5)}`,
      MailboxGuid: guid(r),
      MailboxOwnerUPN: user,
      MailboxOwnerSid: `S-1-5-21-${Math.floor(r() * 1e9)}-${Math.floor(r() * 1e9)}-1001`,
      OrganizationName: 'contoso.onmicrosoft.com',
      OriginatingServer: `AM${Math.floor(r() * 9)}PR0${Math.floor(r() * 9)}MB${Math.floor(r() * 9000)} (15.20.7452.028)`,
      Parameters: op.includes('-')
        ? [
            { Name: 'Identity', Value: user },
            { Name: 'ForwardTo', Value: `external${Math.floor(r() * 99)}@fabrikam.com` },
            { Name: 'DeleteMessage', Value: 'True' },
          ]
        : undefined,
      OperationProperties: [
        { Name: 'MailAccessType', Value: r() < 0.9 ? 'Bind' : 'Sync' },
        { Name: 'IsThrottled', Value: 'False' },
      ],
      Folders: [
        {
          FolderItems: Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({
            Id: `LgAAAAAdhAMRqmYRzZvIAKoAL8RaDQB${Math.floor(r() * 1e12)}AAAJ`,
            InternetMessageId: `<${guid(r)}@AM${Math.floor(r() * 9)}PR.eurprd0${Math.floor(r() * 9)}.prod.outlook.com>`,
            SizeInBytes: Math.floor(r() * 90000),
          })),
          Id: `LgAAAAAdhAMRqmYRzZvIAKoAL8RaAQB${Math.floor(r() * 1e10)}`,
          Path: `\\${folder}`,
        },
      ],
      OperationCount: 1 + Math.floor(r() * 5),
    };
  }
  return {
    ...base,
    RecordType: 25,
    Operation: pick(r, TEAMS_OPS),
    Workload: 'MicrosoftTeams',
    ObjectId: '',
    TeamName: `${pick(r, SITES)} team`,
    TeamGuid: `19:${guid(r).replace(/-/g, '')}@thread.skype`,
    ChannelName: pick(r, ['General', 'Incidents', 'Deals', 'Random']),
    ChannelGuid: `19:${guid(r).replace(/-/g, '')}@thread.skype`,
    ChannelType: 'Standard',
    MessageId: String(Math.floor(r() * 1e13)),
    CommunicationType: 'Team',
    Members: [
      { DisplayName: user.split('@')[0], Role: 1, UPN: user },
      { DisplayName: 'guest', Role: 2, UPN: `guest${Math.floor(r() * 90)}@fabrikam.com` },
    ],
    ExtraProperties: [
      { Key: 'TimeZone', Value: 'Europe/Berlin' },
      { Key: 'OsName', Value: 'Windows' },
      { Key: 'OsVersion', Value: '10.0.22631' },
      { Key: 'Country', Value: 'DE' },
      { Key: 'ClientName', Value: 'SkypeSpaces' },
    ],
    ItemName: `Quarterly planning ${Math.floor(r() * 1000)}`,
    AADGroupId: guid(r),
    ResourceTenantId: ORG,
    TenantDisplayName: 'Contoso',
  };
}

/** NDJSON text of records `from` ≤ i < `to`. */
export function auditNdjson(from: number, to: number, options: AuditRecordOptions): string {
  const lines: string[] = [];
  for (let i = from; i < to; i++) lines.push(JSON.stringify(auditRecord(i, options)));
  return lines.length ? lines.join('\n') + '\n' : '';
}

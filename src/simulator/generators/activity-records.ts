/**
 * Audit records of every workload the Management Activity API carries (source-apis.md §2.6–2.8), generated
 * from (stream seed, position) alone: record `p` of a stream is the same on every call, so a million
 * records need no memory and a blob can be rebuilt on demand.
 *
 * A stream belongs to one content type. The record kind at a position comes from a cheap hash (so truth
 * and alert grouping can ask for it without building the body); the body comes from a PRNG seeded by the
 * position, drawing the Id first and the Operation second, so `recordHead` can stop after those draws.
 *
 * Security & Compliance alerts (RecordType 40) are grouped: the alert records of a stream in one bucket of
 * ALERT_BUCKET positions share an AlertId; the first is `AlertTriggered`, later ones are `AlertEntityGenerated`
 * or `AlertUpdated` with a later Status. Customised IRM alerts: a quarter of the InsiderRiskManagement alerts
 * are re-labelled by a custom alert policy: `AlertType: "Custom"`, a custom `Name`, and `Data` carrying
 * `OriginalProductName: "Microsoft 365 Insider Risk Management"` with `ProductName` set to the custom label,
 * which is how a connector sees them (Sentinel's OfficeIRM data type excludes alerts with OriginalProductName).
 */
import { type Cast, type CastUser, guidFrom, hash32, pick, unit } from './cast.js';
import { prng } from './office365-audit.js';

export const CONTENT_TYPES = [
  'Audit.AzureActiveDirectory',
  'Audit.Exchange',
  'Audit.SharePoint',
  'Audit.General',
  'DLP.All',
] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

export function isContentType(s: string): s is ContentType {
  return (CONTENT_TYPES as readonly string[]).includes(s);
}

export const IRM_PRODUCT = 'Microsoft 365 Insider Risk Management';

export interface RecordHead {
  readonly id: string;
  readonly contentType: ContentType;
  readonly recordType: number;
  readonly workload: string;
  readonly operation: string;
  /** RecordType 40: the alert Category. */
  readonly category?: string;
  /** RecordType 40: the AlertId (shared by the AlertTriggered/AlertUpdated records of one alert). */
  readonly alertId?: string;
  /** RecordType 40 InsiderRiskManagement re-labelled by a custom policy. */
  readonly customized?: boolean;
}

/** A stream of records of one content type in one tenant. */
export interface RecordStream {
  readonly seed: number;
  readonly contentType: ContentType;
  readonly cast: Cast;
}

interface Ctx {
  readonly r: () => number;
  readonly cast: Cast;
  readonly user: CastUser;
  readonly op: string;
  readonly ms: number;
  readonly stream: RecordStream;
  readonly position: number;
  readonly head: RecordHead;
}

interface Kind {
  readonly recordType: number;
  readonly workload: string;
  readonly weight: number;
  /** Operations; repeats weight them. */
  readonly ops: readonly string[];
  readonly build: (c: Ctx) => Record<string, unknown>;
}

const ALERT_BUCKET = 16;

function isoNoZone(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

function ipOf(c: Ctx): string {
  if (c.r() < 0.85) return c.user.homeIp;
  return `${40 + Math.floor(c.r() * 150)}.${Math.floor(c.r() * 255)}.${Math.floor(c.r() * 255)}.${1 + Math.floor(c.r() * 254)}`;
}

function appContext(c: Ctx, appIdx?: number) {
  const app = appIdx === undefined ? pick(c.r, c.cast.apps) : c.cast.apps[appIdx]!;
  return {
    AADSessionId: guidFrom(c.r),
    APIId: app.id,
    ClientAppId: app.id,
    ClientAppName: app.name,
    CorrelationId: guidFrom(c.r),
    UniqueTokenId: Buffer.from(guidFrom(c.r).replace(/-/g, ''), 'hex').toString('base64url').slice(0, 22),
    IssuedAtTime: isoNoZone(c.ms - Math.floor(c.r() * 3_000_000)),
  };
}

function base(
  c: Ctx,
  extra: { ResultStatus?: string; ObjectId?: string; UserType?: number; UserId?: string },
) {
  return {
    CreationTime: isoNoZone(c.ms),
    Id: c.head.id,
    Operation: c.op,
    OrganizationId: c.cast.tenantId,
    RecordType: c.head.recordType,
    ...(extra.ResultStatus !== undefined ? { ResultStatus: extra.ResultStatus } : {}),
    UserKey: extra.UserId && extra.UserId !== c.user.upn ? extra.UserId : c.user.puid,
    UserType: extra.UserType ?? (c.user.admin && c.r() < 0.5 ? 2 : 0),
    Version: 1,
    Workload: c.head.workload,
    ClientIP: ipOf(c),
    ObjectId: extra.ObjectId ?? '',
    UserId: extra.UserId ?? c.user.upn,
  };
}

function fileName(c: Ctx): { name: string; ext: string } {
  const ext = pick(c.r, ['docx', 'xlsx', 'pptx', 'pdf', 'txt', 'csv', 'zip', 'png', 'one']);
  const stem = pick(c.r, [
    'Budget',
    'Contract',
    'Roadmap',
    'Payroll',
    'Design',
    'Minutes',
    'Forecast',
    'Pitch',
  ]);
  return {
    name: `${stem} ${2023 + Math.floor(c.r() * 4)} Q${1 + Math.floor(c.r() * 4)} v${1 + Math.floor(c.r() * 9)}.${ext}`,
    ext,
  };
}

function deviceFields(c: Ctx) {
  return [
    { Name: 'Id', Value: c.user.device.id },
    { Name: 'DisplayName', Value: c.user.device.name },
    { Name: 'OS', Value: c.user.device.os },
    { Name: 'BrowserType', Value: c.user.device.browser },
    { Name: 'IsCompliant', Value: c.user.device.compliant ? 'True' : 'False' },
    { Name: 'SessionId', Value: guidFrom(c.r) },
  ];
}

const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
  'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17531; Pro)',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'OneDriveMpc-Transform_Thumbnail/1.0',
  'python-requests/2.31.0',
];

function spFile(c: Ctx, oneDrive: boolean): Record<string, unknown> {
  const site = pick(c.r, c.cast.sites);
  const f = fileName(c);
  const siteUrl = oneDrive ? c.user.oneDriveUrl : site.url;
  const rel = oneDrive ? 'Documents' : 'Shared Documents';
  const agent = pick(c.r, AGENTS);
  return {
    ...base(c, { ObjectId: `${siteUrl}${rel}/${f.name}` }),
    UserAgent: agent,
    CorrelationId: guidFrom(c.r),
    EventSource: 'SharePoint',
    ItemType: 'File',
    ListId: site.listId,
    ListItemUniqueId: guidFrom(c.r),
    Site: site.siteId,
    WebId: site.webId,
    SiteUrl: siteUrl,
    SourceFileExtension: f.ext,
    SourceFileName: f.name,
    SourceRelativeUrl: rel,
    ...(c.op === 'FileRenamed' || c.op === 'FileMoved'
      ? {
          DestinationFileName: `Final ${f.name}`,
          DestinationFileExtension: f.ext,
          DestinationRelativeUrl: rel,
        }
      : {}),
    ...(c.r() < 0.15 ? { SensitivityLabelId: pick(c.r, c.cast.labels).id } : {}),
    GeoLocation: pick(c.r, ['EUR', 'NAM', 'APC']),
    IsManagedDevice: c.user.device.compliant,
    DeviceDisplayName: c.user.device.name,
    MachineId: c.user.device.id,
    Platform: c.user.device.os.startsWith('Windows') ? 'WinDesktop' : 'MacDesktop',
    ApplicationId: c.cast.apps[0]!.id,
    ApplicationDisplayName: pick(c.r, ['Microsoft Office', 'OneDrive SyncEngine', 'Microsoft Teams']),
    AppAccessContext: appContext(c, 0),
    ListBaseType: 1,
    ListServerTemplate: oneDrive ? 700 : 101,
    BrowserName: c.user.device.browser,
    BrowserVersion: '124.0.2478.51',
    AuthenticationType: 'OAuth',
  };
}

function mailItem(c: Ctx) {
  const folder = pick(c.r, ['Inbox', 'Sent Items', 'Finance', 'Archive', 'Deleted Items']);
  return {
    Id: `LgAAAAAdhAMRqmYRzZvIAKoAL8RaDQB${Math.floor(c.r() * 1e12)}AAAJ`,
    InternetMessageId: `<${guidFrom(c.r)}@${c.cast.spHost.toUpperCase()}PR01MB${1000 + Math.floor(c.r() * 8999)}.eurprd04.prod.outlook.com>`,
    ParentFolder: { Id: `LgAAAAAdhAMRqmYRzZvIAKoAL8RaAQB${Math.floor(c.r() * 1e10)}`, Path: `\\${folder}` },
    Subject: pick(c.r, [
      'Invoice overdue',
      'Board deck',
      'Re: contract',
      'Payroll update',
      'Lunch?',
      'Urgent wire',
    ]),
    SizeInBytes: Math.floor(c.r() * 90000),
    Attachments: c.r() < 0.3 ? `${fileName(c).name} (${Math.floor(c.r() * 900)}b)` : '',
  };
}

function exoMailboxFields(c: Ctx) {
  return {
    AppId: c.cast.apps[1]!.id,
    ClientAppId: '',
    ClientIPAddress: c.user.homeIp,
    ClientInfoString: pick(c.r, [
      'Client=OWA;Action=ViaProxy',
      'Client=MSExchangeRPC',
      'Client=REST;Client=RESTSystem;',
    ]),
    ClientVersion: '15.20.7452.028',
    ExternalAccess: false,
    InternalLogonType: 0,
    LogonType: c.r() < 0.9 ? 0 : 2,
    LogonUserSid: c.user.sid,
    MailboxGuid: guidFrom(c.r),
    MailboxOwnerSid: c.user.sid,
    MailboxOwnerUPN: c.user.upn,
    OrganizationName: c.cast.domain,
    OriginatingServer: `${c.cast.spHost.toUpperCase().slice(0, 4)}PR0${Math.floor(c.r() * 9)}MB${Math.floor(c.r() * 9000)} (15.20.7452.028)`,
    SessionId: guidFrom(c.r),
  };
}

const EXCHANGE: Kind[] = [
  {
    recordType: 1,
    workload: 'Exchange',
    weight: 0.15,
    ops: [
      'New-InboxRule',
      'Set-InboxRule',
      'Set-Mailbox',
      'Add-MailboxPermission',
      'New-TransportRule',
      'Set-OwaMailboxPolicy',
    ],
    build: (c) => {
      const target = pick(c.r, c.cast.users);
      const params: { Name: string; Value: string }[] = [{ Name: 'Identity', Value: target.upn }];
      if (c.op.endsWith('InboxRule'))
        params.push(
          { Name: 'Name', Value: pick(c.r, ['.', 'Move to RSS', 'Forward all', 'Clean up']) },
          {
            Name: 'ForwardTo',
            Value: `${pick(c.r, ['x', 'billing', 'h4ck'])}@${pick(c.r, c.cast.externalDomains)}`,
          },
          { Name: 'DeleteMessage', Value: 'True' },
          { Name: 'StopProcessingRules', Value: 'True' },
        );
      else if (c.op === 'Add-MailboxPermission')
        params.push({ Name: 'User', Value: c.user.upn }, { Name: 'AccessRights', Value: 'FullAccess' });
      else
        params.push({
          Name: 'ForwardingSmtpAddress',
          Value: `smtp:archive@${pick(c.r, c.cast.externalDomains)}`,
        });
      return {
        ...base(c, { ResultStatus: c.r() < 0.97 ? 'True' : 'False', ObjectId: target.upn, UserType: 2 }),
        AppId: '',
        ClientAppId: '',
        ExternalAccess: false,
        OrganizationName: c.cast.domain,
        OriginatingServer: `${c.cast.spHost.toUpperCase().slice(0, 4)}PR0${Math.floor(c.r() * 9)}MB${Math.floor(c.r() * 9000)} (15.20.7452.028)`,
        Parameters: params,
        ModifiedObjectResolvedName: target.displayName,
        SessionId: guidFrom(c.r),
        TokenObjectId: c.user.objectId,
        TokenTenantId: c.cast.tenantId,
        RequestId: guidFrom(c.r),
      };
    },
  },
  {
    recordType: 2,
    workload: 'Exchange',
    weight: 0.35,
    ops: ['Send', 'Send', 'SendAs', 'HardDelete', 'SoftDelete', 'MoveToDeletedItems', 'Update', 'Create'],
    build: (c) => ({
      ...base(c, { ResultStatus: 'Succeeded' }),
      ...exoMailboxFields(c),
      Item: mailItem(c),
      ...(c.op === 'SendAs' ? { SendAsUserSmtp: pick(c.r, c.cast.users).upn } : {}),
      AppAccessContext: appContext(c, 1),
    }),
  },
  {
    recordType: 50,
    workload: 'Exchange',
    weight: 0.5,
    ops: ['MailItemsAccessed'],
    build: (c) => ({
      ...base(c, { ResultStatus: 'Succeeded' }),
      ...exoMailboxFields(c),
      OperationProperties: [
        { Name: 'MailAccessType', Value: c.r() < 0.9 ? 'Bind' : 'Sync' },
        { Name: 'IsThrottled', Value: 'False' },
      ],
      Folders: [
        {
          FolderItems: Array.from({ length: 1 + Math.floor(c.r() * 3) }, () => {
            const m = mailItem(c);
            return { Id: m.Id, InternetMessageId: m.InternetMessageId, SizeInBytes: m.SizeInBytes };
          }),
          Id: `LgAAAAAdhAMRqmYRzZvIAKoAL8RaAQB${Math.floor(c.r() * 1e10)}`,
          Path: '\\Inbox',
        },
      ],
      OperationCount: 1 + Math.floor(c.r() * 5),
      AppAccessContext: appContext(c, 1),
    }),
  },
];

const SHAREPOINT: Kind[] = [
  {
    recordType: 4,
    workload: 'SharePoint',
    weight: 0.15,
    ops: [
      'PageViewed',
      'PageViewed',
      'ListViewed',
      'SearchQueryPerformed',
      'FolderCreated',
      'SiteCollectionAdminAdded',
    ],
    build: (c) => {
      const site = pick(c.r, c.cast.sites);
      return {
        ...base(c, { ObjectId: `${site.url}SitePages/Home.aspx` }),
        UserAgent: pick(c.r, AGENTS),
        CorrelationId: guidFrom(c.r),
        EventSource: 'SharePoint',
        ItemType: c.op === 'FolderCreated' ? 'Folder' : c.op === 'SiteCollectionAdminAdded' ? 'Site' : 'Page',
        ListItemUniqueId: guidFrom(c.r),
        Site: site.siteId,
        WebId: site.webId,
        ...(c.op === 'SiteCollectionAdminAdded'
          ? { TargetUserOrGroupName: pick(c.r, c.cast.users).upn }
          : {}),
        AppAccessContext: appContext(c, 0),
        DeviceDisplayName: c.user.device.name,
        Platform: 'WinDesktop',
        GeoLocation: 'EUR',
        IsManagedDevice: c.user.device.compliant,
      };
    },
  },
  {
    recordType: 6,
    workload: 'SharePoint',
    weight: 0.5,
    ops: [
      'FileAccessed',
      'FileAccessed',
      'FileAccessed',
      'FileDownloaded',
      'FileModified',
      'FileUploaded',
      'FilePreviewed',
      'FileDeleted',
      'FileRenamed',
      'FileSyncDownloadedFull',
    ],
    build: (c) => spFile(c, false),
  },
  {
    recordType: 7,
    workload: 'OneDrive',
    weight: 0.15,
    ops: [
      'FileAccessed',
      'FileModified',
      'FileUploaded',
      'FileDownloaded',
      'FileSyncUploadedFull',
      'FileMoved',
    ],
    build: (c) => spFile(c, true),
  },
  {
    recordType: 14,
    workload: 'SharePoint',
    weight: 0.2,
    ops: [
      'SharingSet',
      'SharingInvitationCreated',
      'AnonymousLinkCreated',
      'CompanyLinkCreated',
      'SecureLinkUsed',
      'AddedToSecureLink',
    ],
    build: (c) => {
      const file = spFile(c, false);
      const external = c.r() < 0.3;
      const target = external
        ? `guest${Math.floor(c.r() * 90)}@${pick(c.r, c.cast.externalDomains)}`
        : pick(c.r, c.cast.users).upn;
      return {
        ...file,
        TargetUserOrGroupName: c.op === 'AnonymousLinkCreated' ? 'Anonymous' : target,
        TargetUserOrGroupType: c.op === 'AnonymousLinkCreated' ? 'Anonymous' : external ? 'Guest' : 'Member',
        EventData: `<Type>${pick(c.r, ['View', 'Edit'])}</Type><MembersCanShare>Enabled</MembersCanShare>`,
        UniqueSharingId: guidFrom(c.r),
        SharingType: c.op === 'AnonymousLinkCreated' ? 'Anonymous' : 'Direct',
      };
    },
  },
];

const AAD_ACTOR_TYPES = { PUID: 3, UPN: 5, SPN: 4, Other: 2 };

const AZURE_AD: Kind[] = [
  {
    recordType: 8,
    workload: 'AzureActiveDirectory',
    weight: 0.3,
    ops: [
      'Add user.',
      'Update user.',
      'Add member to group.',
      'Reset user password.',
      'Add service principal credentials.',
      'Consent to application.',
      'Add member to role.',
    ],
    build: (c) => {
      const target = pick(c.r, c.cast.users);
      const group = pick(c.r, c.cast.groups);
      return {
        ...base(c, { ResultStatus: c.r() < 0.97 ? 'Success' : 'Failure', ObjectId: target.upn }),
        AzureActiveDirectoryEventType: 1,
        ExtendedProperties: [
          { Name: 'additionalDetails', Value: '{"UserType":"Member"}' },
          { Name: 'extendedAuditEventCategory', Value: c.op.includes('group') ? 'Group' : 'User' },
        ],
        ModifiedProperties: c.op.includes('group')
          ? [
              { Name: 'Group.ObjectID', NewValue: group.id, OldValue: '' },
              { Name: 'Group.DisplayName', NewValue: group.name, OldValue: '' },
            ]
          : [{ Name: 'AccountEnabled', NewValue: '[true]', OldValue: '[]' }],
        Actor: [
          { ID: c.user.upn, Type: AAD_ACTOR_TYPES.UPN },
          { ID: c.user.puid, Type: AAD_ACTOR_TYPES.PUID },
          { ID: `User_${c.user.objectId}`, Type: AAD_ACTOR_TYPES.Other },
        ],
        ActorContextId: c.cast.tenantId,
        InterSystemsId: guidFrom(c.r),
        IntraSystemId: guidFrom(c.r),
        SupportTicketId: '',
        Target: [
          { ID: `User_${target.objectId}`, Type: AAD_ACTOR_TYPES.Other },
          { ID: target.upn, Type: AAD_ACTOR_TYPES.UPN },
        ],
        TargetContextId: c.cast.tenantId,
      };
    },
  },
  {
    recordType: 15,
    workload: 'AzureActiveDirectory',
    weight: 0.7,
    ops: ['UserLoggedIn', 'UserLoggedIn', 'UserLoggedIn', 'UserLoggedIn', 'UserLoginFailed'],
    build: (c) => {
      const app = pick(c.r, c.cast.apps);
      const failed = c.op === 'UserLoginFailed';
      const error = failed ? pick(c.r, [50126, 50074, 50053, 500121]) : 0;
      return {
        ...base(c, { ResultStatus: failed ? 'Failed' : 'Success', ObjectId: app.id }),
        AzureActiveDirectoryEventType: 0,
        ExtendedProperties: [
          { Name: 'ResultStatusDetail', Value: failed ? 'Redirect' : 'Success' },
          { Name: 'UserAgent', Value: pick(c.r, AGENTS) },
          { Name: 'RequestType', Value: 'OAuth2:Authorize' },
          { Name: 'KeepMeSignedIn', Value: 'true' },
        ],
        ModifiedProperties: [],
        Actor: [
          { ID: c.user.objectId, Type: 0 },
          { ID: c.user.upn, Type: AAD_ACTOR_TYPES.UPN },
        ],
        ActorContextId: c.cast.tenantId,
        ActorIpAddress: c.user.homeIp,
        InterSystemsId: guidFrom(c.r),
        IntraSystemId: guidFrom(c.r),
        SupportTicketId: '',
        Target: [{ ID: app.id, Type: 0 }],
        TargetContextId: c.cast.tenantId,
        ApplicationId: app.id,
        Client: pick(c.r, ['Browser', 'MobileAppsAndDesktopClients']),
        DeviceProperties: deviceFields(c),
        ErrorCode: String(error),
        ...(failed
          ? {
              LogonError: {
                50126: 'InvalidUserNameOrPassword',
                50074: 'UserStrongAuthClientAuthNRequiredInterrupt',
                50053: 'IdsLocked',
                500121: 'AuthenticationFailedSasError',
              }[error],
            }
          : {}),
      };
    },
  },
];

const IRM_NAMES = [
  'Data leaks by departing users',
  'Data theft by departing users',
  'Security policy violations',
  'General data leaks',
];
const CATEGORIES: readonly [string, number, readonly string[]][] = [
  [
    'ThreatManagement',
    0.3,
    [
      'Suspicious email forwarding activity',
      'User restricted from sending email',
      'Email messages containing malware removed after delivery',
    ],
  ],
  ['InsiderRiskManagement', 0.25, IRM_NAMES],
  [
    'DataLossPrevention',
    0.15,
    ['DLP policy match for document in SharePoint', 'Credit card numbers shared externally'],
  ],
  ['AccessGovernance', 0.1, ['Elevation of Exchange admin privilege', 'Unusual external user file activity']],
  ['DataGovernance', 0.1, ['Unusual volume of file deletion', 'Retention label removed']],
  ['MailFlow', 0.05, ['Messages have been delayed', 'Tenant allow/block list entry is about to expire']],
  ['Other', 0.05, ['Admin Submission Result Completed']],
];

function alertInfo(stream: RecordStream, position: number, kindOf: (p: number) => Kind) {
  const bucket = Math.floor(position / ALERT_BUCKET);
  let ordinal = 0;
  for (let p = bucket * ALERT_BUCKET; p < position; p++) if (kindOf(p).recordType === 40) ordinal++;
  const ar = prng(hash32(stream.seed, bucket, 0xa1e7));
  const alertId = guidFrom(ar);
  let x = ar();
  let cat = CATEGORIES[0]!;
  for (const c of CATEGORIES) {
    if (x < c[1]) {
      cat = c;
      break;
    }
    x -= c[1];
  }
  const name = pick(ar, cat[2]);
  const customized = cat[0] === 'InsiderRiskManagement' && ar() < 0.25;
  const severity = pick(ar, ['Low', 'Medium', 'High', 'High']);
  const policyId = guidFrom(ar);
  const operation =
    ordinal === 0 ? 'AlertTriggered' : ordinal % 2 === 1 ? 'AlertEntityGenerated' : 'AlertUpdated';
  const status =
    ordinal === 0
      ? 'Active'
      : (['Active', 'Investigating', 'Resolved', 'Dismissed'][Math.min(3, ordinal - 1)] ?? 'Resolved');
  return { alertId, category: cat[0], name, customized, severity, policyId, operation, status, ordinal };
}

function sccAlert(c: Ctx, info: ReturnType<typeof alertInfo>): Record<string, unknown> {
  const irm = info.category === 'InsiderRiskManagement';
  const name = info.customized ? `Contoso SOC: ${info.name}` : info.name;
  const data: Record<string, unknown> = {
    etype: 'User',
    eid: c.user.upn,
    tid: c.cast.tenantId,
    ts: `${isoNoZone(c.ms - 600_000)}Z`,
    te: `${isoNoZone(c.ms)}Z`,
    op: irm
      ? 'InsiderRiskActivity'
      : c.head.category === 'ThreatManagement'
        ? 'SetInboxRule'
        : 'FileDownloaded',
    wl: irm ? 'InsiderRiskManagement' : 'Exchange',
    an: name,
    sev: info.severity,
    cat: info.category,
    mdt: 'true',
    ad: `${name} involving ${c.user.upn}`,
    lon: c.op,
    aid: info.alertId,
  };
  if (irm) data.pn = IRM_PRODUCT;
  if (info.customized) {
    data.OriginalProductName = IRM_PRODUCT;
    data.ProductName = 'Contoso custom detections';
  }
  return {
    ...base(c, {
      ResultStatus: 'Succeeded',
      ObjectId: info.alertId,
      UserType: 4,
      UserId: 'SecurityComplianceAlerts',
    }),
    AlertEntityId: c.op === 'AlertEntityGenerated' ? c.user.upn : '',
    AlertId: info.alertId,
    AlertLinks: [
      {
        AlertLinkHref: `https://compliance.microsoft.com/${irm ? 'insiderriskmgmt' : 'viewalerts'}?id=${info.alertId}`,
      },
    ],
    AlertType: info.customized ? 'Custom' : 'System',
    Category: info.category,
    Comments: info.ordinal === 0 ? 'New alert' : 'Status changed by analyst',
    Data: JSON.stringify(data),
    EntityType: 'User',
    Name: name,
    PolicyId: info.policyId,
    Severity: info.severity,
    Source: 'Office 365 Security & Compliance',
    Status: info.status,
  };
}

function aipCommon(c: Ctx) {
  return {
    ApplicationId: c.cast.apps[3]!.id,
    ApplicationName: pick(c.r, [
      'Microsoft Word',
      'Microsoft Excel',
      'Microsoft Outlook',
      'Microsoft Purview Information Protection Scanner',
    ]),
    ProcessName: pick(c.r, ['WINWORD', 'EXCEL', 'OUTLOOK', 'MSIP.Scanner']),
    Platform: c.user.device.os.startsWith('Windows') ? 1 : c.user.device.os === 'MacOs' ? 2 : 5,
    DeviceName: c.user.device.name,
    Location: pick(c.r, [
      'C:\\Users\\Public\\Documents',
      `\\\\fs01\\shares\\${c.user.department}`,
      'https://contoso.sharepoint.com/sites/Finance',
    ]),
    ProductVersion: '2.16.79.0',
    UserAgent: pick(c.r, AGENTS),
  };
}

function labelEvent(c: Ctx) {
  const old = c.r() < 0.5 ? pick(c.r, c.cast.labels) : undefined;
  const now = pick(c.r, c.cast.labels);
  const type = c.op.endsWith('Removed')
    ? 3
    : !old
      ? 0
      : now.order > old.order
        ? 1
        : now.order < old.order
          ? 2
          : 4;
  return {
    SensitivityLabelId: c.op.endsWith('Removed') ? '' : now.id,
    ...(old ? { OldSensitivityLabelId: old.id } : {}),
    LabelEventType: type,
    ActionSource: pick(c.r, [1, 2, 3, 3, 4]),
    ActionSourceDetail: 0,
    JustificationText: type === 2 ? 'Previous label no longer applies' : '',
  };
}

function protectionEvent(c: Ctx) {
  return {
    ProtectionType: pick(c.r, ['Template', 'Custom', 'DoNotForward']),
    TemplateId: guidFrom(c.r),
    IsProtected: c.op !== 'RemoveProtection',
    IsProtectedBefore: c.op === 'RemoveProtection',
    ProtectionOwner: c.user.upn,
    ProtectionEventType: c.op === 'RemoveProtection' ? 2 : 1,
  };
}

function aipFile(c: Ctx) {
  const f = fileName(c);
  return `${aipCommon(c).Location}\\${f.name}`;
}

const GENERAL: Kind[] = [
  {
    recordType: 25,
    workload: 'MicrosoftTeams',
    weight: 0.3,
    ops: [
      'TeamsSessionStarted',
      'TeamsSessionStarted',
      'MessageSent',
      'MemberAdded',
      'ChannelAdded',
      'TeamCreated',
      'AppInstalled',
      'MessageEditedHasLink',
    ],
    build: (c) => {
      const team = pick(c.r, c.cast.teams);
      const channel = pick(c.r, team.channels);
      const member = pick(c.r, c.cast.users);
      const guest = c.r() < 0.2;
      return {
        ...base(c, {}),
        TeamName: team.name,
        TeamGuid: team.teamGuid,
        ChannelName: channel.name,
        ChannelGuid: channel.guid,
        ChannelType: 'Standard',
        AADGroupId: team.aadGroupId,
        CommunicationType: 'Team',
        ...(c.op === 'MemberAdded'
          ? {
              Members: [
                guest
                  ? {
                      DisplayName: 'Guest user',
                      Role: 2,
                      UPN: `guest${Math.floor(c.r() * 90)}@${pick(c.r, c.cast.externalDomains)}`,
                    }
                  : { DisplayName: member.displayName, Role: c.r() < 0.2 ? 1 : 0, UPN: member.upn },
              ],
            }
          : {}),
        ...(c.op.startsWith('Message')
          ? { MessageId: String(1700000000000 + Math.floor(c.r() * 1e11)), ChatThreadId: channel.guid }
          : {}),
        ...(c.op === 'AppInstalled'
          ? {
              AddOnType: 1,
              AddOnName: pick(c.r, ['Planner', 'Polly', 'Jira Cloud']),
              AddOnGuid: guidFrom(c.r),
            }
          : {}),
        ExtraProperties: [
          { Key: 'TimeZone', Value: 'Europe/Berlin' },
          { Key: 'OsName', Value: c.user.device.os },
          { Key: 'Country', Value: pick(c.r, ['DE', 'US', 'GB', 'FR']) },
          { Key: 'ClientName', Value: 'SkypeSpaces' },
        ],
        ItemName: team.name,
        ResourceTenantId: c.cast.tenantId,
        AppAccessContext: appContext(c, 2),
      };
    },
  },
  {
    recordType: 20,
    workload: 'PowerBI',
    weight: 0.18,
    ops: [
      'ViewReport',
      'ViewReport',
      'ViewDashboard',
      'ExportReport',
      'ExportArtifact',
      'ShareReport',
      'CreateDataset',
      'GenerateEmbedToken',
    ],
    build: (c) => {
      const ws = pick(c.r, c.cast.pbiWorkspaces);
      const report = pick(c.r, ws.reports);
      const dataset = pick(c.r, ws.datasets);
      const dash = ws.dashboards[0]!;
      const isDash = c.op === 'ViewDashboard';
      return {
        ...base(c, { ObjectId: isDash ? dash.name : report.name }),
        UserAgent: AGENTS[0],
        Activity: c.op,
        ItemName: isDash ? dash.name : report.name,
        WorkSpaceName: ws.name,
        WorkspaceId: ws.id,
        ...(isDash
          ? { DashboardName: dash.name, DashboardId: dash.id }
          : { ReportName: report.name, ReportId: report.id, ReportType: 'PowerBIReport' }),
        DatasetName: dataset.name,
        DatasetId: dataset.id,
        CapacityId: guidFrom(c.r),
        CapacityName: 'Premium Per User - Reserved',
        DataClassification: pick(c.r, ['Confidential', 'General', '']),
        DistributionMethod: 'Workspace',
        ConsumptionMethod: 'Power BI Web',
        ArtifactId: isDash ? dash.id : report.id,
        ArtifactName: isDash ? dash.name : report.name,
        ArtifactKind: isDash ? 'Dashboard' : 'Report',
        IsSuccess: true,
        RequestId: guidFrom(c.r),
        ActivityId: guidFrom(c.r),
        ...(c.op === 'ShareReport'
          ? {
              SharingInformation: [
                {
                  RecipientEmail: `${pick(c.r, ['partner', 'cfo', 'audit'])}@${pick(c.r, c.cast.externalDomains)}`,
                  RecipientName: 'External recipient',
                  ResharePermission: 'Read',
                },
              ],
            }
          : {}),
        ...(c.op.startsWith('Export')
          ? {
              ExportEventStartDateTimeUTC: `${isoNoZone(c.ms - 5000)}Z`,
              ExportedArtifactInfo: { ExportType: 'PDF' },
            }
          : {}),
      };
    },
  },
  {
    recordType: 21,
    workload: 'CRM',
    weight: 0.15,
    ops: [
      'Retrieve',
      'Retrieve',
      'RetrieveMultiple',
      'RetrieveMultiple',
      'Create',
      'Update',
      'Delete',
      'ExportToExcel',
    ],
    build: (c) => {
      const org = pick(c.r, c.cast.crmOrgs);
      const entity = pick(c.r, ['contact', 'account', 'opportunity', 'lead', 'incident', 'systemuser']);
      const entityId = guidFrom(c.r);
      const multi = c.op === 'RetrieveMultiple' || c.op === 'ExportToExcel';
      return {
        ...base(c, { ResultStatus: 'Succeeded', ObjectId: multi ? '' : entityId }),
        CrmOrganizationUniqueName: org.uniqueName,
        InstanceUrl: org.instanceUrl,
        ItemType: entity,
        ItemUrl: multi
          ? ''
          : `${org.instanceUrl}/main.aspx?etn=${entity}&pagetype=entityrecord&id=${entityId}`,
        UserAgent: AGENTS[0],
        Fields: [
          { Name: 'MessageName', Value: c.op },
          { Name: 'EntityName', Value: entity },
        ],
        EntityId: multi ? '00000000-0000-0000-0000-000000000000' : entityId,
        EntityName: entity,
        Message: c.op,
        Query: multi
          ? `<fetch version="1.0" mapping="logical" count="${pick(c.r, [50, 250, 5000])}"><entity name="${entity}"><attribute name="fullname" /><attribute name="emailaddress1" /></entity></fetch>`
          : '',
        QueryResults: multi ? Array.from({ length: 3 }, () => guidFrom(c.r)).join(',') : '',
        PrimaryFieldValue: multi ? '' : pick(c.r, ['Contoso Ltd', 'Ana Bowman', 'Renewal 2026', 'Case 4411']),
        ServiceName: pick(c.r, ['WebAPI', 'OrganizationService', 'ExportToExcel']),
        SystemUserId: guidFrom(c.r),
        CorrelationId: guidFrom(c.r),
      };
    },
  },
  {
    recordType: 43,
    workload: 'Exchange',
    weight: 0.05,
    ops: ['MIPLabel'],
    build: (c) => {
      const label = pick(c.r, c.cast.labels);
      return {
        ...base(c, { ObjectId: `<${guidFrom(c.r)}@${c.cast.domain}>` }),
        Sender: c.user.upn,
        Receivers: [
          pick(c.r, c.cast.users).upn,
          `${pick(c.r, ['ceo', 'sales'])}@${pick(c.r, c.cast.externalDomains)}`,
        ],
        ItemName: pick(c.r, ['Board deck', 'Salary review', 'M&A: Project Falcon', 'Weekly update']),
        LabelId: label.id,
        LabelName: label.name,
        LabelAction: pick(c.r, ['LabelApplied', 'LabelChanged']),
        LabelAppliedDateTime: `${isoNoZone(c.ms - 1000)}`,
        ApplicationMode: c.r() < 0.5 ? 'Privileged' : 'Standard',
      };
    },
  },
  {
    recordType: 83,
    workload: 'Aip',
    weight: 0.06,
    ops: ['SensitivityLabelApplied', 'SensitivityLabelUpdated', 'SensitivityLabelRemoved'],
    build: (c) => ({
      ...base(c, { ObjectId: aipFile(c) }),
      Common: aipCommon(c),
      SensitivityLabelEventData: labelEvent(c),
      DataState: 'Use',
      ObjectType: 'File',
    }),
  },
  {
    recordType: 93,
    workload: 'Aip',
    weight: 0.03,
    ops: ['Discover'],
    build: (c) => ({
      ...base(c, { ObjectId: aipFile(c) }),
      Common: aipCommon(c),
      SensitivityLabelEventData: { SensitivityLabelId: pick(c.r, c.cast.labels).id },
      SensitiveInfoTypeData: [
        { SensitiveInfoTypeId: guidFrom(c.r), Count: 1 + Math.floor(c.r() * 40), Confidence: 85 },
      ],
      DataState: 'Rest',
      ObjectType: 'File',
    }),
  },
  {
    recordType: 94,
    workload: 'Aip',
    weight: 0.05,
    ops: [
      'SensitivityLabelApplied',
      'SensitivityLabelUpdated',
      'SensitivityLabelRemoved',
      'SensitivityLabelPolicyMatched',
    ],
    build: (c) => ({
      ...base(c, { ObjectId: aipFile(c) }),
      Common: aipCommon(c),
      SensitivityLabelEventData: labelEvent(c),
      DataState: 'Use',
      ObjectType: 'File',
    }),
  },
  {
    recordType: 95,
    workload: 'Aip',
    weight: 0.03,
    ops: ['ProtectionApplied', 'RemoveProtection', 'AccessDenied'],
    build: (c) => ({
      ...base(c, { ObjectId: aipFile(c) }),
      Common: aipCommon(c),
      ProtectionEventData: protectionEvent(c),
      DataState: 'Use',
      ObjectType: 'File',
    }),
  },
  {
    recordType: 96,
    workload: 'Aip',
    weight: 0.02,
    ops: ['FileDeleted'],
    build: (c) => ({
      ...base(c, { ObjectId: aipFile(c) }),
      Common: aipCommon(c),
      SensitivityLabelEventData: { SensitivityLabelId: pick(c.r, c.cast.labels).id },
      DataState: 'Rest',
      ObjectType: 'File',
    }),
  },
  {
    recordType: 40,
    workload: 'SecurityComplianceCenter',
    weight: 0.13,
    ops: ['AlertTriggered'],
    // Built specially (the alert grouping decides Operation and Category); see buildRecord.
    build: () => ({}),
  },
];

const DLP: Kind[] = [
  {
    recordType: 11,
    workload: 'SharePoint',
    weight: 0.6,
    ops: ['DLPRuleMatch', 'DLPRuleMatch', 'DLPRuleUndo'],
    build: (c) => {
      const file = spFile(c, false);
      return {
        ...base(c, { ObjectId: file.ObjectId as string }),
        IncidentId: guidFrom(c.r),
        PolicyDetails: [
          {
            PolicyId: guidFrom(c.r),
            PolicyName: 'Financial data',
            Rules: [
              {
                RuleId: guidFrom(c.r),
                RuleName: 'Credit card numbers shared externally',
                Severity: pick(c.r, ['Low', 'Medium', 'High']),
                Actions: ['NotifyUser', 'BlockAccess'],
                ConditionsMatched: {
                  SensitiveInformation: [
                    {
                      SensitiveInformationTypeName: 'Credit Card Number',
                      Count: 1 + Math.floor(c.r() * 20),
                      Confidence: 85,
                    },
                  ],
                },
              },
            ],
          },
        ],
        SensitiveInfoDetectionIsIncluded: true,
        SharePointMetaData: {
          From: c.user.upn,
          FileName: file.SourceFileName,
          FilePathUrl: file.ObjectId,
          SiteCollectionUrl: file.SiteUrl,
        },
      };
    },
  },
  {
    recordType: 13,
    workload: 'Exchange',
    weight: 0.4,
    ops: ['DLPRuleMatch'],
    build: (c) => ({
      ...base(c, { ObjectId: `<${guidFrom(c.r)}@${c.cast.domain}>` }),
      IncidentId: guidFrom(c.r),
      PolicyDetails: [
        {
          PolicyId: guidFrom(c.r),
          PolicyName: 'GDPR',
          Rules: [
            {
              RuleId: guidFrom(c.r),
              RuleName: 'EU personal data',
              Severity: 'Medium',
              Actions: ['NotifyUser'],
            },
          ],
        },
      ],
      SensitiveInfoDetectionIsIncluded: true,
      ExchangeMetaData: {
        From: c.user.upn,
        To: [`someone@${pick(c.r, c.cast.externalDomains)}`],
        Subject: 'Customer list',
        Sent: `${isoNoZone(c.ms)}`,
        MessageID: `<${guidFrom(c.r)}@${c.cast.domain}>`,
      },
    }),
  },
];

export const KINDS: Record<ContentType, readonly Kind[]> = {
  'Audit.Exchange': EXCHANGE,
  'Audit.SharePoint': SHAREPOINT,
  'Audit.AzureActiveDirectory': AZURE_AD,
  'Audit.General': GENERAL,
  'DLP.All': DLP,
};

/** The kind of record at a position: a hash, no PRNG, no body. */
function kindAt(stream: RecordStream, position: number): Kind {
  const kinds = KINDS[stream.contentType];
  let x = unit(hash32(stream.seed, position, 0x6b1d));
  for (const k of kinds) {
    if (x < k.weight) return k;
    x -= k.weight;
  }
  return kinds[kinds.length - 1]!;
}

function start(stream: RecordStream, position: number) {
  const kind = kindAt(stream, position);
  const r = prng(hash32(stream.seed, position, 0x5eed));
  const id = guidFrom(r);
  if (kind.recordType === 40) {
    const info = alertInfo(stream, position, (p) => kindAt(stream, p));
    const head: RecordHead = {
      id,
      contentType: stream.contentType,
      recordType: 40,
      workload: kind.workload,
      operation: info.operation,
      category: info.category,
      alertId: info.alertId,
      ...(info.customized ? { customized: true } : {}),
    };
    return { kind, r, head, info };
  }
  const operation = pick(r, kind.ops);
  const head: RecordHead = {
    id,
    contentType: stream.contentType,
    recordType: kind.recordType,
    workload: kind.workload,
    operation,
  };
  return { kind, r, head, info: undefined };
}

/** Id, RecordType, Workload, Operation (and alert Category) of a record, without building its body. */
export function recordHead(stream: RecordStream, position: number): RecordHead {
  return start(stream, position).head;
}

/** The full record at `position`, with `CreationTime` at `creationMs` (zone-less, no fraction). */
export function buildRecord(
  stream: RecordStream,
  position: number,
  creationMs: number,
): Record<string, unknown> {
  const { kind, r, head, info } = start(stream, position);
  const user = stream.cast.users[Math.floor(r() * stream.cast.users.length)]!;
  const ctx: Ctx = { r, cast: stream.cast, user, op: head.operation, ms: creationMs, stream, position, head };
  if (info) return sccAlert(ctx, info);
  return kind.build(ctx);
}

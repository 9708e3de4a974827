import {
  ACTIVITY_FEED_PREREQUISITE,
  AUDIT_LOGGING_PREREQUISITE,
  type ConnectorDefinition,
  WORKSPACE_PREREQUISITE,
} from '../runtime/definition.js';

/** Microsoft 365 (Exchange, SharePoint, Teams) → OfficeActivity. connectors.md §3.6. */
export const office365: ConnectorDefinition = {
  id: 'Office365',
  kind: 'Office365',
  title: 'Microsoft 365 (formerly, Office 365)',
  publisher: 'Microsoft',
  descriptionMarkdown:
    'The Microsoft 365 activity log connector provides insight into ongoing user activities: file downloads, access requests sent, changes to group events, mailbox changes such as `Set-Mailbox`, and who performed them. Stream the logs into OfficeActivity to view dashboards, create custom alerts and improve investigation.',
  logo: 'Office365Logo.svg',
  preview: false,
  dataTypes: [
    {
      key: 'exchange',
      name: 'OfficeActivity (Exchange)',
      required: true,
      table: 'OfficeActivity',
      filter: 'OfficeWorkload == "Exchange"',
      source: { api: 'o365ManagementActivity', contentType: 'Audit.Exchange' },
    },
    {
      key: 'sharePoint',
      name: 'OfficeActivity (SharePoint)',
      required: true,
      table: 'OfficeActivity',
      filter: 'OfficeWorkload == "SharePoint" or OfficeWorkload == "OneDrive"',
      source: { api: 'o365ManagementActivity', contentType: 'Audit.SharePoint' },
    },
    {
      key: 'teams',
      name: 'OfficeActivity (Teams)',
      required: true,
      table: 'OfficeActivity',
      filter: 'OfficeWorkload == "MicrosoftTeams"',
      // Audit.General carries every other workload too; Teams records only (RecordTypes 25 and 57).
      source: {
        api: 'o365ManagementActivity',
        contentType: 'Audit.General',
        select: {
          any: [
            { field: 'Workload', in: ['MicrosoftTeams'] },
            { field: 'RecordType', in: [25, 57] },
          ],
        },
      },
    },
  ],
  prerequisites: [WORKSPACE_PREREQUISITE, ACTIVITY_FEED_PREREQUISITE, AUDIT_LOGGING_PREREQUISITE],
  instructionSteps: [
    {
      title: 'Connect Office 365 activity logs to your Microsoft Sentinel.',
      description:
        'Select the record types you want to collect from your tenant and click **Apply Changes**.',
      instructions: [
        {
          type: 'OfficeDataTypes',
          parameters: {
            connectorKind: 'Office365',
            dataTypes: [
              { title: 'Exchange', name: 'exchange' },
              { title: 'SharePoint', name: 'sharePoint' },
              { title: 'Teams', name: 'teams' },
            ],
          },
        },
      ],
    },
    {
      title: '2. Previously connected tenants',
      description: 'Microsoft Sentinel now enables Office 365 single-tenant connection.',
      instructions: [{ type: 'Office365', parameters: {} }],
    },
  ],
  sampleQueries: [
    {
      description: 'New inbox rules',
      query:
        'OfficeActivity\n| where Operation == "New-InboxRule"\n| project TimeGenerated, UserId, ClientIP, Parameters',
    },
    {
      description: 'Top 10 users downloading files from SharePoint',
      query:
        'OfficeActivity\n| where RecordType =~ "SharePointFileOperation" and Operation == "FileDownloaded"\n| summarize count() by UserId\n| top 10 by count_',
    },
  ],
  graphQueries: [
    {
      metricName: 'Total data received',
      legend: 'SharePoint',
      baseQuery: 'OfficeActivity | where OfficeWorkload == "SharePoint" or OfficeWorkload == "OneDrive"',
    },
    {
      metricName: 'Total data received',
      legend: 'Exchange',
      baseQuery: 'OfficeActivity | where OfficeWorkload == "Exchange"',
    },
    {
      metricName: 'Total data received',
      legend: 'Teams',
      baseQuery: 'OfficeActivity | where OfficeWorkload == "MicrosoftTeams"',
    },
  ],
  connectivityCriterias: [{ type: 'SentinelKinds', value: ['Office365'] }],
};

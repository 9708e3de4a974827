import {
  ACTIVITY_FEED_PREREQUISITE,
  AUDIT_LOGGING_PREREQUISITE,
  type ConnectorDefinition,
  WORKSPACE_PREREQUISITE,
} from '../runtime/definition.js';

/** Dynamics 365 → Dynamics365Activity. connectors.md §3.2. */
export const dynamics365: ConnectorDefinition = {
  id: 'Dynamics365',
  kind: 'Dynamics365',
  title: 'Dynamics 365',
  publisher: 'Microsoft',
  descriptionMarkdown:
    'The Dynamics 365 Common Data Service (CDS) activities connector provides insight into admin, user and support activities, as well as Microsoft Social Engagement logging events. Stream Dynamics 365 CRM logs into Dynamics365Activity to track your data activities, find suspicious behaviour and investigate.',
  logo: 'Dynamics365Logo.svg',
  preview: false,
  dataTypes: [
    {
      key: 'dynamics365CdsActivities',
      name: 'Dynamics365Activity',
      required: true,
      table: 'Dynamics365Activity',
      filter: '',
      source: {
        api: 'o365ManagementActivity',
        contentType: 'Audit.General',
        select: {
          any: [
            { field: 'Workload', in: ['CRM'] },
            { field: 'RecordType', in: [21] },
          ],
        },
      },
    },
  ],
  prerequisites: [
    WORKSPACE_PREREQUISITE,
    ACTIVITY_FEED_PREREQUISITE,
    {
      type: 'license',
      description:
        'License: a Dynamics 365 production licence (sandbox environments are not supported) and Microsoft 365 E3 or E5 for activity logging.',
      servicePlans: [
        'DYN365_ENTERPRISE_PLAN1',
        'DYN365_ENTERPRISE_SALES',
        'DYN365_ENTERPRISE_CUSTOMER_SERVICE',
        'CDS_O365_P3',
      ],
    },
    AUDIT_LOGGING_PREREQUISITE,
  ],
  instructionSteps: [
    {
      title: 'Connect Dynamics 365 CDS activities to Microsoft Sentinel.',
      description: 'Audit logging must be enabled in Microsoft Purview and in the Dataverse environment.',
      instructions: [
        {
          type: 'SentinelResourceProvider',
          parameters: { connectorKind: 'Dynamics365', title: 'Dynamics365', enable: true },
        },
      ],
    },
  ],
  sampleQueries: [
    {
      description: 'Exports and bulk reads per user and entity',
      query:
        'Dynamics365Activity\n| where Message in ("ExportToExcel", "RetrieveMultiple")\n| summarize count() by UserId, EntityName',
    },
  ],
  graphQueries: [
    { metricName: 'Total data received', legend: 'Dynamics365', baseQuery: 'Dynamics365Activity' },
  ],
  connectivityCriterias: [{ type: 'SentinelKinds', value: ['Dynamics365'] }],
};

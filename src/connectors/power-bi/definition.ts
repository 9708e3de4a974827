import {
  ACTIVITY_FEED_PREREQUISITE,
  AUDIT_LOGGING_PREREQUISITE,
  type ConnectorDefinition,
  WORKSPACE_PREREQUISITE,
} from '../runtime/definition.js';

/** Microsoft Power BI → PowerBIActivity (Management Activity API RecordType 20). connectors.md §3.7. */
export const powerBi: ConnectorDefinition = {
  id: 'OfficePowerBI',
  kind: 'OfficePowerBI',
  title: 'Microsoft PowerBI',
  publisher: 'Microsoft',
  descriptionMarkdown:
    'Microsoft PowerBI is a collection of software services, apps and connectors that turn unrelated sources of data into coherent, visually immersive and interactive insights. This connector streams Power BI user activity logs into PowerBIActivity, filterable by date range, user, dashboard, report, dataset and activity type.',
  logo: 'PowerBILogo.svg',
  preview: true,
  dataTypes: [
    {
      key: 'logs',
      name: 'PowerBIActivity',
      required: true,
      table: 'PowerBIActivity',
      filter: '',
      source: {
        api: 'o365ManagementActivity',
        contentType: 'Audit.General',
        select: {
          any: [
            { field: 'Workload', in: ['PowerBI'] },
            { field: 'RecordType', in: [20] },
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
      description: 'License: an eligible Microsoft Power BI licence.',
      servicePlans: ['BI_AZURE_P0', 'BI_AZURE_P1', 'BI_AZURE_P2', 'BI_AZURE_P3', 'POWER_BI_PRO'],
    },
    AUDIT_LOGGING_PREREQUISITE,
  ],
  instructionSteps: [
    {
      title: 'Connect Microsoft PowerBI audit logs to Microsoft Sentinel.',
      description:
        'This connector uses the Office Management API to get your Power BI audit logs. The logs are stored in the **PowerBIActivity** table.',
      instructions: [
        {
          type: 'SentinelResourceProvider',
          parameters: { connectorKind: 'OfficePowerBI', title: 'Microsoft PowerBI', enable: true },
        },
      ],
    },
  ],
  sampleQueries: [
    {
      description: 'Report exports',
      query:
        'PowerBIActivity\n| where Activity in~ ("ExportReport", "ExportArtifact")\n| project TimeGenerated, ActorName, ReportName, PbiWorkspaceName',
    },
  ],
  graphQueries: [
    { metricName: 'Total data received', legend: 'Microsoft PowerBI', baseQuery: 'PowerBIActivity' },
  ],
  connectivityCriterias: [{ type: 'SentinelKinds', value: ['OfficePowerBI'] }],
};

import {
  ACTIVITY_FEED_PREREQUISITE,
  AUDIT_LOGGING_PREREQUISITE,
  type ConnectorDefinition,
  WORKSPACE_PREREQUISITE,
} from '../runtime/definition.js';

/**
 * Sensitivity-label and protection events (Workload `Aip` and the MIP RecordTypes, source-apis.md §8)
 * → MicrosoftPurviewInformationProtection. connectors.md §3.8.
 */
export const MIP_RECORD_TYPES = [43, 71, 72, 75, 82, 83, 84, 93, 94, 95, 96, 97] as const;

export const purviewInformationProtection: ConnectorDefinition = {
  id: 'MicrosoftPurviewInformationProtection',
  kind: 'MicrosoftPurviewInformationProtection',
  title: 'Microsoft Purview Information Protection',
  publisher: 'Microsoft',
  descriptionMarkdown:
    'Microsoft Purview Information Protection helps you discover, classify, protect and govern sensitive information wherever it lives or travels. This connector streams audit events of sensitivity labelling and protection — applying, changing and removing labels, encryption, discovery by scanners and clients — into MicrosoftPurviewInformationProtection. It replaces the Azure Information Protection connector, whose audit logs were retired on 31 March 2023.',
  logo: 'MicrosoftPurview.svg',
  preview: true,
  dataTypes: [
    {
      key: 'logs',
      name: 'MicrosoftPurviewInformationProtection',
      required: true,
      table: 'MicrosoftPurviewInformationProtection',
      filter: '',
      source: {
        api: 'o365ManagementActivity',
        contentType: 'Audit.General',
        select: {
          any: [
            { field: 'Workload', in: ['Aip'] },
            { field: 'RecordType', in: MIP_RECORD_TYPES },
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
      description: 'License: Enterprise Mobility + Security E5/A5, Microsoft 365 E5/A5, or P2.',
      servicePlans: ['MIP_S_CLP2', 'RMS_S_PREMIUM2', 'INFORMATION_PROTECTION_COMPLIANCE'],
    },
    AUDIT_LOGGING_PREREQUISITE,
  ],
  instructionSteps: [
    {
      title: 'Connect Microsoft Purview Information Protection audit logs to Microsoft Sentinel.',
      instructions: [
        {
          type: 'SentinelResourceProvider',
          parameters: {
            connectorKind: 'MicrosoftPurviewInformationProtection',
            title: 'Microsoft Purview Information Protection',
            enable: true,
          },
        },
      ],
    },
  ],
  sampleQueries: [
    {
      description: 'Sensitivity labels removed',
      query:
        'MicrosoftPurviewInformationProtection\n| where Operation == "SensitivityLabelRemoved"\n| project TimeGenerated, UserId, ObjectId, OldSensitivityLabelId',
    },
  ],
  graphQueries: [
    {
      metricName: 'Total data received',
      legend: 'Microsoft Purview Information Protection',
      baseQuery: 'MicrosoftPurviewInformationProtection',
    },
  ],
  connectivityCriterias: [{ type: 'SentinelKinds', value: ['MicrosoftPurviewInformationProtection'] }],
};

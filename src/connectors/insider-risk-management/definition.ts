import {
  ACTIVITY_FEED_PREREQUISITE,
  AUDIT_LOGGING_PREREQUISITE,
  type ConnectorDefinition,
  WORKSPACE_PREREQUISITE,
} from '../runtime/definition.js';
import { IRM_PRODUCT_NAME, irmAlertToSecurityAlert } from './hooks.js';

/** Insider Risk Management alerts (RecordType 40, Category InsiderRiskManagement) → SecurityAlert. connectors.md §3.9. */
export const insiderRiskManagement: ConnectorDefinition = {
  id: 'OfficeIRM',
  kind: 'OfficeIRM',
  title: 'Microsoft 365 Insider Risk Management',
  publisher: 'Microsoft',
  descriptionMarkdown:
    'Microsoft 365 Insider Risk Management is a compliance solution that minimises internal risks by detecting, investigating and acting on malicious and inadvertent activities in your organisation. Its alerts become SecurityAlert rows, and with **Create incidents** each alert opens an incident.',
  logo: 'InsiderRiskManagement.svg',
  preview: true,
  dataTypes: [
    {
      key: 'alerts',
      name: 'SecurityAlert (OfficeIRM)',
      required: false,
      table: 'SecurityAlert',
      filter: `ProductName == "${IRM_PRODUCT_NAME}" and isempty(tostring(parse_json(ExtendedProperties).OriginalProductName))`,
      source: {
        api: 'o365ManagementActivity',
        contentType: 'Audit.General',
        select: {
          all: [
            { field: 'RecordType', in: [40] },
            { field: 'Category', in: ['InsiderRiskManagement'] },
          ],
        },
        hook: 'irmAlertToSecurityAlert',
      },
    },
  ],
  prerequisites: [
    WORKSPACE_PREREQUISITE,
    ACTIVITY_FEED_PREREQUISITE,
    {
      type: 'license',
      description:
        'License: Microsoft 365 E5/A5/G5, or a Compliance or Insider Risk Management add-on (OfficeIRM).',
      servicePlans: ['INSIDER_RISK', 'INSIDER_RISK_MANAGEMENT'],
    },
    {
      type: 'custom',
      name: 'Export of alerts',
      description:
        'Enable export of Insider Risk Management alerts to the Office 365 Management Activity API (Insider risk settings → Export alerts).',
    },
    AUDIT_LOGGING_PREREQUISITE,
  ],
  instructionSteps: [
    {
      title: 'Connect Microsoft 365 Insider Risk Management alerts to Microsoft Sentinel.',
      description:
        'Connecting may move alert data outside your Microsoft 365 geography if the workspace is elsewhere.',
      instructions: [
        {
          type: 'SentinelResourceProvider',
          parameters: {
            connectorKind: 'OfficeIRM',
            title: 'Microsoft 365 Insider Risk Management',
            enable: true,
          },
        },
      ],
    },
  ],
  sampleQueries: [
    {
      description: 'Latest state of each Insider Risk Management alert',
      query: `SecurityAlert\n| where ProductName == "${IRM_PRODUCT_NAME}"\n| summarize arg_max(TimeGenerated, *) by SystemAlertId\n| project TimeGenerated, AlertName, AlertSeverity, Status`,
    },
  ],
  graphQueries: [
    {
      metricName: 'Total data received',
      legend: `SecurityAlert (${IRM_PRODUCT_NAME})`,
      baseQuery: `SecurityAlert | where ProductName == "${IRM_PRODUCT_NAME}"`,
    },
  ],
  connectivityCriterias: [{ type: 'SentinelKinds', value: ['OfficeIRM'] }],
  caseGeneration: { filterProduct: IRM_PRODUCT_NAME },
  hooks: { irmAlertToSecurityAlert },
};

import type { TableSchema } from '../schema.js';

/** Alerts from Entra ID Protection, Defender for Cloud Apps / Endpoint / Office 365 and Insider Risk. tables.md §4. */
export const SecurityAlert: TableSchema = {
  name: 'SecurityAlert',
  kind: 'builtin',
  description:
    'Security alerts, one row per alert version; the current state is the latest row per SystemAlertId.',
  writtenBy:
    'the alert connectors (Entra ID Protection, Defender for Cloud Apps, Endpoint, Office 365, Insider Risk)',
  // One row per alert *version*: every status, severity or evidence change of a source alert adds a row with the
  // same (stable) SystemAlertId. The connector sets TimeGenerated to the source's last-update time, so a version
  // delivered twice is stored once while a new version is kept.
  recordKey: ['SystemAlertId', 'TimeGenerated'],
  columns: [
    { name: 'TimeGenerated', type: 'datetime', description: 'When this version of the alert was produced.' },
    {
      name: 'AlertName',
      type: 'string',
      description: 'Display name of the alert, as the source product names it.',
    },
    { name: 'DisplayName', type: 'string', description: 'Same as AlertName (kept for compatibility).' },
    {
      name: 'AlertSeverity',
      type: 'string',
      lowCardinality: true,
      description: '`Informational`, `Low`, `Medium` or `High`.',
    },
    { name: 'AlertType', type: 'string', lowCardinality: true, description: 'Product-specific alert type.' },
    { name: 'Description', type: 'string' },
    {
      name: 'ProductName',
      type: 'string',
      lowCardinality: true,
      description: 'Product that raised the alert.',
    },
    {
      name: 'ProviderName',
      type: 'string',
      lowCardinality: true,
      description: 'Service within the product (`IPC`, `MDATP` ...).',
    },
    { name: 'ProductComponentName', type: 'string', lowCardinality: true },
    {
      name: 'VendorName',
      type: 'string',
      lowCardinality: true,
      description: '`Microsoft` for these connectors.',
    },
    {
      name: 'SystemAlertId',
      type: 'string',
      description: 'Unique id of the alert, stable across its versions.',
    },
    { name: 'VendorOriginalId', type: 'string', description: 'The id the source product gave the alert.' },
    { name: 'CompromisedEntity', type: 'string', description: 'Display name of the main entity.' },
    {
      name: 'Entities',
      type: 'string',
      description: 'JSON text: array of entity objects, each with a `Type`.',
    },
    { name: 'ExtendedProperties', type: 'string', description: 'JSON text: object of extra properties.' },
    { name: 'ExtendedLinks', type: 'string', description: 'JSON text: related links.' },
    { name: 'AlertLink', type: 'string', description: 'Link to the alert in the source portal.' },
    { name: 'StartTime', type: 'datetime', description: 'First activity the alert covers.' },
    { name: 'EndTime', type: 'datetime', description: 'Last activity the alert covers.' },
    {
      name: 'ProcessingEndTime',
      type: 'datetime',
      description: 'When the source finished producing the alert.',
    },
    {
      name: 'Status',
      type: 'string',
      lowCardinality: true,
      description: '`New`, `InProgress`, `Resolved`, `Dismissed` or `Unknown`.',
    },
    { name: 'ConfidenceLevel', type: 'string', lowCardinality: true },
    {
      name: 'ConfidenceScore',
      type: 'real',
      description: 'Confidence that the alert is a true positive, 0.0 to 1.0.',
    },
    { name: 'RemediationSteps', type: 'string' },
    { name: 'ResourceId', type: 'string', description: 'Id of the alerted resource.' },
    { name: 'Tactics', type: 'string', description: 'Comma-separated MITRE ATT&CK tactics.' },
    { name: 'Techniques', type: 'string', description: 'Comma-separated MITRE ATT&CK techniques.' },
    { name: 'SubTechniques', type: 'string', description: 'Comma-separated MITRE ATT&CK sub-techniques.' },
    { name: 'IsIncident', type: 'bool', constant: false, description: 'Deprecated; always false.' },
    { name: 'SourceComputerId', type: 'string', description: 'Deprecated.' },
    { name: 'WorkspaceResourceGroup', type: 'string', description: 'Deprecated.' },
    { name: 'WorkspaceSubscriptionId', type: 'string', description: 'Deprecated.' },
    {
      name: 'SourceSystem',
      type: 'string',
      constant: 'Detection',
      description: 'Deprecated; always `Detection`.',
    },
  ],
};

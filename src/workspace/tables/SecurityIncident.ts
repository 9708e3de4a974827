import type { TableSchema } from '../schema.js';

/** Incidents, as a change log: a row on every create or update; written by the incident service. tables.md §5. */
export const SecurityIncident: TableSchema = {
  name: 'SecurityIncident',
  kind: 'builtin',
  description: 'Incidents as a change log; the current state is the latest row per IncidentName.',
  writtenBy: 'the incident service',
  // One row per incident change.
  recordKey: ['IncidentName', 'LastModifiedTime'],
  columns: [
    { name: 'TimeGenerated', type: 'datetime', description: 'When this row was written.' },
    { name: 'IncidentName', type: 'string', description: 'Resource name of the incident (GUID text).' },
    {
      name: 'IncidentNumber',
      type: 'int',
      from: ['incidentNumber'],
      description: 'Sequential number of the incident in the workspace.',
    },
    { name: 'Title', type: 'string', from: ['title'] },
    { name: 'Description', type: 'string', from: ['description'] },
    {
      name: 'Severity',
      type: 'string',
      lowCardinality: true,
      description: '`High`, `Medium`, `Low` or `Informational`.',
    },
    { name: 'Status', type: 'string', lowCardinality: true, description: '`New`, `Active` or `Closed`.' },
    {
      name: 'Classification',
      type: 'string',
      lowCardinality: true,
      description: '`Undetermined`, `TruePositive`, `BenignPositive` or `FalsePositive`; set on closing.',
    },
    {
      name: 'ClassificationReason',
      type: 'string',
      lowCardinality: true,
      description:
        '`SuspiciousActivity`, `SuspiciousButExpected`, `IncorrectAlertLogic` or `InaccurateData`.',
    },
    { name: 'ClassificationComment', type: 'string', description: 'Free text given on closing.' },
    {
      name: 'Owner',
      type: 'dynamic',
      from: ['owner'],
      description: 'Assignee: objectId, email, assignedTo, userPrincipalName.',
    },
    {
      name: 'Labels',
      type: 'dynamic',
      description: '`[{labelName, labelType}]`; labelType `User` or `AutoAssigned`.',
    },
    { name: 'CreatedTime', type: 'datetime', from: ['createdTimeUtc'] },
    { name: 'LastModifiedTime', type: 'datetime', from: ['lastModifiedTimeUtc'] },
    { name: 'FirstActivityTime', type: 'datetime', from: ['firstActivityTimeUtc'] },
    { name: 'LastActivityTime', type: 'datetime', from: ['lastActivityTimeUtc'] },
    { name: 'FirstModifiedTime', type: 'datetime' },
    { name: 'ClosedTime', type: 'datetime', description: 'Last time the incident was closed.' },
    { name: 'ModifiedBy', type: 'string', description: 'What made the change.' },
    {
      name: 'ProviderName',
      type: 'string',
      lowCardinality: true,
      description: 'Provider of the incident (`Azure Sentinel` for its own).',
    },
    { name: 'ProviderIncidentId', type: 'string', description: 'Id of the incident at its provider.' },
    { name: 'IncidentUrl', type: 'string', description: 'Link that opens the incident in the portal.' },
    { name: 'AlertIds', type: 'dynamic', description: 'SystemAlertIds of the related alerts.' },
    { name: 'BookmarkIds', type: 'dynamic' },
    {
      name: 'RelatedAnalyticRuleIds',
      type: 'dynamic',
      description: 'Ids of the rules that created or fed the incident.',
    },
    {
      name: 'AdditionalData',
      type: 'dynamic',
      description: 'Counts of alerts, bookmarks and comments, alert product names, tactics.',
    },
    { name: 'Comments', type: 'dynamic' },
    { name: 'Tasks', type: 'dynamic' },
    { name: 'SourceSystem', type: 'string', constant: 'Azure' },
  ],
};

import type { TableSchema } from '../schema.js';

/** Health events of connectors (and later rules); written by the connector runtime. tables.md §11. */
export const SentinelHealth: TableSchema = {
  name: 'SentinelHealth',
  kind: 'builtin',
  description: 'Health events of data connectors: status changes and periodic failure summaries.',
  writtenBy: 'the connector runtime',
  recordKey: ['RecordId'],
  columns: [
    { name: 'TimeGenerated', type: 'datetime', description: 'When the health event happened.' },
    {
      name: 'OperationName',
      type: 'string',
      lowCardinality: true,
      description: 'The health operation, e.g. `Data fetch status change`.',
    },
    {
      name: 'SentinelResourceId',
      type: 'string',
      description: 'Full id of the resource, including its workspace.',
    },
    { name: 'SentinelResourceName', type: 'string' },
    {
      name: 'SentinelResourceType',
      type: 'string',
      lowCardinality: true,
      description: '`Data connector`, `Analytics rule`, ...',
    },
    {
      name: 'SentinelResourceKind',
      type: 'string',
      lowCardinality: true,
      description: 'For connectors, the connector kind (`Office365`).',
    },
    {
      name: 'Status',
      type: 'string',
      lowCardinality: true,
      description: '`Success`, `Failure` or `Informational`.',
    },
    { name: 'Description', type: 'string' },
    { name: 'Reason', type: 'string', description: 'Short reason or error code.' },
    { name: 'WorkspaceId', type: 'string' },
    { name: 'RecordId', type: 'string', description: 'Unique id of the health record.' },
    { name: 'ExtendedProperties', type: 'dynamic' },
    { name: 'SourceSystem', type: 'string', constant: 'Azure' },
  ],
};

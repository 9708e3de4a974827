import type { TableSchema } from '../schema.js';

/**
 * One row per query answered by the Query API, as Log Analytics' query audit table. Column names follow
 * Azure's `LAQueryLogs` (written from memory of the Azure Monitor table reference; verify against
 * `MicrosoftDocs/azure-reference-other:azure-monitor-ref/tables/includes/laquerylogs-include.md`). Vigil's
 * callers are API tokens, not Entra identities: `AADClientId` holds the token id, `AADEmail` its name.
 */
export const LAQueryLogs: TableSchema = {
  name: 'LAQueryLogs',
  kind: 'system',
  description: 'Audit of the queries run through the Query API: who, what, how long, how many rows.',
  writtenBy: 'the Query API',
  recordKey: ['CorrelationId'],
  columns: [
    { name: 'TimeGenerated', type: 'datetime', description: 'When the query was received.' },
    { name: 'AADClientId', type: 'string', description: 'The id of the API token that ran the query.' },
    { name: 'AADEmail', type: 'string', description: 'The name of the API token that ran the query.' },
    { name: 'AADObjectId', type: 'string' },
    { name: 'AADTenantId', type: 'string' },
    { name: 'CorrelationId', type: 'string', description: 'The request id (x-ms-request-id).' },
    { name: 'QueryText', type: 'string' },
    { name: 'RequestClientApp', type: 'string', description: 'The client, from the User-Agent header.' },
    {
      name: 'RequestContext',
      type: 'dynamic',
      description: 'The workspace(s) and the time range asked for.',
    },
    { name: 'RequestTarget', type: 'string', lowCardinality: true },
    { name: 'ResponseCode', type: 'int', description: 'HTTP status of the answer.' },
    { name: 'ResponseDurationMs', type: 'real' },
    { name: 'ResponseRowCount', type: 'int' },
    { name: 'IsBillableQuery', type: 'bool' },
    { name: 'SourceSystem', type: 'string', constant: 'Vigil' },
  ],
};

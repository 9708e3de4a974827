import type { TableSchema } from '../schema.js';

/** Records the ingest pipeline could not store, with the reason; Vigil's own table. */
export const IngestionQuarantine: TableSchema = {
  name: 'IngestionQuarantine',
  kind: 'system',
  description:
    'Records the ingest pipeline could not store in their target table, with the reason and the raw text.',
  writtenBy: 'the ingest pipeline',
  // No record key: batch replays are de-duplicated by insert tokens.
  recordKey: [],
  columns: [
    { name: 'TimeGenerated', type: 'datetime', description: 'When the record was quarantined.' },
    {
      name: 'TargetTable',
      type: 'string',
      lowCardinality: true,
      description: 'Table the record was meant for.',
    },
    {
      name: 'Source',
      type: 'string',
      description: 'What sent the record, e.g. `file:/path/x.ndjson` or a connector id.',
    },
    {
      name: 'SourcePosition',
      type: 'string',
      description: 'Where the record was in its source, e.g. a line number.',
    },
    {
      name: 'Reason',
      type: 'string',
      lowCardinality: true,
      description: 'Stable code: `MalformedJson`, `InvalidValue`, `MissingRecordKey` ...',
    },
    {
      name: 'Details',
      type: 'string',
      description: 'Human-readable message naming the column and the expected type.',
    },
    { name: 'RawRecord', type: 'string', description: 'The record text as received.' },
    { name: 'SourceSystem', type: 'string', constant: 'Vigil' },
  ],
};

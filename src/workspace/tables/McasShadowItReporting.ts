import type { TableSchema } from '../schema.js';

/** Cloud Discovery (shadow IT) traffic aggregates; written by the Defender for Cloud Apps connector. tables.md §8. */
export const McasShadowItReporting: TableSchema = {
  name: 'McasShadowItReporting',
  kind: 'builtin',
  description: 'Defender for Cloud Apps Cloud Discovery: daily traffic per stream, app, user and device.',
  writtenBy:
    'the Microsoft Defender for Cloud Apps connector (MicrosoftCloudAppSecurity, Cloud Discovery Logs)',
  // No id column: one row per stream, day, app, user and device.
  recordKey: ['StreamName', 'Date', 'AppId', 'UserName', 'IpAddress', 'MachineName'],
  columns: [
    { name: 'TimeGenerated', type: 'datetime' },
    { name: 'Date', type: 'datetime', description: 'Day the traffic aggregate covers.' },
    { name: 'StreamName', type: 'string', description: 'Cloud Discovery continuous report (stream).' },
    { name: 'AppId', type: 'string' },
    { name: 'AppName', type: 'string' },
    { name: 'AppInstance', type: 'string' },
    { name: 'AppCategory', type: 'string', lowCardinality: true },
    { name: 'AppScore', type: 'int', description: 'Risk score of the app, 0 to 10 (low is risky).' },
    { name: 'AppTags', type: 'dynamic', description: 'Tags such as sanctioned / unsanctioned.' },
    { name: 'UserName', type: 'string' },
    { name: 'RawUserName', type: 'string', description: 'User name as logged.' },
    { name: 'EnrichedUserName', type: 'string', description: 'User name after enrichment.' },
    { name: 'RichUserName', type: 'string' },
    { name: 'IpAddress', type: 'string' },
    { name: 'MachineId', type: 'string' },
    { name: 'MachineName', type: 'string' },
    { name: 'TotalEvents', type: 'int', description: 'Number of transactions.' },
    { name: 'BlockedEvents', type: 'int', description: 'Number of blocked transactions.' },
    // Sentinel lists the three byte columns as int (32-bit); they are stored as long so that a day of traffic
    // above 2,147,483,647 bytes is kept rather than clamped or wrapped.
    {
      name: 'UploadedBytes',
      type: 'long',
      description:
        'Bytes uploaded. long, not int as Sentinel lists it: a day of traffic can exceed the int range.',
    },
    {
      name: 'DownloadedBytes',
      type: 'long',
      description:
        'Bytes downloaded. long, not int as Sentinel lists it: a day of traffic can exceed the int range.',
    },
    {
      name: 'TotalBytes',
      type: 'long',
      description:
        'Bytes in total. long, not int as Sentinel lists it: a day of traffic can exceed the int range.',
    },
    { name: 'AadTenantId', type: 'string', description: 'Entra tenant id.' },
    { name: 'SourceSystem', type: 'string', constant: 'Azure' },
  ],
};

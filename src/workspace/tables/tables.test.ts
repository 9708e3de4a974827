import { describe, expect, it } from 'vitest';
import { resolveTable } from '../catalog.js';
import { isKqlType, type KqlType, type TableSchema } from '../schema.js';
import { builtinTables } from './index.js';

function table(name: string): TableSchema {
  const found = builtinTables.find((t) => t.name === name);
  if (!found) throw new Error(`no built-in table ${name}`);
  return found;
}

function typeOf(tableName: string, column: string): KqlType | undefined {
  return table(tableName).columns.find((c) => c.name === column)?.type;
}

const STANDARD = [
  'TenantId',
  'TimeGenerated',
  'Type',
  'SourceSystem',
  '_ItemId',
  '_TimeReceived',
  '_IsBillable',
  '_BilledSize',
];

describe('built-in tables', () => {
  it('lists the eleven tables once each', () => {
    const names = builtinTables.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(
      [
        'AWSCloudTrail',
        'Dynamics365Activity',
        'IngestionQuarantine',
        'LAQueryLogs',
        'McasShadowItReporting',
        'MicrosoftPurviewInformationProtection',
        'OfficeActivity',
        'PowerBIActivity',
        'SecurityAlert',
        'SecurityIncident',
        'SentinelHealth',
      ].sort(),
    );
  });

  describe.each(builtinTables.map((t) => [t.name, t] as const))('%s', (_name, schema) => {
    it('has unique column names (also ignoring case) with valid types', () => {
      const names = schema.columns.map((c) => c.name);
      expect(new Set(names).size).toBe(names.length);
      expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
      for (const column of schema.columns) expect(isKqlType(column.type), column.name).toBe(true);
    });

    it('has record-key columns that exist', () => {
      const names = new Set(schema.columns.map((c) => c.name));
      for (const key of schema.recordKey) expect(names.has(key), key).toBe(true);
    });

    it('gives `from` as a non-empty array of non-empty paths that differ from the column name', () => {
      for (const column of schema.columns) {
        if (column.from === undefined) continue;
        expect(Array.isArray(column.from), column.name).toBe(true);
        expect(column.from.length, column.name).toBeGreaterThan(0);
        for (const path of column.from) {
          expect(typeof path === 'string' && path.length > 0, column.name).toBe(true);
          expect(path, column.name).not.toBe(column.name);
        }
      }
    });

    it('converts only into string columns', () => {
      for (const column of schema.columns.filter((c) => c.convert))
        expect(column.type, column.name).toBe('string');
    });

    it('restates TimeGenerated as datetime and SourceSystem with a constant', () => {
      expect(schema.columns.find((c) => c.name === 'TimeGenerated')?.type).toBe('datetime');
      expect(schema.columns.find((c) => c.name === 'SourceSystem')?.constant).toBeTypeOf('string');
    });

    it('resolves with the standard columns', () => {
      const resolved = resolveTable(schema);
      for (const name of STANDARD) expect(resolved.columnsByName.has(name), name).toBe(true);
      const names = resolved.columns.map((c) => c.name);
      expect(new Set(names).size).toBe(names.length);
      expect(resolved.columnsByName.get('TimeGenerated')?.type).toBe('datetime');
    });
  });

  it('OfficeActivity has its odd columns with their types', () => {
    expect(table('OfficeActivity').columns.length).toBeGreaterThanOrEqual(120);
    expect(typeOf('OfficeActivity', 'Site_')).toBe('string');
    expect(typeOf('OfficeActivity', 'InternalLogonType')).toBe('int');
    expect(typeOf('OfficeActivity', 'Members')).toBe('dynamic');
    expect(typeOf('OfficeActivity', 'IsManagedDevice')).toBe('bool');
    expect(typeOf('OfficeActivity', 'Start_Time')).toBe('datetime');
    expect(typeOf('OfficeActivity', 'SendonBehalfOfUserMailboxGuid')).toBe('string');
    expect(typeOf('OfficeActivity', 'Logon_Type')).toBe('string');
    expect(typeOf('OfficeActivity', 'Parameters')).toBe('string');
    const officeId = table('OfficeActivity').columns.find((c) => c.name === 'OfficeId');
    expect(officeId?.from).toEqual(['Id']);
    const recordType = table('OfficeActivity').columns.find((c) => c.name === 'RecordType');
    expect(recordType?.convert).toBe('o365RecordTypeName');
    const resolved = resolveTable(table('OfficeActivity'));
    expect(resolved.columnsByName.get('_ResourceId')?.hidden).toBe(true);
    expect(resolved.columnsByName.get('_SubscriptionId')?.hidden).toBe(true);
  });

  it('SecurityAlert keeps JSON columns as string', () => {
    expect(typeOf('SecurityAlert', 'Entities')).toBe('string');
    expect(typeOf('SecurityAlert', 'ExtendedProperties')).toBe('string');
    expect(typeOf('SecurityAlert', 'ConfidenceScore')).toBe('real');
    expect(typeOf('SecurityAlert', 'IsIncident')).toBe('bool');
    expect(table('SecurityAlert').recordKey).toEqual(['SystemAlertId', 'TimeGenerated']);
    expect(table('SecurityAlert').columns.find((c) => c.name === 'SourceSystem')?.constant).toBe('Detection');
  });

  it('SecurityIncident types', () => {
    expect(typeOf('SecurityIncident', 'IncidentNumber')).toBe('int');
    expect(typeOf('SecurityIncident', 'AlertIds')).toBe('dynamic');
  });

  it('AWSCloudTrail types and byte-exact names', () => {
    expect(typeOf('AWSCloudTrail', 'RequestParameters')).toBe('string');
    expect(typeOf('AWSCloudTrail', 'UserIdentityPrincipalid')).toBe('string');
    expect(typeOf('AWSCloudTrail', 'ManagementEvent')).toBe('bool');
    expect(typeOf('AWSCloudTrail', 'SessionCreationDate')).toBe('datetime');
    expect(typeOf('AWSCloudTrail', 'AwsRequestId_')).toBe('string');
    const arn = table('AWSCloudTrail').columns.find((c) => c.name === 'SessionIssuerArn');
    expect(arn?.from).toEqual(['userIdentity.sessionContext.sessionIssuer.arn']);
  });

  it('MicrosoftPurviewInformationProtection keeps RecordType as a number', () => {
    expect(typeOf('MicrosoftPurviewInformationProtection', 'RecordType')).toBe('int');
    expect(typeOf('MicrosoftPurviewInformationProtection', 'RecordTypeName')).toBe('string');
  });

  it('McasShadowItReporting stores byte counts as long', () => {
    for (const name of ['UploadedBytes', 'DownloadedBytes', 'TotalBytes']) {
      expect(typeOf('McasShadowItReporting', name)).toBe('long');
    }
  });

  it('IngestionQuarantine is a system table without a record key', () => {
    expect(table('IngestionQuarantine').kind).toBe('system');
    expect(table('IngestionQuarantine').recordKey).toEqual([]);
  });
});

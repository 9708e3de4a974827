import { describe, expect, it } from 'vitest';
import { auditRecord } from '../simulator/generators/office365-audit.js';
import { resolveTable } from '../workspace/catalog.js';
import { AWSCloudTrail } from '../workspace/tables/AWSCloudTrail.js';
import { McasShadowItReporting } from '../workspace/tables/McasShadowItReporting.js';
import { OfficeActivity } from '../workspace/tables/OfficeActivity.js';
import { type MappedRow, RecordRejection, RowMapper } from './mapping.js';

const RECEIVED = '2025-07-01 12:00:00.0000000';
const office = new RowMapper(resolveTable(OfficeActivity));

function rejection(mapper: RowMapper, record: unknown): RecordRejection {
  try {
    mapper.map(record, RECEIVED);
  } catch (err) {
    expect(err).toBeInstanceOf(RecordRejection);
    return err as RecordRejection;
  }
  throw new Error(`the record was not rejected: ${JSON.stringify(record)}`);
}

/** A SharePoint file operation as the Office 365 Management Activity API sends it. */
const managementApiRecord = {
  CreationTime: '2025-06-30T08:15:42',
  Id: '5b2b0f5e-6a3c-4b1e-9f1d-3c2e1a0b9d8f',
  Operation: 'FileAccessed',
  OrganizationId: 'aaaaaaaa-1111-2222-3333-bbbbbbbbbbbb',
  RecordType: 6,
  UserKey: 'i:0h.f|membership|1003200000000000@live.com',
  UserType: 0,
  Version: 1,
  Workload: 'SharePoint',
  ClientIP: '203.0.113.7',
  ObjectId: 'https://contoso.sharepoint.com/sites/fin/Shared Documents/q2.xlsx',
  UserId: 'alice@contoso.com',
  CorrelationId: '9d3f2e1c-0000-4000-8000-000000000001',
  EventSource: 'SharePoint',
  ItemType: 'File',
  ListId: '11111111-2222-3333-4444-555555555555',
  ListItemUniqueId: '66666666-7777-8888-9999-000000000000',
  Site: 'cccccccc-dddd-eeee-ffff-000000000000',
  UserAgent: 'Mozilla/5.0',
  WebId: 'eeeeeeee-0000-1111-2222-333333333333',
  SourceFileExtension: 'xlsx',
  SiteUrl: 'https://contoso.sharepoint.com/sites/fin/',
  SourceFileName: 'q2.xlsx',
  SourceRelativeUrl: 'Shared Documents',
  ClientIPAddress: '203.0.113.7',
  IsManagedDevice: 'False',
};

describe('RowMapper: OfficeActivity', () => {
  it('maps a Management-API-shaped record by the catalog source paths and converters', () => {
    const { row, key } = office.map(managementApiRecord, RECEIVED);
    expect(row).toEqual({
      TimeGenerated: '2025-06-30 08:15:42.0000000',
      OfficeId: '5b2b0f5e-6a3c-4b1e-9f1d-3c2e1a0b9d8f',
      SourceRecordId: '5b2b0f5e-6a3c-4b1e-9f1d-3c2e1a0b9d8f',
      RecordType: 'SharePointFileOperation',
      Operation: 'FileAccessed',
      OrganizationId: 'aaaaaaaa-1111-2222-3333-bbbbbbbbbbbb',
      OfficeTenantId: 'aaaaaaaa-1111-2222-3333-bbbbbbbbbbbb',
      UserType: 'Regular',
      UserKey: 'i:0h.f|membership|1003200000000000@live.com',
      UserId: 'alice@contoso.com',
      OfficeWorkload: 'SharePoint',
      OfficeObjectId: 'https://contoso.sharepoint.com/sites/fin/Shared Documents/q2.xlsx',
      ClientIP: '203.0.113.7',
      UserAgent: 'Mozilla/5.0',
      Site_: 'cccccccc-dddd-eeee-ffff-000000000000',
      Site_Url: 'https://contoso.sharepoint.com/sites/fin/',
      ItemType: 'File',
      EventSource: 'SharePoint',
      SourceRelativeUrl: 'Shared Documents',
      SourceFileName: 'q2.xlsx',
      SourceFileExtension: 'xlsx',
      IsManagedDevice: false,
      Client_IPAddress: '203.0.113.7',
      SourceSystem: 'Azure',
    });
    expect(key).toBe('5b2b0f5e-6a3c-4b1e-9f1d-3c2e1a0b9d8f');
  });

  it('drops fields that are not columns, and never takes system columns from the record', () => {
    const { row } = office.map(
      {
        ...managementApiRecord,
        TenantId: 'spoofed',
        Type: 'SecurityAlert',
        _ItemId: 'x',
        _TimeReceived: '2000-01-01T00:00:00Z',
        _IngestionTime: '2000-01-01T00:00:00Z',
        _IsBillable: false,
        _BilledSize: 1,
      },
      RECEIVED,
    );
    for (const dropped of [
      'Version',
      'CorrelationId',
      'ListId',
      'ListItemUniqueId',
      'WebId',
      'CreationTime',
      'Id',
      'Workload',
      'ObjectId',
      'Site',
      'SiteUrl',
      'ClientIPAddress',
      'TenantId',
      'Type',
      '_ItemId',
      '_TimeReceived',
      '_IngestionTime',
      '_IsBillable',
      '_BilledSize',
    ]) {
      expect(row, dropped).not.toHaveProperty(dropped);
    }
  });

  it('keeps an unknown RecordType number as its text, and names a numeric string', () => {
    expect(office.map({ ...managementApiRecord, RecordType: 999 }, RECEIVED).row.RecordType).toBe('999');
    expect(office.map({ ...managementApiRecord, RecordType: '25' }, RECEIVED).row.RecordType).toBe(
      'MicrosoftTeams',
    );
    expect(office.map({ ...managementApiRecord, RecordType: 'ExchangeAdmin' }, RECEIVED).row.RecordType).toBe(
      'ExchangeAdmin',
    );
    expect(office.map({ ...managementApiRecord, UserType: 2 }, RECEIVED).row.UserType).toBe('Admin');
    expect(office.map({ ...managementApiRecord, UserType: 42 }, RECEIVED).row.UserType).toBe('42');
  });

  it('maps a table-shaped record (column names) as is', () => {
    const tableShaped = {
      TimeGenerated: '2025-06-30T08:15:42.1234567Z',
      OfficeId: 'id-1',
      SourceRecordId: 'src-1',
      RecordType: 'SharePointFileOperation',
      UserType: 'Regular',
      OfficeWorkload: 'OneDrive',
      OfficeObjectId: 'obj',
      Site_: 'site-guid',
      Site_Url: 'https://x/',
      Client_IPAddress: '198.51.100.1',
      Operation: 'FileDeleted',
      SourceSystem: 'OfficeConnector',
      InternalLogonType: '0',
      OperationProperties: [{ Name: 'k', Value: 'v' }],
    };
    expect(office.map(tableShaped, RECEIVED)).toEqual<MappedRow>({
      row: {
        TimeGenerated: '2025-06-30 08:15:42.1234567',
        OfficeId: 'id-1',
        SourceRecordId: 'src-1',
        RecordType: 'SharePointFileOperation',
        UserType: 'Regular',
        OfficeWorkload: 'OneDrive',
        OfficeObjectId: 'obj',
        Site_: 'site-guid',
        Site_Url: 'https://x/',
        Client_IPAddress: '198.51.100.1',
        Operation: 'FileDeleted',
        SourceSystem: 'OfficeConnector',
        InternalLogonType: 0,
        OperationProperties: '[{"Name":"k","Value":"v"}]',
      },
      key: 'id-1',
    });
  });

  it("prefers the column's own name over its source paths", () => {
    const { row, key } = office.map(
      {
        ...managementApiRecord,
        TimeGenerated: '2025-06-30T09:00:00Z',
        OfficeId: 'own-id',
        Workload: 'SharePoint',
        OfficeWorkload: 'Exchange',
        Site: 'from-site',
        Site_: 'own-site',
      },
      RECEIVED,
    );
    expect(row.TimeGenerated).toBe('2025-06-30 09:00:00.0000000');
    expect(row.OfficeId).toBe('own-id');
    expect(row.SourceRecordId).toBe('5b2b0f5e-6a3c-4b1e-9f1d-3c2e1a0b9d8f');
    expect(row.OfficeWorkload).toBe('Exchange');
    expect(row.Site_).toBe('own-site');
    expect(key).toBe('own-id');
  });

  it('falls back to the source path when the own name holds an empty value', () => {
    const { row } = office.map({ ...managementApiRecord, OfficeId: '', Site_: null }, RECEIVED);
    expect(row.OfficeId).toBe('5b2b0f5e-6a3c-4b1e-9f1d-3c2e1a0b9d8f');
    expect(row.Site_).toBe('cccccccc-dddd-eeee-ffff-000000000000');
  });

  it('uses receivedAt when the record has no TimeGenerated (nor CreationTime)', () => {
    const { CreationTime: _omit, ...noTime } = managementApiRecord;
    expect(office.map(noTime, RECEIVED).row.TimeGenerated).toBe(RECEIVED);
    expect(office.map({ ...noTime, CreationTime: '' }, RECEIVED).row.TimeGenerated).toBe(RECEIVED);
    expect(office.map({ ...noTime, CreationTime: null }, RECEIVED).row.TimeGenerated).toBe(RECEIVED);
  });

  it('rejects a bad datetime as InvalidValue naming the column', () => {
    const r = rejection(office, { ...managementApiRecord, CreationTime: '2025-02-30T00:00:00' });
    expect(r.reason).toBe('InvalidValue');
    expect(r.message).toBe(`column 'TimeGenerated' (datetime): expected datetime, got "2025-02-30T00:00:00"`);
    const s = rejection(office, { ...managementApiRecord, StartTime: 'soon' });
    expect(s.reason).toBe('InvalidValue');
    expect(s.message).toBe(`column 'Start_Time' (datetime): expected datetime, got "soon"`);
    const i = rejection(office, { ...managementApiRecord, InternalLogonType: 'x' });
    expect(i.message).toBe(`column 'InternalLogonType' (int): expected int, got "x"`);
  });

  it('rejects a record without its key as MissingRecordKey', () => {
    const { Id: _omit, ...noId } = managementApiRecord;
    const r = rejection(office, noId);
    expect(r.reason).toBe('MissingRecordKey');
    expect(r.message).toContain('OfficeId');
    expect(rejection(office, { ...noId, Id: '' }).reason).toBe('MissingRecordKey');
    expect(rejection(office, { ...noId, Id: null }).reason).toBe('MissingRecordKey');
  });

  it('rejects what is not a JSON object as NotAnObject', () => {
    const a = rejection(office, [managementApiRecord]);
    expect(a.reason).toBe('NotAnObject');
    expect(a.message).toBe('a record must be a JSON object, got an array');
    const n = rejection(office, 42);
    expect(n.reason).toBe('NotAnObject');
    expect(n.message).toBe('a record must be a JSON object, got number');
    expect(rejection(office, 'text').reason).toBe('NotAnObject');
    expect(rejection(office, null).reason).toBe('NotAnObject');
  });
});

describe('RowMapper: AWSCloudTrail', () => {
  const aws = new RowMapper(resolveTable(AWSCloudTrail));
  const event = {
    eventVersion: '1.08',
    userIdentity: {
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLE:alice',
      arn: 'arn:aws:sts::123456789012:assumed-role/Admin/alice',
      accountId: '123456789012',
      accessKeyId: 'ASIAEXAMPLE',
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: 'AROAEXAMPLE',
          arn: 'arn:aws:iam::123456789012:role/Admin',
          accountId: '123456789012',
          userName: 'Admin',
        },
        attributes: { creationDate: '2025-06-30T07:00:00Z', mfaAuthenticated: 'true' },
      },
    },
    eventTime: '2025-06-30T08:00:01Z',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'AuthorizeSecurityGroupIngress',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '192.0.2.10',
    userAgent: 'aws-cli/2.15',
    requestParameters: { groupId: 'sg-123', ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 22 }] } },
    responseElements: null,
    requestID: 'req-1',
    eventID: 'e1f2a3b4-0000-4000-8000-00000000000a',
    readOnly: 'true',
    managementEvent: false,
    eventType: 'AwsApiCall',
    eventCategory: 'Management',
    recipientAccountId: '123456789012',
    tlsDetails: {
      tlsVersion: 'TLSv1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      clientProvidedHostHeader: 'ec2.x',
    },
  };

  it('reads nested source paths, objects as JSON text and booleans sent as text', () => {
    const { row, key } = aws.map(event, RECEIVED);
    expect(row).toEqual({
      TimeGenerated: '2025-06-30 08:00:01.0000000',
      EventVersion: '1.08',
      EventSource: 'ec2.amazonaws.com',
      EventName: 'AuthorizeSecurityGroupIngress',
      AWSRegion: 'eu-west-1',
      EventTypeName: 'AwsApiCall',
      Category: 'Management',
      SourceIpAddress: '192.0.2.10',
      UserAgent: 'aws-cli/2.15',
      RequestParameters:
        '{"groupId":"sg-123","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22}]}}',
      AwsRequestId_: 'req-1',
      AwsEventId: 'e1f2a3b4-0000-4000-8000-00000000000a',
      ManagementEvent: false,
      ReadOnly: true,
      RecipientAccountId: '123456789012',
      TlsVersion: 'TLSv1.3',
      CipherSuite: 'TLS_AES_128_GCM_SHA256',
      ClientProvidedHostHeader: 'ec2.x',
      UserIdentityType: 'AssumedRole',
      UserIdentityPrincipalid: 'AROAEXAMPLE:alice',
      UserIdentityArn: 'arn:aws:sts::123456789012:assumed-role/Admin/alice',
      UserIdentityAccountId: '123456789012',
      UserIdentityAccessKeyId: 'ASIAEXAMPLE',
      SessionCreationDate: '2025-06-30 07:00:00.0000000',
      SessionMfaAuthenticated: true,
      SessionIssuerType: 'Role',
      SessionIssuerPrincipalId: 'AROAEXAMPLE',
      SessionIssuerArn: 'arn:aws:iam::123456789012:role/Admin',
      SessionIssuerAccountId: '123456789012',
      SessionIssuerUserName: 'Admin',
      OperationName: 'CloudTrail',
      SourceSystem: 'Azure',
    });
    expect(key).toBe('e1f2a3b4-0000-4000-8000-00000000000a');
  });

  it('gives undefined for a path through a missing or scalar parent', () => {
    const { row } = aws.map({ eventID: 'e2', userIdentity: 'root', tlsDetails: null }, RECEIVED);
    expect(row).toEqual({
      TimeGenerated: RECEIVED,
      AwsEventId: 'e2',
      OperationName: 'CloudTrail',
      SourceSystem: 'Azure',
    });
  });

  it("prefers the column's own name over a nested source path, and a nested path over nothing", () => {
    const { row } = aws.map({ ...event, SessionIssuerArn: 'own-arn', AwsEventId: 'own-id' }, RECEIVED);
    expect(row.SessionIssuerArn).toBe('own-arn');
    expect(row.SessionIssuerUserName).toBe('Admin');
    expect(row.AwsEventId).toBe('own-id');
    const { row: fallback } = aws.map({ ...event, SessionIssuerArn: '' }, RECEIVED);
    expect(fallback.SessionIssuerArn).toBe('arn:aws:iam::123456789012:role/Admin');
  });

  it('rejects a readOnly that is not a boolean', () => {
    const r = rejection(aws, { ...event, readOnly: 'maybe' });
    expect(r.reason).toBe('InvalidValue');
    expect(r.message).toBe(`column 'ReadOnly' (bool): expected bool, got "maybe"`);
  });
});

describe('RowMapper: composite record key (McasShadowItReporting)', () => {
  const mcas = new RowMapper(resolveTable(McasShadowItReporting));

  it('joins the key columns, as stored, with U+001F and leaves absent parts empty', () => {
    const { row, key } = mcas.map(
      {
        StreamName: 'Proxy',
        Date: '2025-06-30',
        AppId: 11161,
        AppName: 'Dropbox',
        UserName: 'alice@contoso.com',
        IpAddress: '10.0.0.5',
        UploadedBytes: '3000000000',
        TotalEvents: '12',
      },
      RECEIVED,
    );
    expect(key).toBe(
      ['Proxy', '2025-06-30 00:00:00.0000000', '11161', 'alice@contoso.com', '10.0.0.5', ''].join('\u001f'),
    );
    expect(row.AppId).toBe('11161');
    expect(row.UploadedBytes).toBe('3000000000');
    expect(row.TotalEvents).toBe(12);
    expect(row.TimeGenerated).toBe(RECEIVED);
  });

  it('accepts a partly empty key but rejects an entirely empty one', () => {
    expect(mcas.map({ MachineName: 'pc-1' }, RECEIVED).key).toBe('\u001f\u001f\u001f\u001f\u001fpc-1');
    expect(rejection(mcas, { AppName: 'Dropbox', StreamName: '' }).reason).toBe('MissingRecordKey');
  });
});

describe('RowMapper.mapToJson', () => {
  it('writes the same row as map(), plus the tail, for source- and table-shaped records (dynamic objects and arrays as JSON values)', () => {
    const mapper = new RowMapper(resolveTable(OfficeActivity));
    const received = '2026-11-27 00:00:00.0000000';
    const options = { seed: 3, startMs: Date.parse('2026-11-26T00:00:00Z'), stepMs: 1000 };
    const records: Record<string, unknown>[] = Array.from({ length: 50 }, (_, i) => auditRecord(i, options));
    records.push({
      OfficeId: 'table-shaped',
      TimeGenerated: '2026-11-26T01:02:03Z',
      RecordType: 'ExchangeAdmin',
    });
    for (const record of records) {
      const { row, key } = mapper.map(record, received);
      const json = mapper.mapToJson(record, received, ',"_BilledSize":12');
      expect(json.key).toBe(key);
      const written = JSON.parse(json.json) as Record<string, unknown>;
      // The store reads an object or array into the String column as its text (compact, as written).
      for (const [column, value] of Object.entries(written))
        if (value !== null && typeof value === 'object') written[column] = JSON.stringify(value);
      expect(written).toEqual({ ...row, _BilledSize: 12 });
    }
  });

  it('writes a dynamic object or array as JSON, a dynamic scalar as its JSON text in a string', () => {
    const mapper = new RowMapper(resolveTable(OfficeActivity));
    const received = '2026-11-27 00:00:00.0000000';
    const json = (record: Record<string, unknown>) =>
      mapper.mapToJson(record, received, ',"_BilledSize":1').json;
    expect(json({ Id: 'a', ExtraProperties: [{ Name: 'x"y', Value: 'é' }] })).toContain(
      '"ExtraProperties":[{"Name":"x\\"y","Value":"é"}]',
    );
    expect(json({ Id: 'b', ExtraProperties: '{"A": 1}' })).toContain('"ExtraProperties":{"A":1}');
    expect(json({ Id: 'c', ExtraProperties: 'plain' })).toContain('"ExtraProperties":"\\"plain\\""');
    // A string column given an object (Parameters holds the cmdlet parameters' JSON text): written as JSON.
    expect(json({ Id: 'd', Parameters: [{ Name: 'Identity', Value: 'x' }] })).toContain(
      '"Parameters":[{"Name":"Identity","Value":"x"}]',
    );
    expect(json({ Id: 'e', Parameters: '[not json' })).toContain('"Parameters":"[not json"');
  });

  it('rejects what map() rejects', () => {
    const mapper = new RowMapper(resolveTable(OfficeActivity));
    expect(() => mapper.mapToJson({ Operation: 'x' }, '2026-11-27 00:00:00.0000000', '')).toThrow(
      RecordRejection,
    );
  });
});

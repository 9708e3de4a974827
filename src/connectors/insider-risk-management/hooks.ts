import crypto from 'node:crypto';

export const IRM_PRODUCT_NAME = 'Microsoft 365 Insider Risk Management';

/** Stable for one source alert across its versions (tables.md §4): a name-based UUID of product + alert id. */
export function systemAlertId(product: string, alertId: string): string {
  const h = crypto.createHash('sha1').update(`${product}\u001f${alertId.toLowerCase()}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const STATUS: Readonly<Record<string, string>> = {
  active: 'New',
  investigating: 'InProgress',
  resolved: 'Resolved',
  dismissed: 'Dismissed',
};

/** `Data` is JSON inside a string with short keys (source-apis.md §2.8); tolerate an object or garbage. */
function parseData(data: unknown): Record<string, unknown> {
  if (data && typeof data === 'object' && !Array.isArray(data)) return data as Record<string, unknown>;
  if (typeof data !== 'string') return {};
  try {
    const parsed = JSON.parse(data) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function text(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

function accountEntity(upn: string): Record<string, unknown> {
  const [name, suffix] = upn.split('@');
  return {
    $id: '1',
    Type: 'account',
    Name: name,
    UPNSuffix: suffix,
    ...(suffix ? {} : { DisplayName: upn }),
  };
}

/**
 * An Insider Risk Management alert record (RecordType 40, Category `InsiderRiskManagement`) as a
 * SecurityAlert row, mapped as tables.md §4 says. Each `AlertTriggered` / `AlertUpdated` record is one version
 * of the alert (same `SystemAlertId`, `TimeGenerated` = the record's time). `AlertEntityGenerated` records
 * only announce entities already in the alert's `Data`: dropped. Alerts re-labelled by a customisation carry
 * `OriginalProductName` (top level or in `Data`) and are left out, as the connector page's filter does.
 */
export function irmAlertToSecurityAlert(
  record: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const operation = text(record.Operation);
  if (operation === 'AlertEntityGenerated') return undefined;
  const data = parseData(record.Data);
  if (record.OriginalProductName !== undefined || data.OriginalProductName !== undefined) return undefined;
  const alertId = text(record.AlertId);
  if (!alertId) return record; // the mapper quarantines it: no key
  const name = text(record.Name) || text(data.an) || 'Insider risk alert';
  const severity = text(record.Severity) || text(data.sev) || 'Medium';
  const time = record.CreationTime;
  const entities: Record<string, unknown>[] = [];
  const user = text(data.eid) || text(data.upn) || text(data.f3u);
  if (user.includes('@')) entities.push(accountEntity(user));
  const links = Array.isArray(record.AlertLinks) ? (record.AlertLinks as { AlertLinkHref?: unknown }[]) : [];
  const { Data: _data, AlertLinks: _links, ...rest } = record;
  return {
    TimeGenerated: time,
    AlertName: name,
    DisplayName: name,
    AlertSeverity: severity,
    AlertType: text(record.AlertType) || 'Custom',
    Description: text(data.desc) || text(record.Comments) || name,
    ProductName: IRM_PRODUCT_NAME,
    ProviderName: 'Insider Risk Management',
    ProductComponentName: 'InsiderRiskManagement',
    VendorName: 'Microsoft',
    SystemAlertId: systemAlertId(IRM_PRODUCT_NAME, alertId),
    VendorOriginalId: alertId,
    CompromisedEntity: user,
    Entities: JSON.stringify(entities),
    ExtendedProperties: JSON.stringify({ ...rest, Data: data }),
    AlertLink: text(links[0]?.AlertLinkHref),
    StartTime: time,
    EndTime: time,
    ProcessingEndTime: time,
    Status: STATUS[text(record.Status).toLowerCase()] ?? 'New',
  };
}

import type { ValueConverter } from '../workspace/schema.js';

/**
 * Office 365 Management Activity API `RecordType` numbers and their names, as Sentinel stores them
 * (tables.md §3). The enum has ~300 values and grows: an unknown number is kept as a number.
 */
const O365_RECORD_TYPES: Readonly<Record<number, string>> = {
  1: 'ExchangeAdmin',
  2: 'ExchangeItem',
  3: 'ExchangeItemGroup',
  4: 'SharePoint',
  6: 'SharePointFileOperation',
  7: 'OneDrive',
  8: 'AzureActiveDirectory',
  9: 'AzureActiveDirectoryAccountLogon',
  14: 'SharePointSharingOperation',
  15: 'AzureActiveDirectoryStsLogon',
  20: 'PowerBIAudit',
  21: 'CRM',
  25: 'MicrosoftTeams',
  28: 'ThreatIntelligence',
  36: 'SharePointListOperation',
  40: 'SecurityComplianceAlerts',
  43: 'MIPLabel',
  50: 'ExchangeItemAggregated',
  57: 'MicrosoftTeamsAdmin',
  70: 'OfficeNative',
  71: 'MipAutoLabelSharePointItem',
  72: 'MipAutoLabelSharePointPolicyLocation',
  75: 'MipAutoLabelExchangeItem',
  78: 'WDATPAlerts',
  82: 'SensitivityLabelPolicyMatch',
  83: 'SensitivityLabelAction',
  84: 'SensitivityLabeledFileAction',
  93: 'AipDiscover',
  94: 'AipSensitivityLabelAction',
  95: 'AipProtectionAction',
  96: 'AipFileDeleted',
  97: 'AipHeartBeat',
  98: 'MCASAlerts',
};

const O365_USER_TYPES: Readonly<Record<number, string>> = {
  0: 'Regular',
  1: 'Reserved',
  2: 'Admin',
  3: 'DcAdmin',
  4: 'System',
  5: 'Application',
  6: 'ServicePrincipal',
  7: 'CustomPolicy',
  8: 'SystemPolicy',
  9: 'PartnerTechnician',
  10: 'Guest',
};

/** A number, or a string of digits, looked up in `names`; names and unknown values pass through. */
function enumName(names: Readonly<Record<number, string>>) {
  return (value: unknown): unknown => {
    const n =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^\d+$/.test(value)
          ? Number(value)
          : NaN;
    return Number.isNaN(n) ? value : (names[n] ?? value);
  };
}

export const CONVERTERS: Readonly<Record<ValueConverter, (value: unknown) => unknown>> = {
  o365RecordTypeName: enumName(O365_RECORD_TYPES),
  o365UserTypeName: enumName(O365_USER_TYPES),
};

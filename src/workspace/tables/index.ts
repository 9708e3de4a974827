import type { TableSchema } from '../schema.js';
import { AWSCloudTrail } from './AWSCloudTrail.js';
import { Dynamics365Activity } from './Dynamics365Activity.js';
import { IngestionQuarantine } from './IngestionQuarantine.js';
import { LAQueryLogs } from './LAQueryLogs.js';
import { McasShadowItReporting } from './McasShadowItReporting.js';
import { MicrosoftPurviewInformationProtection } from './MicrosoftPurviewInformationProtection.js';
import { OfficeActivity } from './OfficeActivity.js';
import { PowerBIActivity } from './PowerBIActivity.js';
import { SecurityAlert } from './SecurityAlert.js';
import { SecurityIncident } from './SecurityIncident.js';
import { SentinelHealth } from './SentinelHealth.js';

/** Every built-in table. Adding a table: one file in this folder and one line here. */
export const builtinTables: readonly TableSchema[] = [
  OfficeActivity,
  SecurityAlert,
  SecurityIncident,
  Dynamics365Activity,
  PowerBIActivity,
  McasShadowItReporting,
  MicrosoftPurviewInformationProtection,
  AWSCloudTrail,
  SentinelHealth,
  IngestionQuarantine,
  LAQueryLogs,
];

import type { RecordSelector } from '../../ingest/select.js';

/**
 * A connector is data: what the gallery and its page show (connectors.md §1), which data types it has,
 * where each data type's records come from and which table they go to. Code only where data cannot say it:
 * named `hooks` that reshape a record. Adding a connector is one folder with a `definition.ts` and one line
 * in `../registry.ts`.
 */
export interface ConnectorDefinition {
  /** Gallery id (`Office365`). */
  readonly id: string;
  /** ARM `kind` of the dataConnectors resource that connects it. */
  readonly kind: string;
  readonly title: string;
  readonly publisher: string;
  readonly descriptionMarkdown: string;
  /** File name under web/logos (or a built-in icon name). */
  readonly logo: string;
  readonly preview: boolean;
  readonly dataTypes: readonly DataTypeDefinition[];
  readonly prerequisites: readonly PrerequisiteDefinition[];
  readonly instructionSteps: readonly InstructionStep[];
  readonly sampleQueries: readonly { readonly description: string; readonly query: string }[];
  /** "Data received" chart: one series per legend over the last two weeks. */
  readonly graphQueries: readonly {
    readonly metricName: string;
    readonly legend: string;
    readonly baseQuery: string;
  }[];
  readonly connectivityCriterias: readonly {
    readonly type: 'SentinelKinds';
    readonly value: readonly string[];
  }[];
  /** Present on alert connectors: "Create incidents – recommended!". */
  readonly caseGeneration?: { readonly filterProduct: string };
  /** Named record hooks referenced by data types' sources. */
  readonly hooks?: Readonly<Record<string, RecordHook>>;
}

export interface DataTypeDefinition {
  /** Key under `properties.dataTypes` of the ARM resource (`exchange`). */
  readonly key: string;
  /** Name on the page (`OfficeActivity (Exchange)`). */
  readonly name: string;
  /** Must be present in a PUT body (ARM's required data types). */
  readonly required: boolean;
  readonly table: string;
  /** KQL filter selecting this data type's rows in `table` (empty: all rows). */
  readonly filter: string;
  readonly source: O365ManagementSource;
}

/** Records from the Office 365 Management Activity API (source-apis.md §2). */
export interface O365ManagementSource {
  readonly api: 'o365ManagementActivity';
  readonly contentType:
    | 'Audit.Exchange'
    | 'Audit.SharePoint'
    | 'Audit.General'
    | 'Audit.AzureActiveDirectory'
    | 'DLP.All';
  /** Which records of the content type belong to this data type. */
  readonly select?: RecordSelector;
  /** Name of a hook in the definition's `hooks`, applied to each selected record before mapping. */
  readonly hook?: string;
}

/** Turns a source record into the table's shape; `undefined` drops it (e.g. a re-labelled alert). */
export type RecordHook = (record: Record<string, unknown>) => Record<string, unknown> | undefined;

/** A prerequisite row on the connector page, with how Vigil checks it live (connectors.md §4). */
export type PrerequisiteDefinition =
  | {
      readonly type: 'workspace';
      readonly description: string;
      /** The workspace role the caller needs to connect. */
      readonly role: 'Contributor';
    }
  | {
      /** The app's application permissions (the token's `roles` claim) on a source API. */
      readonly type: 'appPermissions';
      readonly description: string;
      readonly api: 'o365ManagementActivity';
      readonly roles: readonly string[];
    }
  | {
      readonly type: 'license';
      readonly description: string;
      /** Any of these service plans enabled in Graph `/subscribedSkus` satisfies it. */
      readonly servicePlans: readonly string[];
    }
  | {
      /** Shown as text; known only from what polling later reveals (e.g. audit logging switched off). */
      readonly type: 'custom';
      readonly name: string;
      readonly description: string;
      readonly inferredFrom?: 'auditLogging';
    };

export interface InstructionStep {
  readonly title?: string;
  readonly description?: string;
  readonly instructions: readonly {
    readonly type: string;
    readonly parameters: Readonly<Record<string, unknown>>;
  }[];
}

/** The permission rows every Microsoft connector page shows (connectors.md §3). */
export const WORKSPACE_PREREQUISITE: PrerequisiteDefinition = {
  type: 'workspace',
  description: 'Workspace: read and write permissions (Contributor) are required to connect.',
  role: 'Contributor',
};

export const ACTIVITY_FEED_PREREQUISITE: PrerequisiteDefinition = {
  type: 'appPermissions',
  description:
    "Tenant: Global administrator or Security administrator consent — the app needs the Office 365 Management API's ActivityFeed.Read application permission.",
  api: 'o365ManagementActivity',
  roles: ['ActivityFeed.Read'],
};

export const AUDIT_LOGGING_PREREQUISITE: PrerequisiteDefinition = {
  type: 'custom',
  name: 'Unified audit logging',
  description: 'Microsoft Purview unified audit logging must be turned on, or the API returns no content.',
  inferredFrom: 'auditLogging',
};

/** The last-data-received query of a data type (connectors.md §1.3). */
export function lastDataReceivedQuery(dataType: Pick<DataTypeDefinition, 'table' | 'filter'>): string {
  const where = dataType.filter ? `\n| where ${dataType.filter}` : '';
  return `${dataType.table}${where}\n| summarize Time = max(TimeGenerated)\n| where isnotempty(Time)`;
}

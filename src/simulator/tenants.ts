/** Simulated tenants: their app registrations, licences (Graph `subscribedSkus`) and the fixed demo tenant. */

export interface SimApp {
  readonly clientId: string;
  /** The client secret VALUE (what a token request must send). */
  readonly secret?: string;
  /** A certificate (PEM) whose key signs client assertions for this app. */
  readonly certificatePem?: string;
  /** Application permissions granted with admin consent, e.g. `ActivityFeed.Read`, `Organization.Read.All`. */
  readonly roles: readonly string[];
}

export interface ServicePlan {
  readonly servicePlanId: string;
  readonly servicePlanName: string;
  readonly provisioningStatus:
    | 'Success'
    | 'Disabled'
    | 'PendingInput'
    | 'PendingActivation'
    | 'PendingProvisioning';
  readonly appliesTo: 'User' | 'Company';
}

/** Graph `subscribedSku` (v1.0). */
export interface SubscribedSku {
  readonly id?: string;
  readonly accountId?: string;
  readonly accountName?: string;
  readonly capabilityStatus: 'Enabled' | 'Warning' | 'Suspended' | 'Deleted' | 'LockedOut';
  readonly consumedUnits: number;
  readonly skuId: string;
  readonly skuPartNumber: string;
  readonly appliesTo: 'User' | 'Company';
  readonly prepaidUnits: { enabled: number; suspended: number; warning: number; lockedOut?: number };
  readonly servicePlans: readonly ServicePlan[];
}

export interface SimTenantConfig {
  readonly tenantId: string;
  /** Verified domain; token requests may name the tenant by it. Default `<first 8 of id>.onmicrosoft.com`. */
  readonly domain?: string;
  readonly apps: readonly SimApp[];
  readonly skus?: readonly SubscribedSku[];
  /** false: the Management Activity API answers as it does when unified audit logging is off. Default true. */
  readonly auditLoggingEnabled?: boolean;
}

export const DEMO_TENANT_ID = '6f1b3d2a-3c4e-4b5f-8a6d-0e1f2a3b4c5d';
export const DEMO_CLIENT_ID = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
/** Fixed so that docs and demos can show it; only ever valid against a simulator. */
export const DEMO_CLIENT_SECRET = 'sim~DemoSecret.0123456789abcdefghijklmnopqrs';

function plan(
  servicePlanId: string,
  servicePlanName: string,
  appliesTo: 'User' | 'Company' = 'User',
): ServicePlan {
  return { servicePlanId, servicePlanName, provisioningStatus: 'Success', appliesTo };
}

/** E5-like licences: every plan the connectors' prerequisite checks look for (connectors.md §4). */
export function e5Skus(): SubscribedSku[] {
  return [
    {
      capabilityStatus: 'Enabled',
      consumedUnits: 212,
      skuId: '06ebc4ee-1bb5-47dd-8120-11324bc54e06',
      skuPartNumber: 'SPE_E5',
      appliesTo: 'User',
      prepaidUnits: { enabled: 250, suspended: 0, warning: 0, lockedOut: 0 },
      servicePlans: [
        plan('efb87545-963c-4e0d-99df-69c6916d9eb0', 'EXCHANGE_S_ENTERPRISE'),
        plan('5dbe027f-2339-4123-9542-606e4d348a72', 'SHAREPOINTENTERPRISE'),
        plan('57ff2da0-773e-42df-b2af-ffb7a2317929', 'TEAMS1'),
        plan('70d33638-9c74-4d01-bfd3-562de28bd4ba', 'BI_AZURE_P2'),
        plan('d2d51368-76c9-4317-ada2-a12c004c432f', 'INSIDER_RISK'),
        plan('efb0351d-3b08-4503-993d-383af8de41e3', 'MIP_S_CLP2'),
        plan('41781fb2-bc02-4b7c-bd55-b576c07bb09d', 'AAD_PREMIUM'),
        plan('eec0eb4f-6444-4f95-aba0-50c24d67f998', 'AAD_PREMIUM_P2'),
        plan('2e2ddb96-6af9-4b1d-a3f0-d6ecfd22edb2', 'ADALLOM_S_STANDALONE'),
        plan('871d91ec-ec1a-452b-a83f-bd76c7d770ef', 'WINDEFATP'),
        plan('8e0c0a52-6a6c-4d40-8370-dd62790dcd70', 'THREAT_INTELLIGENCE'),
      ],
    },
    {
      capabilityStatus: 'Enabled',
      consumedUnits: 40,
      skuId: '1e1a282c-9c54-43a2-9310-98ef728faace',
      skuPartNumber: 'DYN365_ENTERPRISE_SALES',
      appliesTo: 'User',
      prepaidUnits: { enabled: 50, suspended: 0, warning: 0, lockedOut: 0 },
      servicePlans: [
        plan('d56f3deb-50d8-465a-bedb-f079817ccac1', 'DYN365_ENTERPRISE_PLAN1'),
        plan('2da8e897-7791-486b-b08f-cc63c8129df7', 'DYN365_ENTERPRISE_SALES'),
      ],
    },
    {
      capabilityStatus: 'Enabled',
      consumedUnits: 0,
      skuId: 'f30db892-07e9-47e9-837c-80727f46fd3d',
      skuPartNumber: 'FLOW_FREE',
      appliesTo: 'User',
      prepaidUnits: { enabled: 10000, suspended: 0, warning: 0, lockedOut: 0 },
      servicePlans: [plan('50e68c76-46c6-4674-81f9-75456511b170', 'FLOW_P2_VIRAL')],
    },
  ];
}

/** The fixed demo tenant: `contoso.onmicrosoft.com`, one app with a secret and the roles the connectors need. */
export function demoTenant(): SimTenantConfig {
  return {
    tenantId: DEMO_TENANT_ID,
    domain: 'contoso.onmicrosoft.com',
    apps: [
      {
        clientId: DEMO_CLIENT_ID,
        secret: DEMO_CLIENT_SECRET,
        roles: ['ActivityFeed.Read', 'ActivityFeed.ReadDlp', 'Organization.Read.All'],
      },
    ],
    skus: e5Skus(),
    auditLoggingEnabled: true,
  };
}

export function tenantDomain(t: SimTenantConfig): string {
  return (t.domain ?? `${t.tenantId.slice(0, 8)}.onmicrosoft.com`).toLowerCase();
}

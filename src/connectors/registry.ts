import { dynamics365 } from './dynamics365/definition.js';
import { insiderRiskManagement } from './insider-risk-management/definition.js';
import { office365 } from './office365/definition.js';
import { powerBi } from './power-bi/definition.js';
import { purviewInformationProtection } from './purview-information-protection/definition.js';
import type { ConnectorDefinition } from './runtime/definition.js';

/** Every connector Vigil ships, one line each, keyed by ARM kind. */
export const CONNECTORS: ReadonlyMap<string, ConnectorDefinition> = new Map(
  [office365, dynamics365, powerBi, purviewInformationProtection, insiderRiskManagement].map((d) => [
    d.kind,
    d,
  ]),
);

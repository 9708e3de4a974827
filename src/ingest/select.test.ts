import { describe, expect, it } from 'vitest';
import { compileSelector } from './select.js';

describe('compileSelector', () => {
  const teams = compileSelector({
    any: [
      { field: 'RecordType', in: [25] },
      { field: 'Workload', in: ['MicrosoftTeams'] },
    ],
  });

  it('compares values as text, so numbers sent as strings still match', () => {
    expect(teams({ RecordType: 25 })).toBe(true);
    expect(teams({ RecordType: '25' })).toBe(true);
    expect(teams({ RecordType: 6, Workload: 'SharePoint' })).toBe(false);
    expect(teams({ Workload: 'MicrosoftTeams' })).toBe(true);
  });

  it('reads dotted paths and combines all/not/empty', () => {
    const irm = compileSelector({
      all: [
        { field: 'RecordType', in: [40] },
        { field: 'Category', in: ['InsiderRiskManagement'] },
        { not: { field: 'Extra.OriginalProductName', empty: true } },
      ],
    });
    expect(
      irm({ RecordType: '40', Category: 'InsiderRiskManagement', Extra: { OriginalProductName: 'x' } }),
    ).toBe(true);
    expect(irm({ RecordType: 40, Category: 'InsiderRiskManagement', Extra: {} })).toBe(false);
    expect(irm({ RecordType: 40, Category: 'ThreatManagement', Extra: { OriginalProductName: 'x' } })).toBe(
      false,
    );
    expect(irm(null)).toBe(false);
  });
});

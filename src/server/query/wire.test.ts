import { describe, expect, it } from 'vitest';
import { encodeCell, parseDurationMs, parsePrefer, parseTimespan, TimespanError } from './wire.js';

describe('parseTimespan', () => {
  const now = new Date('2026-11-27T12:00:00.000Z');

  it('reads a duration as ending now', () => {
    expect(parseTimespan('PT1H', now)).toEqual({ start: new Date('2026-11-27T11:00:00.000Z'), end: now });
    expect(parseTimespan('P1DT2H30M', now)?.start.toISOString()).toBe('2026-11-26T09:30:00.000Z');
  });

  it('reads start/end, start/duration and duration/end as the SDKs send them', () => {
    expect(parseTimespan('2024-05-01T00:00:00.000Z/2024-05-02T00:00:00.000Z')).toEqual({
      start: new Date('2024-05-01T00:00:00.000Z'),
      end: new Date('2024-05-02T00:00:00.000Z'),
    });
    expect(parseTimespan('2024-05-01T00:00:00.000Z/PT1H')?.end.toISOString()).toBe(
      '2024-05-01T01:00:00.000Z',
    );
    expect(parseTimespan('PT30M/2024-05-01T00:00:00Z')?.start.toISOString()).toBe('2024-04-30T23:30:00.000Z');
  });

  it('reads date-only pairs and zoneless times as UTC', () => {
    expect(parseTimespan('2024-01-01/2024-01-02')?.start.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(parseTimespan('2024-01-01T10:00:00/2024-01-02')?.start.toISOString()).toBe(
      '2024-01-01T10:00:00.000Z',
    );
  });

  it('treats an empty timespan as none (the old SDK sends "")', () => {
    expect(parseTimespan('')).toBeUndefined();
    expect(parseTimespan(undefined)).toBeUndefined();
  });

  it('refuses what is not a timespan, and an end before the start', () => {
    for (const bad of ['1h', 'P', 'yesterday', 'a/b/c', '2024-05-02/2024-05-01']) {
      expect(() => parseTimespan(bad), bad).toThrow(TimespanError);
    }
  });

  it('converts durations', () => {
    expect(parseDurationMs('PT1.5S')).toBe(1500);
    expect(parseDurationMs('P1W')).toBe(7 * 86_400_000);
    expect(parseDurationMs('PT')).toBeUndefined();
  });
});

describe('parsePrefer', () => {
  it('reads the SDK header and lenient variants', () => {
    expect(parsePrefer('wait=60,include-statistics=true,include-render=true')).toEqual({
      waitSeconds: 60,
      includeStatistics: true,
      includeRender: true,
    });
    expect(parsePrefer('Include-Statistics=true; wait=9000')).toEqual({
      waitSeconds: 600,
      includeStatistics: true,
      includeRender: false,
    });
    expect(parsePrefer(undefined)).toEqual({
      waitSeconds: 180,
      includeStatistics: false,
      includeRender: false,
    });
  });
});

describe('encodeCell', () => {
  it('encodes dynamic values as JSON text and decimals as strings', () => {
    expect(encodeCell({ a: 1 }, 'dynamic')).toBe('{"a":1}');
    expect(encodeCell([1, 'x'], 'dynamic')).toBe('[1,"x"]');
    expect(encodeCell('text', 'dynamic')).toBe('"text"');
    expect(encodeCell('12.50', 'decimal')).toBe('12.50');
    expect(encodeCell(null, 'datetime')).toBeNull();
    expect(encodeCell(42, 'long')).toBe(42);
    expect(encodeCell(Number.NaN, 'real')).toBe('NaN');
  });
});

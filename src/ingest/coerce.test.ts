import { describe, expect, it } from 'vitest';
import { KQL_TYPES } from '../workspace/schema.js';
import {
  CoercionError,
  coerce,
  datetimeFromMillis,
  dynamicText,
  normalizeDatetime,
  parseTimespanTicks,
} from './coerce.js';

function rejects(type: Parameters<typeof coerce>[0], value: unknown): CoercionError {
  try {
    coerce(type, value);
  } catch (err) {
    expect(err).toBeInstanceOf(CoercionError);
    return err as CoercionError;
  }
  throw new Error(`coerce(${type}, ${JSON.stringify(value)}) did not throw`);
}

describe('coerce: absent values', () => {
  it.each(KQL_TYPES)('%s: null and undefined become undefined', (type) => {
    expect(coerce(type, null)).toBeUndefined();
    expect(coerce(type, undefined)).toBeUndefined();
  });
});

describe('coerce: int', () => {
  it('takes numbers and numbers sent as strings', () => {
    expect(coerce('int', 42)).toBe(42);
    expect(coerce('int', '42')).toBe(42);
    expect(coerce('int', ' -17 ')).toBe(-17);
    expect(coerce('int', '+5')).toBe(5);
    expect(coerce('int', 2147483647)).toBe(2147483647);
    expect(coerce('int', '-2147483648')).toBe(-2147483648);
  });

  it('rejects out-of-range, fractional and non-numeric values', () => {
    expect(rejects('int', 2147483648).message).toBe('expected int, got 2147483648');
    expect(rejects('int', '2147483648').message).toBe('expected int, got "2147483648"');
    expect(rejects('int', -2147483649).message).toBe('expected int, got -2147483649');
    rejects('int', 1.5);
    rejects('int', '1.5');
    rejects('int', '1e3');
    rejects('int', 'abc');
    rejects('int', '');
    rejects('int', true);
    rejects('int', {});
  });
});

describe('coerce: long', () => {
  it('keeps a 64-bit value sent as a string exact, as a quoted string', () => {
    expect(coerce('long', '9007199254740993')).toBe('9007199254740993');
    expect(coerce('long', '9223372036854775807')).toBe('9223372036854775807');
    expect(coerce('long', '-9223372036854775808')).toBe('-9223372036854775808');
    expect(coerce('long', ' 42 ')).toBe('42');
  });

  it('takes safe integers as numbers', () => {
    expect(coerce('long', 42)).toBe(42);
    expect(coerce('long', Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('rejects unsafe numbers, out-of-range strings and fractions', () => {
    // 2^53 + 1 has already lost its precision as a JS number: refuse rather than store a wrong value.
    rejects('long', 2 ** 53);
    rejects('long', '9223372036854775808');
    rejects('long', '-9223372036854775809');
    rejects('long', 1.5);
    rejects('long', '1.5');
    rejects('long', 'x');
    rejects('long', false);
  });
});

describe('coerce: real and decimal', () => {
  it('takes numbers and numeric strings', () => {
    expect(coerce('real', 1.25)).toBe(1.25);
    expect(coerce('real', '1.25')).toBe(1.25);
    expect(coerce('real', '-3')).toBe(-3);
    expect(coerce('real', '1e3')).toBe(1000);
    expect(coerce('real', '.5')).toBe(0.5);
    expect(coerce('real', ' 2.5E-1 ')).toBe(0.25);
  });

  it('rejects non-numeric text', () => {
    rejects('real', 'abc');
    rejects('real', 'Infinity');
    rejects('real', 'NaN');
    rejects('real', '1,5');
    rejects('real', '');
    rejects('real', true);
  });

  it('keeps a decimal as text', () => {
    expect(coerce('decimal', '12.340')).toBe('12.340');
    expect(coerce('decimal', 1.5)).toBe('1.5');
    rejects('decimal', 'twelve');
  });
});

describe('coerce: bool', () => {
  it('takes booleans, 0/1 and their text forms in any case', () => {
    expect(coerce('bool', true)).toBe(true);
    expect(coerce('bool', false)).toBe(false);
    expect(coerce('bool', 'true')).toBe(true);
    expect(coerce('bool', 'False')).toBe(false);
    expect(coerce('bool', 'TRUE')).toBe(true);
    expect(coerce('bool', '1')).toBe(true);
    expect(coerce('bool', '0')).toBe(false);
    expect(coerce('bool', 1)).toBe(true);
    expect(coerce('bool', 0)).toBe(false);
  });

  it('rejects anything else', () => {
    expect(rejects('bool', 'yes').message).toBe('expected bool, got "yes"');
    rejects('bool', 'no');
    rejects('bool', 2);
    rejects('bool', '');
    rejects('bool', {});
  });
});

describe('coerce: datetime', () => {
  it('reads a timestamp without a zone as UTC', () => {
    expect(coerce('datetime', '2015-06-29T20:03:19')).toBe('2015-06-29 20:03:19.0000000');
    expect(coerce('datetime', '2015-06-29 20:03:19')).toBe('2015-06-29 20:03:19.0000000');
    expect(coerce('datetime', '2015-06-29T20:03')).toBe('2015-06-29 20:03:00.0000000');
  });

  it('keeps fractions up to 7 digits and truncates the rest', () => {
    expect(coerce('datetime', '2024-01-01T10:00:00.5Z')).toBe('2024-01-01 10:00:00.5000000');
    expect(coerce('datetime', '2024-01-01T10:00:00.1234567Z')).toBe('2024-01-01 10:00:00.1234567');
    expect(coerce('datetime', '2024-01-01T10:00:00.123456789Z')).toBe('2024-01-01 10:00:00.1234567');
    expect(coerce('datetime', '2024-01-01T10:00:00.99999999Z')).toBe('2024-01-01 10:00:00.9999999');
  });

  it('converts offsets to UTC, across midnight and month and year ends', () => {
    expect(coerce('datetime', '2024-03-01T01:30:00+02:00')).toBe('2024-02-29 23:30:00.0000000');
    expect(coerce('datetime', '2024-12-31T20:00:00-0530')).toBe('2025-01-01 01:30:00.0000000');
    expect(coerce('datetime', '2024-06-15T12:00:00.25+0100')).toBe('2024-06-15 11:00:00.2500000');
    expect(coerce('datetime', '2024-06-15T12:00:00+02')).toBe('2024-06-15 10:00:00.0000000');
  });

  it('takes Z, z and UTC', () => {
    expect(coerce('datetime', '2024-06-15T12:00:00Z')).toBe('2024-06-15 12:00:00.0000000');
    expect(coerce('datetime', '2024-06-15t12:00:00z')).toBe('2024-06-15 12:00:00.0000000');
    expect(coerce('datetime', '2024-06-15 12:00:00 UTC')).toBe('2024-06-15 12:00:00.0000000');
  });

  it('takes a date alone as its midnight UTC', () => {
    expect(coerce('datetime', '2024-02-29')).toBe('2024-02-29 00:00:00.0000000');
    expect(coerce('datetime', ' 2024-2-3 ')).toBe('2024-02-03 00:00:00.0000000');
  });

  it('takes the RFC 1123 form', () => {
    expect(coerce('datetime', 'Tue, 01 Jul 2025 10:00:00 GMT')).toBe('2025-07-01 10:00:00.0000000');
    expect(coerce('datetime', 'Tue, 01 Jul 2025 10:00:00 UTC')).toBe('2025-07-01 10:00:00.0000000');
    expect(coerce('datetime', 'Tue, 01 Jul 2025 10:00:00 +0200')).toBe('2025-07-01 08:00:00.0000000');
    expect(coerce('datetime', 'Mon, 31 Dec 2029 23:30:00 -0100')).toBe('2030-01-01 00:30:00.0000000');
    expect(coerce('datetime', '01 Jul 2025 10:00:00 GMT')).toBe('2025-07-01 10:00:00.0000000');
    expect(coerce('datetime', 'Tue, 01 Jul 2025 10:00:00.25 GMT')).toBe('2025-07-01 10:00:00.2500000');
    expect(coerce('datetime', 'Thu, 29 Feb 2024 23:59:59 GMT')).toBe('2024-02-29 23:59:59.0000000');
  });

  it('rejects invalid dates, words and numbers with CoercionError', () => {
    for (const bad of [
      '2024-02-30',
      '2023-02-29',
      '2024-13-01',
      '2024-00-10',
      '2024-04-31T00:00:00Z',
      '2024-01-01T24:00:00',
      '2024-01-01T10:60:00',
      '2024-01-01T10:00:61',
      'yesterday',
      'now',
      '',
      '1719830400',
      '2024/01/01',
    ]) {
      expect(rejects('datetime', bad).message, bad).toBe(`expected datetime, got ${JSON.stringify(bad)}`);
    }
    expect(rejects('datetime', 1719830400000).message).toBe('expected datetime, got 1719830400000');
    rejects('datetime', true);
    rejects('datetime', {});
  });

  it('rejects an RFC 1123 timestamp naming a day the month does not have', () => {
    // Date.parse rolls these over into March instead of refusing them.
    rejects('datetime', 'Tue, 31 Feb 2025 10:00:00 GMT');
    rejects('datetime', 'Sun, 30 Feb 2025 10:00:00 GMT');
    rejects('datetime', 'Mon, 32 Dec 2025 10:00:00 GMT');
  });

  it('rejects text that merely ends with a zone', () => {
    rejects('datetime', 'yesterday, 5 GMT');
    rejects('datetime', 'abc 2024 UTC');
    rejects('datetime', 'Mon, 2024 UTC');
  });

  it('rejects impossible zone offsets', () => {
    rejects('datetime', '2024-01-01T10:00:00+25:00');
    rejects('datetime', '2024-01-01T10:00:00+0199');
  });

  it('rejects years outside 1900-2299', () => {
    rejects('datetime', '1899-12-31T00:00:00Z');
    rejects('datetime', '2300-01-01');
    rejects('datetime', '2299-12-31T23:30:00-01:00');
    rejects('datetime', '1900-01-01T00:30:00+01:00');
    expect(coerce('datetime', '1900-01-01')).toBe('1900-01-01 00:00:00.0000000');
    expect(coerce('datetime', '2299-12-31T23:59:59.9999999Z')).toBe('2299-12-31 23:59:59.9999999');
  });

  it('rejects years 0000-0099 instead of reading them as 1900-1999', () => {
    // Date.UTC maps years 0-99 to 1900-1999.
    rejects('datetime', '0099-01-01');
    rejects('datetime', '0024-06-01T00:00:00Z');
    rejects('datetime', '0000-01-01T00:00:00Z');
    expect(normalizeDatetime('0099-01-01')).toBeUndefined();
  });

  it('formats epoch milliseconds with the store text', () => {
    expect(datetimeFromMillis(Date.UTC(2025, 6, 1, 10, 0, 0, 123))).toBe('2025-07-01 10:00:00.1230000');
    expect(datetimeFromMillis(0 + Date.UTC(2000, 0, 1))).toBe('2000-01-01 00:00:00.0000000');
  });
});

describe('coerce: timespan', () => {
  it('turns Kusto timespan text into 100-ns ticks, as a string', () => {
    // 1 day 2 h 3 min 4.5 s = 93,784.5 s.
    expect(coerce('timespan', '1.02:03:04.5')).toBe('937845000000');
    expect(coerce('timespan', '00:00:01')).toBe('10000000');
    expect(coerce('timespan', '00:00:00.0000001')).toBe('1');
    expect(coerce('timespan', '-01:00:00')).toBe('-36000000000');
    expect(coerce('timespan', '10000.00:00:00')).toBe('8640000000000000');
    expect(parseTimespanTicks('23:59:59.9999999')).toBe('863999999999');
  });

  it('rejects other text and numbers', () => {
    rejects('timespan', '1h');
    rejects('timespan', '00:60:00');
    rejects('timespan', '00:00:60');
    rejects('timespan', '00:00:00.12345678');
    rejects('timespan', 3600);
    rejects('timespan', '');
  });

  it('rejects an hours field above 23', () => {
    rejects('timespan', '1.25:00:00');
    rejects('timespan', '24:00:00');
  });
});

describe('coerce: guid', () => {
  it('returns the lower-case canonical form without braces', () => {
    expect(coerce('guid', '0F8FAD5B-D9CB-469F-A165-70867728950E')).toBe(
      '0f8fad5b-d9cb-469f-a165-70867728950e',
    );
    expect(coerce('guid', '{0F8FAD5B-D9CB-469F-A165-70867728950E}')).toBe(
      '0f8fad5b-d9cb-469f-a165-70867728950e',
    );
    expect(coerce('guid', ' 0f8fad5b-d9cb-469f-a165-70867728950e ')).toBe(
      '0f8fad5b-d9cb-469f-a165-70867728950e',
    );
  });

  it('rejects what is not a guid', () => {
    expect(rejects('guid', 'not-a-guid').message).toBe('expected guid, got "not-a-guid"');
    rejects('guid', '0f8fad5bd9cb469fa16570867728950e0');
    rejects('guid', '0f8fad5b-d9cb-469f-a165-70867728950');
    rejects('guid', 'gf8fad5b-d9cb-469f-a165-70867728950e');
    rejects('guid', 42);
  });

  it('rejects unbalanced braces', () => {
    rejects('guid', '{0f8fad5b-d9cb-469f-a165-70867728950e');
    rejects('guid', '0f8fad5b-d9cb-469f-a165-70867728950e}');
  });
});

describe('coerce: dynamic', () => {
  it('stores objects, arrays and scalars as their JSON text', () => {
    expect(coerce('dynamic', { a: 1, b: [true, null, 'x'] })).toBe('{"a":1,"b":[true,null,"x"]}');
    expect(coerce('dynamic', [1, { k: 'v' }])).toBe('[1,{"k":"v"}]');
    expect(coerce('dynamic', 42)).toBe('42');
    expect(coerce('dynamic', false)).toBe('false');
  });

  it('stores a string holding a JSON object or array as that value (compact)', () => {
    expect(coerce('dynamic', '{ "a" : 1, "b" : [ 2 ] }')).toBe('{"a":1,"b":[2]}');
    expect(coerce('dynamic', '  [1, 2]')).toBe('[1,2]');
  });

  it('stores any other string as a JSON string literal', () => {
    expect(coerce('dynamic', 'hello')).toBe('"hello"');
    expect(coerce('dynamic', '42')).toBe('"42"');
    expect(coerce('dynamic', '{not json')).toBe('"{not json"');
    expect(dynamicText('say "hi"')).toBe('"say \\"hi\\""');
  });
});

describe('coerce: string', () => {
  it('keeps strings and turns numbers, booleans and objects into text', () => {
    expect(coerce('string', 'abc')).toBe('abc');
    expect(coerce('string', '')).toBe('');
    expect(coerce('string', 42)).toBe('42');
    expect(coerce('string', 1.5)).toBe('1.5');
    expect(coerce('string', true)).toBe('true');
    expect(coerce('string', { Name: 'Identity', Value: 'x' })).toBe('{"Name":"Identity","Value":"x"}');
    expect(coerce('string', [{ a: 1 }])).toBe('[{"a":1}]');
  });
});

describe('normalizeDatetime: the fast path for YYYY-MM-DDTHH:MM:SS[.f][Z]', () => {
  it('agrees with the calendar and the general parser', () => {
    expect(normalizeDatetime('2024-02-29T23:59:59')).toBe('2024-02-29 23:59:59.0000000');
    expect(normalizeDatetime('2023-02-29T00:00:00')).toBeUndefined();
    expect(normalizeDatetime('1900-02-29T00:00:00')).toBeUndefined();
    expect(normalizeDatetime('2000-02-29T00:00:00Z')).toBe('2000-02-29 00:00:00.0000000');
    expect(normalizeDatetime('2024-04-31T00:00:00')).toBeUndefined();
    expect(normalizeDatetime('2024-05-01T10:00:00.123456789Z')).toBe('2024-05-01 10:00:00.1234567');
    expect(normalizeDatetime('2024-05-01T10:00:00.5')).toBe('2024-05-01 10:00:00.5000000');
    expect(normalizeDatetime('2024-05-01T10:00:00.Z')).toBeUndefined();
    expect(normalizeDatetime('2024-05-01T24:00:00')).toBeUndefined();
    expect(normalizeDatetime('2024-05-01T10:00:00ZZ')).toBeUndefined();
    // Not the fast shape: the general parser still converts offsets.
    expect(normalizeDatetime('2024-05-01T10:00:00+02:00')).toBe('2024-05-01 08:00:00.0000000');
    expect(normalizeDatetime('1899-12-31T23:59:59Z')).toBeUndefined();
  });
});

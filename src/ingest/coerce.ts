import type { KqlType } from '../workspace/schema.js';

/**
 * Coercion of a record's values to a column's KQL type, as documented in src/ingest/README.md:
 * numbers sent as strings become numbers, `"true"`/`"false"` become booleans, timestamps without a zone are
 * UTC, objects sent to a `string` column are stored as their JSON text. A value that cannot be made to fit
 * throws `CoercionError` and the whole record is quarantined: never silently nulled.
 *
 * The results are the JSON values the store's JSONEachRow reader takes for each storage type.
 */
export class CoercionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CoercionError';
  }
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const GUID_TEXT = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/** Bare or in a matching pair of braces (an unbalanced brace is refused, as .NET's Guid.Parse does). */
const GUID = new RegExp(`^(?:\\{(${GUID_TEXT})\\}|(${GUID_TEXT}))$`);
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function fail(type: KqlType, value: unknown): never {
  throw new CoercionError(`expected ${type}, got ${describe(value)}`);
}

/** Returns the stored form of `value` for a column of `type`; `undefined` means "no value" (the column default). */
export function coerce(type: KqlType, value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  switch (type) {
    case 'string':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return JSON.stringify(value);
    case 'int': {
      const n = typeof value === 'string' && INTEGER.test(value.trim()) ? Number(value.trim()) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < INT32_MIN || n > INT32_MAX) fail(type, value);
      return n;
    }
    case 'long': {
      if (typeof value === 'number') {
        if (!Number.isSafeInteger(value)) fail(type, value);
        return value;
      }
      if (typeof value === 'string' && INTEGER.test(value.trim())) {
        const big = BigInt(value.trim());
        if (big < INT64_MIN || big > INT64_MAX) fail(type, value);
        // Quoted, so 64-bit values keep their precision on the way to the store.
        return big.toString();
      }
      return fail(type, value);
    }
    case 'real':
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && NUMBER.test(value.trim())) return Number(value.trim());
      return fail(type, value);
    case 'decimal':
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      if (typeof value === 'string' && NUMBER.test(value.trim())) return value.trim();
      return fail(type, value);
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 1 || value === 0) return value === 1;
      if (typeof value === 'string') {
        const v = value.trim().toLowerCase();
        if (v === 'true' || v === '1') return true;
        if (v === 'false' || v === '0') return false;
      }
      return fail(type, value);
    case 'datetime':
      if (typeof value === 'string') {
        const text = normalizeDatetime(value);
        if (text !== undefined) return text;
      }
      return fail(type, value);
    case 'timespan':
      if (typeof value === 'string') {
        const ticks = parseTimespanTicks(value);
        if (ticks !== undefined) return ticks;
      }
      return fail(type, value);
    case 'guid':
      if (typeof value === 'string') {
        const m = GUID.exec(value.trim());
        if (m) return (m[1] ?? m[2])!.toLowerCase();
      }
      return fail(type, value);
    case 'dynamic':
      return dynamicText(value);
  }
}

/**
 * A `dynamic` value is stored as JSON text. A string that holds a JSON object or array is stored as that
 * value, as Log Analytics does for dynamic columns; any other string stays a JSON string.
 */
export function dynamicText(value: unknown): string {
  if (typeof value === 'string') {
    const t = value.trimStart();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        return JSON.stringify(JSON.parse(value));
      } catch {
        return JSON.stringify(value);
      }
    }
    return JSON.stringify(value);
  }
  return JSON.stringify(value);
}

const ISO =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;
/** DateTime64's range in ClickHouse. */
const MIN_YEAR = 1900;
const MAX_YEAR = 2299;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

const RFC1123 =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),?\s+)?(\d{1,2})\s+(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(GMT|UTC|UT|Z|[+-]\d{4})$/i;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * Parses a timestamp and returns it as `YYYY-MM-DD HH:MM:SS.fffffff` in UTC (Kusto's 100-ns precision;
 * digits beyond the 7th are truncated, as Kusto does). A timestamp without a zone is UTC. Also accepts the
 * RFC 1123 form (`Tue, 01 Jul 2025 10:00:00 GMT`; the day name is not checked against the date). Returns
 * undefined for anything else, including dates the calendar does not have (`2024-02-30`, `31 Feb`).
 */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digitsAt(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * The shapes nearly every source sends, handled without regular expressions or `Date`:
 * `YYYY-MM-DDTHH:MM:SS` (Office 365's CreationTime, no zone = UTC), optionally with `.fff…` and/or `Z`.
 * Anything else (offsets, spaces, RFC 1123, odd fractions) returns undefined and takes the general path.
 */
function fastIsoUtc(s: string): string | undefined {
  if (s.length < 19 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84)
    return undefined;
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return undefined;
  const y = digitsAt(s, 0, 4);
  const mo = digitsAt(s, 5, 2);
  const d = digitsAt(s, 8, 2);
  const h = digitsAt(s, 11, 2);
  const mi = digitsAt(s, 14, 2);
  const sec = digitsAt(s, 17, 2);
  if (y < MIN_YEAR || y > MAX_YEAR || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59) {
    return undefined;
  }
  if (sec < 0 || sec > 59) return undefined;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > (mo === 2 && leap ? 29 : DAYS_IN_MONTH[mo - 1]!)) return undefined;
  let i = 19;
  let fraction = '';
  if (i < s.length && s.charCodeAt(i) === 46) {
    let j = i + 1;
    while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    if (j === i + 1) return undefined;
    fraction = s.slice(i + 1, Math.min(j, i + 8));
    i = j;
  }
  if (i < s.length && s.charCodeAt(i) === 90 && i === s.length - 1) i++;
  if (i !== s.length) return undefined;
  return `${s.slice(0, 10)} ${s.slice(11, 19)}.${fraction.padEnd(7, '0')}`;
}

export function normalizeDatetime(text: string): string | undefined {
  const fast = fastIsoUtc(text);
  if (fast !== undefined) return fast;
  const s = text.trim();
  const iso = ISO.exec(s);
  if (iso) {
    const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone] = iso;
    return utcText(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(sec), frac, zone);
  }
  // Parsed here rather than by Date.parse, which rolls `31 Feb` over into March and reads almost any text
  // that ends with a zone (`yesterday, 5 GMT`).
  const rfc = RFC1123.exec(s);
  if (rfc) {
    const [, d, mon, y, h, mi, sec = '0', frac = '', zone] = rfc;
    const month = MONTHS.indexOf(mon!.toLowerCase()) + 1;
    return utcText(Number(y), month, Number(d), Number(h), Number(mi), Number(sec), frac, zone);
  }
  return undefined;
}

function utcText(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  frac: string,
  zone: string | undefined,
): string | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  // Not Date.UTC: it reads the years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return undefined;
  }
  const offsetMinutes = zoneOffsetMinutes(zone);
  if (offsetMinutes === undefined) return undefined;
  return formatUtc(date.getTime() - offsetMinutes * 60_000, frac.slice(0, 7).padEnd(7, '0'));
}

/** Minutes east of UTC of a zone designator (`Z`, `UTC`, `GMT`, `+02:00`, `-0530`, `+02`); undefined when impossible. */
function zoneOffsetMinutes(zone: string | undefined): number | undefined {
  if (zone === undefined || /^(?:Z|UTC|UT|GMT)$/i.test(zone)) return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4) || '0');
  if (hours > 23 || minutes > 59) return undefined;
  return sign * (hours * 60 + minutes);
}

function formatUtc(ms: number, fraction7: string): string | undefined {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (Number.isNaN(year) || year < MIN_YEAR || year > MAX_YEAR) return undefined;
  return (
    `${year}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${fraction7}`
  );
}

/** Formats epoch milliseconds as the store's datetime text. */
export function datetimeFromMillis(ms: number): string {
  return formatUtc(ms - (ms % 1000), pad(ms % 1000, 3) + '0000')!;
}

const TIMESPAN = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/;

/** Kusto's timespan text (`[-][d.]hh:mm:ss[.fffffff]`) as 100-ns ticks. */
export function parseTimespanTicks(text: string): string | undefined {
  const m = TIMESPAN.exec(text.trim());
  if (!m) return undefined;
  const [, neg, days = '0', h, mi, s, frac = ''] = m;
  // With or without days, the hours field is 0-23 (as .NET's TimeSpan.Parse requires).
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  const seconds = BigInt(days) * 86400n + BigInt(h!) * 3600n + BigInt(mi!) * 60n + BigInt(s!);
  const ticks = seconds * 10_000_000n + BigInt(frac.padEnd(7, '0'));
  return (neg ? -ticks : ticks).toString();
}

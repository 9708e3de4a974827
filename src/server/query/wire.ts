/**
 * The Log Analytics Query API's wire details (shared/reference/azure-api-compat.md §2): the `timespan`
 * parameter, the `Prefer` header, and cell encodings per column type.
 */

export interface TimeRange {
  readonly start: Date;
  readonly end: Date;
}

const DURATION =
  /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/** An ISO 8601 duration (`PT1H`, `P7D`, `P1DT2H30M`) in milliseconds; years are 365 days, months 30. */
export function parseDurationMs(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m || text.trim().toUpperCase() === 'P' || text.trim().toUpperCase() === 'PT') return undefined;
  const [, y, mo, w, d, h, mi, s] = m.map((v) => (v === undefined ? 0 : Number(v)));
  const days = (y ?? 0) * 365 + (mo ?? 0) * 30 + (w ?? 0) * 7 + (d ?? 0);
  return ((days * 24 + (h ?? 0)) * 60 + (mi ?? 0)) * 60_000 + (s ?? 0) * 1000;
}

function parseInstant(text: string): Date | undefined {
  const t = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}/.test(t)) return undefined;
  // A date or time without a zone is UTC, as everywhere in Log Analytics.
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(t) || /^\d{4}-\d{2}-\d{2}$/.test(t) ? t : `${t}Z`;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(withZone) ? `${withZone}T00:00:00Z` : withZone);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

export class TimespanError extends Error {
  constructor(value: string) {
    super(
      `The timespan '${value}' is not valid: use an ISO 8601 duration (PT1H), start/end, start/duration or duration/end.`,
    );
    this.name = 'TimespanError';
  }
}

/**
 * Parses the forms the SDKs send: `PT1H` (ending now), `start/end`, `start/PT1H`, `PT1H/end`, and date-only
 * pairs. An empty string means no time filter (the old SDK sends one).
 */
export function parseTimespan(value: string | undefined, now = new Date()): TimeRange | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const parts = value.split('/');
  if (parts.length === 1) {
    const ms = parseDurationMs(parts[0]!);
    if (ms === undefined) throw new TimespanError(value);
    return { start: new Date(now.getTime() - ms), end: now };
  }
  if (parts.length !== 2) throw new TimespanError(value);
  const [a, b] = parts as [string, string];
  const startInstant = parseInstant(a);
  const endInstant = parseInstant(b);
  let range: TimeRange | undefined;
  if (startInstant && endInstant) range = { start: startInstant, end: endInstant };
  else if (startInstant) {
    const ms = parseDurationMs(b);
    if (ms !== undefined) range = { start: startInstant, end: new Date(startInstant.getTime() + ms) };
  } else if (endInstant) {
    const ms = parseDurationMs(a);
    if (ms !== undefined) range = { start: new Date(endInstant.getTime() - ms), end: endInstant };
  }
  if (!range || range.end.getTime() < range.start.getTime()) throw new TimespanError(value);
  return range;
}

export interface Preferences {
  /** Server-side timeout in seconds (default 180, at most 600). */
  readonly waitSeconds: number;
  readonly includeStatistics: boolean;
  readonly includeRender: boolean;
}

export const DEFAULT_WAIT_SECONDS = 180;
export const MAX_WAIT_SECONDS = 600;

/** Parses `Prefer: wait=60,include-statistics=true,include-render=true` leniently (`,` `;` or spaces). */
export function parsePrefer(header: string | string[] | undefined): Preferences {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  let waitSeconds = DEFAULT_WAIT_SECONDS;
  let includeStatistics = false;
  let includeRender = false;
  for (const item of text.split(/[,;\s]+/)) {
    const [rawName, rawValue = ''] = item.split('=');
    const name = (rawName ?? '').trim().toLowerCase();
    const value = rawValue.trim().toLowerCase();
    if (name === 'wait') {
      const n = Number(value);
      if (Number.isFinite(n) && n > 0) waitSeconds = Math.min(n, MAX_WAIT_SECONDS);
    } else if (name === 'include-statistics') includeStatistics = value === 'true';
    else if (name === 'include-render') includeRender = value === 'true';
  }
  return { waitSeconds, includeStatistics, includeRender };
}

/**
 * A KQL value (as `runQuery` returns it) in the Query API's encoding: `dynamic` is a JSON-encoded string,
 * `decimal` a string, the rest as they are (datetime already ISO with `Z`, timespan `[d.]hh:mm:ss[.f]`).
 */
export function encodeCell(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'dynamic') return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value);
  if (type === 'decimal') return String(value);
  if (type === 'real' && typeof value === 'number' && !Number.isFinite(value)) {
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  }
  return value;
}

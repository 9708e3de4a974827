import type { RawLine } from './batch-encoder.js';

/** Why a body that should hold a JSON array of records does not. */
export class JsonArrayError extends Error {
  constructor(
    message: string,
    /** Byte offset where the structure broke. */
    readonly offset: number,
  ) {
    super(message);
    this.name = 'JsonArrayError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Splits the text of a JSON array (`[{...},{...}]`, as the Management Activity API serves a content blob)
 * into one slice per element, without parsing the elements: the encoder parses each one anyway, and a
 * slice is also the raw record a quarantine row keeps. Only the structure is checked (brackets, strings,
 * separators); an element's own validity is the encoder's business.
 *
 * A body cut short (a dropped connection, a truncating proxy) throws: it is a transport fault to retry, not
 * bad records to quarantine.
 */
export function splitJsonArray(body: Buffer): RawLine[] {
  const n = body.length;
  let i = 0;
  if (n >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) i = 3;
  while (i < n && isSpace(body[i]!)) i++;
  if (i >= n) throw new JsonArrayError('the body is empty; expected a JSON array', i);
  if (body[i] !== OPEN_BRACKET) throw new JsonArrayError('the body is not a JSON array', i);
  i++;
  const elements: RawLine[] = [];
  let depth = 0;
  let start = -1;
  let expectElement = true;
  /** The current element is a finished object, array or string: only a comma or `]` may follow. */
  let closed = false;
  for (; i < n; i++) {
    const b = body[i]!;
    if (b === QUOTE) {
      if (depth === 0 && closed) throw new JsonArrayError('a comma is missing between array elements', i);
      if (start < 0) start = i;
      // Skip the string with the native search (most of a record's bytes are string contents); a quote
      // preceded by an odd number of backslashes is escaped.
      let end = i;
      for (;;) {
        end = body.indexOf(QUOTE, end + 1);
        if (end < 0) throw new JsonArrayError('the body ends inside a string', n);
        let slashes = 0;
        for (let j = end - 1; body[j] === BACKSLASH; j--) slashes++;
        if (slashes % 2 === 0) break;
      }
      i = end;
      if (depth === 0) closed = true;
      continue;
    }
    if (depth === 0) {
      if (isSpace(b)) continue;
      if (b === COMMA || b === CLOSE_BRACKET) {
        if (start >= 0) {
          let end = i;
          while (end > start && isSpace(body[end - 1]!)) end--;
          const bytes = body.subarray(start, end);
          elements.push({ number: elements.length + 1, bytes, length: bytes.length });
          start = -1;
          closed = false;
          expectElement = b === COMMA;
        } else if (b === COMMA || (expectElement && elements.length > 0)) {
          throw new JsonArrayError('an array element is missing', i);
        }
        if (b === CLOSE_BRACKET) {
          for (let j = i + 1; j < n; j++) {
            if (!isSpace(body[j]!)) throw new JsonArrayError('text follows the end of the array', j);
          }
          return elements;
        }
        continue;
      }
      if (closed) throw new JsonArrayError('a comma is missing between array elements', i);
      if (start < 0) {
        if (!expectElement) throw new JsonArrayError('a comma is missing between array elements', i);
        start = i;
        expectElement = false;
      }
    }
    if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
    else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      depth--;
      if (depth < 0) throw new JsonArrayError('unbalanced brackets', i);
      if (depth === 0) closed = true;
    }
  }
  throw new JsonArrayError('the body ends before the array is closed', n);
}

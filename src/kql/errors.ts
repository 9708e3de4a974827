/**
 * Errors of the KQL engine. `code` is stable and what callers (HTTP layer, tests) branch on:
 * - Kusto's own diagnostic codes (`KS142`, ...) for parse and bind errors, with the position;
 * - `KQL_UNSUPPORTED_OPERATOR` / `KQL_UNSUPPORTED_FUNCTION` / `KQL_UNSUPPORTED` for valid KQL that
 *   Vigil's compiler does not translate yet (the message names the construct);
 * - `KQL_EXECUTION_FAILED` when the store rejected the generated SQL (the SQL is never in the message).
 */
export type KqlErrorCode =
  | `KS${string}`
  | 'KQL_UNSUPPORTED_OPERATOR'
  | 'KQL_UNSUPPORTED_FUNCTION'
  | 'KQL_UNSUPPORTED'
  | 'KQL_EXECUTION_FAILED';

export class KqlError extends Error {
  constructor(
    readonly code: KqlErrorCode,
    message: string,
    /** Offset and length in the query text, when the error points at a construct. */
    readonly start?: number,
    readonly length?: number,
  ) {
    super(message);
    this.name = 'KqlError';
  }
}

export function unsupportedOperator(name: string, start?: number, length?: number): KqlError {
  return new KqlError(
    'KQL_UNSUPPORTED_OPERATOR',
    `The operator '${name}' is not supported yet.`,
    start,
    length,
  );
}

export function unsupportedFunction(name: string, start?: number, length?: number): KqlError {
  return new KqlError(
    'KQL_UNSUPPORTED_FUNCTION',
    `The function '${name}' is not supported yet.`,
    start,
    length,
  );
}

export function unsupported(what: string, start?: number, length?: number): KqlError {
  return new KqlError('KQL_UNSUPPORTED', `${what} is not supported yet.`, start, length);
}

/** Errors of an ingest run as a whole (single bad records are quarantined, never thrown). */
export type IngestErrorCode =
  /** The caller's start offset is not where the source's checkpoint says the next byte is. */
  | 'OffsetMismatch'
  /** The input could not be read. */
  | 'InputUnreadable';

export class IngestError extends Error {
  constructor(
    readonly code: IngestErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'IngestError';
  }
}

/** What one ingest run did; printed by `vigil ingest` and returned by the ingest API. */
export interface IngestSummary {
  readonly table: string;
  readonly source: string;
  /** Rows newly stored. */
  rowsWritten: number;
  /** Records not stored because a record with the same key is already stored (or came earlier in the input). */
  duplicates: number;
  /** Records put in the IngestionQuarantine table, with the reason. */
  quarantined: number;
  /** Lines read in this run (blank lines excluded). */
  linesRead: number;
  /** Byte offset of the input where this run started (non-zero when it resumed from a checkpoint). */
  startOffset: number;
  /** Byte offset up to which the input is ingested and checkpointed. */
  endOffset: number;
  /** The first bad lines (up to `MAX_REPORTED_BAD_LINES`), each with its line number and reason. */
  badLines: BadLine[];
}

export interface BadLine {
  readonly line: number;
  readonly reason: string;
  readonly details: string;
}

export const MAX_REPORTED_BAD_LINES = 1000;

/** Where a file-like source stands: every byte before `offset` (lines before `line`) is stored. */
export interface StreamPosition {
  readonly offset: number;
  /** 1-based number of the next line to read. */
  readonly line: number;
  /** Cumulative counts over every run of this source, so a resumed run reports the whole. */
  readonly totals?: { rowsWritten: number; duplicates: number; quarantined: number };
}

export interface IngestStreamRequest {
  readonly table: string;
  /** Names the source in quarantine rows and keys its checkpoint (`file:/abs/path`). */
  readonly source: string;
  /** The bytes from `startOffset` on. */
  readonly input: AsyncIterable<Buffer | Uint8Array | string>;
  /** Where `input` starts in the whole source; must equal the stored checkpoint when one exists. */
  readonly startOffset?: number;
  /** Keep a checkpoint for this source (resumable runs). */
  readonly checkpoint?: boolean;
  /**
   * Vigil's own tables (`IngestionQuarantine`, `LAQueryLogs`) are written only by Vigil: an audit trail that
   * anyone with an ingest token could append to would prove nothing. Only Vigil's own writers set this.
   */
  readonly systemWriter?: boolean;
  readonly signal?: AbortSignal;
}

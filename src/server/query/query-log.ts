import type { FastifyBaseLogger } from 'fastify';
import { datetimeFromMillis } from '../../ingest/coerce.js';
import type { IngestService } from '../../ingest/service.js';

/** What the Query API records about one query. */
export interface QueryLogEntry {
  readonly receivedAt: number;
  readonly tokenId: string;
  readonly tokenName: string;
  readonly correlationId: string;
  readonly queryText: string;
  readonly clientApp: string;
  readonly context: Record<string, unknown>;
  readonly status: number;
  readonly durationMs: number;
  readonly rowCount: number;
}

async function* oneChunk(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

const FLUSH_MS = 1000;
const FLUSH_ROWS = 500;

/**
 * Writes `LAQueryLogs` rows through the ingest pipeline, batched: a query never waits for its audit row,
 * and a failed write is logged, never turned into a failed query.
 */
export class QueryLogWriter {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly ingest: IngestService,
    private readonly logger: FastifyBaseLogger,
  ) {}

  record(entry: QueryLogEntry): void {
    this.pending.push(
      JSON.stringify({
        TimeGenerated: datetimeFromMillis(entry.receivedAt),
        AADClientId: entry.tokenId,
        AADEmail: entry.tokenName,
        CorrelationId: entry.correlationId,
        QueryText: entry.queryText,
        RequestClientApp: entry.clientApp,
        RequestContext: entry.context,
        RequestTarget: 'workspace',
        ResponseCode: entry.status,
        ResponseDurationMs: entry.durationMs,
        ResponseRowCount: entry.rowCount,
        IsBillableQuery: false,
      }),
    );
    if (this.pending.length >= FLUSH_ROWS) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what is pending; resolves when every earlier write is done. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const lines = this.pending;
    this.pending = [];
    if (lines.length > 0) {
      this.writing = this.writing.then(() =>
        this.ingest
          .ingestStream({
            table: 'LAQueryLogs',
            source: 'query-api',
            input: oneChunk(Buffer.from(lines.join('\n') + '\n')),
            checkpoint: false,
            systemWriter: true,
          })
          .then(
            (summary) => {
              if (summary.quarantined > 0) this.logger.warn({ summary }, 'query log rows quarantined');
            },
            (err: unknown) => this.logger.error({ err }, 'writing the query log failed'),
          ),
      );
    }
    return this.writing;
  }
}

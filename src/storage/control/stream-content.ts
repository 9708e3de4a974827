import type { ControlDb } from './database.js';

/** What became of one piece of content (a blob) of a stream. */
export type ContentOutcome = 'written' | 'expired' | 'missing';

export interface ContentDone {
  readonly contentId: string;
  /** When the source made the content available (ISO); used to prune. */
  readonly contentTime: string;
  readonly outcome: ContentOutcome;
  readonly records: number;
}

/**
 * Content a stream has finished with. Saved only after the content's rows were acknowledged by the store:
 * a crash before the save makes the stream fetch it again, and the ingest pipeline's tokens and record keys
 * make that second write a no-op.
 */
export class StreamContentRepository {
  constructor(private readonly db: ControlDb) {}

  async doneIds(streamId: string, since: string): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('stream_content')
      .select('content_id')
      .where('stream_id', '=', streamId)
      .where('content_time', '>=', since)
      .execute();
    return new Set(rows.map((r) => r.content_id));
  }

  async markDone(streamId: string, done: ContentDone): Promise<void> {
    await this.db
      .insertInto('stream_content')
      .values({
        stream_id: streamId,
        content_id: done.contentId,
        content_time: done.contentTime,
        outcome: done.outcome,
        records: done.records,
        done_at: new Date().toISOString(),
      })
      .onConflict((oc) => oc.columns(['stream_id', 'content_id']).doNothing())
      .execute();
  }

  async countByOutcome(streamId: string): Promise<Record<ContentOutcome, number>> {
    const rows = await this.db
      .selectFrom('stream_content')
      .select(['outcome', (eb) => eb.fn.countAll<number>().as('n')])
      .where('stream_id', '=', streamId)
      .groupBy('outcome')
      .execute();
    const out: Record<ContentOutcome, number> = { written: 0, expired: 0, missing: 0 };
    for (const r of rows) out[r.outcome as ContentOutcome] = Number(r.n);
    return out;
  }

  /** Forgets content older than `before` (the source cannot list it any more). */
  async prune(streamId: string, before: string): Promise<void> {
    await this.db
      .deleteFrom('stream_content')
      .where('stream_id', '=', streamId)
      .where('content_time', '<', before)
      .execute();
  }

  async deleteStream(streamId: string): Promise<void> {
    await this.db.deleteFrom('stream_content').where('stream_id', '=', streamId).execute();
  }
}

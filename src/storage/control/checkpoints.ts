import type { ControlDb } from './database.js';

/**
 * One checkpoint per source (a file being ingested, later a connector's stream). The position is opaque
 * JSON owned by the source. `version` grows by one on every save: a writer that saves over a version it did
 * not read has lost a race, and is refused.
 */
export interface Checkpoint<P> {
  readonly sourceId: string;
  readonly position: P;
  readonly version: number;
  readonly updatedAt: string;
}

export class CheckpointConflictError extends Error {
  constructor(readonly sourceId: string) {
    super(`checkpoint of ${sourceId} was moved by another writer`);
    this.name = 'CheckpointConflictError';
  }
}

export class CheckpointRepository {
  constructor(private readonly db: ControlDb) {}

  async get<P>(sourceId: string): Promise<Checkpoint<P> | undefined> {
    const row = await this.db
      .selectFrom('checkpoints')
      .selectAll()
      .where('source_id', '=', sourceId)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      sourceId,
      position: JSON.parse(row.position) as P,
      version: row.version,
      updatedAt: row.updated_at,
    };
  }

  /** Saves `position` if the stored version is still `expectedVersion` (0: none stored yet). */
  async save<P>(sourceId: string, position: P, expectedVersion: number): Promise<Checkpoint<P>> {
    const updatedAt = new Date().toISOString();
    const version = expectedVersion + 1;
    const text = JSON.stringify(position);
    if (expectedVersion === 0) {
      const res = await this.db
        .insertInto('checkpoints')
        .values({ source_id: sourceId, position: text, version, updated_at: updatedAt })
        .onConflict((oc) => oc.column('source_id').doNothing())
        .executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows ?? 0n) !== 1) throw new CheckpointConflictError(sourceId);
    } else {
      const res = await this.db
        .updateTable('checkpoints')
        .set({ position: text, version, updated_at: updatedAt })
        .where('source_id', '=', sourceId)
        .where('version', '=', expectedVersion)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) throw new CheckpointConflictError(sourceId);
    }
    return { sourceId, position, version, updatedAt };
  }

  async delete(sourceId: string): Promise<void> {
    await this.db.deleteFrom('checkpoints').where('source_id', '=', sourceId).execute();
  }
}

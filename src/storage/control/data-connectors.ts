import type { Selectable } from 'kysely';
import type { ControlDb, ControlSchema } from './database.js';

export interface DataConnectorRow {
  readonly name: string;
  readonly kind: string;
  /** JSON of `properties` as the client sent them (unknown keys kept, as ARM does). */
  readonly properties: string;
  readonly etag: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

function toRow(r: Selectable<ControlSchema['data_connectors']>): DataConnectorRow {
  return {
    name: r.name,
    kind: r.kind,
    properties: r.properties,
    etag: r.etag,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export class DataConnectorRepository {
  constructor(private readonly db: ControlDb) {}

  async list(): Promise<DataConnectorRow[]> {
    return (await this.db.selectFrom('data_connectors').selectAll().orderBy('name').execute()).map(toRow);
  }

  async get(name: string): Promise<DataConnectorRow | undefined> {
    const r = await this.db
      .selectFrom('data_connectors')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return r && toRow(r);
  }

  async upsert(row: DataConnectorRow): Promise<void> {
    const values = {
      name: row.name,
      kind: row.kind,
      properties: row.properties,
      etag: row.etag,
      created_at: row.createdAt,
      updated_at: row.updatedAt,
    };
    await this.db
      .insertInto('data_connectors')
      .values(values)
      .onConflict((oc) => oc.column('name').doUpdateSet({ ...values, created_at: undefined }))
      .execute();
  }

  async delete(name: string): Promise<boolean> {
    const res = await this.db.deleteFrom('data_connectors').where('name', '=', name).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}

import type { TableSchema } from '../../workspace/schema.js';
import type { ControlDb } from './database.js';

/** Custom tables' definitions and per-table retention overrides. */
export class TableDefinitionRepository {
  constructor(private readonly db: ControlDb) {}

  async listCustom(): Promise<TableSchema[]> {
    const rows = await this.db.selectFrom('custom_tables').select('definition').orderBy('name').execute();
    return rows.map((r) => JSON.parse(r.definition) as TableSchema);
  }

  async addCustom(schema: TableSchema): Promise<void> {
    await this.db
      .insertInto('custom_tables')
      .values({ name: schema.name, definition: JSON.stringify(schema), created_at: new Date().toISOString() })
      .execute();
  }

  async retentionOverrides(): Promise<Map<string, number>> {
    const rows = await this.db.selectFrom('table_settings').selectAll().execute();
    return new Map(rows.map((r) => [r.name, r.retention_days]));
  }

  async setRetention(name: string, days: number): Promise<void> {
    await this.db
      .insertInto('table_settings')
      .values({ name, retention_days: days })
      .onConflict((oc) => oc.column('name').doUpdateSet({ retention_days: days }))
      .execute();
  }
}

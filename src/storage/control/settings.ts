import type { ControlDb } from './database.js';

/** Small workspace-wide values (the workspace id, ...). */
export class SettingsRepository {
  constructor(private readonly db: ControlDb) {}

  async get(key: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    return row?.value;
  }

  /** Returns the stored value, storing `create()`'s result first if there is none (first writer wins). */
  async getOrCreate(key: string, create: () => string): Promise<string> {
    await this.db
      .insertInto('settings')
      .values({ key, value: create() })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    return (await this.get(key))!;
  }
}

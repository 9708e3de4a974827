import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type Migration, type MigrationProvider, Migrator, SqliteDialect } from 'kysely';
import { migrations } from './migrations.js';

/** The control plane's tables, as Kysely sees them. Timestamps are ISO-8601 text (sortable, dialect-neutral). */
export interface ControlSchema {
  settings: { key: string; value: string };
  checkpoints: { source_id: string; position: string; version: number; updated_at: string };
  api_tokens: {
    id: string;
    name: string;
    role: string;
    token_hash: string;
    prefix: string;
    created_at: string;
    last_used_at: string | null;
    revoked_at: string | null;
  };
  custom_tables: { name: string; definition: string; created_at: string };
  table_settings: { name: string; retention_days: number };
  tenants: {
    name: string;
    tenant_id: string;
    cloud: string;
    endpoints: string;
    client_id: string;
    credential_kind: string;
    credential_ciphertext: string;
    etag: string;
    created_at: string;
    updated_at: string;
  };
  data_connectors: {
    name: string;
    kind: string;
    properties: string;
    etag: string;
    created_at: string;
    updated_at: string;
  };
  stream_content: {
    stream_id: string;
    content_id: string;
    content_time: string;
    outcome: string;
    records: number;
    done_at: string;
  };
}

export type ControlDb = Kysely<ControlSchema>;

class StaticMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/**
 * Opens (creating if needed) the SQLite control-plane database and brings it to the latest migration.
 * WAL lets CLI commands (tokens) work beside a running server.
 */
export async function openControlDb(file: string): Promise<ControlDb> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<ControlSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  const { error, results } = await new Migrator({ db, provider: new StaticMigrations() }).migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`control-plane migration ${failed ?? ''} failed: ${(error as Error).message}`);
  }
  return db;
}

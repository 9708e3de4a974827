import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ChdbLogStore } from '../storage/clickhouse/chdb-store.js';
import {
  addColumnsSql,
  alterRetentionSql,
  alterTableSettingsSql,
  createTableSql,
} from '../storage/clickhouse/ddl.js';
import { CheckpointRepository } from '../storage/control/checkpoints.js';
import { type ControlDb, openControlDb } from '../storage/control/database.js';
import { SettingsRepository } from '../storage/control/settings.js';
import { TableDefinitionRepository } from '../storage/control/table-definitions.js';
import { TokenRepository } from '../storage/control/tokens.js';
import type { LogStore } from '../storage/log-store.js';
import { sqlString } from '../storage/log-store.js';
import { type ResolvedTable, TableCatalog, validateCustomTable } from './catalog.js';
import { WorkspaceError } from './errors.js';

/** Where things live in a data directory. */
export function dataPaths(dataDir: string) {
  const root = path.resolve(dataDir);
  return {
    root,
    store: path.join(root, 'store'),
    controlDb: path.join(root, 'control.db'),
    tls: path.join(root, 'tls'),
    run: path.join(root, 'run'),
  };
}

export interface TableStats {
  readonly name: string;
  readonly kind: string;
  readonly rows: number;
  readonly bytesOnDisk: number;
  readonly retentionDays: number;
}

/**
 * One workspace: its id, the table catalog, the log store holding the tables and the control-plane
 * repositories. Opening it creates whatever is missing (first start).
 */
export class Workspace {
  private constructor(
    readonly id: string,
    readonly dataDir: string,
    readonly catalog: TableCatalog,
    readonly store: LogStore,
    readonly control: ControlDb,
    readonly checkpoints: CheckpointRepository,
    readonly tokens: TokenRepository,
    private readonly tableDefinitions: TableDefinitionRepository,
  ) {}

  /** Opens only the control plane: for commands that must work beside a running server (tokens). */
  static async openControl(dataDir: string): Promise<{ db: ControlDb; workspaceId: string }> {
    const paths = dataPaths(dataDir);
    try {
      fs.mkdirSync(paths.root, { recursive: true });
      fs.accessSync(paths.root, fs.constants.W_OK);
    } catch (err) {
      throw new WorkspaceError(
        'DataDirectoryUnwritable',
        `cannot write the data directory ${paths.root}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    const db = await openControlDb(paths.controlDb);
    const workspaceId = await new SettingsRepository(db).getOrCreate('workspace_id', () =>
      crypto.randomUUID(),
    );
    return { db, workspaceId };
  }

  static async open(dataDir: string): Promise<Workspace> {
    const paths = dataPaths(dataDir);
    const { db, workspaceId } = await Workspace.openControl(dataDir);
    let store: LogStore;
    try {
      store = await ChdbLogStore.open(paths.store);
    } catch (err) {
      await db.destroy();
      throw err;
    }
    const definitions = new TableDefinitionRepository(db);
    const catalog = new TableCatalog(await definitions.listCustom(), await definitions.retentionOverrides());
    const ws = new Workspace(
      workspaceId,
      paths.root,
      catalog,
      store,
      db,
      new CheckpointRepository(db),
      new TokenRepository(db),
      definitions,
    );
    await ws.ensureTables();
    return ws;
  }

  /**
   * Creates missing tables; brings existing ones up to date: columns the catalog gained and table settings
   * changed since the table was created.
   */
  private async ensureTables(): Promise<void> {
    const existing = await this.store.query<{ table: string; name: string }>(
      `SELECT table, name FROM system.columns WHERE database = ${sqlString(this.store.database)}`,
    );
    const engines = await this.store.query<{ name: string; engine_full: string }>(
      `SELECT name, engine_full FROM system.tables WHERE database = ${sqlString(this.store.database)}`,
    );
    const engineFull = new Map(engines.map((t) => [t.name, t.engine_full]));
    const columnsByTable = new Map<string, Set<string>>();
    for (const row of existing) {
      const set = columnsByTable.get(row.table) ?? new Set<string>();
      set.add(row.name);
      columnsByTable.set(row.table, set);
    }
    for (const table of this.catalog.list()) {
      const have = columnsByTable.get(table.name);
      if (!have) {
        await this.store.command(createTableSql(this.store.database, table));
      } else {
        for (const sql of addColumnsSql(this.store.database, table, have)) await this.store.command(sql);
        const settings = alterTableSettingsSql(this.store.database, table, engineFull.get(table.name) ?? '');
        if (settings) await this.store.command(settings);
      }
    }
  }

  async createCustomTable(definition: unknown): Promise<ResolvedTable> {
    const schema = validateCustomTable(definition);
    const resolved = this.catalog.add(schema, schema.retentionDays);
    await this.store.command(createTableSql(this.store.database, resolved));
    await this.tableDefinitions.addCustom(schema);
    return resolved;
  }

  async setRetention(name: string, days: number): Promise<ResolvedTable> {
    const resolved = this.catalog.setRetention(name, days);
    await this.store.command(alterRetentionSql(this.store.database, resolved));
    await this.tableDefinitions.setRetention(name, days);
    return resolved;
  }

  async tableStats(): Promise<TableStats[]> {
    const rows = await this.store.query<{ table: string; rows: string; bytes: string }>(
      `SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes FROM system.parts
       WHERE database = ${sqlString(this.store.database)} AND active GROUP BY table`,
    );
    const byName = new Map(rows.map((r) => [r.table, r]));
    return this.catalog.list().map((t) => ({
      name: t.name,
      kind: t.schema.kind,
      rows: Number(byName.get(t.name)?.rows ?? 0),
      bytesOnDisk: Number(byName.get(t.name)?.bytes ?? 0),
      retentionDays: t.retentionDays,
    }));
  }

  async close(): Promise<void> {
    await this.store.close();
    await this.control.destroy();
  }
}

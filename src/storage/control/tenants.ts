import type { Selectable } from 'kysely';
import type { ControlDb, ControlSchema } from './database.js';

/** A stored tenant connection; `credentialCiphertext` is only ever decrypted by the tenant service. */
export interface TenantRow {
  readonly name: string;
  readonly tenantId: string;
  readonly cloud: string;
  /** JSON of the resolved endpoints (authority host, API bases, trusted CA). */
  readonly endpoints: string;
  readonly clientId: string;
  readonly credentialKind: string;
  readonly credentialCiphertext: string;
  readonly etag: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

function toRow(r: Selectable<ControlSchema['tenants']>): TenantRow {
  return {
    name: r.name,
    tenantId: r.tenant_id,
    cloud: r.cloud,
    endpoints: r.endpoints,
    clientId: r.client_id,
    credentialKind: r.credential_kind,
    credentialCiphertext: r.credential_ciphertext,
    etag: r.etag,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export class TenantRepository {
  constructor(private readonly db: ControlDb) {}

  async list(): Promise<TenantRow[]> {
    return (await this.db.selectFrom('tenants').selectAll().orderBy('name').execute()).map(toRow);
  }

  async get(name: string): Promise<TenantRow | undefined> {
    const r = await this.db.selectFrom('tenants').selectAll().where('name', '=', name).executeTakeFirst();
    return r && toRow(r);
  }

  async findByTenantId(tenantId: string): Promise<TenantRow | undefined> {
    const r = await this.db
      .selectFrom('tenants')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('name')
      .executeTakeFirst();
    return r && toRow(r);
  }

  async upsert(row: TenantRow): Promise<void> {
    const values = {
      name: row.name,
      tenant_id: row.tenantId,
      cloud: row.cloud,
      endpoints: row.endpoints,
      client_id: row.clientId,
      credential_kind: row.credentialKind,
      credential_ciphertext: row.credentialCiphertext,
      etag: row.etag,
      created_at: row.createdAt,
      updated_at: row.updatedAt,
    };
    await this.db
      .insertInto('tenants')
      .values(values)
      .onConflict((oc) => oc.column('name').doUpdateSet({ ...values, created_at: undefined }))
      .execute();
  }

  async delete(name: string): Promise<boolean> {
    const res = await this.db.deleteFrom('tenants').where('name', '=', name).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}

import { Injectable } from '@nestjs/common';
import { Client } from 'pg';
import { DatabaseAdminService } from '../database/database-admin.service';
import { DatabaseConfigService } from '../database/database-config.service';
import { PostgresConnectionFactory } from '../database/postgres-connection.factory';
import { serverColumn, TenantLocation } from '../database/tenant-location';

export { serverColumn } from '../database/tenant-location';
import { UUID_PATTERN } from './societe-input';

export type SocieteRecord = TenantLocation & {
  nom: string;
  status: string;
  createdAt: string;
  /** Set only for soft-deleted sociétés, which `list` never returns. */
  deletedAt?: string;
};

export type SocieteRow = {
  id: string;
  code: string;
  nom: string;
  status: string;
  database_name: string;
  database_host: string | null;
  database_port: number | null;
  database_server: string | null;
  created_at: Date;
  deleted_at: Date | null;
};

export const SOCIETE_COLUMNS = `id, code, nom, status, database_name, database_host, database_port, ${serverColumn()}, created_at, deleted_at`;

export function toSocieteRecord(row: SocieteRow): SocieteRecord {
  return {
    societeId: row.id,
    code: row.code,
    nom: row.nom,
    status: row.status,
    database: row.database_name,
    server: row.database_server,
    host: row.database_host,
    port: row.database_port,
    createdAt: row.created_at.toISOString(),
    ...(row.deleted_at ? { deletedAt: row.deleted_at.toISOString() } : {}),
  };
}

/** `id = $n` when the reference is a UUID, a case-insensitive code match otherwise. */
export function societeReferenceCondition(reference: string, parameter: string, alias = ''): string {
  const column = (name: string) => (alias ? `${alias}.${name}` : name);
  return UUID_PATTERN.test(reference)
    ? `${column('id')} = ${parameter}::uuid`
    : `lower(${column('code')}) = lower(${parameter})`;
}

/** Reads AUTH's `societes`: which sociétés exist and where each one's database lives. */
@Injectable()
export class SocieteRegistryService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
  ) {}

  async hasSocietesTable(client: Client): Promise<boolean> {
    const present = await client.query<{ present: boolean }>(
      "SELECT to_regclass('public.societes') IS NOT NULL AS present",
    );
    return present.rows[0].present;
  }

  async listWith(client: Client): Promise<SocieteRecord[]> {
    if (!(await this.hasSocietesTable(client))) return [];
    const result = await client.query<SocieteRow>(
      `SELECT ${SOCIETE_COLUMNS} FROM societes WHERE deleted_at IS NULL ORDER BY code`,
    );
    return result.rows.map(toSocieteRecord);
  }

  /** A société by id or code (case-insensitive); soft-deleted ones only when asked. */
  async findWith(
    client: Client,
    reference: string,
    options: { includeDeleted?: boolean } = {},
  ): Promise<SocieteRecord | null> {
    const result = await client.query<SocieteRow>(
      `SELECT ${SOCIETE_COLUMNS} FROM societes WHERE ${societeReferenceCondition(reference, '$1')}
       ${options.includeDeleted ? '' : 'AND deleted_at IS NULL'}`,
      [reference],
    );
    return result.rows[0] ? toSocieteRecord(result.rows[0]) : null;
  }

  /** Every société, or none when AUTH does not exist yet. */
  async list(): Promise<SocieteRecord[]> {
    const auth = { database: this.configService.config.authDatabase };
    if (!(await this.admin.exists(auth))) return [];
    return this.connections.withClient(auth, (client) => this.listWith(client), {
      applicationName: 'topsteel-societes',
    });
  }

  /** One société by id or code, or null (also when AUTH does not exist yet). */
  async find(reference: string, options: { includeDeleted?: boolean } = {}): Promise<SocieteRecord | null> {
    const auth = { database: this.configService.config.authDatabase };
    if (!(await this.admin.exists(auth))) return null;
    return this.connections.withClient(
      auth,
      async (client) =>
        (await this.hasSocietesTable(client)) ? this.findWith(client, reference, options) : null,
      { applicationName: 'topsteel-societes' },
    );
  }
}

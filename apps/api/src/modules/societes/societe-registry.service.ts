import { Injectable } from '@nestjs/common';
import { Client } from 'pg';
import { DatabaseAdminService } from '../database/database-admin.service';
import { DatabaseConfigService } from '../database/database-config.service';
import { PostgresConnectionFactory } from '../database/postgres-connection.factory';
import { TenantLocation } from '../database/tenant-data-source.provider';

export type SocieteRecord = TenantLocation & { nom: string; status: string; createdAt: string };

/** Reads AUTH's `societes`: which sociétés exist and where each one's database lives. */
@Injectable()
export class SocieteRegistryService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
  ) {}

  async listWith(client: Client): Promise<SocieteRecord[]> {
    const present = await client.query<{ present: boolean }>(
      "SELECT to_regclass('public.societes') IS NOT NULL AS present",
    );
    if (!present.rows[0].present) return [];
    const result = await client.query<{
      id: string;
      code: string;
      nom: string;
      status: string;
      database_name: string;
      database_host: string | null;
      database_port: number | null;
      created_at: Date;
    }>(
      'SELECT id, code, nom, status, database_name, database_host, database_port, created_at FROM societes WHERE deleted_at IS NULL ORDER BY code',
    );
    return result.rows.map((row) => ({
      societeId: row.id,
      code: row.code,
      nom: row.nom,
      status: row.status,
      database: row.database_name,
      host: row.database_host,
      port: row.database_port,
      createdAt: row.created_at.toISOString(),
    }));
  }

  /** Every société, or none when AUTH does not exist yet. */
  async list(): Promise<SocieteRecord[]> {
    const auth = { database: this.configService.config.authDatabase };
    if (!(await this.admin.exists(auth))) return [];
    return this.connections.withClient(auth, (client) => this.listWith(client), {
      applicationName: 'topsteel-societes',
    });
  }
}

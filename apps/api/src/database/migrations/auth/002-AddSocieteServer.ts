import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * AUTH: `societes.database_server`, the NAME of the server (TENANT_SERVERS, `default` for
 * DB_HOST:DB_PORT) that holds the société's database. Host, port and credentials come only from
 * configuration, so a server moves by changing one variable. NULL on rows written before this
 * migration: they keep meaning `database_host`/`database_port`, or the default server.
 */
export class AddSocieteServer1751328000004 implements MigrationInterface {
  readonly name = 'AddSocieteServer1751328000004';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
ALTER TABLE societes ADD COLUMN database_server character varying(31);
ALTER TABLE societes ADD CONSTRAINT "CHK_societes_database_server"
  CHECK (database_server IS NULL OR database_server ~ '^[a-z][a-z0-9_]{0,30}$');
CREATE INDEX "IDX_societes_database_server" ON societes (database_server);
`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE societes DROP COLUMN database_server');
  }
}

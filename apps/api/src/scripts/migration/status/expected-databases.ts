import {
  MultiTenantDatabaseConfig,
  tenantDatabaseName,
} from '../../../database/config/multi-tenant-database.config';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { DEFAULT_SERVER } from '../../../database/config/tenant-servers.config';
import { JournalContents } from '../../../modules/database/journal/migration-journal.service';
import { SocieteRecord } from '../../../modules/societes/societe-registry.service';
import { RollbackState } from '../rollback/rollback-state';

/** A database status reports on, and where it lives (host null: the default server). */
export type ExpectedDatabase = {
  kind: SchemaKind;
  societe: string | null;
  /** The TENANT_SERVERS name, when the registry or the journal records one. */
  server?: string | null;
  host: string | null;
  port: number | null;
};

/** Whether a database lives on another server than DB_HOST:DB_PORT. */
export function elsewhere(where: Pick<ExpectedDatabase, 'server' | 'host'>): boolean {
  return Boolean(where.host) || (Boolean(where.server) && where.server !== DEFAULT_SERVER);
}

/**
 * Every database status should report on, by name: AUTH, SHARED, each société's (or the default
 * one before any exists), then any other the journal recorded or an interrupted rollback means to drop.
 */
export function expectedDatabases(
  config: MultiTenantDatabaseConfig,
  societes: SocieteRecord[],
  journal: JournalContents | null,
  rollback: RollbackState | null,
): Map<string, ExpectedDatabase> {
  const expected = new Map<string, ExpectedDatabase>();
  const add = (name: string, where: ExpectedDatabase) => {
    if (!expected.has(name)) expected.set(name, where);
  };
  add(config.authDatabase, { kind: 'auth', societe: null, host: null, port: null });
  add(config.sharedDatabase, { kind: 'shared', societe: null, host: null, port: null });
  if (societes.length === 0)
    add(tenantDatabaseName(config, config.defaultSocieteCode), {
      kind: 'tenant',
      societe: config.defaultSocieteCode.toUpperCase(),
      host: null,
      port: null,
    });
  // A société's own record wins over the default tenant's guess for the same name.
  for (const societe of societes)
    expected.set(societe.database, {
      kind: 'tenant',
      societe: societe.code,
      server: societe.server,
      host: societe.host,
      port: societe.port,
    });
  for (const created of journal?.databases ?? [])
    add(created.name, {
      kind: created.kind,
      societe: created.societeCode,
      server: created.server,
      host: created.host,
      port: created.port,
    });
  for (const database of rollback?.drop ?? [])
    add(database.name, {
      kind: database.kind,
      societe: null,
      server: database.server,
      host: database.host,
      port: database.port,
    });
  return expected;
}

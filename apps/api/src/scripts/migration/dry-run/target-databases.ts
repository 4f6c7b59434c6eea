import { tenantDatabaseName } from '../../../database/config/multi-tenant-database.config';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { DatabaseAdminService } from '../../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import { MigrationJournalService } from '../../../modules/database/journal/migration-journal.service';
import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { tablesWithRows } from '../catalogue/catalogue';
import { readTargetSchema, TargetSchemas } from '../plan/plan-resolver';
import { PlannedDatabase } from './dry-run-report';

export type TargetDatabases = {
  databases: PlannedDatabase[];
  targets: TargetSchemas;
  splitComplete: boolean;
};

type Services = {
  configService: DatabaseConfigService;
  connections: PostgresConnectionFactory;
  admin: DatabaseAdminService;
  journal: MigrationJournalService;
};

/** AUTH, SHARED and the default tenant: absent (create), empty (adopt), ours (resume), or refused. */
export async function targetDatabases(services: Services): Promise<TargetDatabases> {
  const config = services.configService.config;
  const journal = await services.journal.read().catch(() => null);
  const recorded = new Set(journal?.databases.map((database) => database.name) ?? []);
  const splitComplete = journal?.split?.status === 'complete';
  const splitRecorded = journal?.split !== null && journal?.split !== undefined;
  const wanted: [string, SchemaKind][] = [
    [config.authDatabase, 'auth'],
    [config.sharedDatabase, 'shared'],
    [tenantDatabaseName(config, config.defaultSocieteCode), 'tenant'],
  ];
  const databases: PlannedDatabase[] = [];
  const targets: TargetSchemas = {};
  for (const [name, kind] of wanted) {
    const planned = await plannedDatabase(services, name, kind, { recorded, splitComplete, splitRecorded });
    databases.push(planned);
    if (planned.action === 'resume' || planned.action === 'complete')
      targets[kind] = await services.connections.withClient(
        { database: name },
        (client) => readTargetSchema(client),
        {
          applicationName: 'topsteel-dry-run',
        },
      );
  }
  return { databases, targets, splitComplete };
}

async function plannedDatabase(
  services: Services,
  name: string,
  kind: SchemaKind,
  journal: { recorded: Set<string>; splitComplete: boolean; splitRecorded: boolean },
): Promise<PlannedDatabase> {
  const location = { database: name };
  if (!(await services.admin.exists(location))) return { name, kind, action: 'create' };
  const ours = journal.recorded.has(name) || (await services.admin.isOwnedByTool(location));
  if (!ours) {
    // What a crash between CREATE DATABASE and its ownership marker leaves: nothing to lose, taken over.
    const ownership = await services.admin.ownership(location);
    const empty = ownership.owner === 'unmarked' && (await services.admin.isEmpty(location));
    if (empty) return { name, kind, action: 'adopt' };
    const reason =
      ownership.owner === 'other-installation'
        ? `belongs to another installation (AUTH database "${ownership.installation}")`
        : 'exists but was not created by this tool';
    return { name, kind, action: 'refused', reason };
  }
  if (!journal.splitComplete && !(journal.splitRecorded && journal.recorded.has(name))) {
    // Marked as ours but unknown to the journal (journal lost, DB_AUTH_NAME changed): resuming
    // would truncate its tables, so only an empty schema (a crash right after creation) is resumed.
    const rows = await services.connections.withClient(location, (client) => tablesWithRows(client), {
      applicationName: 'topsteel-dry-run',
    });
    if (rows.length > 0) {
      const authDatabase = services.configService.config.authDatabase;
      return {
        name,
        kind,
        action: 'refused',
        reason:
          `holds data (${rows.slice(0, 3).join(', ')}${rows.length > 3 ? ', …' : ''}) ` +
          `but ${authDatabase} records no split in progress for it: refusing to overwrite`,
      };
    }
  }
  return { name, kind, action: journal.splitComplete ? 'complete' : 'resume' };
}

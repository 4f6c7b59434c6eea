import { SchemaKind } from '../../../database/migrations/migration-sets';
import { TableCopyState } from '../../../modules/database/journal/journal.types';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { DEFAULT_PLAN } from '../plan/default-plan';
import { CopyTask, readTargetSchema, resolvePlan, TargetSchemas } from '../plan/plan-resolver';
import { danglingAcrossDatabases } from '../verify/reference-check';
import { referenceName, taskKey } from '../verify/split-verifier';

type Locations = Record<SchemaKind, DatabaseLocation>;

export async function liveTargets(
  connections: PostgresConnectionFactory,
  locations: Locations,
): Promise<Required<TargetSchemas>> {
  const read = (location: DatabaseLocation) =>
    connections.withClient(location, (client) => readTargetSchema(client), {
      applicationName: 'topsteel-verify',
    });
  return {
    auth: await read(locations.auth),
    shared: await read(locations.shared),
    tenant: await read(locations.tenant),
  };
}

/**
 * The plan against the monolith as it is now, leaving out the tables the split left behind knowingly
 * (recorded by db:migrate). A table or column the targets cannot hold is as much a verification
 * failure as a checksum: those findings come back as blockers.
 */
export async function tasksFromMonolith(
  connections: PostgresConnectionFactory,
  monolith: DatabaseLocation,
  locations: Locations,
  excludeTables: string[],
): Promise<{ tasks: CopyTask[]; blockers: string[] }> {
  const targets = await liveTargets(connections, locations);
  return connections.withClient(
    monolith,
    async (client) => {
      const validation = await resolvePlan(client, DEFAULT_PLAN, { targets, excludeTables });
      const blockers = validation.findings.filter((finding) => finding.severity === 'blocker');
      return { tasks: validation.plan.tasks, blockers: blockers.map((finding) => finding.message) };
    },
    { readOnly: true, applicationName: 'topsteel-verify' },
  );
}

/**
 * Without the monolith, a table is checked over the columns the journal says its checksum covered
 * (columns added later by schema migrations are not part of it); older records fall back to the
 * target columns the plan did not add.
 */
export async function tasksFromTargets(
  connections: PostgresConnectionFactory,
  locations: Locations,
  recorded: TableCopyState[],
): Promise<CopyTask[]> {
  const targets = await liveTargets(connections, locations);
  return DEFAULT_PLAN.tables.flatMap((table) => {
    const columns = targets[table.database].tables.get(table.target);
    if (!columns) return [];
    const added = new Set(table.addedColumns.map((column) => column.name));
    const state = recorded.find(
      (entry) =>
        entry.targetDatabase === locations[table.database].database && entry.targetTable === table.target,
    );
    const covered = state?.checksumColumns ?? columns.map((column) => column.name);
    const legacy = covered
      .filter((name) => !added.has(name))
      .map((name) => {
        const type = columns.find((column) => column.name === name)?.type ?? 'unknown';
        return { name, sourceType: type, targetType: type };
      });
    return [
      {
        source: table.source,
        target: table.target,
        database: table.database,
        columns: legacy,
        addedColumns: table.addedColumns,
        estimatedRows: 0,
        sizeBytes: 0,
        readable: true,
      },
    ];
  });
}

/** What the journal recorded for each table, for a verification without the monolith. */
export function expectedFromJournal(
  locations: Locations,
  recorded: TableCopyState[],
): Map<string, { rows: number; checksum: string }> {
  const kindOf = (database: string): SchemaKind =>
    (Object.keys(locations) as SchemaKind[]).find((kind) => locations[kind].database === database) ??
    'tenant';
  return new Map(
    recorded
      .filter((table) => table.checksum !== null)
      .map((table) => [
        taskKey(kindOf(table.targetDatabase), table.targetTable),
        { rows: table.rows ?? 0, checksum: table.checksum ?? '' },
      ]),
  );
}

/** A société created after the split: none of its references may dangle. */
export async function tenantReferences(
  connections: PostgresConnectionFactory,
  tenant: DatabaseLocation,
  locations: Locations,
): Promise<string[]> {
  const problems: string[] = [];
  const references = DEFAULT_PLAN.cutReferences.filter(
    (candidate) => candidate.from.database === 'tenant' && candidate.to.database !== 'tenant',
  );
  for (const reference of references) {
    const referencing = await connections.connect(tenant, { applicationName: 'topsteel-verify' });
    try {
      const referenced = await connections.connect(locations[reference.to.database], {
        applicationName: 'topsteel-verify',
      });
      try {
        const count = await danglingAcrossDatabases(referencing, referenced, reference);
        if (count > 0) problems.push(`${tenant.database}: ${referenceName(reference)} ${count} dangling`);
      } finally {
        await referenced.end().catch(() => undefined);
      }
    } finally {
      await referencing.end().catch(() => undefined);
    }
  }
  return problems;
}

/** The guide's verification queries on AUTH. */
export async function authCounts(
  connections: PostgresConnectionFactory,
  auth: DatabaseLocation,
): Promise<{ users: number; societes: number; unlinked: number; orphanLinks: number }> {
  return connections.withClient(auth, async (client) => {
    const result = await client.query<{
      users: string;
      societes: string;
      unlinked: string;
      orphan_links: string;
    }>(
      `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM societes) AS societes,
              (SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM societe_users su WHERE su.user_id = u.id)) AS unlinked,
              (SELECT count(*) FROM societe_users su WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = su.user_id)) AS orphan_links`,
    );
    const row = result.rows[0];
    return {
      users: Number(row.users),
      societes: Number(row.societes),
      unlinked: Number(row.unlinked),
      orphanLinks: Number(row.orphan_links),
    };
  });
}

/** Whether PUBLIC may still connect to each of these databases (on the default server). */
export async function tenantDoors(
  connections: PostgresConnectionFactory,
  maintenance: DatabaseLocation,
  databases: string[],
): Promise<{ name: string; open: boolean }[]> {
  return connections.withClient(maintenance, async (client) => {
    const result = await client.query<{ name: string; open: boolean }>(
      "SELECT datname AS name, has_database_privilege('public', datname, 'CONNECT') AS open FROM pg_database WHERE datname = ANY($1::text[])",
      [databases],
    );
    return result.rows;
  });
}

/** Row counts the guide shows after a migration. */
export async function guideCounts(
  connections: PostgresConnectionFactory,
  locations: Locations,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [name, location] of [
    ['shared_materials', locations.shared],
    ['clients', locations.tenant],
    ['commandes', locations.tenant],
  ] as const) {
    counts[name] = await connections.withClient(location, async (client) =>
      Number(
        (await client.query<{ count: string }>(`SELECT count(*) AS count FROM public.${name}`)).rows[0].count,
      ),
    );
  }
  return counts;
}

import { Gauge, Registry } from 'prom-client';
import { StatusReport } from '../../scripts/migration/status/migration-status.service';

type Labels = Record<string, string>;

/** A gauge in `registry` set from a list of (labels, value) pairs; names match GET /metrics. */
function gauge(registry: Registry, name: string, help: string, samples: [Labels, number][]): void {
  const labelNames = samples.length > 0 ? Object.keys(samples[0][0]) : [];
  const metric = new Gauge({ name, help, labelNames, registers: [registry] });
  for (const [labels, value] of samples) metric.set(labels, value);
}

/**
 * `db:status --prometheus`: the database gauges in the Prometheus text format, for node_exporter's
 * textfile collector (cron writes it to a temporary file and renames it into the collector's folder).
 * Built with prom-client's Registry so the escaping and the format are the library's, not ours.
 */
export async function renderPrometheus(report: StatusReport): Promise<string> {
  const registry = new Registry();
  const existing = report.databases.filter((database) => database.exists);
  gauge(registry, 'topsteel_database_size_bytes', 'Size of each database of the split (pg_database_size)', [
    ...(report.monolith.exists && report.monolith.sizeBytes !== null
      ? [
          [{ database: report.monolith.database, kind: 'monolith' }, report.monolith.sizeBytes] as [
            Labels,
            number,
          ],
        ]
      : []),
    ...existing
      .filter((database) => database.sizeBytes !== null)
      .map((database): [Labels, number] => [
        { database: database.name, kind: database.kind },
        database.sizeBytes ?? 0,
      ]),
  ]);
  gauge(
    registry,
    'topsteel_database_connections',
    'Backends connected to each database (pg_stat_activity)',
    report.connections.map((connection): [Labels, number] => [
      { database: connection.database },
      connection.count,
    ]),
  );
  gauge(
    registry,
    'topsteel_database_pending_migrations',
    'Schema migrations not yet applied to each database',
    existing
      .filter((database) => database.pendingMigrations !== null)
      .map((database): [Labels, number] => [
        { database: database.name, kind: database.kind },
        database.pendingMigrations?.length ?? 0,
      ]),
  );
  gauge(registry, 'topsteel_tenant_databases', 'Tenant (société) databases that exist', [
    [{}, existing.filter((database) => database.kind === 'tenant').length],
  ]);
  gauge(registry, 'topsteel_split_status', 'The split as the journal records it: 1 for the current status', [
    [{ status: report.split.status }, 1],
  ]);
  gauge(
    registry,
    'topsteel_migration_lock_held',
    'Whether a migration command holds the lock (1) or not (0)',
    [[{}, report.lock ? 1 : 0]],
  );
  renderOnline(registry, report);
  return registry.metrics();
}

/** The online split's gauges, only when one was started (an absent series beats a fake zero). */
function renderOnline(registry: Registry, report: StatusReport): void {
  const online = report.online;
  if (!online) return;
  gauge(registry, 'topsteel_online_split_phase', 'Phase of the online split: 1 for the current phase', [
    [{ phase: online.phase }, 1],
  ]);
  const optional: [string, string, number | null][] = [
    ['topsteel_online_split_retained_wal_bytes', 'WAL the replication slot retains', online.retainedWalBytes],
    ['topsteel_online_split_lag_bytes', 'WAL not yet applied to the new databases', online.lagBytes],
    [
      'topsteel_online_split_lag_seconds',
      'Age of the last change not yet applied',
      online.lagMs === null ? null : online.lagMs / 1000,
    ],
  ];
  for (const [name, help, value] of optional) if (value !== null) gauge(registry, name, help, [[{}, value]]);
  gauge(registry, 'topsteel_online_split_changes_applied', 'Changes applied since the initial copy', [
    [{}, online.changesApplied],
  ]);
}

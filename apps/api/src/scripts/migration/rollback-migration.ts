import { Injectable } from '@nestjs/common';
import { freeBytes } from '../../common/fs/free-bytes';
import { join } from 'node:path';
import { RunContext } from '../../common/run/run-context';
import { quoteIdentifier, safeIdentifier } from '../../common/identifiers/identifier';
import { DatabaseAdminService, OWNERSHIP_MARKER } from '../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../modules/database/database-config.service';
import {
  describeHolder,
  HeldLock,
  MigrationLockService,
} from '../../modules/database/migration-lock.service';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../modules/database/postgres-connection.factory';
import { BackupException, BackupExceptionCode } from './backup/backup.exception';
import { BackupCatalogService } from './backup/backup-catalog.service';
import { BackupDatabaseEntry, BackupManifest } from './backup/backup-manifest';
import {
  BackupCurrentDatabaseService,
  compareFingerprints,
  DatabaseToBackUp,
  FingerprintDifference,
} from './backup-current-database';
import { JOURNAL_SCHEMA } from '../../modules/database/journal/journal.schema';
import { DatabaseSnapshot, SplitStatus } from '../../modules/database/journal/journal.types';
import { MigrationJournalService } from '../../modules/database/journal/migration-journal.service';
import { RollbackException, RollbackExceptionCode } from './rollback/rollback.exception';
import { dropOnlineLeftovers } from './online/online-leftovers';
import { DatabaseToDrop, RollbackState, RollbackStateFile } from './rollback/rollback-state';
import { compareSchemas, computeSchemaFingerprint, SchemaDifference } from './snapshot/schema-fingerprint';
import { computeFingerprints, fingerprintTargets } from './snapshot/table-fingerprints';
import { PgToolsService, serverMajor } from './tools/pg-tools.service';
import { Check } from '../../common/run/check';

export type PostSplitChange = {
  database: string;
  table: string;
  rowsAtSplit: number | null;
  rowsNow: number | null;
};

export type RollbackValidation = {
  ok: boolean;
  inProgress: boolean;
  nothingToDo: boolean;
  checks: Check[];
  backup: { name: string; path: string } | null;
  drop: DatabaseToDrop[];
  untouched: string[];
  restore: {
    needed: boolean;
    monolithExists: boolean;
    differences: FingerprintDifference[];
    /** Structural differences (constraints, indexes, defaults, sequences gone back…), by object. */
    schemaDifferences: SchemaDifference[];
    /** False when the backup's manifest predates schema fingerprints: then only rows decide. */
    schemaCompared: boolean;
  };
  postSplitData: PostSplitChange[];
  /** The split's status in the journal (or the in-progress record); 'none' when no split is recorded. */
  splitStatus: SplitStatus | 'none';
};

export type RollbackOptions = { acceptDataLoss?: boolean; backupName?: string };

export type RollbackReport = {
  nothingToDo: boolean;
  dropped: string[];
  preDropBackup: string | null;
  restored: boolean;
  replacedMonolith: string | null;
  backup: string | null;
  nextSteps: string[];
};

/** Why there is nothing to roll back, as the operator reads it. */
export function nothingToDoMessage(validation: RollbackValidation): string {
  return validation.splitStatus === 'none'
    ? 'Nothing to roll back: no split is recorded in the journal and no database created by the tool exists; the monolith is the live database and is left as it is.'
    : 'Nothing to roll back: no database created by the tool exists and the monolith matches its backup.';
}

/** The differences as the operator reads them: tables by rows, then structural objects by name. */
export function describeDifferences(tables: FingerprintDifference[], schema: SchemaDifference[]): string {
  return [
    ...tables.map(
      (difference) =>
        `table ${difference.table}: ${difference.actual?.rows ?? 0} rows, backup ${difference.expected?.rows ?? 0}${difference.actual?.rows === difference.expected?.rows ? ' (content differs)' : ''}`,
    ),
    ...schema.map((difference) => difference.description),
  ].join('; ');
}

/** Tables whose changes are schema history rather than business data. */
const SCHEMA_HISTORY = new Set(['public.migrations']);

const timestamp = (date: Date): string =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')
    .toLowerCase();

/**
 * `db:rollback:validate` and `db:rollback` (DESIGN.md invariant 5): drop only what the journal
 * records as created by the tool, dump it first, restore the monolith only when it differs from
 * its backup, restore into a new database, verify it against the manifest, then swap names; say,
 * before acting, which rows written after the split would only survive in the pre-drop dump.
 */
@Injectable()
export class RollbackMigrationService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
    private readonly lock: MigrationLockService,
    private readonly journal: MigrationJournalService,
    private readonly backups: BackupCurrentDatabaseService,
    private readonly catalog: BackupCatalogService,
    private readonly tools: PgToolsService,
  ) {}

  private get stateFile(): RollbackStateFile {
    return new RollbackStateFile(this.configService.config.backupDir);
  }

  async validate(options: RollbackOptions = {}): Promise<RollbackValidation> {
    const config = this.configService.config;
    const checks: Check[] = [];
    const check = (id: string, label: string, ok: boolean, detail: string, info = false) =>
      checks.push({ id, label, ok, detail, ...(info ? { info } : {}) });
    const inProgress = this.stateFile.read();
    const journal = inProgress ? null : await this.journal.read();
    // A rollback in progress recorded the split's status before AUTH (and its journal) went away.
    const splitStatus: SplitStatus | 'none' = inProgress
      ? inProgress.splitStatus
      : (journal?.split?.status ?? 'none');
    // Without a split there is nothing to undo in the monolith: it is the live database, and a
    // difference from some backup is the application's own work, never a reason to restore.
    const splitRecorded = inProgress !== null || splitStatus !== 'none';
    const noSplitReason = `no split is recorded in the journal (${journal ? `${config.authDatabase} has no split row` : `${config.authDatabase} or its journal does not exist`})`;

    // The backup to restore from: the one the in-progress record or the journal names, never "the newest".
    const backup = inProgress
      ? inProgress.backup
      : splitRecorded
        ? this.chooseBackup(options.backupName, journal?.split?.backupPath ?? null)
        : null;
    const manifest = backup ? this.catalog.readManifest(backup.path) : null;
    const monolithEntry =
      manifest?.databases.find(
        (entry) => entry.role === 'monolith' && entry.database === config.monolithDatabase,
      ) ?? null;
    if (!splitRecorded) {
      check('backup', 'the backup to restore from', true, `none needed: ${noSplitReason}`, true);
    } else if (!backup || !manifest || !monolithEntry) {
      check(
        'backup',
        'the backup to restore from exists and is intact',
        false,
        backup
          ? `${backup.path} has no manifest entry for ${config.monolithDatabase}`
          : `the journal names no pre-migration backup of ${config.monolithDatabase} (pass --backup NAME from ${this.catalog.folder('pre-migration')})`,
      );
    } else {
      const [archive] = await this.backups.verifyArchive(backup.path, {
        ...manifest,
        databases: [monolithEntry],
      });
      check(
        'backup',
        'the backup to restore from exists and is intact',
        !archive.problem,
        archive.problem
          ? `${archive.file}: ${archive.problem}`
          : `${backup.path} (sha256 matches, pg_restore --list reads ${archive.tableData} tables)`,
      );
    }

    // What would be dropped: only databases the journal records as created by the tool, and still marked as ours.
    const recorded = inProgress
      ? inProgress.drop.filter((database) => !inProgress.dropped.includes(database.name))
      : (journal?.databases ?? []).map((database) => ({
          name: database.name,
          kind: database.kind,
          host: database.host,
          port: database.port,
        }));
    const drop: DatabaseToDrop[] = [];
    const unmarked: string[] = [];
    for (const database of recorded) {
      const location = { database: database.name, host: database.host, port: database.port };
      if (!(await this.admin.exists(location))) continue;
      if ((await this.admin.comment(location))?.startsWith(OWNERSHIP_MARKER)) drop.push(database);
      else unmarked.push(database.name);
    }
    const untouched = (await this.admin.list({}))
      .map((info) => info.name)
      .filter((name) => this.isConfiguredName(name) && !drop.some((database) => database.name === name));
    check(
      'drop',
      'only databases created by this tool are dropped',
      unmarked.length === 0,
      unmarked.length > 0
        ? `${unmarked.join(', ')} recorded in the journal but without the tool's marker: refusing to guess, inspect them`
        : `${drop.length === 0 ? 'none to drop' : `to drop: ${drop.map((database) => database.name).join(', ')}`}${untouched.length ? `; never touched: ${untouched.join(', ')}` : ''}`,
    );
    if (!inProgress && !journal) await this.checkOrphans(check);
    const closed = await this.checkDoors(check, drop, inProgress);

    // Is a restore needed?
    const monolithExists = await this.admin.exists({ database: config.monolithDatabase });
    let differences: FingerprintDifference[] = [];
    let schemaDifferences: SchemaDifference[] = [];
    if (splitRecorded && monolithExists && monolithEntry) {
      const current = await this.backups.describe({ database: config.monolithDatabase });
      differences = compareFingerprints(monolithEntry.tables, current.tables);
      // Rows alone miss a dropped foreign key, a changed default or a sequence set back.
      if (monolithEntry.schema) schemaDifferences = compareSchemas(monolithEntry.schema, current.schema);
    }
    const schemaCompared = Boolean(monolithEntry?.schema);
    const differs = differences.length > 0 || schemaDifferences.length > 0;
    const restoreNeeded = inProgress
      ? inProgress.restore.needed && !inProgress.restore.swapped
      : splitRecorded && (!monolithExists || differs);
    check(
      'monolith',
      'monolith compared with the backup manifest',
      true,
      !splitRecorded
        ? `${noSplitReason}: ${config.monolithDatabase} ${monolithExists ? 'is the live database' : 'does not exist'} and is never restored by a rollback that has no split to undo`
        : !monolithExists
          ? `${config.monolithDatabase} does not exist: it will be restored`
          : !differs
            ? `${config.monolithDatabase} matches the backup${schemaCompared ? ' (rows and structure)' : ''}: no restore needed`
            : `${config.monolithDatabase} differs from the backup (${describeDifferences(differences, schemaDifferences)}): it will be restored into a new database, verified, then swapped in`,
      !splitRecorded,
    );
    if (splitRecorded && monolithEntry && !schemaCompared) {
      check(
        'monolith-structure',
        'monolith structure compared with the backup manifest',
        true,
        `${backup?.name ?? 'the backup'} records no schema fingerprint (written by an older version): only row counts and checksums decide whether ${config.monolithDatabase} is restored, a change of structure alone goes unnoticed`,
        true,
      );
    }

    // Data written into the new databases after the split.
    // Checked again when resuming: the application may have written while the rollback was stopped.
    const postSplit = await this.postSplitChanges(
      drop.filter((database) => !closed.includes(database.name)),
      inProgress ? inProgress.snapshots : (journal?.snapshots ?? []),
      splitStatus === 'complete',
    );
    const postSplitData = postSplit.changes;
    check(
      'post-split-data',
      'no data written after the split would be lost',
      postSplitData.length === 0 || Boolean(options.acceptDataLoss),
      [
        postSplitData.length === 0
          ? 'the new databases hold exactly what the split wrote'
          : `${postSplitData.map((change) => `${change.database}.${change.table}: ${change.rowsNow ?? 0} rows now, ${change.rowsAtSplit ?? 0} at the split`).join('; ')}${options.acceptDataLoss ? ' (accepted: kept only in the pre-drop dump)' : ' — this data would survive only in the pre-drop dump; pass --accept-data-loss to proceed'}`,
        postSplit.copiesOnly.length > 0
          ? `the split never completed (${splitStatus}): ${postSplit.copiesOnly.join(', ')} hold only what the tool copied from the monolith, nothing the application wrote (they are dumped before the drop all the same)`
          : '',
        closed.length > 0 ? `not checked in ${closed.join(', ')} (closed to connections)` : '',
      ]
        .filter(Boolean)
        .join('; '),
    );

    await this.checkServer(check, drop, restoreNeeded);
    const nothingToDo = !inProgress && drop.length === 0 && !restoreNeeded;
    return {
      ok: checks.every((entry) => entry.ok),
      inProgress: inProgress !== null,
      nothingToDo,
      splitStatus,
      checks,
      backup,
      drop,
      untouched,
      restore: { needed: restoreNeeded, monolithExists, differences, schemaDifferences, schemaCompared },
      postSplitData,
    };
  }

  async rollback(
    options: RollbackOptions & {
      lockTimeoutMs: number;
      confirm: (validation: RollbackValidation) => Promise<boolean>;
    },
    run: RunContext,
  ): Promise<RollbackReport> {
    const validation = await run.step('validate', () => this.validate(options));
    this.assertValid(validation);
    if (validation.nothingToDo) {
      return {
        nothingToDo: true,
        dropped: [],
        preDropBackup: null,
        restored: false,
        replacedMonolith: null,
        backup: validation.backup?.path ?? null,
        nextSteps: [nothingToDoMessage(validation)],
      };
    }
    if (!(await options.confirm(validation)))
      throw new RollbackException(RollbackExceptionCode.Declined, 'rollback declined');

    return this.lock.withMigrationLock(
      'rollback',
      {
        timeoutMs: options.lockTimeoutMs,
        onWait: (holder) => run.info(`Waiting for the migration lock held by ${describeHolder(holder)}…`),
      },
      async (lock) => {
        const interrupted = this.stateFile.read();
        if (interrupted) await this.reopenDoors(interrupted, run);
        // Things may have moved while we waited for the lock: check again before touching anything.
        const current = await this.validate(options);
        this.assertValid(current);
        const state = this.stateFile.read() ?? (await this.newState(current, run));
        this.stateFile.write(state);
        lock.assertHeld();
        await dropOnlineLeftovers(this.connections, this.admin, this.configService.config, run);
        await this.dropDatabases(state, run, lock);
        lock.assertHeld();
        if (state.restore.needed && !state.restore.swapped) await this.restoreMonolith(state, run, lock);
        this.stateFile.complete(state, state.preDropBackup ?? state.backup?.path ?? null);
        return {
          nothingToDo: false,
          dropped: state.dropped,
          preDropBackup: state.preDropBackup,
          restored: state.restore.needed,
          replacedMonolith: state.restore.swapped ? state.restore.replacedName : null,
          backup: state.backup?.path ?? null,
          nextSteps: this.nextSteps(state),
        };
      },
    );
  }

  private assertValid(validation: RollbackValidation): void {
    if (validation.ok) return;
    const failed = validation.checks.filter((check) => !check.ok);
    throw new RollbackException(
      RollbackExceptionCode.ValidationFailed,
      `rollback refused, nothing was changed:\n${failed.map((check) => `  ❌ ${check.label}: ${check.detail}`).join('\n')}`,
      { checks: failed },
    );
  }

  private chooseBackup(
    name: string | undefined,
    journalPath: string | null,
  ): { name: string; path: string } | null {
    const backups = this.catalog
      .list('pre-migration')
      .filter((backup) =>
        backup.manifest.databases.some(
          (entry) =>
            entry.role === 'monolith' && entry.database === this.configService.config.monolithDatabase,
        ),
      );
    // Never "the newest": a later backup (clean --execute takes one) may postdate writes that a
    // restore from it would throw away. Only an explicit --backup or the split's own backup.
    const chosen = name
      ? backups.find((backup) => backup.name === name)
      : journalPath
        ? backups.find((backup) => backup.path === journalPath)
        : undefined;
    if (chosen) return { name: chosen.name, path: chosen.path };
    // The journal names a backup the catalogue cannot read: report it as it is rather than pick another.
    return journalPath && !name
      ? { name: journalPath.split('/').pop() ?? journalPath, path: journalPath }
      : null;
  }

  /**
   * What the new databases hold beyond the split's completion snapshot. The snapshot is taken when
   * the split completes, so its absence means one of two things:
   * - the split completed and the database came later (a société created since): everything in it
   *   was written after the split, so it is compared with nothing;
   * - the split never completed (killed mid-copy, failed verification, or no split row at all
   *   because it stopped while preparing the databases): nothing was ever cut over to them and only
   *   the tool wrote there, copies of monolith rows and the rows it derives from them and from the
   *   configuration (société, site, memberships), all of which the monolith and its backup still
   *   hold. Such a database is listed in `copiesOnly` rather than as data loss; the pre-drop dump is
   *   taken all the same.
   * A snapshot that exists is always used, even if the split's status did not reach 'complete'
   * (a crash between saving the snapshots and the status).
   */
  private async postSplitChanges(
    databases: DatabaseToDrop[],
    snapshots: DatabaseSnapshot[],
    splitCompleted: boolean,
  ): Promise<{ changes: PostSplitChange[]; copiesOnly: string[] }> {
    const changes: PostSplitChange[] = [];
    const copiesOnly: string[] = [];
    for (const database of databases) {
      const snapshot = snapshots.find((candidate) => candidate.database === database.name);
      if (!snapshot && !splitCompleted) {
        copiesOnly.push(database.name);
        continue;
      }
      const recorded = snapshot?.tables ?? {};
      const current = await this.backups.fingerprints(
        { database: database.name, host: database.host, port: database.port },
        { excludeSchemas: [JOURNAL_SCHEMA] },
      );
      for (const difference of compareFingerprints(recorded, current)) {
        if (SCHEMA_HISTORY.has(difference.table)) continue;
        // A table created after the split but still empty holds nothing that could be lost.
        if (!difference.expected && difference.actual?.rows === 0) continue;
        changes.push({
          database: database.name,
          table: difference.table,
          rowsAtSplit: difference.expected?.rows ?? null,
          rowsNow: difference.actual?.rows ?? null,
        });
      }
    }
    return { changes, copiesOnly };
  }

  /** The database names this configuration governs: AUTH, SHARED and the tenants' prefix. */
  private isConfiguredName(name: string): boolean {
    const config = this.configService.config;
    return (
      name.startsWith(`${config.tenantPrefix}_`) ||
      name === config.authDatabase ||
      name === config.sharedDatabase
    );
  }

  /**
   * Without the journal (AUTH dropped by hand, or its journal schema gone) nothing says which
   * databases the split created: the ownership marker alone is not enough to drop anything, since a
   * database may have been reused, adopted or restored under that name. They are named, not dropped.
   */
  private async checkOrphans(
    check: (id: string, label: string, ok: boolean, detail: string) => void,
  ): Promise<void> {
    const config = this.configService.config;
    // Closed ones included (an interrupted rollback may have left any of them closed).
    const orphans = (await this.admin.list({}))
      .filter((info) => this.isConfiguredName(info.name) && info.comment?.startsWith(OWNERSHIP_MARKER))
      .map((info) => info.name);
    if (orphans.length === 0) return;
    const authExists = await this.admin.exists({ database: config.authDatabase });
    check(
      'journal',
      'every database marked as created by the tool is accounted for by the journal',
      false,
      `${orphans.join(', ')} carry the tool's ownership marker but the journal no longer accounts for them (${config.authDatabase} ${authExists ? 'has no journal' : 'does not exist'}): they are never dropped without the journal. Inspect them and drop them by hand once you are sure nothing in them is needed, or restore ${config.authDatabase} from a dump (${this.catalog.folder('rollback')} holds the pre-drop dumps, ${this.catalog.folder('pre-migration')} the backups) and run the rollback again`,
    );
  }

  /**
   * A database to drop that refuses connections cannot be dumped, compared or dropped. If the
   * rollback record says an interrupted rollback closed it, the rerun reopens it (under the lock)
   * and carries on; otherwise someone else closed it and we do not second-guess them.
   * Returns the closed ones, which the post-split comparison cannot look into.
   */
  private async checkDoors(
    check: (id: string, label: string, ok: boolean, detail: string, info?: boolean) => void,
    drop: DatabaseToDrop[],
    inProgress: RollbackState | null,
  ): Promise<string[]> {
    const closed: string[] = [];
    for (const database of drop) {
      const location = { host: database.host, port: database.port };
      const [info] = await this.admin.list(location, [database.name]);
      if (info && !info.acceptsConnections) closed.push(database.name);
    }
    if (closed.length === 0) return closed;
    const ours = closed.filter((name) => inProgress?.closedDoors.includes(name));
    const foreign = closed.filter((name) => !ours.includes(name));
    check(
      'doors',
      'the databases to drop accept connections',
      foreign.length === 0,
      [
        ours
          .map((name) => `${name} closed by an interrupted rollback: run db:rollback to finish it`)
          .join('; '),
        foreign.length > 0
          ? `${foreign.join(', ')} refuse connections (ALLOW_CONNECTIONS false) and no rollback record says this tool closed them: find out who did before reopening them (ALTER DATABASE ... ALLOW_CONNECTIONS true)`
          : '',
      ]
        .filter(Boolean)
        .join('; '),
      foreign.length === 0,
    );
    return closed;
  }

  private async checkServer(
    check: (id: string, label: string, ok: boolean, detail: string) => void,
    drop: DatabaseToDrop[],
    restoreNeeded: boolean,
  ): Promise<void> {
    const config = this.configService.config;
    const server = await this.connections.withClient(
      { database: config.maintenanceDatabase },
      async (client) => {
        const role = await client.query<{ superuser: boolean; createdb: boolean; number: string }>(
          "SELECT rolsuper AS superuser, rolcreatedb AS createdb, current_setting('server_version_num') AS number FROM pg_roles WHERE rolname = current_user",
        );
        const owners = await client.query<{ name: string; owner: string; size: string }>(
          'SELECT datname AS name, pg_get_userbyid(datdba) AS owner, pg_database_size(oid) AS size FROM pg_database WHERE datname = ANY($1::text[])',
          [drop.map((database) => database.name)],
        );
        return { role: role.rows[0], owners: owners.rows };
      },
    );
    const notOwned = server.role.superuser
      ? []
      : server.owners.filter((row) => row.owner !== config.username).map((row) => row.name);
    const canCreate = server.role.superuser || server.role.createdb || !restoreNeeded;
    check(
      'privileges',
      "the role's privileges allow the rollback",
      notOwned.length === 0 && canCreate,
      [
        notOwned.length > 0 ? `${config.username} does not own ${notOwned.join(', ')}` : '',
        !canCreate ? `${config.username} lacks CREATEDB for the restore` : '',
      ]
        .filter(Boolean)
        .join('; ') || `${config.username}${server.role.superuser ? ' is superuser' : ' owns the databases'}`,
    );
    const needed = server.owners.reduce((sum, row) => sum + Number(row.size), 0);
    const free = freeBytes(config.backupDir);
    check(
      'disk-space',
      'free disk space for the pre-drop dumps',
      free === null || free > needed,
      free === null
        ? `cannot read free space of ${config.backupDir}`
        : `${Math.round(free / 1048576)} MB free, at most ${Math.round(needed / 1048576)} MB needed`,
    );
    const major = serverMajor(Number(server.role.number));
    for (const line of await this.tools.checks(major)) check(line.id, line.label, line.ok, line.detail);
  }

  private async newState(validation: RollbackValidation, run: RunContext): Promise<RollbackState> {
    const config = this.configService.config;
    const journal = await this.journal.read().catch(() => null);
    const suffix = `_${timestamp(new Date())}`;
    const base = config.monolithDatabase.slice(0, 63 - suffix.length - 9);
    return {
      version: 1,
      runId: run.runId,
      startedAt: new Date().toISOString(),
      monolith: config.monolithDatabase,
      backup: validation.backup,
      // Tenants first, AUTH (which holds the journal) last.
      drop: [...validation.drop].sort(
        (left, right) =>
          ['tenant', 'shared', 'auth'].indexOf(left.kind) - ['tenant', 'shared', 'auth'].indexOf(right.kind),
      ),
      dropped: [],
      snapshots: journal?.snapshots ?? [],
      splitStatus: validation.splitStatus,
      closedDoors: [],
      preDropBackup: null,
      earlierPreDropBackups: [],
      restore: {
        needed: validation.restore.needed,
        newName: safeIdentifier(`${base}_restore${suffix}`, 'restore database name'),
        replacedName: validation.restore.monolithExists
          ? safeIdentifier(`${base}_replaced${suffix}`, 'replaced database name')
          : null,
        restored: false,
        swapped: false,
      },
    };
  }

  private async dropDatabases(state: RollbackState, run: RunContext, lock: HeldLock): Promise<void> {
    const remaining = state.drop.filter((database) => !state.dropped.includes(database.name));
    if (remaining.length > 0 && !state.preDropBackup) {
      const existing: DatabaseToBackUp[] = [];
      for (const database of remaining) {
        const location = { database: database.name, host: database.host, port: database.port };
        if (await this.admin.exists(location)) existing.push({ location, role: database.kind });
      }
      if (existing.length > 0) {
        const dump = await run.step('pre-drop dump', () =>
          this.backups.backup(existing, { kind: 'rollback', run }),
        );
        state.preDropBackup = dump.path;
        this.stateFile.write(state);
        run.info(
          `Dumped ${existing.map((entry) => entry.location.database).join(', ')} to ${dump.path} (verified).`,
        );
      }
    }
    const manifest = state.preDropBackup ? this.catalog.readManifest(state.preDropBackup) : null;
    const locations = remaining.map((database) => ({
      name: database.name,
      location: { database: database.name, host: database.host, port: database.port },
    }));
    // Every database is checked (doors closed) before any is dropped, so a refusal leaves them all.
    const closed: DatabaseLocation[] = [];
    const closing = (location: DatabaseLocation) => {
      closed.push(location);
      // On record before the doors close: after a kill -9 the rerun knows they were ours to reopen.
      state.closedDoors = [...new Set([...state.closedDoors, location.database])];
      this.stateFile.write(state);
    };
    try {
      for (const { name, location } of locations) {
        run.shutdown.throwIfRequested();
        if (!(await this.admin.exists(location))) continue;
        const entry = manifest?.databases.find((candidate) => candidate.database === name);
        await run.step(`check ${name} against its dump`, () =>
          this.assertUnchangedSinceDump(location, entry, closing),
        );
      }
    } catch (error) {
      const reopened = await Promise.all(
        closed.map((location) =>
          this.admin.openDoors(location).then(
            () => location.database,
            () => null,
          ),
        ),
      );
      // Only what was actually reopened leaves the record: the rest is for the next run to reopen.
      state.closedDoors = state.closedDoors.filter((name) => !reopened.includes(name));
      if (error instanceof RollbackException && error.code === RollbackExceptionCode.WrittenAfterDump) {
        // The dump no longer holds everything: the next run takes a new one. A dump that already
        // holds databases dropped by an interrupted run is kept in the record.
        if (state.dropped.length > 0 && state.preDropBackup)
          state.earlierPreDropBackups.push(state.preDropBackup);
        state.preDropBackup = null;
      }
      this.stateFile.write(state);
      throw error;
    }
    for (const { name, location } of locations) {
      lock.assertHeld();
      await run.step(`drop ${name}`, () => this.admin.drop(location, { requireOwnership: true }));
      state.dropped.push(name);
      state.closedDoors = state.closedDoors.filter((closedName) => closedName !== name);
      this.stateFile.write(state);
      run.info(`Dropped ${name}.`);
    }
  }

  /**
   * Between a database's dump and its drop the application could still write to it. So the doors
   * are closed (no new session, the others ended) while a session of ours stays in, and the content
   * is compared with the dump's manifest: anything written after the dump stops the rollback here,
   * with the database intact, and the next run dumps it again.
   */
  private async assertUnchangedSinceDump(
    location: DatabaseLocation,
    entry: BackupDatabaseEntry | undefined,
    closing: (location: DatabaseLocation) => void,
  ): Promise<void> {
    // An interrupted run may have left the doors closed: nobody, not even us, could connect.
    await this.admin.openDoors(location);
    const guard = await this.connections.connect(location, { applicationName: 'topsteel-rollback-guard' });
    let differences: FingerprintDifference[] = [];
    let schemaDifferences: SchemaDifference[] = [];
    try {
      const pid = (await guard.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      closing(location);
      await this.admin.closeDoors(location, pid);
      await guard.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await guard.query(DETERMINISTIC_SESSION_SETTINGS);
      const current = await computeFingerprints([guard], await fingerprintTargets(guard));
      differences = entry
        ? compareFingerprints(entry.tables, current)
        : [{ table: '(no dump)', expected: null, actual: null }];
      // A view, function or default created after the dump would be dropped without a copy too.
      if (entry?.schema)
        schemaDifferences = compareSchemas(entry.schema, await computeSchemaFingerprint(guard));
    } finally {
      await guard.end().catch(() => undefined);
    }
    if (differences.length > 0 || schemaDifferences.length > 0) {
      throw new RollbackException(
        RollbackExceptionCode.WrittenAfterDump,
        `${location.database} changed after its pre-drop dump (${describeDifferences(differences, schemaDifferences)}): nothing was dropped, run db:rollback again to take a new dump`,
      );
    }
  }

  private async restoreMonolith(state: RollbackState, run: RunContext, lock: HeldLock): Promise<void> {
    const backup = state.backup;
    if (!backup) {
      // validate() plans a restore only with a backup named by the journal or --backup.
      throw new RollbackException(
        RollbackExceptionCode.Inconsistent,
        `${this.stateFile.path} plans a restore of ${state.monolith} but names no backup`,
      );
    }
    const manifest = this.catalog.readManifest(backup.path) as BackupManifest;
    const entry = manifest.databases.find(
      (candidate) => candidate.role === 'monolith' && candidate.database === state.monolith,
    ) as BackupDatabaseEntry;
    const fresh = { database: state.restore.newName };
    if (!state.restore.restored) {
      // A half-restored database from an interrupted run is ours (recorded in the state): start it again.
      await this.admin.drop(fresh, { requireOwnership: false });
      await this.admin.create(fresh, {
        encoding: entry.encoding,
        collate: entry.collate,
        ctype: entry.ctype,
        asMonolithReplacement: true,
      });
      try {
        await run.step('restore the monolith backup', () =>
          this.backups.restore(join(backup.path, entry.file), fresh),
        );
        const restored = await run.step('verify the restore', () => this.backups.describe(fresh));
        const differences = compareFingerprints(entry.tables, restored.tables);
        // Nothing has used the new database yet: every sequence must stand exactly where it was.
        const schemaDifferences = entry.schema
          ? compareSchemas(entry.schema, restored.schema, { exactSequences: true })
          : [];
        if (differences.length > 0 || schemaDifferences.length > 0) {
          throw new BackupException(
            BackupExceptionCode.Mismatch,
            `the restored database differs from the manifest (${describeDifferences(differences, schemaDifferences)})`,
          );
        }
      } catch (error) {
        await this.admin.drop(fresh, { requireOwnership: false }).catch(() => undefined);
        throw error;
      }
      state.restore.restored = true;
      this.stateFile.write(state);
      run.info(`Restored ${backup.name} into ${fresh.database} and verified it against the manifest.`);
    }
    // Each rename is decided from what exists now, so a crash between them resumes correctly.
    lock.assertHeld();
    const monolith = { database: state.monolith };
    const replaced = state.restore.replacedName;
    if (!(await this.admin.exists(fresh))) {
      if (!(await this.admin.exists(monolith))) {
        throw new RollbackException(
          RollbackExceptionCode.Inconsistent,
          `neither ${fresh.database} (the restore) nor ${state.monolith} exists`,
        );
      }
      // Either the last rename happened before an interruption (the restore is in place) or someone
      // dropped the restore: only the content can tell, so the monolith is checked against the dump.
      const inPlace = await run.step('check the monolith in place against the backup', () =>
        this.backups.describe(monolith),
      );
      const differences = compareFingerprints(entry.tables, inPlace.tables);
      const schemaDifferences = entry.schema ? compareSchemas(entry.schema, inPlace.schema) : [];
      if (differences.length > 0 || schemaDifferences.length > 0) {
        throw new RollbackException(
          RollbackExceptionCode.Inconsistent,
          `${fresh.database} (the restore) is gone and ${state.monolith} differs from the backup (${describeDifferences(differences, schemaDifferences)}): delete ${this.stateFile.path} to start the rollback afresh`,
        );
      }
    } else {
      if (await this.admin.exists(monolith)) {
        if (!replaced || (await this.admin.exists({ database: replaced }))) {
          throw new RollbackException(
            RollbackExceptionCode.Inconsistent,
            `${state.monolith} and ${fresh.database} both exist${replaced ? `, and so does ${replaced}` : ''}: refusing to guess which one is the monolith`,
          );
        }
        await run.step('set the current monolith aside', () => this.admin.rename(monolith, replaced));
      }
      lock.assertHeld();
      await run.step('swap the restored monolith in', () => this.admin.rename(fresh, state.monolith));
    }
    state.restore.swapped = true;
    this.stateFile.write(state);
  }

  /**
   * A rollback killed while databases were closed (checking them against their dump, or dropping
   * them) leaves them refusing every session, ours included. The record names the ones it closed:
   * they are reopened, and the checks that follow close them again in order.
   */
  private async reopenDoors(state: RollbackState, run: RunContext): Promise<void> {
    for (const name of state.closedDoors) {
      const database = state.drop.find((candidate) => candidate.name === name);
      const location = { database: name, host: database?.host ?? null, port: database?.port ?? null };
      if (await this.admin.exists(location)) {
        await this.admin.openDoors(location);
        run.info(`Reopened ${name}, closed by the interrupted rollback.`);
      }
      state.closedDoors = state.closedDoors.filter((closedName) => closedName !== name);
      this.stateFile.write(state);
    }
  }

  private nextSteps(state: RollbackState): string[] {
    return [
      'Restart the application on the monolith: set DB_MODE=monolith in .env (or the environment) and restart it; no code change is needed.',
      state.preDropBackup ? `The dropped databases are dumped in ${state.preDropBackup}.` : '',
      ...state.earlierPreDropBackups.map(
        (folder) => `Databases dropped by an interrupted earlier attempt are dumped in ${folder}.`,
      ),
      state.restore.replacedName && state.restore.swapped
        ? `The monolith as it was before the restore is kept as ${state.restore.replacedName}; drop it once you are satisfied (DROP DATABASE "${state.restore.replacedName}").`
        : '',
      ...this.databaseLevelSteps(state),
      'npm run db:status shows the result.',
    ].filter(Boolean);
  }

  /**
   * pg_dump -Fc does not carry ALTER DATABASE ... SET nor the database's own GRANTs, so a restored
   * monolith lacks them. They are printed, not replayed: they belong to the operator's roles and the
   * tool has no business granting privileges on its own.
   */
  private databaseLevelSteps(state: RollbackState): string[] {
    if (!state.restore.needed || !state.restore.swapped || !state.backup) return [];
    const entry = this.catalog
      .readManifest(state.backup.path)
      ?.databases.find((candidate) => candidate.role === 'monolith' && candidate.database === state.monolith);
    const steps: string[] = [];
    if (entry?.settings?.length) {
      steps.push(
        `The backup recorded database-level settings that pg_restore does not restore; reapply them if they still apply: ${entry.settings
          .map(
            (setting) =>
              `ALTER DATABASE ${quoteIdentifier(state.monolith)} SET ${setting.replace('=', ' = ')}`,
          )
          .join('; ')}`,
      );
    }
    if (entry?.acl) {
      steps.push(
        `The monolith had database privileges ${entry.acl} (CONNECT/CREATE/TEMP grants); the restored database has the defaults: re-grant them as needed.`,
      );
    }
    return steps;
  }
}

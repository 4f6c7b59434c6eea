import { CheckOutcome, NamedCheck } from '../../../common/run/checklist';
import { DEFAULT_SERVER } from '../../../database/config/tenant-servers.config';
import { isOurs } from '../../../modules/database/ownership-marker';
import { describeDifferences, enableHint, megabytes } from './rollback-messages';
import { restoreRoom } from './server-facts';
import { isConfiguredName, ValidationFacts } from './validation-facts';
import { freeBytes } from '../../../common/fs/free-bytes';

const pass = (detail: string): CheckOutcome => ({ ok: true, detail });
const note = (detail: string): CheckOutcome => ({ ok: true, detail, info: true });
const fail = (detail: string): CheckOutcome => ({ ok: false, detail });

async function backupIntact(facts: ValidationFacts): Promise<CheckOutcome> {
  const { backup, manifest, monolithEntry, dependencies } = facts;
  const monolith = dependencies.config.monolithDatabase;
  if (!facts.splitRecorded) return note(`none needed: ${facts.noSplitReason}`);
  if (!backup || !manifest || !monolithEntry) {
    return fail(
      backup
        ? `${backup.path} has no manifest entry for ${monolith}`
        : `the journal names no pre-migration backup of ${monolith} (pass --backup NAME from ${dependencies.catalog.folder('pre-migration')})`,
    );
  }
  const [archive] = await dependencies.backups.verifyArchive(backup.path, {
    ...manifest,
    databases: [monolithEntry],
  });
  return archive.problem
    ? fail(`${archive.file}: ${archive.problem}`)
    : pass(`${backup.path} (sha256 matches, pg_restore --list reads ${archive.tableData} tables)`);
}

function onlyOurs(facts: ValidationFacts): CheckOutcome {
  if (facts.unmarked.length > 0) {
    return fail(
      `${facts.unmarked.join(', ')} recorded in the journal but without the tool's marker: refusing to guess, inspect them`,
    );
  }
  const names = facts.drop.map((database) => database.name);
  return pass(
    `${names.length === 0 ? 'none to drop' : `to drop: ${names.join(', ')}`}${facts.untouched.length ? `; never touched: ${facts.untouched.join(', ')}` : ''}`,
  );
}

/**
 * Without the journal (AUTH dropped by hand, or its journal schema gone) nothing says which
 * databases the split created: the ownership marker alone is not enough to drop anything, since a
 * database may have been reused, adopted or restored under that name. They are named, not dropped.
 */
async function journalAccountsForAll(facts: ValidationFacts): Promise<CheckOutcome | undefined> {
  if (facts.inProgress || facts.journal) return undefined;
  const { admin, catalog, config } = facts.dependencies;
  // Closed ones included (an interrupted rollback may have left any of them closed).
  const orphans = (await admin.list({}))
    .filter(
      (info) => isConfiguredName(facts.dependencies, info.name) && isOurs(info.comment, config.authDatabase),
    )
    .map((info) => info.name);
  if (orphans.length === 0) return undefined;
  const authExists = await admin.exists({ database: config.authDatabase });
  return fail(
    `${orphans.join(', ')} carry the tool's ownership marker but the journal no longer accounts for them (${config.authDatabase} ${authExists ? 'has no journal' : 'does not exist'}): they are never dropped without the journal. Inspect them and drop them by hand once you are sure nothing in them is needed, or restore ${config.authDatabase} from a dump (${catalog.folder('rollback')} holds the pre-drop dumps, ${catalog.folder('pre-migration')} the backups) and run the rollback again`,
  );
}

/**
 * A database to drop that refuses connections cannot be dumped, compared or dropped. If the
 * rollback record says an interrupted rollback closed it, the rerun reopens it (under the lock)
 * and carries on; otherwise someone else closed it and we do not second-guess them.
 */
function doorsOpen(facts: ValidationFacts): CheckOutcome | undefined {
  const monolith = facts.dependencies.config.monolithDatabase;
  const closed = [...facts.closed, ...(facts.monolithClosed ? [monolith] : [])];
  if (closed.length === 0) return undefined;
  const ours = closed.filter((name) => facts.inProgress?.closedDoors.includes(name));
  const foreign = closed.filter((name) => !ours.includes(name));
  const detail = [
    ours.map((name) => `${name} closed by an interrupted rollback: run db:rollback to finish it`).join('; '),
    foreign.length > 0
      ? `${foreign.join(', ')} refuse connections (ALLOW_CONNECTIONS false) and no rollback record says this tool closed them: find out who did before reopening them (ALTER DATABASE ... ALLOW_CONNECTIONS true)`
      : '',
  ]
    .filter(Boolean)
    .join('; ');
  return foreign.length === 0 ? note(detail) : fail(detail);
}

function monolithCompared(facts: ValidationFacts): CheckOutcome {
  const monolith = facts.dependencies.config.monolithDatabase;
  if (!facts.splitRecorded) {
    return note(
      `${facts.noSplitReason}: ${monolith} ${facts.monolithExists ? 'is the live database' : 'does not exist'} and is never restored by a rollback that has no split to undo`,
    );
  }
  if (facts.reverse && facts.monolithExists)
    return pass(
      `${monolith} follows the new databases through the reverse sync: it is brought level and verified against them, not restored from the backup`,
    );
  if (!facts.monolithExists) return pass(`${monolith} does not exist: it will be restored`);
  if (facts.monolithClosed)
    return pass(`${monolith} is closed to connections: not compared (see the doors line)`);
  if (facts.differences.length === 0 && facts.schemaDifferences.length === 0) {
    const how =
      facts.comparison === 'no-write-since-dump'
        ? ' (same structure and row counts, no row written since its dump)'
        : facts.schemaCompared
          ? ' (rows and structure)'
          : '';
    return pass(`${monolith} matches the backup${how}: no restore needed`);
  }
  return pass(
    `${monolith} differs from the backup (${describeDifferences(facts.differences, facts.schemaDifferences)}): it will be restored into a new database and verified, then swapped in, before anything is dropped`,
  );
}

function monolithStructure(facts: ValidationFacts): CheckOutcome | undefined {
  if (!facts.splitRecorded || !facts.monolithEntry || facts.schemaCompared) return undefined;
  return note(
    `${facts.backup?.name ?? 'the backup'} records no schema fingerprint (written by an older version): only row counts and checksums decide whether ${facts.dependencies.config.monolithDatabase} is restored, a change of structure alone goes unnoticed`,
  );
}

/** Data written into the new databases after the split, which would survive only in the pre-drop dump. */
function noPostSplitData(facts: ValidationFacts): CheckOutcome {
  const { changes, copiesOnly } = facts.postSplit;
  const accepted = Boolean(facts.options.acceptDataLoss);
  const detail = [
    changes.length === 0
      ? 'the new databases hold exactly what the split wrote'
      : `${changes.map((change) => `${change.database}.${change.table}: ${change.rowsNow ?? 0} rows now, ${change.rowsAtSplit ?? 0} at the split`).join('; ')}${accepted ? ' (accepted: kept only in the pre-drop dump)' : ' — this data would survive only in the pre-drop dump; pass --accept-data-loss to proceed'}`,
    copiesOnly.length > 0
      ? `the split never completed (${facts.splitStatus}): ${copiesOnly.join(', ')} hold only what the tool copied from the monolith, nothing the application wrote (they are dumped before the drop all the same)`
      : '',
    facts.closed.length > 0 ? `not checked in ${facts.closed.join(', ')} (closed to connections)` : '',
  ]
    .filter(Boolean)
    .join('; ');
  return { ok: changes.length === 0 || accepted, detail };
}

/** One line per new database: state, lag and, for one that is down, why and what to do. */
function describeLink(facts: ValidationFacts, link: ValidationFacts['reverseStatus'][number]): string {
  const monolith = facts.dependencies.config.monolithDatabase;
  const head = `${link.database}: ${link.state}, lag ${link.lagBytes === null ? 'unknown' : `${link.lagBytes} bytes`}`;
  if (link.state !== 'disabled') return head;
  const enable = enableHint(monolith, link.subscription);
  if ((link.applyErrors ?? 0) === 0)
    return `${head} (subscription ${link.subscription} was disabled without an apply error, by hand: the rollback does not resume what someone stopped; once it may run, ${enable})`;
  const stopped = `${head} (subscription ${link.subscription} stopped after ${link.applyErrors} apply error(s)`;
  if (!link.conflict)
    return `${stopped}; the server log names the change that failed; fix it, then ${enable})`;
  if (!link.conflict.reproduces) return `${stopped}; ${link.conflict.description}; ${enable})`;
  return `${stopped}: ${link.conflict.description}; the monolith holds a row it should not: keep a copy of it, delete it from ${monolith}, then ${enable})`;
}

/** After an online split: each new database's subscription in the monolith, its state and lag. */
function reverseSync(facts: ValidationFacts): CheckOutcome | undefined {
  if (!facts.reverse) return undefined;
  if (facts.reverse.drainedAt)
    return note(
      `drained and verified at ${facts.reverse.drainedAt} by an interrupted rollback: it only remains to take it down`,
    );
  const lines = facts.reverseStatus.map((link) => describeLink(facts, link));
  const missing = facts.reverseStatus.filter((link) => link.state === 'missing' || link.lagBytes === null);
  if (missing.length > 0)
    return fail(
      `${lines.join('; ')} — ${missing.map((link) => link.database).join(', ')} cannot be drained (subscription or slot gone): the monolith would miss their changes`,
    );
  const disabled = facts.reverseStatus.filter((link) => link.state === 'disabled');
  if (disabled.length > 0)
    return fail(
      `${lines.join('; ')} — ${disabled.map((link) => link.subscription).join(', ')} disabled: the monolith would miss their changes, so the rollback waits for you to resume them`,
    );
  return pass(`${lines.join('; ')}; the rollback blocks writes there, drains, verifies, then drops the sync`);
}

/**
 * DROP DATABASE needs ownership (or superuser) on the server that holds each database, and the
 * restore needs CREATEDB on the default server: all judged before anything is dropped.
 */
function privileges(facts: ValidationFacts): CheckOutcome {
  const { server } = facts;
  const username = facts.dependencies.config.username;
  const notOwned = server.roles.flatMap((role) => {
    const names = server.owners
      .filter((row) => row.server === role.server && !role.superuser && row.owner !== role.username)
      .map((row) => row.name);
    if (names.length === 0) return [];
    const where = role.server === DEFAULT_SERVER ? '' : ` on server ${role.server}`;
    return [`${role.username} does not own ${names.join(', ')}${where}`];
  });
  const canCreate = server.superuser || server.createdb || !facts.restoreNeeded;
  const problems = [...notOwned, !canCreate ? `${username} lacks CREATEDB for the restore` : ''].filter(
    Boolean,
  );
  const others = server.roles.filter((role) => role.server !== DEFAULT_SERVER);
  return problems.length > 0
    ? fail(
        `${problems.join('; ')}: connect as the owner or a superuser (DB_USERNAME, TENANT_SERVER_<NAME>_USERNAME), or transfer ownership with ALTER DATABASE … OWNER TO, then run the rollback again`,
      )
    : pass(
        `${username}${server.superuser ? ' is superuser' : ' owns the databases'}${others.length > 0 ? `; ${others.map((role) => `${role.username} on ${role.server}`).join(', ')} too` : ''}`,
      );
}

function dumpRoom(facts: ValidationFacts): CheckOutcome {
  const backupDir = facts.dependencies.config.backupDir;
  const needed = facts.server.owners.reduce((sum, row) => sum + Number(row.size), 0);
  const free = freeBytes(backupDir);
  if (free === null) return { ok: true, detail: `cannot read free space of ${backupDir}` };
  return { ok: free > needed, detail: `${megabytes(free)} free, at most ${megabytes(needed)} needed` };
}

function serverRoom(facts: ValidationFacts): CheckOutcome | undefined {
  if (!facts.restoreNeeded || !facts.monolithEntry) return undefined;
  return restoreRoom(facts.dependencies, facts.server, facts.monolithEntry.bytes);
}

/** The checks of `rollback --validate`, in the order the operator reads them. */
export const ROLLBACK_CHECKS: NamedCheck<ValidationFacts>[] = [
  { id: 'backup', label: 'the backup to restore from exists and is intact', run: backupIntact },
  { id: 'drop', label: 'only databases created by this tool are dropped', run: onlyOurs },
  {
    id: 'journal',
    label: 'every database marked as created by the tool is accounted for by the journal',
    run: journalAccountsForAll,
  },
  { id: 'doors', label: 'the databases to drop and the monolith accept connections', run: doorsOpen },
  { id: 'monolith', label: 'monolith compared with the backup manifest', run: monolithCompared },
  {
    id: 'monolith-structure',
    label: 'monolith structure compared with the backup manifest',
    run: monolithStructure,
  },
  { id: 'reverse-sync', label: 'the reverse sync can bring the monolith level', run: reverseSync },
  { id: 'post-split-data', label: 'no data written after the split would be lost', run: noPostSplitData },
  { id: 'privileges', label: "the role's privileges allow the rollback", run: privileges },
  { id: 'disk-space', label: 'free disk space for the pre-drop dumps', run: dumpRoom },
  { id: 'server-room', label: "room on the server's disk for the restored monolith", run: serverRoom },
];

import { Client } from 'pg';
import { RunContext } from '../../../common/run/run-context';
import { JournalRepository } from '../../../modules/database/journal/journal.repository';
import { HeldLock } from '../../../modules/database/migration-lock.service';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { deferForeignKeys, restoreForeignKeys } from '../copy/constraint-deferral';
import { speakEncoding } from '../copy/copy-engine';
import { copyTable } from '../copy/table-copier';
import { MovedTable, moveTask, sequenceValues, setSequences } from './move-tables';

export type MoveCopyContext = {
  connections: PostgresConnectionFactory;
  journal: JournalRepository;
  source: DatabaseLocation;
  target: DatabaseLocation;
  societeId: string;
  jobs: number;
  run: RunContext;
  lock: HeldLock;
};

export type CopiedTableSummary = { table: string; rows: number; durationMs: number };

type Worker = { source?: Client; target?: Client };

/**
 * Streams every table from the (write-fenced) source into the migrated target with the split's
 * table copier: binary COPY, indexes rebuilt after the load, one target transaction per table.
 * Foreign keys are set aside through the journal while tables load and validated at the end;
 * sequences are set to the source's values. Interrupted, the workers stop after their table.
 */
export async function copyTenantDatabase(
  context: MoveCopyContext,
  tables: MovedTable[],
): Promise<CopiedTableSummary[]> {
  const { connections, journal, target, run } = context;
  const deferring = await connections.connect(target, { applicationName: 'topsteel-move-defer' });
  try {
    await deferForeignKeys(deferring, target.database, journal);
  } finally {
    await deferring.end().catch(() => undefined);
  }
  const encoding = await sourceEncoding(context);
  const queue = [...tables].sort((left, right) => right.sizeBytes - left.sizeBytes);
  const copied: CopiedTableSummary[] = [];
  let failure: Error | undefined;
  const work = async (worker: Worker): Promise<void> => {
    while (queue.length > 0 && failure === undefined && !run.shutdown.requested) {
      const table = queue.shift() as MovedTable;
      try {
        copied.push(await copyOne(context, worker, table, encoding));
      } catch (error) {
        failure ??= error instanceof Error ? error : new Error(String(error));
      }
    }
  };
  const workers: Worker[] = Array.from(
    { length: Math.max(1, Math.min(context.jobs, tables.length)) },
    () => ({}),
  );
  try {
    await Promise.all(workers.map(work));
  } finally {
    const clients = workers
      .flatMap((worker) => [worker.source, worker.target])
      .filter((client): client is Client => client !== undefined);
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }
  if (failure !== undefined) throw failure;
  run.shutdown.throwIfRequested();
  await finishTarget(context);
  return copied;
}

async function copyOne(
  context: MoveCopyContext,
  worker: Worker,
  table: MovedTable,
  encoding: string,
): Promise<CopiedTableSummary> {
  context.lock.assertHeld();
  const started = Date.now();
  const progress = context.run.progress.task(`move ${table.name}`, table.estimatedRows);
  worker.source ??= await open(context, context.source, encoding, 'topsteel-move-read');
  worker.target ??= await open(context, context.target, encoding, 'topsteel-move-write');
  // As every target session of the copy: the load never depends on a server's defaults.
  await worker.target.query(DETERMINISTIC_SESSION_SETTINGS);
  try {
    const loaded = await copyTable(worker.source, worker.target, moveTask(table), {
      societeId: context.societeId,
      maintenanceWorkMem: '256MB',
      onRows: (count) => progress.update(count),
    });
    progress.finish(`${loaded.rows} rows`);
    const durationMs = Date.now() - started;
    context.run.log('move table', { table: table.name, rows: loaded.rows, durationMs });
    return { table: table.name, rows: loaded.rows, durationMs };
  } catch (error) {
    progress.fail(error instanceof Error ? error.message : String(error));
    throw error;
  }
}

/** Foreign keys back and validated, sequences where the source's stand. */
async function finishTarget(context: MoveCopyContext): Promise<void> {
  context.lock.assertHeld();
  const target = await context.connections.connect(context.target, {
    applicationName: 'topsteel-move-finish',
  });
  const source = await context.connections.connect(context.source, {
    applicationName: 'topsteel-move-read',
    readOnly: true,
  });
  try {
    await restoreForeignKeys([target], context.target.database, context.journal);
    await setSequences(target, await sequenceValues(source));
  } finally {
    await Promise.all([target.end().catch(() => undefined), source.end().catch(() => undefined)]);
  }
}

/**
 * Both ends speak the source's encoding so that its bytes travel untouched (as the split does):
 * the driver always announces UTF8 at start-up, so it is set after connecting.
 */
async function open(
  context: MoveCopyContext,
  location: DatabaseLocation,
  encoding: string,
  applicationName: string,
): Promise<Client> {
  return speakEncoding(await context.connections.connect(location, { applicationName }), encoding);
}

async function sourceEncoding(context: MoveCopyContext): Promise<string> {
  return context.connections.withClient(
    context.source,
    async (client) => {
      const result = await client.query<{ encoding: string }>(
        "SELECT current_setting('server_encoding') AS encoding",
      );
      return result.rows[0].encoding;
    },
    { applicationName: 'topsteel-move-read' },
  );
}

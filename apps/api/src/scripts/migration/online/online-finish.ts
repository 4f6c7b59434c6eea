import { Client } from 'pg';
import { RunContext } from '../../../common/run/run-context';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { DatabaseLocation } from '../../../modules/database/postgres-connection.factory';
import { recordSplitOutcome } from '../split/journal.step';
import { ResolvedPlan } from '../plan/plan-resolver';
import { VerificationReport, verifySplit } from '../verify/split-verifier';
import { ONLINE_APPLICATION, OnlineNames, removeMonolithObjects } from './monolith-objects';
import { OnlineDependencies } from './online-dependencies';
import { OnlineJournal } from './online-journal';

/**
 * Takes down what the online split set up: the DDL guard, publication and slot on the monolith
 * (which may already be read-only for applications: the tool's session opts out), the replica
 * identities it changed, and the position tables in the targets.
 */
export async function removeOnlineObjects(
  dependencies: OnlineDependencies,
  names: OnlineNames,
  locations: Record<SchemaKind, DatabaseLocation> | null,
): Promise<void> {
  const { connections, configService, journal } = dependencies;
  const state = await journal.withJournal((repository) => new OnlineJournal(repository.client).read());
  await connections.withClient(
    { database: configService.config.monolithDatabase },
    async (client) => {
      await client.query('SET default_transaction_read_only = off');
      await removeMonolithObjects(client, names, state?.replicaIdentities ?? []);
    },
    { applicationName: `${ONLINE_APPLICATION}-cleanup` },
  );
  for (const location of Object.values(locations ?? {}))
    await connections.withClient(
      location,
      (client) => client.query('DROP SCHEMA IF EXISTS topsteel_online CASCADE'),
      {
        applicationName: `${ONLINE_APPLICATION}-cleanup`,
      },
    );
}

/**
 * After the cutover: the full verification of the offline split (every table, every reference),
 * the monolith now read-only so nothing moves, against the targets as they were at the cutover
 * (the snapshots taken in the pause), then the journal records the split complete with the new
 * databases' fingerprints, exactly as the offline split does; or records it failed.
 */
export async function recordOnlineSplit(
  dependencies: OnlineDependencies,
  context: {
    plan: ResolvedPlan;
    locations: Record<SchemaKind, DatabaseLocation>;
    societeId: string;
    jobs: number;
    run: RunContext;
    pauseMs: number;
    /** The targets frozen at the cutover (REPEATABLE READ), left open for the caller. */
    frozenTargets: Map<SchemaKind, Client>;
  },
): Promise<VerificationReport> {
  const { connections, configService, journal } = dependencies;
  const { plan, locations, run } = context;
  const monolith = configService.config.monolithDatabase;
  const verification = await run.step('verify', () =>
    verifySplit(connections, {
      tasks: plan.tasks,
      cutReferences: plan.cutReferences,
      locations,
      source: { database: monolith },
      plan,
      societeId: context.societeId,
      jobs: context.jobs,
      targetSessions: context.frozenTargets,
      // The position tables existed at the cutover; they are gone now and never were the ERP's.
      excludeSchemas: ['topsteel_online'],
    }),
  );
  await recordSplitOutcome(journal, {
    monolith,
    verification,
    tasks: plan.tasks,
    locations,
    run,
    onComplete: (repository) =>
      new OnlineJournal(repository.client).update({
        phase: 'done',
        pauseMs: context.pauseMs,
        cutoverOutcome: 'done',
      }),
    runDetails: { online: true },
  });
  return verification;
}

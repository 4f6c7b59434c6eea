import { Client } from 'pg';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { fingerprint, MovedTable, sequenceValues, TableFingerprint } from './move-tables';
import { MoveException, MoveExceptionCode } from './move.exception';

export type VerifiedTable = TableFingerprint & { matches: boolean };

/**
 * Counts and checksums of every table, computed by PostgreSQL on each side in fresh sessions (not
 * the copy's), plus the sequences. Any difference fails the move before the registry is touched.
 */
export async function verifyMove(
  connections: PostgresConnectionFactory,
  source: DatabaseLocation,
  target: DatabaseLocation,
  tables: MovedTable[],
): Promise<VerifiedTable[]> {
  const [sourceClient, targetClient] = await Promise.all([
    connections.connect(source, { applicationName: 'topsteel-move-verify', readOnly: true }),
    connections.connect(target, { applicationName: 'topsteel-move-verify', readOnly: true }),
  ]);
  try {
    await Promise.all(
      [sourceClient, targetClient].map((client) => client.query(DETERMINISTIC_SESSION_SETTINGS)),
    );
    const verified: VerifiedTable[] = [];
    for (const table of tables) {
      const [expected, actual] = await Promise.all([
        fingerprint(sourceClient, table),
        fingerprint(targetClient, table),
      ]);
      verified.push({
        ...expected,
        matches: expected.rows === actual.rows && expected.checksum === actual.checksum,
      });
    }
    const different = verified.filter((table) => !table.matches).map((table) => table.table);
    different.push(...(await differentSequences(sourceClient, targetClient)));
    if (different.length > 0) {
      throw new MoveException(
        MoveExceptionCode.VerifyFailed,
        `the copy of ${source.database} differs from the source in ${different.join(', ')}`,
        { tables: different },
      );
    }
    return verified;
  } finally {
    await Promise.all([sourceClient.end().catch(() => undefined), targetClient.end().catch(() => undefined)]);
  }
}

async function differentSequences(source: Client, target: Client): Promise<string[]> {
  const [expected, actual] = await Promise.all([sequenceValues(source), sequenceValues(target)]);
  const byName = new Map(actual.map((value) => [value.name, value]));
  return expected
    .filter((value) => {
      const other = byName.get(value.name);
      return !other || other.lastValue !== value.lastValue || other.isCalled !== value.isCalled;
    })
    .map((value) => `sequence ${value.name}`);
}

import { FingerprintDifference } from '../backup-current-database';
import { SchemaDifference } from '../snapshot/schema-fingerprint';
import { RollbackValidation } from './rollback.types';

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

/** Megabytes as the operator reads them in a check line. */
export const megabytes = (bytes: number): string => `${Math.round(bytes / 1048576)} MB`;

/** How to resume one subscription in the read-only monolith (the session has to opt out first). */
export const enableHint = (monolith: string, subscription: string): string =>
  `psql -d ${monolith} -c 'SET default_transaction_read_only = off' -c 'ALTER SUBSCRIPTION ${subscription} ENABLE'`;

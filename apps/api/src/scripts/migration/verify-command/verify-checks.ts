import { NamedCheck } from '../../../common/run/checklist';
import { ReferenceVerification, TableVerification, VerificationReport } from '../verify/split-verifier';

/** What db:verify found, read before any line is written. */
export type VerifyFacts = {
  verification: VerificationReport;
  planBlockers: string[];
  excludedTables: string[];
  comparedWith: 'monolith' | 'journal';
  /** Sociétés created after the split, and the references of theirs that dangle. */
  otherTenants: { count: number; problems: string[] };
  auth: { users: number; societes: number; unlinked: number; orphanLinks: number };
  /** Tenant databases on the default server, and whether PUBLIC may still connect to each. */
  tenantDoors: { name: string; open: boolean }[];
};

function describeMismatch(table: TableVerification): string {
  if (table.sourceRows !== table.targetRows)
    return `${table.database}.${table.target}: ${table.targetRows} rows, expected ${table.sourceRows}`;
  return (
    `${table.database}.${table.target}: same ${table.targetRows} rows but content differs ` +
    `(checksum ${table.targetChecksum}, expected ${table.sourceChecksum})`
  );
}

const describeDangling = (reference: ReferenceVerification): string =>
  `${reference.reference}: ${reference.targetDangling} (was ${reference.sourceDangling})`;

/** The checks of db:verify, in the order they are shown. */
export const VERIFY_CHECKS: NamedCheck<VerifyFacts>[] = [
  {
    id: 'schema',
    label: 'the monolith still matches the plan, every foreign key is validated',
    run: ({ verification, planBlockers, excludedTables }) => ({
      ok: verification.problems.length === 0 && planBlockers.length === 0,
      detail:
        [...planBlockers, ...verification.problems].join('; ') ||
        `no drift, no unvalidated key${excludedTables.length > 0 ? ` (left behind knowingly with --exclude-table: ${excludedTables.join(', ')})` : ''}`,
    }),
  },
  {
    id: 'tables',
    label: 'row counts and checksums equal',
    run: ({ verification, comparedWith }) => {
      const mismatched = verification.tables.filter((table) => !table.ok);
      return {
        ok: mismatched.length === 0,
        detail:
          mismatched.length === 0
            ? `${verification.tables.length} tables, against the ${comparedWith}`
            : mismatched.map((table) => describeMismatch(table)).join('; '),
      };
    },
  },
  {
    id: 'references',
    label: 'no cross-database reference dangles that did not dangle in the monolith',
    run: ({ verification }) => {
      const dangling = verification.references.filter((reference) => !reference.ok);
      return {
        ok: dangling.length === 0,
        detail:
          dangling.length === 0
            ? `${verification.references.length} references`
            : dangling.map(describeDangling).join('; '),
      };
    },
  },
  {
    id: 'other-tenants',
    label: 'references of the other sociétés resolve',
    run: ({ otherTenants }) =>
      otherTenants.count === 0
        ? undefined
        : {
            ok: otherTenants.problems.length === 0,
            detail: otherTenants.problems.join('; ') || `none dangling in ${otherTenants.count} société(s)`,
          },
  },
  {
    id: 'users-linked',
    label: 'every user is linked to a société',
    run: ({ auth }) => ({ ok: auth.unlinked === 0, detail: `${auth.unlinked} user(s) without société` }),
  },
  {
    id: 'links-valid',
    label: 'every société_users row names an existing user',
    run: ({ auth }) => ({ ok: auth.orphanLinks === 0, detail: `${auth.orphanLinks} orphan link(s)` }),
  },
  {
    id: 'isolation',
    label: 'tenant databases refuse CONNECT from PUBLIC',
    run: ({ tenantDoors }) => {
      const open = tenantDoors.filter((door) => door.open);
      return {
        ok: open.length === 0,
        detail:
          open.length === 0
            ? `${tenantDoors.length} tenant database(s) closed to PUBLIC`
            : `open to PUBLIC: ${open.map((door) => door.name).join(', ')} (REVOKE CONNECT ON DATABASE ... FROM PUBLIC)`,
      };
    },
  },
];

import { PoolCounts } from '../database/pool-counts';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { safeIdentifier } from '../../common/identifiers/identifier';
import {
  TenantDataSourceProvider,
  TenantLocation,
  TenantPoolStats,
} from '../database/tenant-data-source.provider';
import { DataModeService } from '../database/data-mode.service';
import { MemberSociete, SocieteMembershipService } from '../societes/societe-membership.service';
import { AccessException, AccessExceptionCode, MOVING_RETRY_AFTER_SECONDS } from './access.exception';
import { AuthenticatedUser, AuthenticationService } from './authentication.service';

/** A société the user may open; `societeId` is null in monolith mode, where only the code exists. */
export type AccessibleSociete = Omit<MemberSociete, 'societeId'> & { societeId: string | null };

/**
 * Permission for one user to read one société's data, valid for one request. Only `authorize`
 * creates grants, after the membership check; where the data lives is kept inside this service,
 * so a grant cannot be forged or pointed at another database.
 */
export type TenantGrant = Readonly<{ userId: string; societe: AccessibleSociete }>;

type Target = { kind: 'tenant'; location: TenantLocation } | { kind: 'monolith' };

/**
 * The only way the app reaches tenant data (ESLint forbids app code to import the tenant
 * DataSource provider): `authorize` checks that an authenticated user is a member of the société
 * (re-read from AUTH every time, so a removed member loses access at once), and `withTenant` hands
 * out the DataSource for a grant it issued. In monolith mode the one implicit société is the
 * monolith, and every active user belongs to it.
 */
@Injectable()
export class TenantAccessService {
  readonly #targets = new WeakMap<TenantGrant, Target>();

  constructor(
    private readonly dataMode: DataModeService,
    private readonly authentication: AuthenticationService,
    private readonly membership: SocieteMembershipService,
    private readonly tenants: TenantDataSourceProvider,
  ) {}

  /** The sociétés the user belongs to, default first. */
  async societesOf(user: AuthenticatedUser): Promise<AccessibleSociete[]> {
    this.assertAuthenticated(user);
    if (this.dataMode.isMonolith) return [this.monolithMembership(user)];
    return this.membership.societesOf(user.userId);
  }

  /** The société a request uses when it names none: the default membership, or the only one. */
  async defaultSociete(user: AuthenticatedUser): Promise<AccessibleSociete | null> {
    const societes = await this.societesOf(user);
    return societes.find((societe) => societe.isDefault) ?? (societes.length === 1 ? societes[0] : null);
  }

  /** Checks membership; 403-class errors for a société the user may not open (or that does not exist). */
  async authorize(user: AuthenticatedUser, societeReference: string): Promise<TenantGrant> {
    this.assertAuthenticated(user);
    const reference = societeReference.trim();
    if (reference === '' || reference.length > 64) {
      throw new AccessException(AccessExceptionCode.SocieteRequired, 'no société given');
    }
    // Unknown and forbidden look the same, so that callers cannot probe which sociétés exist.
    const notAMember = () =>
      new AccessException(AccessExceptionCode.NotAMember, 'not a member of this société', {
        societe: reference,
      });
    if (this.dataMode.isMonolith) {
      const societe = this.monolithMembership(user);
      if (reference.toUpperCase() !== societe.code) throw notAMember();
      return this.issue(user, societe, { kind: 'monolith' });
    }
    const member = await this.membership.membership(user.userId, reference);
    if (!member) throw notAMember();
    if (member.status !== 'active') {
      throw new AccessException(
        AccessExceptionCode.SocieteInactive,
        `société ${member.code} is ${member.status}`,
      );
    }
    if (member.movingSince !== null) {
      // db:societe:move is copying this société's database: no request may open it until the
      // registry points at its new place, and the client is told when to come back.
      throw new AccessException(
        AccessExceptionCode.SocieteMoving,
        `société ${member.code} is being moved since ${member.movingSince}`,
        { societe: member.code },
        { retryAfterSeconds: MOVING_RETRY_AFTER_SECONDS },
      );
    }
    const { location, movingSince: _movingSince, ...societe } = member;
    return this.issue(user, societe, {
      kind: 'tenant',
      location: {
        societeId: location.societeId,
        code: location.code,
        database: safeIdentifier(location.database, `database name of société ${location.code}`),
        server: location.server,
        host: location.host,
        port: location.port,
      },
    });
  }

  /** Runs `work` on the granted société's database. */
  async withTenant<T>(grant: TenantGrant, work: (dataSource: DataSource) => Promise<T>): Promise<T> {
    const target = this.#targets.get(grant);
    if (!target) {
      throw new AccessException(AccessExceptionCode.GrantNotIssued, 'tenant data requested without a grant');
    }
    if (target.kind === 'monolith') return work(await this.dataMode.monolith());
    return this.tenants.withTenantDataSource(target.location, work);
  }

  /** Open tenant DataSources, for /health and /metrics. */
  poolStats(): TenantPoolStats {
    return this.tenants.stats();
  }

  /** Sessions of each open tenant pool, for /metrics. */
  poolCounts(): Promise<PoolCounts[]> {
    return this.tenants.pools();
  }

  private assertAuthenticated(user: AuthenticatedUser): void {
    if (!this.authentication.isIssued(user)) {
      throw new AccessException(AccessExceptionCode.TokenInvalid, 'the user was not authenticated');
    }
  }

  private monolithMembership(user: AuthenticatedUser): AccessibleSociete {
    const societe = this.dataMode.monolithSociete();
    return { ...societe, status: 'active', role: user.role, isDefault: true };
  }

  private issue(user: AuthenticatedUser, societe: AccessibleSociete, target: Target): TenantGrant {
    const grant: TenantGrant = Object.freeze({ userId: user.userId, societe: Object.freeze(societe) });
    this.#targets.set(grant, target);
    return grant;
  }
}

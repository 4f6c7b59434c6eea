import { Injectable } from '@nestjs/common';
import { isTopsteelException } from '../../common/exceptions/topsteel.exception';
import { Secret } from '../../common/secrets/secret';
import { SharedMaterialsService } from '../shared/shared-materials.service';
import { SocieteRegistryService } from '../societes/societe-registry.service';
import { TenantRecordsService } from '../tenant/tenant-records.service';
import { AccessException, AccessExceptionCode } from '../access/access.exception';
import { AuthenticatedUser, AuthenticationService } from '../access/authentication.service';
import { AccessibleSociete, TenantAccessService } from '../access/tenant-access.service';

export type AccessCheck = { name: string; ok: boolean; skipped?: boolean; detail: string };

export type AccessCheckReport = {
  ok: boolean;
  user: { id: string; email: string; role: string } | null;
  societes: AccessibleSociete[];
  checks: AccessCheck[];
};

/** How many sociétés each check tries at most, so verify stays quick with hundreds of them. */
const SAMPLE = 5;

/**
 * The app's access rules, exercised without HTTP for `db:verify`: the same login, membership and
 * tenant-routing code the HTTP app runs. Works on the split databases (AccessCheckModule registers
 * the multi-tenant mode).
 */
@Injectable()
export class AccessCheckService {
  constructor(
    private readonly authentication: AuthenticationService,
    private readonly tenantAccess: TenantAccessService,
    private readonly registry: SocieteRegistryService,
    private readonly records: TenantRecordsService,
    private readonly materials: SharedMaterialsService,
  ) {}

  /** Same code as POST /auth/login; throws AccessException INVALID_CREDENTIALS on failure. */
  login(email: string, password: Secret): Promise<AuthenticatedUser> {
    return this.authentication.authenticate(email, password.reveal());
  }

  societesOf(user: AuthenticatedUser): Promise<AccessibleSociete[]> {
    return this.tenantAccess.societesOf(user);
  }

  /** Whether the guard would let this user into this société (id or code). */
  async isMember(user: AuthenticatedUser, societe: string): Promise<boolean> {
    try {
      await this.tenantAccess.authorize(user, societe);
      return true;
    } catch (error) {
      if (error instanceof AccessException && error.code !== AccessExceptionCode.TokenInvalid) return false;
      throw error;
    }
  }

  /**
   * The guide's phase 3 checks for one account: login with the legacy password, the user's
   * sociétés, reading each one's clients, shared data, and isolation (every société the user is
   * not a member of refuses it). Database failures propagate; failed checks are reported.
   */
  async checkLogin(email: string, password: Secret): Promise<AccessCheckReport> {
    const checks: AccessCheck[] = [];
    let user: AuthenticatedUser;
    try {
      user = await this.login(email, password);
      checks.push({ name: 'login', ok: true, detail: `logged in as ${user.email} (${user.role})` });
    } catch (error) {
      if (!isTopsteelException(error) || !(error instanceof AccessException)) throw error;
      checks.push({ name: 'login', ok: false, detail: error.message });
      return { ok: false, user: null, societes: [], checks };
    }
    const societes = await this.societesOf(user);
    checks.push({
      name: 'societes',
      ok: societes.length > 0,
      detail:
        societes.length > 0
          ? `member of ${societes.map((societe) => societe.code).join(', ')}`
          : 'the user belongs to no société',
    });
    for (const societe of societes.slice(0, SAMPLE)) {
      const grant = await this.tenantAccess.authorize(user, societe.societeId ?? societe.code);
      const clients = await this.records.countClients(grant);
      checks.push({ name: `tenant ${societe.code}`, ok: true, detail: `${clients} clients readable` });
    }
    const materials = await this.materials.list({ limit: 1, offset: 0 });
    checks.push({
      name: 'shared',
      ok: true,
      detail: materials.items.length > 0 ? 'shared materials readable' : 'shared materials readable (none)',
    });
    const memberIds = new Set(societes.map((societe) => societe.societeId));
    const others = (await this.registry.list()).filter((societe) => !memberIds.has(societe.societeId));
    if (others.length === 0) {
      checks.push({
        name: 'isolation',
        ok: true,
        skipped: true,
        detail: 'no société the user is not a member of',
      });
    }
    for (const other of others.slice(0, SAMPLE)) {
      const reachable = await this.isMember(user, other.societeId);
      checks.push({
        name: `isolation ${other.code}`,
        ok: !reachable,
        detail: reachable ? `the user can open ${other.code} without membership` : 'refused (403)',
      });
    }
    return {
      ok: checks.every((check) => check.ok),
      user: { id: user.userId, email: user.email, role: user.role },
      societes,
      checks,
    };
  }
}

import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AccessException, AccessExceptionCode } from '../../modules/access/access.exception';
import { AuthenticatedUser } from '../../modules/access/authentication.service';
import { DataModeService } from '../../modules/database/data-mode.service';
import { MigrationLockService } from '../../modules/database/migration-lock.service';
import { SocieteMembershipService } from '../../modules/societes/societe-membership.service';
import {
  EnsureSocieteResult,
  SocieteProvisioningService,
} from '../../modules/societes/societe-provisioning.service';
import { SocieteRegistryService } from '../../modules/societes/societe-registry.service';
import { SocieteException, SocieteExceptionCode } from '../../modules/societes/societe.exception';

/** A request should not hang behind a long migrate: after this it gets 409. */
export const HTTP_LOCK_TIMEOUT_MS = 10000;

/**
 * The server a société is placed on when the request names none: the operator's DB_HOST:DB_PORT.
 * Others are the names declared in TENANT_SERVERS; a request never gives a host.
 */
export const DEFAULT_SERVER = 'default';

export type SocieteCreationRequest = { code: string; nom: string; server: string };

/**
 * POST /societes: provisions a new société under the migration lock and makes its creator its
 * admin. An existing code is a conflict, never a way in: membership of an existing société is
 * granted by its own admins or by an operator, not by "creating" it again.
 */
@Injectable()
export class SocieteCreationService {
  constructor(
    private readonly dataMode: DataModeService,
    private readonly lock: MigrationLockService,
    private readonly provisioning: SocieteProvisioningService,
    private readonly registry: SocieteRegistryService,
    private readonly membership: SocieteMembershipService,
  ) {}

  async create(user: AuthenticatedUser, request: SocieteCreationRequest): Promise<EnsureSocieteResult> {
    if (this.dataMode.isMonolith) {
      throw new AccessException(
        AccessExceptionCode.MonolithMode,
        'sociétés cannot be created in monolith mode',
      );
    }
    // A declared server name only, never a host or port: an unknown name is INVALID_SOCIETE_INPUT
    // (400) from validate(), before the lock and before anything is created.
    const input = { code: request.code, nom: request.nom, server: request.server };
    const validated = this.provisioning.validate(input);
    const result = await this.lock.withMigrationLock(
      'societe:create',
      { timeoutMs: HTTP_LOCK_TIMEOUT_MS },
      async (lock) => {
        // Under the lock, so that no concurrent creation slips between this check and the insert.
        if (await this.registry.find(validated.code, { includeDeleted: true })) throw this.exists();
        return this.provisioning.ensureSociete(input, { runId: randomUUID(), lock });
      },
    );
    if (!result.created) throw this.exists();
    await this.membership.addMember(result.societe.societeId, user.userId, { role: 'admin' });
    return result;
  }

  private exists(): SocieteException {
    return new SocieteException(SocieteExceptionCode.Conflict, 'a société with this code already exists');
  }
}

import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AccessException, AccessExceptionCode } from '../../modules/access/access.exception';
import { AuthenticatedUser } from '../../modules/access/authentication.service';
import { DataModeService } from '../../modules/database/data-mode.service';
import { MigrationLockService } from '../../modules/database/migration-lock.service';
import { SocieteInput } from '../../modules/societes/societe-input';
import { SocieteMembershipService } from '../../modules/societes/societe-membership.service';
import {
  EnsureSocieteResult,
  SocieteProvisioningService,
} from '../../modules/societes/societe-provisioning.service';

/** A request should not hang behind a long migrate: after this it gets 409 naming the holder. */
export const HTTP_LOCK_TIMEOUT_MS = 10000;

/** POST /societes: provisioning under the migration lock; the creating administrator becomes a member. */
@Injectable()
export class SocieteCreationService {
  constructor(
    private readonly dataMode: DataModeService,
    private readonly lock: MigrationLockService,
    private readonly provisioning: SocieteProvisioningService,
    private readonly membership: SocieteMembershipService,
  ) {}

  async create(user: AuthenticatedUser, input: SocieteInput): Promise<EnsureSocieteResult> {
    if (this.dataMode.isMonolith) {
      throw new AccessException(
        AccessExceptionCode.MonolithMode,
        'sociétés cannot be created in monolith mode',
      );
    }
    this.provisioning.validate(input);
    const result = await this.lock.withMigrationLock(
      'societe:create',
      { timeoutMs: HTTP_LOCK_TIMEOUT_MS },
      (lock) => this.provisioning.ensureSociete(input, { runId: randomUUID(), lock }),
    );
    await this.membership.addMember(result.societe.societeId, user.userId, { role: 'admin' });
    return result;
  }
}

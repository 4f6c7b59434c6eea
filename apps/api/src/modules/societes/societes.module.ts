import { Module } from '@nestjs/common';
import { MigrationJournalModule } from '../database/journal/migration-journal.module';
import { SocieteMembershipService } from './societe-membership.service';
import { SocieteProvisioningService } from './societe-provisioning.service';
import { SocieteRegistryService } from './societe-registry.service';

const SERVICES = [SocieteRegistryService, SocieteProvisioningService, SocieteMembershipService];

/** Sociétés: where each one's data lives, provisioning and members. */
@Module({ imports: [MigrationJournalModule], providers: SERVICES, exports: SERVICES })
export class SocietesModule {}

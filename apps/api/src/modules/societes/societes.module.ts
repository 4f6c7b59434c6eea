import { Module } from '@nestjs/common';
import { SocieteRegistryService } from './societe-registry.service';

/** Sociétés: where each one's data lives, provisioning and members. */
@Module({ providers: [SocieteRegistryService], exports: [SocieteRegistryService] })
export class SocietesModule {}

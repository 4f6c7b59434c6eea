import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ConnectionOpenerService } from './connection-opener.service';
import { DatabaseConfigService } from './database-config.service';

/** Which databases the app reads: the split ones, or the monolith after a rollback (no code edit). */
export type DataMode = 'monolith' | 'multi-tenant';

export const DATA_MODE = Symbol('DATA_MODE');

/** In monolith mode the whole monolith plays the one société named by DEFAULT_SOCIETE_CODE. */
export type MonolithSociete = { societeId: null; code: string; nom: string };

/**
 * Where the app's data lives in the configured mode: AUTH/SHARED/tenants after the split, or the
 * monolith (DB_MODE=monolith) so that a rollback needs no code edit. It lives beside the connections
 * (not in modules/access) because access, shared and tenant code all ask it, and the one providing
 * DATA_MODE (AccessModule.register) decides the mode. The `monolith` connection opens on first use,
 * and only in monolith mode.
 */
@Injectable()
export class DataModeService {
  constructor(
    @Inject(DATA_MODE) readonly mode: DataMode,
    private readonly configService: DatabaseConfigService,
    private readonly opener: ConnectionOpenerService,
    @InjectDataSource('monolith') private readonly monolithDataSource: DataSource,
  ) {}

  get isMonolith(): boolean {
    return this.mode === 'monolith';
  }

  monolithSociete(): MonolithSociete {
    const config = this.configService.config;
    return { societeId: null, code: config.defaultSocieteCode.toUpperCase(), nom: config.defaultSocieteName };
  }

  /** The monolith's DataSource, connected. */
  monolith(): Promise<DataSource> {
    return this.opener.ready(this.monolithDataSource);
  }
}

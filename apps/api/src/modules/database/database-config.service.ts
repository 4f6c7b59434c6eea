import { Injectable } from '@nestjs/common';
import {
  loadMultiTenantDatabaseConfig,
  MultiTenantDatabaseConfig,
} from '../../database/config/multi-tenant-database.config';

/**
 * Loads and validates the configuration on first use rather than at bootstrap, so that `--help`
 * and commands that need no database still start with a broken .env.
 */
@Injectable()
export class DatabaseConfigService {
  #config?: MultiTenantDatabaseConfig;

  get config(): MultiTenantDatabaseConfig {
    this.#config ??= loadMultiTenantDatabaseConfig();
    return this.#config;
  }

  /** Tests and the demo build the module against an explicit configuration. */
  useConfig(config: MultiTenantDatabaseConfig): void {
    this.#config = config;
  }
}

import { Injectable } from '@nestjs/common';
import { Client } from 'pg';
import { DatabaseAdminService } from '../database-admin.service';
import { DatabaseConfigService } from '../database-config.service';
import { DatabaseLocation, PostgresConnectionFactory } from '../postgres-connection.factory';
import { JournalRepository } from './journal.repository';
import { CreatedDatabase, DatabaseSnapshot, SplitState, TableCopyState } from './journal.types';

/** Everything the journal says, read in one go (status, rollback, verify). */
export type JournalContents = {
  databases: CreatedDatabase[];
  split: SplitState | null;
  tables: TableCopyState[];
  snapshots: DatabaseSnapshot[];
  referenceBaselines: Map<string, number>;
};

/** Opens the journal in AUTH. Reading never creates anything; only `withJournal` ensures the schema. */
@Injectable()
export class MigrationJournalService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
  ) {}

  get authLocation(): DatabaseLocation {
    return { database: this.configService.config.authDatabase };
  }

  /** Runs `work` against the journal, creating its schema if needed (AUTH must exist). */
  async withJournal<T>(work: (journal: JournalRepository) => Promise<T>): Promise<T> {
    return this.connections.withClient(
      this.authLocation,
      async (client) => {
        const journal = new JournalRepository(client);
        await journal.ensureSchema();
        return work(journal);
      },
      { applicationName: 'topsteel-journal' },
    );
  }

  /** The journal's contents, or null when AUTH or its journal does not exist. */
  async read(): Promise<JournalContents | null> {
    if (!(await this.admin.exists(this.authLocation))) return null;
    return this.connections.withClient(this.authLocation, (client) => this.readWith(client), {
      applicationName: 'topsteel-journal',
    });
  }

  /** `read` on a connection to AUTH the caller already holds; null when the journal's schema is absent. */
  async readWith(client: Client): Promise<JournalContents | null> {
    const journal = new JournalRepository(client);
    if (!(await journal.hasSchema())) return null;
    return {
      databases: await journal.createdDatabases(),
      split: await journal.split(),
      tables: await journal.tableStates(),
      snapshots: await journal.snapshots(),
      referenceBaselines: await journal.referenceBaselines(),
    };
  }
}

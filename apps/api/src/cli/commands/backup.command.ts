import { Command, Option } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import { formatBytes, formatDuration } from '../../common/format/format';
import { BackupManifest } from '../../scripts/migration/backup/backup-manifest';
import { BackupCurrentDatabaseService } from '../../scripts/migration/backup-current-database';
import { CliRunContext } from '../runner/command-context';
import { CommandContextFactory } from '../runner/command-context.factory';
import { table } from '../runner/command-output.service';
import { BaseCommandOptions, CommandResult, TopsteelCommand } from '../runner/topsteel-command';

type BackupOptions = BaseCommandOptions & { monolithOnly?: boolean };
export type BackupReport = { path: string; durationMs: number; manifest: BackupManifest };

@Command({
  name: 'backup',
  description:
    'pg_dump -Fc of the monolith (and AUTH/SHARED/tenants when they exist) with a manifest of sizes, sha256, per-table counts and checksums; verified with pg_restore --list',
})
export class BackupCommand extends TopsteelCommand<BackupOptions, BackupReport> {
  protected readonly commandName = 'backup';

  constructor(
    contexts: CommandContextFactory,
    private readonly backups: BackupCurrentDatabaseService,
  ) {
    super(contexts);
  }

  @Option({
    flags: '--monolith-only',
    description: 'back up the monolith only, even when the new databases exist',
  })
  parseMonolithOnly(): boolean {
    return true;
  }

  protected async execute(
    _parameters: string[],
    options: BackupOptions,
    run: CliRunContext,
  ): Promise<CommandResult<BackupReport>> {
    this.backups.readToolVersions();
    const databases = await run.step('find databases', () =>
      this.backups.databasesToBackUp({ monolithOnly: options.monolithOnly }),
    );
    run.info(`Backing up ${databases.map((database) => database.location.database).join(', ')}`);
    const result = await run.step('dump and fingerprint', () =>
      this.backups.backup(databases, { kind: 'pre-migration', run }),
    );
    const report = { path: result.path, durationMs: result.durationMs, manifest: result.manifest };
    const text = [
      `Backup ${result.name} written to ${result.path} in ${formatDuration(result.durationMs)} (verified with pg_restore --list)`,
      '',
      table(
        ['database', 'role', 'file', 'size', 'tables', 'rows', 'sha256'],
        result.manifest.databases.map((entry) => [
          entry.database,
          entry.role,
          entry.file,
          formatBytes(entry.bytes),
          Object.keys(entry.tables).length,
          Object.values(entry.tables).reduce((sum, fingerprint) => sum + fingerprint.rows, 0),
          `${entry.sha256.slice(0, 16)}…`,
        ]),
      ),
    ].join('\n');
    return { exitCode: ExitCode.Success, report, text };
  }
}

/**
 * Every command's --json document, one named type per command. `npm run schemas` generates
 * docs/schemas/<command>.schema.json from these types; `npm run check` fails when they drift.
 */
import { AuditReport } from '../scripts/migration/audit-current-data';
import { CleanReport, CleanRestoreReport } from '../scripts/migration/clean-test-data';
import { DryRunReport } from '../scripts/migration/dry-run-migration';
import { MigrateReport } from '../scripts/migration/migration-service';
import { CutoverRequestReport } from '../scripts/migration/online/cutover-request.service';
import { StatusReport } from '../scripts/migration/status/migration-status.service';
import { MoveReport } from '../scripts/migration/move/move.types';
import { EnsureSocieteResult } from '../modules/societes/societe-provisioning.service';
import { BackupReport } from './commands/backup.command';
import { DemoCommandReport } from './commands/demo.command';
import { OnlineMigrateReport } from './commands/online-split.options';
import { RollbackCommandReport } from './commands/rollback.command';
import { SocieteListReport } from './commands/societe-list.command';
import { VerifyCommandReport } from './commands/verify.command';
import { JsonDocument } from './runner/json-document';

export type StatusDocument = JsonDocument<'status', StatusReport>;
export type AuditDocument = JsonDocument<'audit', AuditReport>;
export type DryRunDocument = JsonDocument<'dry-run', DryRunReport>;
export type BackupDocument = JsonDocument<'backup', BackupReport>;
export type CleanDocument = JsonDocument<'clean', CleanReport | CleanRestoreReport>;
export type MigrateDocument = JsonDocument<'migrate', MigrateReport | OnlineMigrateReport>;
export type VerifyDocument = JsonDocument<'verify', VerifyCommandReport>;
export type RollbackDocument = JsonDocument<'rollback', RollbackCommandReport>;
export type SocieteCreateDocument = JsonDocument<'societe:create', EnsureSocieteResult>;
export type SocieteListDocument = JsonDocument<'societe:list', SocieteListReport>;
export type SocieteMoveDocument = JsonDocument<'societe:move', MoveReport>;
export type CutoverDocument = JsonDocument<'cutover', CutoverRequestReport>;
export type DemoDocument = JsonDocument<'demo', DemoCommandReport>;

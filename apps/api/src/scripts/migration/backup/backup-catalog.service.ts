import { Injectable } from '@nestjs/common';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import { BackupManifest, BackupSummary, MANIFEST_FILE } from './backup-manifest';

/** Finds the backups under BACKUP_DIR. A folder without a manifest is not a backup. */
@Injectable()
export class BackupCatalogService {
  constructor(private readonly configService: DatabaseConfigService) {}

  folder(kind: BackupManifest['kind']): string {
    return join(this.configService.config.backupDir, kind);
  }

  readManifest(path: string): BackupManifest | null {
    try {
      const manifest = JSON.parse(readFileSync(join(path, MANIFEST_FILE), 'utf8')) as BackupManifest;
      return manifest.tool === 'topsteel-migration' && Array.isArray(manifest.databases) ? manifest : null;
    } catch {
      return null;
    }
  }

  /** Backups of one kind, newest first. */
  list(kind: BackupManifest['kind'] = 'pre-migration'): (BackupSummary & { manifest: BackupManifest })[] {
    const root = this.folder(kind);
    if (!existsSync(root)) return [];
    return readdirSync(root, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => ({
        name: entry.name,
        path: join(root, entry.name),
        manifest: this.readManifest(join(root, entry.name)),
      }))
      .filter(
        (entry): entry is { name: string; path: string; manifest: BackupManifest } => entry.manifest !== null,
      )
      .map(({ name, path, manifest }) => ({
        name,
        path,
        kind: manifest.kind,
        createdAt: manifest.createdAt,
        databases: manifest.databases.map((database) => database.database),
        bytes: manifest.databases.reduce((total, database) => total + database.bytes, 0),
        manifest,
      }))
      .sort(
        (left, right) => right.createdAt.localeCompare(left.createdAt) || right.name.localeCompare(left.name),
      );
  }
}

import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RollbackState, RollbackStateFile } from './rollback-state';

const state = (monolith: string, authDatabase?: string): RollbackState => ({
  version: 1,
  runId: 'run',
  startedAt: '2026-01-01T00:00:00.000Z',
  monolith,
  ...(authDatabase ? { authDatabase } : {}),
  backup: null,
  drop: [],
  dropped: [],
  snapshots: [],
  splitStatus: 'complete',
  closedDoors: [],
  preDropBackup: null,
  earlierPreDropBackups: [],
  restore: {
    needed: false,
    newName: `${monolith}_restore`,
    replacedName: null,
    restored: false,
    swapped: false,
  },
});

describe('RollbackStateFile', () => {
  let backupDir: string;
  beforeEach(() => {
    backupDir = mkdtempSync(join(tmpdir(), 'rollback-state-'));
  });
  afterEach(() => rmSync(backupDir, { recursive: true, force: true }));

  const fileOf = (authDatabase: string, monolithDatabase = 'erp') =>
    new RollbackStateFile({ authDatabase, monolithDatabase, backupDir });

  it('keeps one record per installation: another one sharing BACKUP_DIR sees none', () => {
    fileOf('a_auth').write(state('erp', 'a_auth'));
    expect(fileOf('a_auth').read()?.authDatabase).toBe('a_auth');
    expect(fileOf('b_auth').read()).toBeNull();
    expect(statSync(fileOf('a_auth').path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(backupDir, 'rollback'))).toEqual(['in-progress-a_auth.json']);
  });

  it("takes over an earlier version's in-progress.json unless it names another monolith", () => {
    mkdirSync(join(backupDir, 'rollback'), { recursive: true });
    const legacy = join(backupDir, 'rollback', 'in-progress.json');
    writeFileSync(legacy, JSON.stringify(state('other_erp')));
    expect(fileOf('a_auth').read()).toBeNull();
    writeFileSync(legacy, '{}');
    expect(fileOf('a_auth').read()).not.toBeNull();

    writeFileSync(legacy, JSON.stringify(state('erp')));
    const file = fileOf('a_auth');
    const read = file.read();
    expect(read).toMatchObject({ monolith: 'erp', authDatabase: 'a_auth' });
    file.write(read as RollbackState);
    expect(existsSync(legacy)).toBe(false);
    expect(file.read()?.monolith).toBe('erp');
    file.discard();
    expect(file.read()).toBeNull();
  });
});

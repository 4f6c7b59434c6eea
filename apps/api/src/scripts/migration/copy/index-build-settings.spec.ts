import { indexBuildSettings } from './copy-engine';
import { loadSettingsSql } from './table-copier';

describe('index builds of a load transaction', () => {
  it('turns parallel index builds off when other copy workers hold the cores', () => {
    expect(loadSettingsSql(indexBuildSettings(2))).toContain(
      'SET LOCAL max_parallel_maintenance_workers = 0',
    );
    expect(loadSettingsSql(indexBuildSettings(8))).toContain(
      'SET LOCAL max_parallel_maintenance_workers = 0',
    );
  });

  it("keeps the server's setting for a single worker, whose builds have the other cores to themselves", () => {
    expect(loadSettingsSql(indexBuildSettings(1))).not.toContain('max_parallel_maintenance_workers');
  });

  it('always sets the memory and the commit mode, and sends only digits and letters as the memory', () => {
    const sql = loadSettingsSql({ maintenanceWorkMem: "64MB'; DROP TABLE x; --", indexWorkers: 2.7 });
    expect(sql).toBe(
      "SET LOCAL synchronous_commit = off; SET LOCAL maintenance_work_mem = '64MBDROPTABLEx'; SET LOCAL max_parallel_maintenance_workers = 2",
    );
  });
});

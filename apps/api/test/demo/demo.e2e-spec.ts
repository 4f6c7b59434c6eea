import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoReport } from '../../src/demo/demo.service';
import { parseJson, runNpmScript } from '../../../../test/harness/cli';

type DemoDocument = { demo: DemoReport; exitCode: number };

/**
 * The README's first command, as a new user runs it: an embedded PostgreSQL (no .env in a fresh
 * clone), a generated monolith, the whole guide. Run in a temporary folder so tests stay isolated.
 */
describe('npm run demo', () => {
  const parent = mkdtempSync(join(tmpdir(), 'topsteel-demo-'));
  // Run as root, the embedded server is the postgres OS user: it must be able to reach the folder.
  chmodSync(parent, 0o755);
  const folder = join(parent, 'demo');
  // Nothing from the test run may leak in: the demo must work with PG* and DB_* unset.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(PG|DB_|TOPSTEEL_TEST_|TEST_DATABASE_URL)/.test(name)),
  );

  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  it('runs the whole guide on an embedded server and ends with exit 0', async () => {
    const result = await runNpmScript('demo', ['--dir', folder, '--json'], env);
    expect([result.code, result.code === 0 ? '' : result.stderr]).toEqual([0, '']);
    const report = parseJson<DemoDocument>(result).demo;
    expect(report.server.kind).toBe('embedded');
    expect(report.monolithGenerated).toBe(true);
    expect(report.steps.map((step) => [step.name, step.exitCode])).toEqual(
      report.steps.map((step) => [step.name, 0]),
    );
    expect(report.steps).toHaveLength(8);
    expect(existsSync(join(folder, 'backups', 'pre-migration'))).toBe(true);
    expect(report.locations.auditReport).not.toBeNull();
    expect(result.stderr).toContain('Split complete');
  }, 180000);

  it('runs again on the same data: every step is idempotent', async () => {
    const result = await runNpmScript('demo', ['--dir', folder], env);
    expect([result.code, result.code === 0 ? '' : result.stderr]).toEqual([0, '']);
    expect(result.stderr).toContain('exists already');
    expect(result.stderr).toContain('Nothing to do');
  }, 180000);

  it('--clean removes its folder', async () => {
    const result = await runNpmScript('demo', ['--dir', folder, '--clean'], env);
    expect(result.code).toBe(0);
    expect(existsSync(folder)).toBe(false);
  });
});

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseJson, runCli, runNpmScript } from '../../../../test/harness/cli';
import { TestEnvironment } from '../../../../test/harness/test-environment';

describe('--json and --report', () => {
  const environment = TestEnvironment.create('jsonreport');

  beforeAll(() => environment.createMonolith());
  afterAll(() => environment.cleanup());

  it('writes the same versioned document to --report FILE, readable by its owner only', async () => {
    const file = join(environment.root, 'status.json');
    const result = await runNpmScript('db:status', ['--json', '--report', file], environment.env());
    expect(result.code).toBe(0);
    const printed = parseJson<{ schemaVersion: number; command: string }>(result);
    expect(printed).toMatchObject({ schemaVersion: 1, command: 'status' });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(printed);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('writes the report of a failed run too, and without --json prints the human report', async () => {
    const file = join(environment.root, 'failed.json');
    const result = await runCli(['status', '--report', file], environment.env({ DB_PORT: '1' }));
    expect(result.code).not.toBe(0);
    expect(result.stdout).not.toContain('"schemaVersion"');
    const written = JSON.parse(readFileSync(file, 'utf8')) as { exitCode: number; error: { code: string } };
    expect(written.exitCode).toBe(result.code);
    expect(written.error.code).toBeTruthy();
  });

  it('refuses an unwritable --report folder with exit 2 before doing anything', async () => {
    const result = await runCli(
      ['migrate', '--json', '--report', '/nonexistent-folder/report.json'],
      environment.env(),
    );
    expect(result.code).toBe(2);
    expect(parseJson<{ error: { message: string } }>(result).error.message).toContain('/nonexistent-folder');
    expect(await environment.databaseExists(environment.names.auth)).toBe(false);
  });
});

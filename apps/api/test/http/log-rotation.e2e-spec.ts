import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { RunningApp } from '../../../../test/harness/http-app';
import { TestEnvironment } from '../../../../test/harness/test-environment';

describe('the app log and logrotate', () => {
  const environment = TestEnvironment.create('logrotate');
  let app: RunningApp;

  beforeAll(async () => {
    app = await RunningApp.start(environment.env());
  });
  afterAll(async () => {
    await app?.stop();
    await environment.cleanup();
  });

  it('opens a new application.log on SIGHUP after the old one was moved away', async () => {
    const log = join(environment.logDir, 'application.log');
    await app.request('/health');
    expect(existsSync(log)).toBe(true);
    renameSync(log, `${log}.1`);
    app.child.kill('SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await app.request('/health');
    // The request line is written when the response closes, which can come just after the client read it.
    const lines = await linesOnceLogged(log, '/health');
    expect(lines.some((line) => line.includes('log reopened'))).toBe(true);
    expect(lines.some((line) => line.includes('/health'))).toBe(true);
    expect(readFileSync(`${log}.1`, 'utf8')).not.toContain('log reopened');
    expect(app.child.exitCode).toBeNull();
  });
});

async function linesOnceLogged(log: string, text: string): Promise<string[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const lines = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    if (lines.some((line) => line.includes(text)) || Date.now() > deadline) return lines;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

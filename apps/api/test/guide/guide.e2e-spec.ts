import { ADMIN_ACCOUNT } from '@topsteel/legacy-fixture';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/common/embedded/embedded-postgres.server';
import { CliResult, REPOSITORY_ROOT } from '../../../../test/harness/cli';
import { TEST_JWT_SECRET } from '../../../../test/harness/http-app';
import { TestEnvironment } from '../../../../test/harness/test-environment';

type Step =
  | { kind: 'command'; line: string; expectedExit: number; background: boolean }
  | { kind: 'sql'; base: 'auth' | 'shared' | 'tenant' | 'monolith'; statement: string; mustBeZero: boolean };

const GUIDE = join(REPOSITORY_ROOT, 'docs', 'GUIDE-MIGRATION.md');

/** The guide's executable content, in order: bash lines (with their French annotations) and SQL statements. */
function guideSteps(markdown: string): Step[] {
  const steps: Step[] = [];
  for (const block of markdown.matchAll(/```(bash|sql)\n([\s\S]*?)```/g)) {
    const [, language, body] = block;
    if (language === 'bash') {
      for (const raw of body
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line && !line.startsWith('#'))) {
        const exit = /#\s*\(code de sortie attendu : (\d+)\)/.exec(raw);
        steps.push({
          kind: 'command',
          line: raw.replace(/\s+#.*$/, ''),
          expectedExit: exit ? Number(exit[1]) : 0,
          background: /#\s*\(laisse tourner l'application\)/.test(raw),
        });
      }
      continue;
    }
    const base = /^-- base: (auth|shared|tenant|monolith)$/m.exec(body)?.[1] as Extract<
      Step,
      { kind: 'sql' }
    >['base'];
    let mustBeZero = false;
    for (const line of body.split('\n')) {
      if (/^--.*doit renvoyer 0/.test(line)) mustBeZero = true;
      else if (line.trim() && !line.startsWith('--')) {
        steps.push({ kind: 'sql', base, statement: line.trim(), mustBeZero });
        mustBeZero = false;
      }
    }
  }
  return steps;
}

function shell(line: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', line], { cwd: REPOSITORY_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Starts a documented long-running command, waits until the app answers /health, then stops it (its whole process group). */
async function background(line: string, env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn('sh', ['-c', line], { cwd: REPOSITORY_ROOT, env, stdio: 'ignore', detached: true });
  let status = 0;
  for (let attempt = 0; attempt < 200 && status === 0; attempt++) {
    try {
      status = (await fetch(`http://127.0.0.1:${env.PORT}/health`)).status;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const closed = new Promise((resolve) => child.once('close', resolve));
  process.kill(-(child.pid as number), 'SIGTERM');
  await closed;
  return status;
}

describe('docs/GUIDE-MIGRATION.md, run as written', () => {
  const environment = TestEnvironment.create('guide');
  const steps = guideSteps(readFileSync(GUIDE, 'utf8'));
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await environment.createMonolith();
    env = environment.env({
      JWT_SECRET: TEST_JWT_SECRET,
      MOT_DE_PASSE_ADMIN: ADMIN_ACCOUNT.password,
      DB_MODE: 'multi-tenant',
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
    });
  });
  afterAll(() => environment.cleanup());

  it('documents the whole procedure', () => {
    const scripts = steps.flatMap((step) =>
      step.kind === 'command' ? [/npm run (?:-s )?(\S+)/.exec(step.line)?.[1]] : [],
    );
    expect(scripts).toEqual([
      'db:backup',
      'db:audit',
      'db:clean',
      'db:clean:execute',
      'db:migration:dry-run',
      'db:migrate',
      'start',
      'db:verify',
      'db:verify',
      'db:status',
      'db:societe:create',
      'db:societe:list',
      'db:migrate',
      'db:rollback:validate',
      'db:rollback',
    ]);
  });

  it('runs every documented command and query in order, with the documented outcome', async () => {
    const database = {
      auth: environment.names.auth,
      shared: environment.names.shared,
      tenant: environment.names.defaultTenant,
      monolith: environment.names.monolith,
    };
    const seen = new Set<string>();
    for (const step of steps) {
      if (step.kind === 'sql') {
        const rows = await environment.query(database[step.base], step.statement);
        if (step.mustBeZero)
          expect([step.statement, Number(Object.values(rows[0])[0])]).toEqual([step.statement, 0]);
        continue;
      }
      if (step.background) {
        expect([step.line, await background(step.line, env)]).toEqual([step.line, 200]);
        continue;
      }
      const result = await shell(step.line, env);
      expect([step.line, result.code, result.code === step.expectedExit ? '' : result.stderr]).toEqual([
        step.line,
        step.expectedExit,
        '',
      ]);
      const script = /npm run (?:-s )?(\S+)/.exec(step.line)?.[1] ?? '';
      // What each step promises, checked on the databases and files it touched.
      if (script === 'db:backup')
        expect(
          readdirSync(join(environment.backupDir, 'pre-migration')).filter((name) => !name.startsWith('.')),
        ).toHaveLength(1);
      if (script === 'db:audit')
        expect(readdirSync(environment.logDir).some((name) => name.startsWith('audit-'))).toBe(true);
      if (script === 'db:clean:execute')
        expect(await environment.query(environment.names.monolith, 'SELECT 1 FROM test_orders')).toEqual([]);
      if (script === 'db:migrate' && !seen.has(script)) {
        const [split] = await environment.query<{ status: string }>(
          environment.names.auth,
          'SELECT status FROM migration_journal.split',
        );
        expect(split.status).toBe('complete');
      }
      if (script === 'db:migrate' && seen.has(script))
        expect(result.stdout).toMatch(/Nothing to do|"nothingToDo": true/);
      if (script === 'db:societe:create')
        expect(await environment.databaseExists(`${environment.prefix}_acme`)).toBe(true);
      if (script === 'db:rollback') {
        for (const name of [
          environment.names.auth,
          environment.names.shared,
          environment.names.defaultTenant,
          `${environment.prefix}_acme`,
        ]) {
          expect([name, await environment.databaseExists(name)]).toEqual([name, false]);
        }
      }
      seen.add(script);
    }
  }, 300000);
});

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { ValidateFunction } from 'ajv';
import {
  CliResult,
  collectRun,
  parseJson,
  REPOSITORY_ROOT,
  runNpmScript,
} from '../../../../test/harness/cli';
import { TestEnvironment } from '../../../../test/harness/test-environment';

type Document = { schemaVersion: number; command: string; exitCode: number; error?: { code: string } };

const ajv = new Ajv({ allErrors: true });
const validators = new Map<string, ValidateFunction>();

/** The published schema of a command, docs/schemas/<command>.schema.json, compiled once. */
function schemaOf(command: string): ValidateFunction {
  const file = join(REPOSITORY_ROOT, 'docs', 'schemas', `${command.replace(':', '-')}.schema.json`);
  let validate = validators.get(command);
  if (!validate) {
    validate = ajv.compile(JSON.parse(readFileSync(file, 'utf8')) as object);
    validators.set(command, validate);
  }
  return validate;
}

/** The document parses with a bare JSON.parse and validates against its command's schema. */
function expectValid(result: CliResult, command: string, exitCode: number): Document {
  const document = parseJson<Document>(result);
  expect([document.command, document.exitCode, result.code]).toEqual([command, exitCode, exitCode]);
  expect(document.schemaVersion).toBe(1);
  const validate = schemaOf(command);
  expect([validate(document), ajv.errorsText(validate.errors)]).toEqual([true, 'No errors']);
  return document;
}

/** A shell pipeline, as a CI step writes it: the command's stdout into a JSON reader. */
function pipeline(command: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  const reader = `node -e 'JSON.parse(require("fs").readFileSync(0)); console.log("parsed")'`;
  return collectRun(
    spawn('sh', ['-c', `${command} | ${reader}`], {
      cwd: REPOSITORY_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

describe('every --json document validates against docs/schemas/', () => {
  const environment = TestEnvironment.create('jsonschema');
  const run = (script: string, args: string[], env = environment.env()): Promise<CliResult> =>
    runNpmScript(script, [...args, '--json'], env);

  beforeAll(() => environment.createMonolith());
  afterAll(() => environment.cleanup());

  it('status, audit, dry-run, backup and clean on the monolith', async () => {
    expectValid(await run('db:status', []), 'status', 0);
    expectValid(await run('db:audit', []), 'audit', 0);
    expectValid(await run('db:migration:dry-run', []), 'dry-run', 0);
    expectValid(await run('db:backup', []), 'backup', 0);
    expectValid(await run('db:clean', []), 'clean', 0);
  }, 240000);

  it('migrate, verify, societe:create, societe:list, status and rollback --validate after the split', async () => {
    expectValid(await run('db:migrate', []), 'migrate', 0);
    expectValid(await run('db:verify', []), 'verify', 0);
    expectValid(await run('db:societe:create', ['JSONCO', 'Json Co']), 'societe:create', 0);
    expectValid(await run('db:societe:list', []), 'societe:list', 0);
    expectValid(await run('db:status', []), 'status', 0);
    // Its verdict depends on the société created since the split; the document's shape does not.
    const validation = await run('db:rollback:validate', []);
    expectValid(validation, 'rollback', validation.code ?? -1);
  }, 300000);

  it('a failure document: cutover with no online split, and an unreachable server', async () => {
    const cutover = await run('db:cutover', []);
    expectValid(cutover, 'cutover', cutover.code ?? -1);
    expect(cutover.code).not.toBe(0);
    const unreachable = await run(
      'db:status',
      [],
      environment.env({ DB_PORT: '1', DB_CONNECT_RETRY_TIMEOUT: '0' }),
    );
    expect(expectValid(unreachable, 'status', unreachable.code ?? -1).error?.code).toBeTruthy();
    expect(unreachable.code).not.toBe(0);
  }, 120000);

  it('demo --clean', async () => {
    const folder = join(environment.root, 'demo');
    mkdirSync(folder, { recursive: true });
    expectValid(await run('demo', ['--dir', folder, '--clean']), 'demo', 0);
  }, 60000);

  it('pipes into a JSON reader through npm run -s and through the topsteel bin', async () => {
    const env = environment.env();
    for (const command of ['npm run -s db:status -- --json', 'npx --no-install topsteel status --json']) {
      const result = await pipeline(command, env);
      expect([command, result.code, result.stdout.trim(), result.stderr.includes('SyntaxError')]).toEqual([
        command,
        0,
        'parsed',
        false,
      ]);
    }
    const bin = await collectRun(
      spawn('npx', ['--no-install', 'topsteel', 'societe:list', '--json'], {
        cwd: REPOSITORY_ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expectValid(bin, 'societe:list', 0);
  }, 120000);
});

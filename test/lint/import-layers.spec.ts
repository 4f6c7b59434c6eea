import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * The lint gate's import rules (eslint.config.mjs), checked through ESLint's Node API on snippets
 * placed at paths in the tree: an upward import is an error, a downward one is not, and tenant
 * isolation still holds where the layer rules also apply.
 *
 * ESLint loads its flat config with a dynamic import(), which Jest's CommonJS sandbox does not
 * support, so the linting runs in a plain Node child. Type-aware rules are switched off there: the
 * import rules do not need types, and building a TypeScript program per snippet would be slow.
 */
const ROOT = path.resolve(__dirname, '../..');

type Case = { file: string; code: string };
type Message = { ruleId: string | null; message: string };

function lint(cases: Case[]): Message[][] {
  const script = `
    import { readFileSync } from 'node:fs';
    import { ESLint } from 'eslint';
    import tseslint from 'typescript-eslint';
    const cases = JSON.parse(readFileSync(0, 'utf8'));
    const eslint = new ESLint({ overrideConfig: [tseslint.configs.disableTypeChecked] });
    const out = [];
    for (const { file, code } of cases) {
      const [result] = await eslint.lintText(code, { filePath: file });
      out.push(result.messages.map(({ ruleId, message }) => ({ ruleId, message })));
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    input: JSON.stringify(cases),
    encoding: 'utf8',
  });
  return JSON.parse(stdout) as Message[][];
}

const importing = (file: string, from: string, kind: 'value' | 'type' = 'value'): Case => ({
  file: `apps/api/src/${file}`,
  code: `import ${kind === 'type' ? 'type ' : ''}{ X } from '${from}';\n\nexport type Y = typeof X;\n`,
});

const RESTRICTED = '@typescript-eslint/no-restricted-imports';

/** Which rule spoke, and which of the two import rules the message belongs to. */
const reported = (messages: Message[]): string[] =>
  messages.map(({ ruleId, message }) => {
    const kind = / Layers: /.test(message)
      ? 'layers'
      : /TenantAccessService/.test(message)
        ? 'tenant isolation'
        : message;
    return `${ruleId}: ${kind}`;
  });

describe('lint: imports point down the layers', () => {
  const upward: [string, Case][] = [
    [
      'common -> modules/database',
      importing('common/run/x.ts', '../../modules/database/journal/journal.types'),
    ],
    ['common -> cli', importing('common/x.ts', '../cli/runner/topsteel-command')],
    [
      'database -> modules',
      importing('database/entities/x.ts', '../../modules/shared/shared-materials.service'),
    ],
    ['modules/database -> modules/access', importing('modules/database/x.ts', '../access/access.exception')],
    ['modules/database/journal -> societes', importing('modules/database/journal/x.ts', '../../societes/x')],
    [
      'modules/shared -> scripts',
      importing('modules/shared/x.ts', '../../scripts/migration/plan/plan-resolver'),
    ],
    ['modules/societes -> http', importing('modules/societes/x.ts', '../../http/app-config')],
    [
      'scripts/migration -> cli',
      importing('scripts/migration/plan/x.ts', '../../../cli/runner/command-context'),
    ],
    ['scripts/migration -> entry file', importing('scripts/migration/x.ts', '../../cli.module')],
  ];
  const downward: [string, Case][] = [
    ['common -> common', importing('common/run/x.ts', '../exceptions/topsteel.exception')],
    [
      'modules/database -> database',
      importing('modules/database/x.ts', '../../database/migrations/migration-sets'),
    ],
    [
      'modules/access -> modules/tenant (sibling)',
      importing('modules/access/x.ts', '../tenant/tenant-records.service'),
    ],
    ['scripts/migration -> modules', importing('scripts/migration/plan/x.ts', '../../../modules/database/x')],
    ['cli -> scripts/migration', importing('cli/commands/x.ts', '../../scripts/migration/migration-service')],
    ['demo -> common', importing('demo/x.ts', '../common/run/run-context')],
  ];

  let results: Message[][];
  beforeAll(() => {
    results = lint([...upward, ...downward].map(([, c]) => c));
  });

  it.each(upward.map(([name], i) => [name, i] as const))('refuses an upward import: %s', (_name, i) => {
    expect(reported(results[i])).toEqual([`${RESTRICTED}: layers`]);
  });

  it.each(downward.map(([name], i) => [name, upward.length + i] as const))('allows %s', (_name, i) => {
    expect(results[i]).toEqual([]);
  });
});

describe('lint: tenant isolation still holds beside the layer rules', () => {
  const cases: Case[] = [
    importing('modules/shared/x.ts', '../database/tenant-data-source.provider'),
    importing('modules/shared/x.ts', '../database/tenant-data-source.provider', 'type'),
    importing('http/tenant/x.ts', '../../modules/database/tenant-data-source.provider'),
    importing('modules/access/tenant-access.service.ts', '../database/tenant-data-source.provider'),
    importing('modules/access/tenant-access.service.ts', '../../cli/runner/command-context'),
  ];

  let results: Message[][];
  beforeAll(() => {
    results = lint(cases);
  });

  it('refuses a value import of the tenant DataSource provider in a domain module', () => {
    expect(reported(results[0])).toEqual([`${RESTRICTED}: tenant isolation`]);
  });

  it('allows a type-only import of it', () => {
    expect(results[1]).toEqual([]);
  });

  it('refuses it in the HTTP layer', () => {
    expect(reported(results[2])).toEqual([`${RESTRICTED}: tenant isolation`]);
  });

  it('lets TenantAccessService itself import it, and still holds it to the layers', () => {
    expect(results[3]).toEqual([]);
    expect(reported(results[4])).toEqual([`${RESTRICTED}: layers`]);
  });
});

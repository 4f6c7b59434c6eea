// @ts-check
import { readdirSync } from 'node:fs';
import path from 'node:path';
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const SRC = 'apps/api/src';

// Tenant isolation: app code reaches tenant data only through TenantAccessService, which checks
// membership first. Type-only imports (TenantLocation, TenantPoolStats) stay allowed.
const TENANT_ISOLATION = {
  group: ['**/tenant-data-source.provider'],
  allowTypeImports: true,
  message: 'Use TenantAccessService: it checks membership before handing out a tenant DataSource.',
};
const TENANT_ISOLATED = ['modules/access', 'modules/access-check', 'modules/shared', 'modules/tenant'];
const TENANT_GATE = 'modules/access/tenant-access.service.ts';

// Layers (docs/architecture.md): common <- database, modules/database <- domain <- cli, http, demo
// and the entry files. Imports only point down. Each folder lists what it must not import; the
// patterns are the relative paths from a file at each depth of that folder, so they match exactly
// the folders meant (a migration folder named tenant/ is not modules/tenant/).
const TOP = ['cli', 'http', 'demo', 'main', 'cli.module', 'app.module'];
// Every folder under modules/ but database/ is a domain module, including ones added later.
const DOMAIN_MODULES = readdirSync(path.join(import.meta.dirname, SRC, 'modules'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== 'database')
  .map((entry) => `modules/${entry.name}`);
const LAYERS = [
  { folder: 'common', forbidden: ['database', 'modules', 'scripts', ...TOP] },
  { folder: 'database', forbidden: ['modules', 'scripts', ...TOP] },
  { folder: 'modules/database', forbidden: [...DOMAIN_MODULES, 'scripts', ...TOP] },
  ...DOMAIN_MODULES.map((folder) => ({ folder, forbidden: ['scripts', ...TOP] })),
  { folder: 'scripts', forbidden: TOP },
];
const MAX_DEPTH = 6;

const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The patterns for a file `depth` folders below `folder` (depth 0: directly in it). */
function layerPatterns(folder, forbidden, depth) {
  return forbidden.map((target) => {
    const relative = '../'.repeat(depth) + path.posix.relative(folder, target);
    return {
      regex: `^${escapeRegex(relative)}(/|\\.js$|$)`,
      message: `Layers: ${folder}/ must not import ${target} (imports point down: common <- database <- domain <- cli, http, demo; see docs/architecture.md).`,
    };
  });
}

function restrictImports(files, patterns, ignores = []) {
  return {
    files,
    ignores,
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
  };
}

// In flat config a later object setting the same rule for a file replaces the earlier one, so each
// file gets one object carrying every pattern that applies to it: its layer's and, where it holds,
// tenant isolation.
const importRules = [
  ...LAYERS.flatMap(({ folder, forbidden }) =>
    Array.from({ length: MAX_DEPTH }, (_, depth) => {
      const tenant = TENANT_ISOLATED.includes(folder) ? [TENANT_ISOLATION] : [];
      const files = [`${SRC}/${folder}/${'*/'.repeat(depth)}*.ts`];
      return restrictImports(files, [...layerPatterns(folder, forbidden, depth), ...tenant]);
    }),
  ),
  restrictImports([`${SRC}/${TENANT_GATE}`], layerPatterns('modules/access', ['scripts', ...TOP], 0)),
  restrictImports(
    [`${SRC}/http/**/*.ts`, `${SRC}/*.ts`],
    [TENANT_ISOLATION],
    [`${SRC}/cli.ts`, `${SRC}/cli.module.ts`],
  ),
];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'coverage/**',
      'backups/**',
      'logs/**',
      '.demo/**',
      'bench/**',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-definitions': ['error', 'type'],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      'no-console': 'error',
    },
  },
  ...importRules,
  {
    // No god methods, no god files (DESIGN.md section 5). Data tables are exempt: the schema
    // migrations and the legacy column catalogue are long because the schema is.
    files: ['apps/api/src/**/*.ts'],
    ignores: ['apps/api/src/database/migrations/**', 'apps/api/src/scripts/migration/plan/legacy-columns.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      'max-lines': ['error', { max: 400 }],
    },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
);

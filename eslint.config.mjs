// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

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
  {
    // Tenant isolation: app code reaches tenant data only through TenantAccessService, which checks
    // membership first. Type-only imports (TenantLocation, TenantPoolStats) stay allowed.
    files: [
      'apps/api/src/http/**/*.ts',
      'apps/api/src/modules/{access,access-check,shared,tenant}/**/*.ts',
      'apps/api/src/*.ts',
    ],
    ignores: [
      'apps/api/src/modules/access/tenant-access.service.ts',
      'apps/api/src/cli.ts',
      'apps/api/src/cli.module.ts',
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/tenant-data-source.provider'],
              allowTypeImports: true,
              message:
                'Use TenantAccessService: it checks membership before handing out a tenant DataSource.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
);

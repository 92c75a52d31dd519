import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'infra/build/**', 'tools/**/bin/**', 'tools/**/obj/**', '.tools/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read settings through shared/config, not process.env.',
        },
      ],
    },
  },
  {
    files: ['shared/config/**/*.ts', 'test/**/*.ts', 'sandbox/**/*.ts', 'cli/**/*.ts', 'compose/**/*.ts', 'bin/**', '.ci/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['functions/**/*.ts', 'worker/**/*.ts', 'shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/sandbox/**', '**/cli/**'] }],
    },
  },
  {
    // The domain is pure: no SDK, no I/O (time is passed in). Listed after the block above so
    // that its stricter list wins for these files.
    files: ['shared/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/sandbox/**',
            '**/cli/**',
            '@azure/*',
            '@microsoft/*',
            'node:fs*',
            'node:http*',
            'node:net',
            'node:child_process',
            'fs',
            'http',
            'https',
          ],
        },
      ],
    },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);

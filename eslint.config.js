// ESLint for the server, the dashboard, the tests and the benchmark: typescript-eslint's type-aware
// recommended rules, each file typed by the nearest tsconfig.json that includes it (the project
// service: tsconfig.json, src/web/tsconfig.json, bench/tsconfig.json). Layout and quotes are
// Prettier's (.prettierrc.json, `prettier --check` in `npm run lint`), hence eslint-config-prettier last.
//
// typescript-eslint loads the TypeScript compiler API, which TypeScript 7 (the native compiler that
// builds and type-checks the project, `typescript-native` in package.json) does not have: the
// `typescript` package is 6.0, the last JavaScript compiler, whose type system 7.0 ports unchanged.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'data/', 'test-output/', 'coverage/']),
  {
    files: ['**/*.{js,mjs,ts,tsx}'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        projectService: {
          // Scripts no tsconfig.json includes: this file, the bin shim, the multi-instance fixture.
          allowDefaultProject: ['eslint.config.js', 'bin/cron-agents.js', 'test/fixtures/*.mjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Fastify plugins and handlers, Kysely's migration provider and the implementations of
      // Promise-returning interfaces (Store, AgentRunner) are async by contract, awaiting or not:
      // `async` turns a synchronous throw into the rejection their callers handle.
      '@typescript-eslint/require-await': 'off',
      // `const { secret: _secret, ...rest } = row` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    // The size rules of the source (tests and benchmarks may be longer): a file over 400 lines or a
    // function over 80 is a sign that two ideas share one home. Migrations are declarative tables.
    files: ['src/**/*.{ts,tsx}'],
    ignores: ['src/store/migrations/**'],
    rules: {
      'max-lines': ['error', { max: 400 }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['src/web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
    rules: {
      // A button or form handler may start a request: the dashboard's actions and forms catch
      // and show their own errors, so the promise a handler returns is never left to reject.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
    },
  },
  {
    // Plain JavaScript: JSON, SQL rows and process messages are `any` there by nature; checkJs
    // (bench/tsconfig.json) checks what the code does type.
    files: ['**/*.{js,mjs}'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  prettier,
);

// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** The layer rules of ../shared/DESIGN.md: what each folder may import. */
const layers = [
  {
    files: ['shared/**/*.ts'],
    message: 'shared/ is platform-neutral: no Node, DOM, React, Electron, or main/renderer code.',
    paths: nodeBuiltins,
    patterns: [
      'node:*',
      'electron',
      'react',
      'react-dom',
      '**/main/**',
      '**/renderer/**',
      'better-sqlite3',
      'mqtt',
      'pino',
    ],
  },
  {
    files: ['main/engine/**/*.ts'],
    message: 'main/engine may import shared/ and Node libraries only (never electron, renderer, cli, server).',
    paths: ['electron'],
    patterns: ['electron', 'react', '**/renderer/**', '**/cli/**', '**/server/**', '**/electron/**'],
  },
  {
    files: ['main/server/**/*.ts'],
    message: 'main/server may import main/engine, shared/ and Node libraries only (never electron, renderer, cli).',
    paths: ['electron'],
    patterns: ['electron', 'react', '**/renderer/**', '**/cli/**', '**/electron/**'],
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    message: 'renderer/ may import shared/ and browser libraries only (no Node, main/ or electron).',
    paths: [...nodeBuiltins, 'electron'],
    patterns: ['node:*', 'electron', '**/main/**', 'better-sqlite3', 'mqtt', 'pino', 'ws'],
  },
  {
    files: ['main/electron/**/*.ts'],
    ignores: ['main/electron/engineProcess.ts'],
    message:
      'main/electron may import electron, shared/ and Node only; the engine and server only in engineProcess.ts (the utility process).',
    paths: [],
    patterns: ['react', '**/renderer/**', '**/cli/**', '**/engine/**', '**/server/**'],
  },
  {
    files: ['main/electron/engineProcess.ts'],
    message: 'the engine process runs plain Node: no electron at run time, no renderer or CLI.',
    paths: ['electron'],
    patterns: ['react', '**/renderer/**', '**/cli/**'],
    allowTypeImports: true,
  },
  {
    files: ['main/electron/preload.cts'],
    message: 'a sandboxed preload may require only electron at run time (types from shared/ are fine).',
    paths: [],
    patterns: ['*', '!electron'],
    allowTypeImports: true,
  },
  {
    files: ['main/cli/**/*.ts'],
    message: 'main/cli may import main/engine, main/server and shared/ only.',
    paths: ['electron'],
    patterns: ['electron', 'react', '**/renderer/**', '**/electron/**'],
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'data/**', 'test-artifacts/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
    },
  },
  {
    files: ['renderer/**/*.tsx', 'renderer/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
  ...layers.map((layer) => ({
    files: layer.files,
    ...(layer.ignores ? { ignores: layer.ignores } : {}),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: layer.paths.map((name) => ({
            name,
            message: layer.message,
            ...(layer.allowTypeImports ? { allowTypeImports: true } : {}),
          })),
          patterns: [
            {
              group: layer.patterns,
              message: layer.message,
              ...(layer.allowTypeImports ? { allowTypeImports: true } : {}),
            },
          ],
        },
      ],
    },
  })),
  prettier,
);

import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nativePackages = ['better-sqlite3', 'koffi', 'sharp', 'onnxruntime-node'];

/** Native packages other than `allowed` may not be imported (types of them still may). */
const onlyNative = (allowed) =>
  nativePackages
    .filter((name) => !allowed.includes(name))
    .map((name) => ({ name, allowTypeImports: true, message: `${name} is owned by another service: call that service instead.` }));

const noElectron = { name: 'electron', message: 'Only src-main/app may import electron (DESIGN.md: services never import electron).' };

/** Services sit below the transports: they never reach up into handlers, the server or the Electron app. */
const servicesStayBelowTransports = {
  group: ['**/handlers/**', '**/server/**', '**/app/**', '**/src-renderer/**'],
  message: 'Services are plain classes used by the transports, never the other way round.',
};

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', '.tmp/**', '.gpu/**', '.gl/**'] },
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    files: ['src-renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src-main/contract', '**/src-main/contract/*'],
              allowTypeImports: true,
              message: 'The renderer imports only types from the contract.',
            },
            {
              group: ['**/src-main/*', '!**/src-main/contract', '**/src-main/*/**', '!**/src-main/contract/*'],
              message: 'The renderer talks to the main process through the contract only.',
            },
          ],
          paths: [noElectron, ...nativePackages.map((name) => ({ name, message: 'No native packages in the renderer.' }))],
        },
      ],
    },
  },
  {
    files: ['src-main/contract/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [noElectron, ...nativePackages.map((name) => ({ name, message: 'The contract is plain types and schemas.' }))],
          patterns: [
            { group: ['node:*', 'fs', 'path', 'os'], message: 'The contract runs in the renderer too: no Node modules.' },
            { group: ['**/services/**', '**/handlers/**', '**/app/**', '**/server/**'], message: 'The contract depends on nothing.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/services/project/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [noElectron, ...onlyNative(['better-sqlite3'])], patterns: [servicesStayBelowTransports] },
      ],
    },
  },
  {
    files: ['src-main/services/slides/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [noElectron, ...onlyNative(['koffi', 'sharp'])], patterns: [servicesStayBelowTransports] },
      ],
    },
  },
  {
    // Sessions run in a worker thread of this service; tests load onnxruntime-node directly.
    files: ['src-main/services/models/runtime/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [noElectron, ...onlyNative(['onnxruntime-node'])], patterns: [servicesStayBelowTransports] },
      ],
    },
  },
  {
    files: ['src-main/services/**'],
    ignores: ['src-main/services/project/**', 'src-main/services/slides/**', 'src-main/services/models/runtime/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [noElectron, ...onlyNative([])], patterns: [servicesStayBelowTransports] },
      ],
    },
  },
  {
    files: ['src-main/handlers/**', 'src-main/server/**'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: [noElectron, ...onlyNative([])] }] },
  },
);

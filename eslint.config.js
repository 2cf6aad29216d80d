import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Each library stays in its layer (../shared/STYLE.md 1). */
const layerRules = (allowed) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: [
        { name: 'execa', message: 'Only src/host runs commands (Host.run).' },
        { name: 'node-ssh', message: 'Only src/host speaks SSH.' },
        { name: 'dockerode', message: 'Only src/engine talks to engines.' },
        { name: '@inquirer/prompts', message: 'Only src/cli/prompts.ts prompts.' },
        { name: 'node:child_process', message: 'Commands run through Host.run.' },
      ].filter((rule) => !allowed.includes(rule.name)),
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.bench/', '.scratch/', '.vitest/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs', 'bench/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/require-await': 'off',
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='process'][callee.property.name='exit']",
          message: 'Only the CLI entry sets the exit code (process.exitCode).',
        },
      ],
      ...layerRules([]),
    },
  },
  { files: ['src/host/**'], rules: layerRules(['execa', 'node-ssh']) },
  { files: ['src/engine/**'], rules: layerRules(['dockerode']) },
  { files: ['src/cli/prompts.ts'], rules: layerRules(['@inquirer/prompts']) },
  // Tests check what the engine did through its own API, not through the code under test.
  { files: ['test/**', 'bench/**', 'scripts/**'], rules: layerRules(['execa', 'node:child_process', 'dockerode']) },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);

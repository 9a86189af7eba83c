// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test/e2e/**', '*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.strict,
  {
    // The extension's own logic stays free of `vscode`, so its unit tests run with plain node.
    files: ['src/{settings,protocol,errors,preview,threads,clarify,fixreport,testCommand,warnings}.ts', 'test/unit/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'vscode', message: 'Keep this module free of vscode: it is unit-tested with node --test.' },
          { name: 'vscode-languageclient/node', message: 'Keep this module free of vscode: it is unit-tested with node --test.' },
        ],
      }],
    },
  },
);

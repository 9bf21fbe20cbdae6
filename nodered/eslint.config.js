'use strict';

const js = require('@eslint/js');
const globals = require('globals');

module.exports = [
    { ignores: ['node_modules/**'] },
    js.configs.recommended,
    {
        files: ['**/*.js'],
        languageOptions: {
            ecmaVersion: 2022,
            sourceType: 'commonjs',
            globals: { ...globals.node },
        },
        rules: {
            'no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_|^removed$' }],
            eqeqeq: ['error', 'always'],
            'prefer-const': 'error',
            'no-var': 'error',
            strict: ['error', 'global'],
            curly: 'error',
        },
    },
    {
        // The editor's shared form runs in the browser, as a classic script.
        files: ['resources/**/*.js'],
        languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
        rules: { strict: ['error', 'function'] },
    },
    {
        files: ['test/**/*.js'],
        languageOptions: { globals: { ...globals.mocha } },
    },
];

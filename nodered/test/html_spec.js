'use strict';

/* Every node has its editor definition, edit template and help text, and the editor script parses. */

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const pkg = require('../package.json');

describe('editor files', function () {
    for (const [type, file] of Object.entries(pkg['node-red'].nodes)) {
        it(`${type}: definition, template and help`, function () {
            const html = fs.readFileSync(path.join(__dirname, '..', file.replace(/\.js$/, '.html')), 'utf8');
            const script = html.match(/<script type="text\/javascript">([\s\S]*?)<\/script>/);
            assert.ok(script, 'editor script');
            const registered = [];
            const RED = { nodes: { registerType: (name, def) => registered.push({ name, def }) } };
            vm.runInNewContext(script[1], { RED });
            assert.equal(registered.length, 1);
            assert.equal(registered[0].name, type);
            const def = registered[0].def;
            if (type === 'acurev-config') {
                assert.equal(def.category, 'config');
                assert.equal(def.credentials.token.type, 'password');
                assert.ok(!('token' in def.defaults), 'the token is a credential, not a property');
            } else {
                assert.equal(def.category, 'AcuRev');
                assert.equal(def.defaults.bridge.type, 'acurev-config');
                assert.equal(def.paletteLabel, type.replace('-', ' '));
            }
            assert.match(html, new RegExp(`data-template-name="${type}"`));
            const help = html.match(new RegExp(`data-help-name="${type}">([\\s\\S]*?)</script>`));
            assert.ok(help && help[1].replace(/<[^>]+>/g, '').trim().length > 200, 'help text');
            for (const key of Object.keys(def.defaults)) {
                const id = type === 'acurev-config' ? `node-config-input-${key}` : `node-input-${key}`;
                assert.ok(html.includes(`id="${id}"`), `an input for ${key}`);
            }
        });
    }
});

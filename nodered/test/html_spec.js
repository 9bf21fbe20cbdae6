'use strict';

/*
 * Every node has its editor definition and edit template; the editor script parses with the
 * shared form (resources/acurev-editor.js) loaded first, as the browser loads it; the help texts
 * live in the locales (en-US and de).
 */

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const pkg = require('../package.json');

const NODES = path.join(__dirname, '..', 'nodes');
const EDITOR = path.join(__dirname, '..', 'resources', 'acurev-editor.js');
const LANGS = ['en-US', 'de'];

describe('editor files', function () {
    for (const [type, file] of Object.entries(pkg['node-red'].nodes)) {
        it(`${type}: definition, template and help`, function () {
            const html = fs.readFileSync(path.join(__dirname, '..', file.replace(/\.js$/, '.html')), 'utf8');
            const script = html.match(/<script type="text\/javascript">([\s\S]*?)<\/script>/);
            assert.ok(script, 'editor script');
            const registered = [];
            const RED = { nodes: { registerType: (name, def) => registered.push({ name, def }) } };
            const context = vm.createContext({ RED });
            if (type !== 'acurev-config') {
                assert.ok(html.includes('src="resources/@acurev/node-red-acurev/acurev-editor.js"'),
                    'loads the shared form');
                vm.runInContext(fs.readFileSync(EDITOR, 'utf8'), context);
            }
            vm.runInContext(script[1], context);
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
            assert.ok(!html.includes('data-help-name'), 'the help is in the locales');
            for (const lang of LANGS) {
                const file = path.join(NODES, 'locales', lang, `${type}.html`);
                const text = fs.readFileSync(file, 'utf8');
                const help = text.match(new RegExp(`data-help-name="${type}">([\\s\\S]*?)</script>`));
                assert.ok(help && help[1].replace(/<[^>]+>/g, '').trim().length > 200, `${lang} help`);
            }
            const shared = ['meter', 'channel', 'relay'];
            for (const key of Object.keys(def.defaults)) {
                const id = type === 'acurev-config' ? `node-config-input-${key}` : `node-input-${key}`;
                if (!html.includes(`id="${id}"`) && shared.includes(key)) {
                    // Made by the shared form in oneditprepare, into the template's placeholder.
                    assert.ok(html.includes('class="acurev-fields"'), `the shared form for ${key}`);
                    assert.match(def.oneditprepare.toString(), new RegExp(`'${key}'`));
                } else {
                    assert.ok(html.includes(`id="${id}"`), `an input for ${key}`);
                }
            }
            // No label or option text outside the locales.
            const template = html.match(/data-template-name="[^"]+">([\s\S]*?)<\/script>/)[1];
            const bare = template.replace(/<[^>]+>/g, ' ').replace(/&nbsp;/g, ' ').trim();
            assert.equal(bare, '', `text outside the locales: ${bare}`);
        });
    }
});

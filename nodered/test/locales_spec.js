'use strict';

/*
 * The palette's texts come from its locales (nodes/locales/en-US and de): every key the nodes,
 * the shared form and the templates use exists in both languages, both catalogs have the same
 * keys, and no catalog text is empty. node-red-node-test-helper's RED._ returns keys, so the
 * node tests compare keys; this spec is where the texts themselves are checked.
 */

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const LOCALES = path.join(ROOT, 'nodes', 'locales');
const LANGS = ['en-US', 'de'];
const pkg = require('../package.json');
const TYPES = Object.keys(pkg['node-red'].nodes);

function catalog(lang, type) {
    return JSON.parse(fs.readFileSync(path.join(LOCALES, lang, `${type}.json`), 'utf8'));
}

function flatten(obj, prefix = '') {
    const out = {};
    for (const [key, value] of Object.entries(obj)) {
        const name = prefix ? `${prefix}.${key}` : key;
        if (value && typeof value === 'object') {
            Object.assign(out, flatten(value, name));
        } else {
            out[name] = value;
        }
    }
    return out;
}

function lookup(lang, type, key) {
    return flatten(catalog(lang, type))[key];
}

describe('locales', function () {
    it('every node has a catalog in en-US and de, with the same keys and no empty text', function () {
        for (const type of TYPES) {
            const en = flatten(catalog('en-US', type));
            const de = flatten(catalog('de', type));
            assert.deepEqual(Object.keys(de).sort(), Object.keys(en).sort(), type);
            for (const [key, text] of [...Object.entries(en), ...Object.entries(de)]) {
                assert.ok(typeof text === 'string' && text.trim(), `${type}: ${key}`);
            }
            assert.notDeepEqual(de, en, `${type}: de is translated`);
        }
    });

    it('every RED._ key in the runtime code exists in both languages', function () {
        const files = [
            ...TYPES.map((t) => path.join(ROOT, 'nodes', `${t}.js`)),
            path.join(ROOT, 'lib', 'common.js'),
        ];
        let seen = 0;
        for (const file of files) {
            const code = fs.readFileSync(file, 'utf8');
            for (const m of code.matchAll(/RED\._\(['`]([a-z-]+)\.([a-z0-9_.${}?:' -]+)['`]/g)) {
                const [type, key] = [m[1], m[2]];
                if (key.startsWith('${')) {
                    continue; // the config node's translator t(): its keys are checked below
                }
                const keys = key.includes('${') ? ['on', 'off'].map((v) => key.replace(/\$\{[^}]+\}/, v)) : [key];
                for (const k of keys) {
                    for (const lang of LANGS) {
                        assert.ok(lookup(lang, type, `${type}.${k}`), `${lang}: ${type}.${k} (${file})`);
                    }
                    seen += 1;
                }
            }
            for (const m of code.matchAll(/\b(?:t\(|say\(t, )(?:'|`)((?:status|errors)\.[a-z_${}.-]+)(?:'|`)/g)) {
                const key = m[1];
                const states = key.includes('${')
                    ? ['idle', 'connecting', 'connected', 'ha_down', 'disconnected', 'unauthorized', 'error']
                        .map((s) => key.replace(/\$\{[^}]+\}/, s))
                    : [key];
                for (const k of states) {
                    for (const lang of LANGS) {
                        assert.ok(lookup(lang, 'acurev-config', `acurev-config.${k}`), `${lang}: ${k}`);
                    }
                    seen += 1;
                }
            }
        }
        assert.ok(seen >= 10, `found ${seen} keys`);
    });

    it('every data-i18n key of the editor templates and every shared-form key exists', function () {
        for (const type of TYPES) {
            const html = fs.readFileSync(path.join(ROOT, 'nodes', `${type}.html`), 'utf8');
            const keys = [...html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)].map((m) => m[1]);
            assert.ok(keys.length >= 2, type);
            for (const key of keys) {
                assert.ok(key.startsWith(`${type}.`), `${type}: ${key} is in its own catalog`);
                for (const lang of LANGS) {
                    assert.ok(lookup(lang, type, key), `${lang}: ${key}`);
                }
            }
        }
        const editor = fs.readFileSync(path.join(ROOT, 'resources', 'acurev-editor.js'), 'utf8');
        assert.match(editor, /@acurev\/node-red-acurev\/acurev-config/);
        for (const lang of LANGS) {
            const form = flatten(catalog(lang, 'acurev-config'));
            for (const field of ['meter', 'channel', 'relay']) {
                assert.ok(form[`acurev-config.form.label.${field}`], `${lang} ${field}`);
                assert.ok(form[`acurev-config.form.placeholder.input.${field}`], `${lang} ${field}`);
            }
            for (const field of ['meter', 'channel']) {
                assert.ok(form[`acurev-config.form.placeholder.filter.${field}`], `${lang} ${field}`);
            }
        }
    });
});

'use strict';

/*
 * The example flows (examples/*.json, shown under Import > Examples) load in a real Node-RED
 * runtime with every node known, and the main one does what it says against the fake bridge:
 * DI 4 on -> relay 2 on -> channel 7 power posted to the (built-in demo) webhook.
 */

const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const helper = require('node-red-node-test-helper');

const { FakeBridge, SERIAL, TOKEN } = require('./fake-bridge');

helper.init(require.resolve('node-red'));

const CORE = '@node-red/nodes/core';
const NODES = [
    require('../nodes/acurev-config.js'),
    require('../nodes/acurev-read.js'),
    require('../nodes/acurev-relay.js'),
    require('../nodes/acurev-watch.js'),
    require('../nodes/acurev-event.js'),
    require(`${CORE}/common/20-inject.js`),
    require(`${CORE}/common/21-debug.js`),
    require(`${CORE}/common/25-catch.js`),
    require(`${CORE}/common/90-comment.js`),
    require(`${CORE}/function/10-function.js`),
    require(`${CORE}/function/10-switch.js`),
    require(`${CORE}/function/15-change.js`),
    require(`${CORE}/network/21-httpin.js`),
    require(`${CORE}/network/21-httprequest.js`),
];
const EXAMPLES = path.join(__dirname, '..', 'examples');
const CONFIG_ID = 'a1d4c0de000000cf';

function example(name, bridge, webhookUrl) {
    const nodes = JSON.parse(fs.readFileSync(path.join(EXAMPLES, name), 'utf8'));
    for (const node of nodes) {
        if (node.type === 'acurev-config') {
            node.url = bridge.url;
        }
        if (node.type === 'http request') {
            node.url = webhookUrl || node.url;
        }
        if (node.type === 'inject') {
            node.once = false; // no timers firing into the next test
            node.repeat = '';
        }
    }
    return nodes;
}

async function until(fn, what, timeoutMs = 3000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await fn();
        if (value) {
            return value;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}

describe('example flows', function () {
    let bridge;

    before(function (done) {
        helper.startServer(done);
    });

    after(function (done) {
        helper.stopServer(done);
    });

    beforeEach(async function () {
        bridge = await new FakeBridge().start();
    });

    afterEach(async function () {
        await helper.unload();
        await bridge.stop();
    });

    const files = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')).sort();

    it('are there, one per use', function () {
        assert.ok(files.includes('di4-relay2-webhook.json'));
        assert.ok(files.length >= 4);
    });

    for (const file of files) {
        it(`${file} loads with every node known and no token in the flow`, async function () {
            const nodes = example(file, bridge);
            assert.ok(!/"token"\s*:/.test(JSON.stringify(nodes)), 'no secret in an example');
            assert.ok(nodes.some((n) => n.type === 'tab'));
            await helper.load(NODES, nodes, { [CONFIG_ID]: { token: TOKEN } });
            for (const node of nodes.filter((n) => n.type !== 'tab')) {
                assert.ok(helper.getNode(node.id), `${file}: node ${node.id} (${node.type}) did not start`);
            }
        });
    }

    it('di4-relay2-webhook: DI 4 on switches relay 2 on and posts the channel 7 power', async function () {
        // The webhook: a tiny HTTP server here (the example's own receiver uses "http in",
        // which the test helper does not serve; tests/bridge/test_api_nodered_e2e.py runs the
        // example unchanged in a real Node-RED).
        const posts = [];
        const webhook = http.createServer((req, res) => {
            let body = '';
            req.on('data', (c) => { body += c; });
            req.on('end', () => {
                posts.push({ type: req.headers['content-type'], body: JSON.parse(body) });
                res.end('{"received": true}');
            });
        });
        await new Promise((resolve) => webhook.listen(0, '127.0.0.1', resolve));
        try {
            const url = `http://127.0.0.1:${webhook.address().port}/hook`;
            await helper.load(NODES, example('di4-relay2-webhook.json', bridge, url), { [CONFIG_ID]: { token: TOKEN } });
            await until(() => bridge.subscribes.length === 1, 'the event node to subscribe');
            bridge.setPoint(SERIAL, 'di_1', true); // another input: nothing
            bridge.setPoint(SERIAL, 'di_4', true);
            await until(() => posts.length === 1, 'the webhook post');
            assert.deepEqual(bridge.relayCalls, [{ serial: SERIAL, relay: 2, state: 'on' }]);
            assert.match(posts[0].type, /application\/json/);
            const last = posts[0].body;
            assert.equal(last.meter, SERIAL);
            assert.equal(last.di, 4);
            assert.equal(last.relay, 2);
            assert.equal(last.relay_on, true);
            assert.equal(last.channel, 7);
            assert.equal(last.power_w, 1234.5);
            assert.equal(last.unit, 'W');
            // DI 4 turning off does nothing.
            bridge.setPoint(SERIAL, 'di_4', false);
            await new Promise((resolve) => setTimeout(resolve, 100));
            assert.equal(bridge.relayCalls.length, 1);
            assert.equal(posts.length, 1);
        } finally {
            webhook.closeAllConnections();
            await new Promise((resolve) => webhook.close(resolve));
        }
    });

    it('http-endpoints: the relay endpoint says it switches relays and demands a token', async function () {
        // The example's guard function, run as it is in Node-RED with two helper nodes on its
        // outputs (the test helper serves no "http in"; tests/bridge/test_api_nodered_e2e.py
        // sends real HTTP requests to the deployed example).
        const nodes = example('http-endpoints.json', bridge);
        const tab = nodes.find((n) => n.type === 'tab');
        assert.match(tab.info, /Security/);
        assert.match(tab.info, /ACUREV_RELAY_HTTP_TOKEN/);
        const httpIn = nodes.find((n) => n.type === 'http in' && n.url === '/acurev/relay/:relay');
        const guard = nodes.find((n) => n.id === httpIn.wires[0][0]);
        assert.equal(guard.type, 'function');
        const flow = [
            { ...guard, z: 'flow', wires: [['pass'], ['refuse']] },
            { id: 'flow', type: 'tab' },
            { id: 'pass', type: 'helper', z: 'flow' },
            { id: 'refuse', type: 'helper', z: 'flow' },
        ];
        const relayToken = 'spec-relay-token-0123456789';
        const saved = process.env.ACUREV_RELAY_HTTP_TOKEN;
        async function run(authorization) {
            await helper.load([require('@node-red/nodes/core/function/10-function.js')], flow);
            const got = new Promise((resolve) => {
                helper.getNode('pass').on('input', (msg) => resolve({ out: 'pass', msg }));
                helper.getNode('refuse').on('input', (msg) => resolve({ out: 'refuse', msg }));
            });
            const headers = authorization ? { authorization } : {};
            helper.getNode(guard.id).receive({ req: { headers }, payload: { state: 'on' } });
            const result = await got;
            await helper.unload();
            return result;
        }
        try {
            delete process.env.ACUREV_RELAY_HTTP_TOKEN;
            let r = await run(`Bearer ${relayToken}`);
            assert.equal(r.out, 'refuse'); // no token configured: relay switching is off
            assert.equal(r.msg.statusCode, 403);
            process.env.ACUREV_RELAY_HTTP_TOKEN = relayToken;
            for (const wrong of [undefined, 'Bearer wrong-token-0123456789', `Basic ${relayToken}`, `Bearer ${relayToken}x`]) {
                r = await run(wrong);
                assert.equal(r.out, 'refuse', String(wrong));
                assert.equal(r.msg.statusCode, 401);
            }
            r = await run(`Bearer ${relayToken}`);
            assert.equal(r.out, 'pass');
        } finally {
            if (saved === undefined) {
                delete process.env.ACUREV_RELAY_HTTP_TOKEN;
            } else {
                process.env.ACUREV_RELAY_HTTP_TOKEN = saved;
            }
        }
    });
});

'use strict';

/*
 * The palette in a real Node-RED runtime (node-red-node-test-helper), against a fake bridge
 * (test/fake-bridge.js) that speaks the bridge's HTTP and websocket protocol. The real bridge on a
 * real Home Assistant is tested end to end by tests/bridge/test_api_nodered_e2e.py.
 */

const assert = require('node:assert/strict');
const helper = require('node-red-node-test-helper');

const configNode = require('../nodes/acurev-config.js');
const readNode = require('../nodes/acurev-read.js');
const relayNode = require('../nodes/acurev-relay.js');
const watchNode = require('../nodes/acurev-watch.js');
const eventNode = require('../nodes/acurev-event.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const statusNode = require('@node-red/nodes/core/common/25-status.js');
const { FakeBridge, SERIAL, TOKEN } = require('./fake-bridge');

helper.init(require.resolve('node-red'));

// node-red-node-test-helper's RED._ returns the message key itself: status texts and errors
// are compared as keys here; test/locales_spec.js checks that every key has its en-US and de
// text.
const CONNECTED = 'acurev-config.status.connected';

const NODES = [configNode, readNode, relayNode, watchNode, eventNode, catchNode, statusNode];
const WAIT_MS = 3000;

/** Every message a helper node receives, and a way to wait for the next ones. */
function recorder(node) {
    const messages = [];
    const waiters = [];
    node.on('input', (msg) => {
        messages.push(msg);
        for (const w of waiters.splice(0)) {
            w();
        }
    });
    return {
        messages,
        async next(count = 1, timeoutMs = WAIT_MS) {
            const deadline = Date.now() + timeoutMs;
            while (messages.length < count) {
                const left = deadline - Date.now();
                if (left <= 0) {
                    throw new Error(`expected ${count} message(s), got ${messages.length}: ${JSON.stringify(messages.map((m) => m.payload))}`);
                }
                await new Promise((resolve) => {
                    const t = setTimeout(resolve, left);
                    waiters.push(() => { clearTimeout(t); resolve(); });
                });
            }
            return messages[count - 1];
        },
    };
}

async function waitUntil(predicate, what, timeoutMs = WAIT_MS) {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
}

function flow(bridge, nodes, { token = TOKEN, url = bridge.url } = {}) {
    return {
        nodes: [
            { id: 'tab', type: 'tab', label: 'test' },
            { id: 'cfg', type: 'acurev-config', url, name: 'bridge' },
            { id: 'catcher', type: 'catch', z: 'tab', scope: null, wires: [['caught']] },
            { id: 'caught', type: 'helper', z: 'tab' },
            { id: 'watcher', type: 'status', z: 'tab', scope: null, wires: [['statuses']] },
            { id: 'statuses', type: 'helper', z: 'tab' },
            ...nodes.map((n) => ({ z: 'tab', bridge: 'cfg', ...n })),
        ],
        credentials: { cfg: { token } },
    };
}

describe('AcuRev palette', function () {
    let bridge;
    let out;
    let caught;
    let statuses;

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

    async function load(nodes, options) {
        const f = flow(bridge, [...nodes, { id: 'out', type: 'helper' }], options);
        await helper.load(NODES, f.nodes, f.credentials);
        out = recorder(helper.getNode('out'));
        caught = recorder(helper.getNode('caught'));
        statuses = recorder(helper.getNode('statuses'));
    }

    function statusOf(id) {
        const mine = statuses.messages.filter((m) => m.status.source.id === id);
        return mine.length ? mine[mine.length - 1].status : null;
    }

    describe('acurev-config', function () {
        it('registers with the token as a credential, not a property', async function () {
            await load([]);
            const cfg = helper.getNode('cfg');
            assert.equal(cfg.credentials.token, TOKEN);
            assert.equal(cfg.url, bridge.url);
            assert.ok(cfg.client);
        });

        it('tells the editor the numbers the bridge lists (no counts of its own)', async function () {
            await load([]);
            const res = await helper.request().get('/acurev-config/cfg/meters').expect(200);
            const [meter] = res.body.meters;
            assert.equal(meter.serial, SERIAL);
            // The fake meter has channels 7 and 8, relays 1 and 2 (test/fake-bridge.js).
            assert.deepEqual(meter.numbers.channels, [7, 8]);
            assert.deepEqual(meter.numbers.relays, [1, 2]);
            await helper.request().get('/acurev-config/nope/meters').expect(404);
        });

        it('shares one websocket between all nodes of a bridge', async function () {
            await load([
                { id: 'w1', type: 'acurev-watch', wires: [['out']] },
                { id: 'w2', type: 'acurev-event', wires: [['out']] },
                { id: 'r1', type: 'acurev-read', wires: [['out']] },
            ]);
            await waitUntil(() => bridge.subscribes.length === 1, 'the subscription');
            await new Promise((resolve) => setTimeout(resolve, 100));
            assert.equal(bridge.connections, 1);
            assert.equal(bridge.sockets.size, 1);
        });

        it('shows the connection in the node status', async function () {
            await load([{ id: 'w1', type: 'acurev-watch', wires: [['out']] }]);
            await waitUntil(() => statusOf('w1') && statusOf('w1').text === CONNECTED, 'connected');
            assert.equal(statusOf('w1').fill, 'green');
            bridge.setHaConnected(false);
            await waitUntil(() => statusOf('w1').text === 'acurev-config.status.ha_down', 'HA down status');
            bridge.setHaConnected(true);
            await waitUntil(() => statusOf('w1').text === CONNECTED, 'connected again');
        });

        it('says "wrong API token" when the bridge refuses the token', async function () {
            await load([{ id: 'w1', type: 'acurev-watch', wires: [['out']] }], { token: 'wrong-token-000000000' });
            await waitUntil(() => statusOf('w1') && statusOf('w1').text === 'acurev-config.status.unauthorized', 'unauthorized status');
            assert.equal(statusOf('w1').fill, 'red');
        });

        it('reports a bad URL on input through Catch', async function () {
            await load([{ id: 'r1', type: 'acurev-read', wires: [['out']] }], { url: 'ftp://nowhere' });
            helper.getNode('r1').receive({ payload: 1 });
            const err = await caught.next();
            assert.match(err.error.message, /http:\/\/ or https:\/\//);
        });
    });

    describe('acurev-read', function () {
        it('reads a channel into msg.payload by name within the channel', async function () {
            await load([{ id: 'r1', type: 'acurev-read', channel: '7', wires: [['out']] }]);
            helper.getNode('r1').receive({ payload: 'go', keep: 'me' });
            const msg = await out.next();
            assert.deepEqual(msg.payload, { active_power: 1234.5, current: 10.25 });
            assert.deepEqual(msg.units, { active_power: 'W', current: 'A' });
            assert.equal(msg.meter, SERIAL);
            assert.equal(msg.channel, 7);
            assert.equal(msg.topic, `acurev/${SERIAL}/ch07`);
            assert.equal(msg.keep, 'me'); // msg mutated in place: http in/response flows work
        });

        it('reads the whole meter by point key, and one point', async function () {
            await load([
                { id: 'r1', type: 'acurev-read', wires: [['out']] },
                { id: 'r2', type: 'acurev-read', point: 'ch07_current', wires: [['out']] },
            ]);
            helper.getNode('r1').receive({});
            const all = await out.next(1);
            assert.equal(all.payload.ch07_active_power, 1234.5);
            assert.equal(all.payload.di_4, false);
            assert.equal(all.units.frequency, 'Hz');
            helper.getNode('r2').receive({});
            const one = await out.next(2);
            assert.equal(one.payload, 10.25);
            assert.equal(one.unit, 'A');
        });

        it('takes meter, channel and point from msg when the node has none', async function () {
            bridge.addMeter('B2');
            await load([{ id: 'r1', type: 'acurev-read', wires: [['out']] }]);
            helper.getNode('r1').receive({ meter: 'B2', channel: 8 });
            const msg = await out.next(1);
            assert.equal(msg.meter, 'B2');
            assert.deepEqual(msg.payload, { active_power: 0 }); // a falsy value is a value
            helper.getNode('r1').receive({ meter: SERIAL, point: 'di_1' });
            const di = await out.next(2);
            assert.equal(di.payload, false);
        });

        it('gives an unavailable point as null', async function () {
            bridge.setPoint(SERIAL, 'ch07_current', 0, false);
            await load([{ id: 'r1', type: 'acurev-read', channel: '7', wires: [['out']] }]);
            helper.getNode('r1').receive({});
            const msg = await out.next();
            assert.equal(msg.payload.current, null);
            assert.equal(msg.acurev.points.find((p) => p.field === 'current').available, false);
        });

        it('sends errors to Catch and nothing on', async function () {
            bridge.addMeter('B2');
            await load([
                { id: 'r1', type: 'acurev-read', wires: [['out']] },
                { id: 'r2', type: 'acurev-read', meter: SERIAL, channel: '12', wires: [['out']] },
            ]);
            helper.getNode('r1').receive({}); // two meters: which one?
            const ambiguous = await caught.next(1);
            assert.match(ambiguous.error.message, /choose a meter/);
            helper.getNode('r2').receive({});
            const unknown = await caught.next(2);
            assert.match(unknown.error.message, /no channel 12/);
            assert.equal(unknown.error.code, 'unknown_channel');
            assert.equal(unknown.error.cause.status, 404);
            bridge.haConnected = false;
            helper.getNode('r2').receive({});
            const down = await caught.next(3);
            assert.equal(down.error.code, 'ha_unavailable');
            assert.equal(out.messages.length, 0);
        });

        it('reports an unreachable bridge and a wrong token', async function () {
            await load([{ id: 'r1', type: 'acurev-read', wires: [['out']] }], { token: 'wrong-token-000000000' });
            helper.getNode('r1').receive({});
            const wrong = await caught.next(1);
            assert.equal(wrong.error.code, 'unauthorized');
            await helper.unload();
            const url = bridge.url;
            await bridge.stop();
            bridge = await new FakeBridge().start();
            await load([{ id: 'r1', type: 'acurev-read', wires: [['out']] }], { url });
            helper.getNode('r1').receive({});
            const gone = await caught.next(1);
            assert.match(gone.error.message, /cannot reach the bridge/);
        });
    });

    describe('acurev-relay', function () {
        it('switches with the node command and outputs the confirmed state', async function () {
            await load([{ id: 'rl', type: 'acurev-relay', relay: '2', command: 'on', wires: [['out']] }]);
            helper.getNode('rl').receive({ payload: false }); // the node's own command wins
            const msg = await out.next();
            assert.equal(msg.payload, true);
            assert.equal(msg.relay, 2);
            assert.equal(msg.topic, `acurev/${SERIAL}/relay_2`);
            assert.deepEqual(bridge.relayCalls, [{ serial: SERIAL, relay: 2, state: 'on' }]);
        });

        it('takes on/off/toggle from msg.payload, falsy values included', async function () {
            await load([{ id: 'rl', type: 'acurev-relay', relay: '1', command: 'msg', wires: [['out']] }]);
            const node = helper.getNode('rl');
            const inputs = [true, 0, 'ON', 'off', 'toggle', 1, false, '1'];
            for (const [i, payload] of inputs.entries()) {
                node.receive({ payload });
                await out.next(i + 1);
            }
            assert.deepEqual(out.messages.map((m) => m.payload), [true, false, true, false, true, true, false, true]);
            assert.deepEqual(bridge.relayCalls.map((c) => c.state),
                ['on', 'off', 'on', 'off', 'toggle', 'on', 'off', 'on']);
        });

        it('switches the right relay when several relay nodes fire at once', async function () {
            await load([
                { id: 'a', type: 'acurev-relay', relay: '1', command: 'on', wires: [['out']] },
                { id: 'b', type: 'acurev-relay', relay: '2', command: 'off', wires: [['out']] },
            ]);
            bridge.meters[SERIAL].points.find((p) => p.key === 'relay_2').value = true;
            helper.getNode('a').receive({});
            helper.getNode('b').receive({});
            await out.next(2);
            const byRelay = Object.fromEntries(out.messages.map((m) => [m.relay, m.payload]));
            assert.deepEqual(byRelay, { 1: true, 2: false });
            assert.deepEqual(bridge.relayCalls.map((c) => `${c.relay}:${c.state}`).sort(), ['1:on', '2:off']);
        });

        it('takes the relay from msg.relay and rejects bad input before calling the bridge', async function () {
            await load([{ id: 'rl', type: 'acurev-relay', command: 'msg', wires: [['out']] }]);
            const node = helper.getNode('rl');
            node.receive({ payload: 'on' });
            node.receive({ payload: 'on', relay: 0 });
            node.receive({ payload: 'on', relay: '+2' });
            node.receive({ payload: 'dim', relay: 1 });
            await caught.next(4);
            assert.match(caught.messages[0].error.message, /acurev-relay\.errors\.no-relay/);
            assert.match(caught.messages[1].error.message, /acurev-config\.errors\.number/);
            assert.match(caught.messages[2].error.message, /acurev-config\.errors\.number/);
            assert.match(caught.messages[3].error.message, /acurev-config\.errors\.command/);
            assert.deepEqual(bridge.relayCalls, []);
            // The palette has no relay count of its own: the bridge refuses a relay the meter
            // lacks (this fake meter has relays 1 and 2).
            node.receive({ payload: 'on', relay: 3 });
            await caught.next(5);
            assert.equal(caught.messages[4].error.code, 'unknown_relay');
            assert.deepEqual(bridge.relayCalls, []);
            node.receive({ payload: 'on', relay: '2' });
            assert.equal((await out.next()).payload, true);
        });

        it('reports a refused command through Catch with the status', async function () {
            await load([{ id: 'rl', type: 'acurev-relay', relay: '2', command: 'on', wires: [['out']] }]);
            bridge.relayError = { status: 409, error: 'relay_refused', message: 'the relay command was refused: relay_not_remote' };
            helper.getNode('rl').receive({});
            const err = await caught.next();
            assert.equal(err.error.code, 'relay_refused');
            assert.equal(err.error.cause.status, 409);
            assert.match(err.error.message, /refused/);
            assert.equal(out.messages.length, 0);
            await waitUntil(() => statusOf('rl') && statusOf('rl').fill === 'red', 'red status');
        });
    });

    describe('acurev-watch', function () {
        it('sends the chosen points when they change', async function () {
            await load([{
                id: 'w', type: 'acurev-watch', channel: '7', points: 'active_power', wires: [['out']],
            }]);
            await waitUntil(() => bridge.subscribes.length === 1, 'subscription');
            bridge.setPoint(SERIAL, 'ch07_current', 11); // not chosen
            bridge.setPoint(SERIAL, 'ch08_active_power', 5); // other channel
            bridge.setPoint(SERIAL, 'ch07_active_power', 0); // chosen; 0 is a value
            const msg = await out.next();
            assert.equal(msg.payload, 0);
            assert.equal(msg.topic, `acurev/${SERIAL}/ch07_active_power`);
            assert.equal(msg.unit, 'W');
            assert.equal(msg.acurev.previous, 1234.5);
            bridge.setPoint(SERIAL, 'ch07_active_power', 0, false);
            const gone = await out.next(2);
            assert.equal(gone.payload, null);
            assert.equal(out.messages.length, 2);
        });

        it('filters by meter and by key, and can leave availability out', async function () {
            bridge.addMeter('B2');
            await load([{
                id: 'w', type: 'acurev-watch', meter: 'B2', points: 'di_1, frequency', availability: false, wires: [['out']],
            }]);
            await waitUntil(() => bridge.subscribes.length === 1, 'subscription');
            bridge.setPoint(SERIAL, 'di_1', true);
            bridge.setPoint('B2', 'di_1', false, false);
            bridge.setPoint('B2', 'frequency', 59.9);
            const msg = await out.next();
            assert.equal(msg.meter, 'B2');
            assert.equal(msg.payload, 59.9);
            await new Promise((resolve) => setTimeout(resolve, 100));
            assert.equal(out.messages.length, 1);
        });
    });

    describe('acurev-event', function () {
        it('sends one message per DI change, filtered by input and edge', async function () {
            await load([{ id: 'e', type: 'acurev-event', inputs: '4', edge: 'on', alarm: false, wires: [['out']] }]);
            await waitUntil(() => bridge.subscribes.length === 1, 'subscription');
            bridge.setPoint(SERIAL, 'di_1', true); // other input
            bridge.setPoint(SERIAL, 'di_4', true); // on: sent
            bridge.setPoint(SERIAL, 'di_4', false); // off: not wanted
            bridge.setPoint(SERIAL, 'di_4', true); // on again: sent
            await out.next(2);
            await new Promise((resolve) => setTimeout(resolve, 100));
            assert.equal(out.messages.length, 2);
            const msg = out.messages[0];
            assert.equal(msg.payload, true);
            assert.equal(msg.topic, `acurev/${SERIAL}/di_4`);
            assert.equal(msg.meter, SERIAL);
            assert.equal(msg.event.type, 'di');
            assert.equal(msg.event.input, 4);
            assert.equal(msg.event.previous, false);
            assert.ok(out.messages[1].event.seq > msg.event.seq);
        });

        it('sends alarms occurred and recovered, not readings or relays by default', async function () {
            await load([{ id: 'e', type: 'acurev-event', wires: [['out']] }]);
            await waitUntil(() => bridge.subscribes.length === 1, 'subscription');
            bridge.setPoint(SERIAL, 'ch07_active_power', 1.0);
            bridge.setPoint(SERIAL, 'relay_1', true);
            bridge.alarm(SERIAL, 'occurred', { channel: 3, parameter: 'frequency', value: 61.2, record: 5 });
            bridge.alarm(SERIAL, 'recovered', { channel: 3, parameter: 'frequency', value: 60.0, record: 6 });
            await out.next(2);
            assert.deepEqual(out.messages.map((m) => m.payload), ['occurred', 'recovered']);
            const occurred = out.messages[0];
            assert.equal(occurred.topic, `acurev/${SERIAL}/alarm`);
            assert.equal(occurred.event.parameter, 'frequency');
            assert.equal(occurred.event.channel, 3);
        });

        it('sends relay changes and availability when asked to', async function () {
            await load([{ id: 'e', type: 'acurev-event', di: false, alarm: false, relay: true, availability: true, wires: [['out']] }]);
            await waitUntil(() => bridge.subscribes.length === 1, 'subscription');
            bridge.setPoint(SERIAL, 'di_4', true);
            bridge.setPoint(SERIAL, 'relay_2', true);
            bridge.setHaConnected(false);
            await out.next(2);
            assert.deepEqual(out.messages.map((m) => [m.event.type, m.payload]), [['relay', true], ['availability', false]]);
        });

        it('reconnects by itself and gets the events it missed', async function () {
            this.timeout(10000);
            await load([{ id: 'e', type: 'acurev-event', inputs: '4', wires: [['out']] }]);
            await waitUntil(() => bridge.subscribes.length === 1, 'subscription');
            helper.getNode('cfg').client.backoff = { min: 50, max: 200 };
            bridge.setPoint(SERIAL, 'di_4', true);
            await out.next(1);
            bridge.dropAll();
            await waitUntil(() => statusOf('e') && statusOf('e').text.startsWith('acurev-config.status.disconnected'), 'disconnected status');
            bridge.setPoint(SERIAL, 'di_4', false); // while the node is away
            bridge.setPoint(SERIAL, 'di_4', true);
            await out.next(3, 5000);
            assert.deepEqual(out.messages.map((m) => m.payload), [true, false, true]);
            const resumed = bridge.subscribes[bridge.subscribes.length - 1];
            assert.equal(resumed.since, out.messages[0].event.seq);
            assert.equal(resumed.stream, bridge.stream);
            await waitUntil(() => statusOf('e').text === CONNECTED, 'connected again');
            bridge.setPoint(SERIAL, 'di_4', false);
            await out.next(4);
            assert.equal(out.messages.length, 4); // nothing twice
        });

        it('after a bridge restart (new stream, numbers from 1 again) events still arrive', async function () {
            this.timeout(10000);
            await load([{ id: 'e', type: 'acurev-event', inputs: '4', wires: [['out']] }]);
            await waitUntil(() => bridge.subscribes.length === 1, 'subscription');
            helper.getNode('cfg').client.backoff = { min: 50, max: 200 };
            for (let i = 0; i < 5; i += 1) {
                bridge.setPoint(SERIAL, 'di_4', i % 2 === 0); // the old stream reaches seq 5
            }
            await out.next(5);
            // The bridge process restarts: another stream id, an empty log, seq from 0.
            bridge.dropAll();
            bridge.stream = 'fakestream0002';
            bridge.seq = 0;
            bridge.history = [];
            await waitUntil(() => bridge.subscribes.length === 2, 'subscribed again');
            await caught.next(1, 5000); // the gap: events of the old stream may be lost
            bridge.setPoint(SERIAL, 'di_4', false); // seq 1 of the new stream
            const msg = await out.next(6, 5000);
            assert.equal(msg.payload, false);
            assert.equal(msg.event.seq, 1);
        });

        it('reports lost events through Catch', async function () {
            this.timeout(10000);
            await load([{ id: 'e', type: 'acurev-event', wires: [['out']] }]);
            await waitUntil(() => bridge.subscribes.length === 1, 'subscription');
            helper.getNode('cfg').client.backoff = { min: 50, max: 200 };
            bridge.setPoint(SERIAL, 'di_4', true);
            await out.next(1);
            bridge.historyLimit = 2;
            bridge.dropAll();
            await waitUntil(() => bridge.sockets.size === 0, 'drop');
            for (let i = 0; i < 6; i += 1) {
                bridge.setPoint(SERIAL, 'di_1', i % 2 === 0);
            }
            const err = await caught.next(1, 5000);
            assert.match(err.error.message, /acurev-event\.errors\.gap/);
            assert.equal(err.payload.type, 'gap');
            assert.equal(err.error.source.id, 'e');
        });
    });
});

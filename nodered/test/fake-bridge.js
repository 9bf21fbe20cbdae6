'use strict';

/**
 * A small stand-in for the bridge API (docs/NODE-RED.md), for the palette's unit tests: the same
 * routes, error bodies and websocket protocol (subscribe, since/stream resume, gap), with state
 * the test sets directly. The real bridge (Python, on a real Home Assistant with the simulator)
 * is exercised by tests/bridge/test_api_nodered_e2e.py.
 */

const http = require('node:http');
const { WebSocketServer } = require('ws');

const SERIAL = 'A2020T0001';
const TOKEN = 'fake-bridge-token-0123456789';

// The structured fields are written out as the bridge sends them (it reads keys through
// pyacurev.keys); neither the fake nor the palette derives them from a key's spelling.
function point(serial, key, kind, value, unit, ref) {
    const { role, number = null, field = null, phase = null } = ref;
    return {
        key, unique_id: `${serial}_${key}`, entity_id: `sensor.acurev_${key}`, kind,
        name: key, unit, device_class: null, state_class: null,
        role, number, channel: role === 'channel' || role === 'alarm' ? number : null, field, phase,
        value, available: true, changed_at: new Date().toISOString(),
    };
}

function defaultPoints(serial) {
    return [
        point(serial, 'frequency', 'measurement', 60.0, 'Hz', { role: 'system', field: 'frequency' }),
        point(serial, 'ch07_active_power', 'measurement', 1234.5, 'W',
            { role: 'channel', number: 7, field: 'active_power' }),
        point(serial, 'ch07_current', 'measurement', 10.25, 'A', { role: 'channel', number: 7, field: 'current' }),
        point(serial, 'ch08_active_power', 'measurement', 0.0, 'W',
            { role: 'channel', number: 8, field: 'active_power' }),
        point(serial, 'di_1', 'binary', false, null, { role: 'di', number: 1 }),
        point(serial, 'di_4', 'binary', false, null, { role: 'di', number: 4 }),
        point(serial, 'relay_1', 'relay', false, null, { role: 'relay', number: 1 }),
        point(serial, 'relay_2', 'relay', false, null, { role: 'relay', number: 2 }),
    ];
}

const COUNTED = {
    channels: 'channel', users: 'user', relays: 'relay', digital_inputs: 'di', alarm_channels: 'alarm',
};

/** The per-meter counts of the bridge's meter listing, from the points' structured fields. */
function meterCounts(points) {
    const numbers = {};
    const counts = {};
    for (const [name, role] of Object.entries(COUNTED)) {
        numbers[name] = [...new Set(points.filter((p) => p.role === role).map((p) => p.number))]
            .sort((a, b) => a - b);
        counts[name] = numbers[name].length;
    }
    return { counts, numbers };
}

class FakeBridge {
    constructor() {
        this.token = TOKEN;
        this.haConnected = true;
        this.meters = { [SERIAL]: { serial: SERIAL, name: 'Panel A', available: true, points: defaultPoints(SERIAL) } };
        this.relayError = null; // {status, error, message} to answer relay commands with
        this.relayCalls = [];
        this.requests = [];
        this.stream = 'fakestream0001';
        this.seq = 0;
        this.history = [];
        this.historyLimit = 1000;
        this.sockets = new Set();
        this.connections = 0;
        this.subscribes = [];
    }

    addMeter(serial) {
        this.meters[serial] = { serial, name: serial, available: true, points: defaultPoints(serial) };
    }

    async start() {
        this.server = http.createServer((req, res) => this.handle(req, res));
        this.wss = new WebSocketServer({ noServer: true });
        this.server.on('upgrade', (req, socket, head) => {
            if (req.url !== '/api/v1/stream') {
                socket.destroy();
                return;
            }
            this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
        });
        await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
        this.url = `http://127.0.0.1:${this.server.address().port}`;
        return this;
    }

    async stop() {
        for (const ws of this.sockets) {
            ws.terminate();
        }
        this.wss.close();
        this.server.closeAllConnections();
        await new Promise((resolve) => this.server.close(resolve));
    }

    /** Cut every websocket (as a network failure would). */
    dropAll() {
        for (const ws of this.sockets) {
            ws.terminate();
        }
    }

    json(res, status, body) {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
    }

    error(res, status, error, message) {
        this.json(res, status, { error, message });
    }

    handle(req, res) {
        let raw = '';
        req.on('data', (chunk) => { raw += chunk; });
        req.on('end', () => {
            this.requests.push({ method: req.method, url: req.url, body: raw });
            if (req.headers.authorization !== `Bearer ${this.token}`) {
                this.error(res, 401, 'unauthorized', 'missing or wrong token');
                return;
            }
            const url = new URL(req.url, this.url);
            const parts = url.pathname.split('/').filter(Boolean).slice(2); // drop api/v1
            if (parts[0] === 'status') {
                this.json(res, 200, { ha_connected: this.haConnected, stream: this.stream, seq: this.seq });
                return;
            }
            if (!this.haConnected) {
                this.error(res, 503, 'ha_unavailable', 'Home Assistant is not connected to the bridge');
                return;
            }
            if (parts[0] !== 'meters') {
                this.error(res, 404, 'not_found', 'Not Found');
                return;
            }
            if (parts.length === 1) {
                this.json(res, 200, {
                    meters: Object.values(this.meters).map((m) => ({
                        serial: m.serial, name: m.name, available: m.available, ...meterCounts(m.points), points: m.points,
                    })),
                });
                return;
            }
            const meter = this.meters[decodeURIComponent(parts[1])];
            if (!meter) {
                this.error(res, 404, 'unknown_meter', `no meter with serial '${parts[1]}'`);
                return;
            }
            const body = (points, channel = null) => ({
                serial: meter.serial, name: meter.name, available: meter.available, ...meterCounts(meter.points),
                ha_connected: true, channel, time: new Date().toISOString(), points,
            });
            if (parts[2] === 'values') {
                this.json(res, 200, body(meter.points));
            } else if (parts[2] === 'channels') {
                const n = Number(parts[3]);
                if (!/^(0|[1-9][0-9]*)$/.test(parts[3])) {
                    this.error(res, 400, 'bad_request', 'channel must be a whole number');
                    return;
                }
                const pts = meter.points.filter((p) => p.channel === n);
                if (!pts.length) {
                    this.error(res, 404, 'unknown_channel', `meter ${meter.serial} has no channel ${n}`);
                    return;
                }
                this.json(res, 200, body(pts, n));
            } else if (parts[2] === 'points') {
                const p = meter.points.find((q) => q.key === parts[3]);
                if (!p) {
                    this.error(res, 404, 'unknown_point', `meter ${meter.serial} has no point '${parts[3]}'`);
                    return;
                }
                this.json(res, 200, { serial: meter.serial, ha_connected: true, ...p });
            } else if (parts[2] === 'relays' && req.method === 'POST') {
                this.relay(res, meter, parts[3], raw);
            } else {
                this.error(res, 404, 'not_found', 'Not Found');
            }
        });
    }

    relay(res, meter, number, raw) {
        let state;
        try {
            ({ state } = JSON.parse(raw));
        } catch {
            this.error(res, 400, 'bad_request', 'the body is not valid JSON');
            return;
        }
        const p = /^[1-9][0-9]*$/.test(number)
            ? meter.points.find((q) => q.role === 'relay' && q.number === Number(number)) : undefined;
        if (!p) {
            this.error(res, 404, 'unknown_relay', `meter ${meter.serial} has no relay ${number}`);
            return;
        }
        if (!['on', 'off', 'toggle', true, false].includes(state)) {
            this.error(res, 400, 'bad_request', '"state" must be "on", "off", "toggle", true or false');
            return;
        }
        this.relayCalls.push({ serial: meter.serial, relay: Number(number), state });
        if (this.relayError) {
            this.error(res, this.relayError.status, this.relayError.error, this.relayError.message);
            return;
        }
        const on = state === 'toggle' ? !p.value : state === 'on' || state === true;
        this.setPoint(meter.serial, p.key, on);
        this.json(res, 200, {
            serial: meter.serial, relay: Number(number), key: p.key, entity_id: p.entity_id, requested: on, state: on,
        });
    }

    /** Change a point as Home Assistant would, and stream the change. */
    setPoint(serial, key, value, available = true) {
        const p = this.meters[serial].points.find((q) => q.key === key);
        const previous = p.value;
        const previousAvailable = p.available;
        if (available) {
            p.value = value;
        }
        p.available = available;
        const event = p.kind === 'relay' ? 'relay' : p.kind === 'binary' ? (p.role === 'di' ? 'di' : 'binary') : null;
        this.push({
            type: 'point', event, time: new Date().toISOString(), serial, ...p,
            previous, previous_available: previousAvailable,
        });
    }

    push(message) {
        this.seq += 1;
        const numbered = { seq: this.seq, time: new Date().toISOString(), ...message };
        this.history.push(numbered);
        while (this.history.length > this.historyLimit) {
            this.history.shift();
        }
        for (const ws of this.sockets) {
            if (ws.subscribed) {
                ws.send(JSON.stringify(numbered));
            }
        }
        return numbered;
    }

    alarm(serial, state, data = {}) {
        return this.push({ type: 'event', event: 'alarm', event_type: 'acurev_alarm', serial, state, data: { state, ...data } });
    }

    setHaConnected(connected) {
        this.haConnected = connected;
        this.push({ type: 'connection', ha_connected: connected });
    }

    onSocket(ws) {
        this.connections += 1;
        this.sockets.add(ws);
        ws.on('close', () => this.sockets.delete(ws));
        ws.once('message', (data) => {
            let hello;
            try {
                hello = JSON.parse(data.toString());
            } catch {
                hello = null;
            }
            if (!hello || hello.type !== 'subscribe' || hello.token !== this.token) {
                ws.send(JSON.stringify({ type: 'error', status: 401, error: 'unauthorized', message: 'missing or wrong token' }));
                ws.close(4401, 'unauthorized');
                return;
            }
            this.subscribes.push(hello);
            const replay = [];
            let gap = null;
            if (hello.since !== null && hello.since !== undefined) {
                const restarted = hello.stream && hello.stream !== this.stream;
                const since = restarted ? 0 : hello.since;
                const first = this.history.length ? this.history[0].seq : this.seq + 1;
                if (restarted || since < first - 1) {
                    gap = {
                        type: 'gap', reason: restarted ? 'restart' : 'overflow', since, stream: this.stream,
                        first_seq: first, first_event_seq: first, events_lost: true,
                        message: restarted ? 'the bridge restarted' : `messages after ${since} are no longer held`,
                    };
                }
                replay.push(...this.history.filter((m) => m.seq > since));
            }
            ws.send(JSON.stringify({
                type: 'subscribed', stream: this.stream, seq: this.seq, ha_connected: this.haConnected,
                meters: {}, replay: replay.length,
            }));
            if (gap) {
                ws.send(JSON.stringify(gap));
            }
            for (const m of replay) {
                ws.send(JSON.stringify(m));
            }
            ws.subscribed = true;
        });
    }
}

module.exports = { FakeBridge, SERIAL, TOKEN };

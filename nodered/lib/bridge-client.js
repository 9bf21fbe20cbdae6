'use strict';

/**
 * The connection to one AcuRev bridge: HTTP requests for reads and relay commands, and one
 * shared websocket for point changes and events, reconnecting by itself and resuming from the
 * last sequence number it saw (the bridge replays what it still holds, or says "gap").
 *
 * No Node-RED API is used here, so it can be tested on its own.
 */

const { EventEmitter } = require('node:events');

const API = '/api/v1';
const REQUEST_TIMEOUT_MS = 10000;
const RELAY_TIMEOUT_MS = 20000; // the bridge answers a relay within 15 s, or says 504
const ALIVE_TIMEOUT_MS = 50000; // the bridge pings every 20 s

class BridgeError extends Error {
    constructor(message, { status = 0, code = 'bridge_error', body = null } = {}) {
        super(message);
        this.name = 'BridgeError';
        this.status = status;
        this.code = code;
        this.body = body;
        // Node-RED copies ``code`` and ``cause`` into a Catch node's msg.error.
        this.cause = { status, code, body };
    }
}

function normaliseUrl(url) {
    const text = String(url || '').trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+/i.test(text)) {
        throw new BridgeError(`the bridge URL must start with http:// or https:// (got "${text}")`,
            { code: 'bad_config' });
    }
    return text;
}

class BridgeClient extends EventEmitter {
    /**
     * @param {object} options
     * @param {string} options.url      base URL of the bridge API, e.g. http://127.0.0.1:8099
     * @param {string} options.token    the API token
     * @param {Function} [options.WebSocket]  the ws class (injectable for tests)
     * @param {{min: number, max: number}} [options.backoff]  reconnect delays in ms
     * @param {{warn: Function, debug: Function}} [options.log]
     */
    constructor({ url, token, WebSocket, backoff, log } = {}) {
        super();
        this.url = normaliseUrl(url);
        this.token = token || '';
        this.WebSocket = WebSocket || require('ws');
        this.backoff = { min: 1000, max: 30000, ...(backoff || {}) };
        this.log = log || { warn() {}, debug() {} };
        this.state = 'idle';
        this.detail = '';
        this.haConnected = null;
        this.stream = null;
        this.lastSeq = null;
        this.users = new Set();
        this.ws = null;
        this.attempt = 0;
        this.timer = null;
        this.aliveTimer = null;
        this.closed = false;
        this.meterCache = null;
        this.setMaxListeners(0);
    }

    // --- HTTP --------------------------------------------------------------------------------

    async request(method, path, body, timeoutMs = REQUEST_TIMEOUT_MS) {
        if (!this.token) {
            throw new BridgeError('no API token: set it in the AcuRev bridge configuration node',
                { code: 'bad_config' });
        }
        const headers = { Authorization: `Bearer ${this.token}`, Accept: 'application/json' };
        const init = { method, headers, signal: AbortSignal.timeout(timeoutMs) };
        if (body !== undefined) {
            headers['Content-Type'] = 'application/json';
            init.body = JSON.stringify(body);
        }
        let response;
        try {
            response = await fetch(this.url + API + path, init);
        } catch (err) {
            const cause = err && err.cause && (err.cause.code || err.cause.message);
            const reason = err && err.name === 'TimeoutError'
                ? `no answer within ${timeoutMs / 1000} s` : (cause || (err && err.message));
            throw new BridgeError(`cannot reach the bridge at ${this.url}: ${reason}`,
                { code: 'unreachable' });
        }
        let data;
        const text = await response.text();
        try {
            data = text ? JSON.parse(text) : null;
        } catch {
            data = null;
        }
        if (!response.ok) {
            const message = data && data.message ? data.message : `HTTP ${response.status}`;
            const code = data && data.error ? data.error : 'http_error';
            throw new BridgeError(`${message} [${response.status} ${code}]`,
                { status: response.status, code, body: data });
        }
        if (data === null || typeof data !== 'object') {
            throw new BridgeError(`the bridge's answer is not JSON [${response.status}]`,
                { status: response.status });
        }
        return data;
    }

    status() {
        return this.request('GET', '/status');
    }

    meters() {
        return this.request('GET', '/meters');
    }

    /** The meter to use: the given serial, or the only meter the bridge has. */
    async resolveMeter(serial) {
        if (serial !== undefined && serial !== null && String(serial).trim() !== '') {
            return String(serial).trim();
        }
        if (!this.meterCache) {
            const { meters } = await this.meters();
            this.meterCache = meters.map((m) => m.serial);
        }
        const serials = this.meterCache;
        if (serials.length === 1) {
            return serials[0];
        }
        this.meterCache = null; // the set of meters may change: ask again next time
        throw new BridgeError(serials.length === 0
            ? 'the bridge has no meters (is Home Assistant connected to it?)'
            : `choose a meter: the bridge has ${serials.length} (${serials.join(', ')})`,
        { code: 'no_meter' });
    }

    values(serial, { channel, key } = {}) {
        const s = encodeURIComponent(serial);
        if (key !== undefined && key !== null && key !== '') {
            return this.request('GET', `/meters/${s}/points/${encodeURIComponent(key)}`);
        }
        if (channel !== undefined && channel !== null && channel !== '') {
            return this.request('GET', `/meters/${s}/channels/${encodeURIComponent(channel)}`);
        }
        return this.request('GET', `/meters/${s}/values`);
    }

    switchRelay(serial, relay, state) {
        const path = `/meters/${encodeURIComponent(serial)}/relays/${encodeURIComponent(relay)}`;
        return this.request('POST', path, { state }, RELAY_TIMEOUT_MS);
    }

    // --- the shared websocket ----------------------------------------------------------------

    /**
     * Register a user of the stream (a node). ``handlers.message(msg)`` gets every numbered
     * message and gaps; ``handlers.state(state, detail)`` every connection change (and the
     * current one at once). Returns the function that unregisters.
     */
    register(handlers) {
        const user = { message: handlers.message || (() => {}), state: handlers.state || (() => {}) };
        this.users.add(user);
        user.state(this.state, this.detail);
        if (!this.ws && !this.timer && !this.closed) {
            this.connect();
        }
        return () => {
            this.users.delete(user);
            if (this.users.size === 0) {
                this.disconnect();
            }
        };
    }

    setState(state, detail = '') {
        if (state === this.state && detail === this.detail) {
            return;
        }
        this.state = state;
        this.detail = detail;
        this.emit('state', state, detail);
        for (const user of this.users) {
            safely(() => user.state(state, detail), this.log);
        }
    }

    dispatch(message) {
        for (const user of this.users) {
            safely(() => user.message(message), this.log);
        }
    }

    connect() {
        this.timer = null;
        if (this.closed || this.users.size === 0) {
            return;
        }
        if (!this.token) {
            this.setState('error', 'no token');
            return;
        }
        this.setState('connecting', this.attempt ? `attempt ${this.attempt + 1}` : '');
        const wsUrl = this.url.replace(/^http/i, 'ws') + API + '/stream';
        let ws;
        try {
            ws = new this.WebSocket(wsUrl, { handshakeTimeout: REQUEST_TIMEOUT_MS });
        } catch (err) {
            this.setState('disconnected', err.message);
            this.scheduleReconnect();
            return;
        }
        this.ws = ws;
        ws.on('open', () => {
            this.touch();
            ws.send(JSON.stringify({
                type: 'subscribe', token: this.token, since: this.lastSeq, stream: this.stream,
            }));
        });
        ws.on('ping', () => this.touch());
        ws.on('message', (data) => {
            this.touch();
            let msg;
            try {
                msg = JSON.parse(data.toString());
            } catch {
                return;
            }
            this.onMessage(msg);
        });
        ws.on('error', (err) => {
            this.detail = err.message;
            this.log.debug(`acurev bridge websocket: ${err.message}`);
        });
        ws.on('close', (code) => {
            if (this.ws !== ws) {
                return;
            }
            this.ws = null;
            clearTimeout(this.aliveTimer);
            if (this.closed || this.users.size === 0) {
                this.setState('idle');
                return;
            }
            if (code === 4401) {
                this.setState('unauthorized', 'wrong API token');
                this.scheduleReconnect(this.backoff.max);
                return;
            }
            this.setState('disconnected', this.detail || `closed (${code})`);
            this.scheduleReconnect();
        });
    }

    onMessage(msg) {
        switch (msg.type) {
            case 'subscribed': {
                this.attempt = 0;
                // Another stream id: the bridge restarted and numbers from 1 again. The last
                // number of the old stream would hide every new message up to it, so forget
                // it; the bridge replays the new stream's messages after the gap it reports.
                const restarted = this.stream !== null && this.stream !== msg.stream;
                if (this.stream !== msg.stream) {
                    this.meterCache = null;
                }
                this.stream = msg.stream;
                if (restarted) {
                    this.lastSeq = null;
                } else if (this.lastSeq === null) {
                    this.lastSeq = msg.seq;
                }
                this.haConnected = msg.ha_connected;
                this.setState(msg.ha_connected ? 'connected' : 'ha_down',
                    msg.ha_connected ? '' : 'Home Assistant not connected');
                return;
            }
            case 'gap':
                this.dispatch(msg);
                return;
            case 'error':
                this.detail = msg.message || msg.error;
                if (msg.status === 401) {
                    this.log.warn(`acurev bridge refused the token: ${msg.message}`);
                }
                return;
            case 'pong':
                return;
            default:
                break;
        }
        if (typeof msg.seq !== 'number') {
            return;
        }
        if (this.lastSeq !== null && msg.seq <= this.lastSeq) {
            return; // already seen (a replay overlapping what arrived live)
        }
        this.lastSeq = msg.seq;
        if (msg.type === 'connection') {
            this.haConnected = msg.ha_connected;
            this.setState(msg.ha_connected ? 'connected' : 'ha_down',
                msg.ha_connected ? '' : 'Home Assistant not connected');
        } else if (msg.type === 'structure') {
            this.meterCache = null;
        }
        this.dispatch(msg);
    }

    touch() {
        clearTimeout(this.aliveTimer);
        this.aliveTimer = setTimeout(() => {
            if (this.ws) {
                this.detail = 'no heartbeat from the bridge';
                this.ws.terminate();
            }
        }, ALIVE_TIMEOUT_MS);
        if (this.aliveTimer.unref) {
            this.aliveTimer.unref();
        }
    }

    scheduleReconnect(delay) {
        if (this.closed || this.timer || this.users.size === 0) {
            return;
        }
        this.attempt += 1;
        const base = Math.min(this.backoff.max, this.backoff.min * 2 ** (this.attempt - 1));
        const wait = delay !== undefined ? delay : base / 2 + Math.random() * base / 2;
        this.timer = setTimeout(() => this.connect(), wait);
    }

    disconnect() {
        clearTimeout(this.timer);
        this.timer = null;
        clearTimeout(this.aliveTimer);
        if (this.ws) {
            const ws = this.ws;
            this.ws = null;
            ws.removeAllListeners('message');
            ws.on('error', () => {});
            ws.close(1000);
            setTimeout(() => ws.terminate(), 1000).unref();
        }
        this.setState('idle');
    }

    close() {
        this.closed = true;
        this.disconnect();
        this.users.clear();
    }
}

function safely(fn, log) {
    try {
        fn();
    } catch (err) {
        log.warn(`acurev: a node's handler failed: ${err && err.stack ? err.stack : err}`);
    }
}

module.exports = { BridgeClient, BridgeError, normaliseUrl };

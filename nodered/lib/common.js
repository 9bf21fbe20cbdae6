'use strict';

/** Small helpers the AcuRev nodes share. */

const CONNECTION = {
    idle: { fill: 'grey', shape: 'ring', text: 'idle' },
    connecting: { fill: 'yellow', shape: 'ring', text: 'connecting' },
    connected: { fill: 'green', shape: 'dot', text: 'connected' },
    ha_down: { fill: 'yellow', shape: 'dot', text: 'Home Assistant down' },
    disconnected: { fill: 'red', shape: 'ring', text: 'disconnected' },
    unauthorized: { fill: 'red', shape: 'dot', text: 'wrong API token' },
    error: { fill: 'red', shape: 'dot', text: 'error' },
};

/**
 * A node.status object for a connection state of the bridge client; ``t`` translates
 * (the config node's catalog: status.<state>), English without it.
 */
function connectionStatus(state, detail, t) {
    const known = Object.prototype.hasOwnProperty.call(CONNECTION, state) ? state : 'error';
    const base = CONNECTION[known];
    const label = t ? t(`status.${known}`) : base.text;
    // A short reason only (ECONNREFUSED, timeout, ...): the status text sits under the node.
    const code = detail && (String(detail).match(/\bE[A-Z]{3,}\b/) || [String(detail)])[0];
    const text = known === 'disconnected' && code ? `${label} (${code.slice(0, 24)})` : label;
    return { fill: base.fill, shape: base.shape, text };
}

/**
 * Connect a node to its configuration node's shared bridge client. Shows the connection in
 * node.status and unregisters on close. Returns the client, or null (status says why).
 */
function attach(RED, node, config, onMessage) {
    const bridge = RED.nodes.getNode(config.bridge);
    if (!bridge) {
        node.status({ fill: 'red', shape: 'dot', text: 'no bridge configured' });
        return null;
    }
    if (!bridge.client) {
        node.status({ fill: 'red', shape: 'dot', text: bridge.problem || bridge.t('status.misconfigured') });
        return null;
    }
    const release = bridge.client.register({
        state: (state, detail) => node.status(connectionStatus(state, detail, bridge.t)),
        message: onMessage,
    });
    node.on('close', (removed, done) => {
        release();
        done();
    });
    return bridge.client;
}

/** The reason a node without a usable bridge reports on input. */
function noBridgeError(RED, config) {
    const bridge = RED.nodes.getNode(config.bridge);
    return new Error(bridge ? `AcuRev bridge: ${bridge.problem || 'misconfigured'}`
        : 'no AcuRev bridge configured for this node');
}

function isBlank(value) {
    return value === undefined || value === null || String(value).trim() === '';
}

/** The node's setting if it has one, else the message's property, else undefined. */
function pick(setting, fromMsg) {
    if (!isBlank(setting)) {
        return typeof setting === 'string' ? setting.trim() : setting;
    }
    return isBlank(fromMsg) ? undefined : fromMsg;
}

/** English texts of the errors below, for when no translator ``t`` is given. */
const ENGLISH = {
    'errors.number': (a) => `${a.what} must be a whole number from 1, not ${a.value}`,
    'errors.command': (a) => `relay command must be on/off/toggle, true/false or 1/0, not ${a.value}`,
};

function say(t, key, args) {
    return t ? t(key, args) : ENGLISH[key](args);
}

/** The config node's translator (its catalog holds the texts the nodes share), if any. */
function translator(RED, config) {
    const bridge = RED.nodes.getNode(config.bridge);
    return bridge && bridge.t ? bridge.t : null;
}

/** A whole number within [min, max] or an Error naming ``what``. */
function wholeNumber(value, what, min, max) {
    const n = typeof value === 'number' ? value : Number(String(value).trim());
    if (!Number.isInteger(n) || n < min || n > max) {
        throw new Error(`${what} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
    }
    return n;
}

/**
 * A number >= 1 (a relay, input or channel) or an Error naming ``what``. The upper bound is
 * the meter's, which only the bridge knows: it refuses a number the meter does not have.
 */
function positiveNumber(value, what, t = null) {
    // One spelling per number, as the bridge's API has it: no sign, no leading zeros.
    const text = typeof value === 'number' ? '' : String(value).trim();
    const n = typeof value === 'number' ? value : (/^[1-9][0-9]*$/.test(text) ? Number(text) : NaN);
    if (!Number.isSafeInteger(n) || n < 1) {
        throw new Error(say(t, 'errors.number', { what, value: JSON.stringify(value) }));
    }
    return n;
}

/** "on" / "off" / "toggle" from a relay node setting or msg.payload. */
function relayCommand(value, t = null) {
    if (value === true || value === 1) {
        return 'on';
    }
    if (value === false || value === 0) {
        return 'off';
    }
    if (typeof value === 'string') {
        const text = value.trim().toLowerCase();
        if (['on', 'true', '1'].includes(text)) {
            return 'on';
        }
        if (['off', 'false', '0'].includes(text)) {
            return 'off';
        }
        if (text === 'toggle') {
            return 'toggle';
        }
    }
    throw new Error(say(t, 'errors.command', { value: JSON.stringify(value) }));
}

/** "1, 4,active_power" -> ["1", "4", "active_power"]. */
function list(text) {
    if (Array.isArray(text)) {
        return text.map(String).map((s) => s.trim()).filter(Boolean);
    }
    return String(text || '').split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
}

/** A point's value as a flow should see it: null when the point is unavailable. */
function liveValue(point) {
    return point.available ? point.value : null;
}

module.exports = {
    attach, connectionStatus, isBlank, list, liveValue, noBridgeError, pick, positiveNumber,
    relayCommand, translator, wholeNumber,
};

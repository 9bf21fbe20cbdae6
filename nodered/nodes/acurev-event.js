'use strict';

const { attach, isBlank, list } = require('../lib/common');

const EDGES = { both: null, on: true, off: false };

module.exports = function (RED) {
    function AcurevEventNode(config) {
        RED.nodes.createNode(this, config);
        const node = this;
        const meter = isBlank(config.meter) ? null : String(config.meter).trim();
        const want = {
            di: config.di !== false,
            alarm: config.alarm !== false,
            relay: config.relay === true,
            availability: config.availability === true,
        };
        // Input numbers as the editor stores them ("1, 4"); compared with the bridge's
        // structured ``number`` field, never with a key's spelling.
        const inputs = new Set(list(config.inputs).map(Number).filter(Number.isInteger));
        const edge = Object.prototype.hasOwnProperty.call(EDGES, config.edge) ? EDGES[config.edge] : null;

        function out(m, payload, event) {
            // A point event's topic ends with the key the bridge sent (di_4, relay_2).
            const leaf = event.type === 'di' || event.type === 'relay' ? m.key : event.type;
            node.send({
                topic: `acurev/${m.serial || 'bridge'}/${leaf}`,
                payload,
                meter: m.serial,
                event: { ...event, time: m.time, seq: m.seq },
            });
        }

        function onPoint(m) {
            const changed = typeof m.value === 'boolean' && typeof m.previous === 'boolean'
                && m.value !== m.previous && m.available && m.previous_available;
            if (m.event === 'di' && want.di && changed) {
                const input = m.number;
                if (inputs.size > 0 && !inputs.has(input)) {
                    return;
                }
                if (edge !== null && m.value !== edge) {
                    return;
                }
                out(m, m.value, { type: 'di', input, state: m.value, previous: m.previous, name: m.name });
            } else if (m.event === 'relay' && want.relay && changed) {
                const relay = m.number;
                if (edge !== null && m.value !== edge) {
                    return;
                }
                out(m, m.value, { type: 'relay', relay, state: m.value, previous: m.previous, name: m.name });
            }
        }

        attach(RED, node, config, (m) => {
            if (meter !== null && m.serial !== undefined && m.serial !== meter) {
                return;
            }
            switch (m.type) {
                case 'point':
                    onPoint(m);
                    break;
                case 'event':
                    if (m.event === 'alarm' && want.alarm) {
                        const d = m.data || {};
                        out(m, m.state, {
                            type: 'alarm', state: m.state, channel: d.channel, parameter: d.parameter,
                            value: d.value, record: d.record, meter_time: d.time, data: d,
                        });
                    }
                    break;
                case 'meter':
                    if (want.availability) {
                        out(m, m.available, { type: 'availability', scope: 'meter', available: m.available });
                    }
                    break;
                case 'connection':
                    if (want.availability) {
                        out(m, m.ha_connected, {
                            type: 'availability', scope: 'home_assistant', available: m.ha_connected,
                        });
                    }
                    break;
                case 'gap':
                    if (m.events_lost) {
                        // Through node.error so a Catch node can react (e.g. re-read the states).
                        node.error(RED._('acurev-event.errors.gap', { message: m.message }),
                            { topic: 'acurev/gap', payload: m });
                    } else {
                        node.debug(`AcuRev bridge: ${m.message}`);
                    }
                    break;
                default:
                    break;
            }
        });
    }

    RED.nodes.registerType('acurev-event', AcurevEventNode);
};

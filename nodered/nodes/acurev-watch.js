'use strict';

const { attach, isBlank, list, liveValue, positiveNumber, translator } = require('../lib/common');

module.exports = function (RED) {
    function AcurevWatchNode(config) {
        RED.nodes.createNode(this, config);
        const node = this;
        const meter = isBlank(config.meter) ? null : String(config.meter).trim();
        let channel = null;
        try {
            channel = isBlank(config.channel) ? null : positiveNumber(config.channel, 'channel', translator(RED, config));
        } catch (err) {
            node.error(err.message);
            node.status({ fill: 'red', shape: 'dot', text: err.message.slice(0, 60) });
            return;
        }
        const points = new Set(list(config.points));
        const availability = config.availability !== false;

        function wanted(m) {
            if (m.type !== 'point') {
                return false;
            }
            if (meter !== null && m.serial !== meter) {
                return false;
            }
            if (channel !== null && m.channel !== channel) {
                return false;
            }
            if (points.size > 0 && !points.has(m.key) && !points.has(m.field)) {
                return false;
            }
            const valueChanged = m.value !== m.previous;
            const availabilityChanged = m.available !== m.previous_available;
            return (valueChanged && m.available) || (availability && availabilityChanged);
        }

        attach(RED, node, config, (m) => {
            if (m.type === 'gap') {
                node.warn(RED._('acurev-watch.warn.gap', { message: m.message }));
                return;
            }
            if (!wanted(m)) {
                return;
            }
            node.send({
                topic: `acurev/${m.serial}/${m.key}`,
                payload: liveValue(m),
                meter: m.serial,
                unit: m.unit,
                acurev: m,
            });
        });
    }

    RED.nodes.registerType('acurev-watch', AcurevWatchNode);
};

'use strict';

const { attach, isBlank, liveValue, noBridgeError, pick, positiveNumber, translator } = require('../lib/common');

module.exports = function (RED) {
    function AcurevReadNode(config) {
        RED.nodes.createNode(this, config);
        const node = this;
        const client = attach(RED, node, config, null);

        node.on('input', async (msg, send, done) => {
            if (!client) {
                done(noBridgeError(RED, config));
                return;
            }
            try {
                const serial = await client.resolveMeter(pick(config.meter, msg.meter));
                const key = pick(config.point, typeof msg.point === 'string' ? msg.point : undefined);
                const rawChannel = pick(config.channel, msg.channel);
                const channel = isBlank(rawChannel) ? undefined
                    : positiveNumber(rawChannel, 'channel', translator(RED, config));
                const answer = await client.values(serial, { channel, key });
                msg.meter = serial;
                if (key !== undefined) {
                    msg.payload = liveValue(answer);
                    msg.unit = answer.unit;
                    msg.acurev = answer;
                    msg.topic = `acurev/${serial}/${answer.key}`;
                } else {
                    // A channel's points by their name within the channel (active_power, ...),
                    // a meter's by their full key (ch07_active_power, frequency, ...).
                    const name = (p) => (channel !== undefined && p.field ? p.field : p.key);
                    msg.payload = {};
                    msg.units = {};
                    for (const p of answer.points) {
                        msg.payload[name(p)] = liveValue(p);
                        msg.units[name(p)] = p.unit;
                    }
                    msg.acurev = answer;
                    if (channel !== undefined) {
                        msg.channel = channel;
                    }
                    msg.topic = channel !== undefined
                        ? `acurev/${serial}/ch${String(channel).padStart(2, '0')}` : `acurev/${serial}`;
                }
                send(msg);
                done();
            } catch (err) {
                node.status({ fill: 'red', shape: 'dot', text: err.message.slice(0, 60) });
                done(err);
            }
        });
    }

    RED.nodes.registerType('acurev-read', AcurevReadNode);
};

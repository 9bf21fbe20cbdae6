'use strict';

const { attach, isBlank, noBridgeError, pick, positiveNumber, relayCommand, translator } = require('../lib/common');

module.exports = function (RED) {
    function AcurevRelayNode(config) {
        RED.nodes.createNode(this, config);
        const node = this;
        const client = attach(RED, node, config, null);
        const fixed = isBlank(config.command) || config.command === 'msg' ? null : config.command;

        node.on('input', async (msg, send, done) => {
            if (!client) {
                done(noBridgeError(RED, config));
                return;
            }
            try {
                const command = relayCommand(fixed !== null ? fixed : msg.payload, translator(RED, config));
                const rawRelay = pick(config.relay, msg.relay);
                if (rawRelay === undefined) {
                    throw new Error(RED._('acurev-relay.errors.no-relay'));
                }
                // Which relays the meter has is the bridge's to say (it answers unknown_relay
                // with the list): the palette knows no relay count of its own.
                const relay = positiveNumber(rawRelay, 'relay', translator(RED, config));
                const serial = await client.resolveMeter(pick(config.meter, msg.meter));
                node.status({
                    fill: 'blue', shape: 'ring', text: RED._('acurev-relay.status.switching', { relay, command }),
                });
                const answer = await client.switchRelay(serial, relay, command);
                msg.payload = answer.state;
                msg.meter = serial;
                msg.relay = relay;
                msg.topic = `acurev/${serial}/${answer.key}`; // the key the bridge switched
                msg.acurev = answer;
                node.status({
                    fill: 'green', shape: answer.state ? 'dot' : 'ring',
                    text: RED._(`acurev-relay.status.${answer.state ? 'on' : 'off'}`, { relay }),
                });
                send(msg);
                done();
            } catch (err) {
                node.status({ fill: 'red', shape: 'dot', text: err.message.slice(0, 60) });
                done(err);
            }
        });
    }

    RED.nodes.registerType('acurev-relay', AcurevRelayNode);
};

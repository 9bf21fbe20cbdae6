'use strict';

const { BridgeClient } = require('../lib/bridge-client');

module.exports = function (RED) {
    function AcurevConfigNode(config) {
        RED.nodes.createNode(this, config);
        this.name = config.name;
        this.url = config.url;
        this.client = null;
        this.problem = '';
        // The texts all AcuRev nodes share (connection states) live in this node's catalog
        // (locales/<lang>/acurev-config.json); the other nodes translate them through here.
        this.t = (key, args) => RED._(`acurev-config.${key}`, args);
        const token = this.credentials && this.credentials.token;
        try {
            if (!token) {
                throw new Error('no API token set');
            }
            this.client = new BridgeClient({
                url: config.url,
                token,
                log: { warn: (text) => this.warn(text), debug: (text) => this.debug(text) },
            });
        } catch (err) {
            this.problem = err.message;
            this.error(`AcuRev bridge: ${err.message}`);
        }
        this.on('close', (done) => {
            if (this.client) {
                this.client.close();
            }
            done();
        });
    }

    RED.nodes.registerType('acurev-config', AcurevConfigNode, {
        credentials: { token: { type: 'password' } },
    });

    // For the editor's shared form: which meters the bridge has and, per meter, the channel
    // and relay numbers present (the bridge API's "numbers"), so the form can offer them
    // instead of knowing counts of its own. Only for a deployed configuration node.
    RED.httpAdmin.get('/acurev-config/:id/meters', RED.auth.needsPermission('acurev-config.read'),
        async (req, res) => {
            const node = RED.nodes.getNode(req.params.id);
            if (!node || node.type !== 'acurev-config' || !node.client) {
                res.status(404).json({ error: 'not_deployed' });
                return;
            }
            try {
                const { meters } = await node.client.meters();
                res.json({
                    meters: meters.map((m) => ({
                        serial: m.serial, name: m.name, numbers: m.numbers || {}, counts: m.counts || {},
                    })),
                });
            } catch (err) {
                res.status(502).json({ error: 'bridge', message: err.message });
            }
        });
};

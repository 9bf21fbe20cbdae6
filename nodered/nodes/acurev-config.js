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
};

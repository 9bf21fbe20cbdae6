#!/usr/bin/env node
'use strict';

/*
 * Node-RED with this palette installed from its packed tarball and example flows deployed
 * against a running AcuRev bridge: for the demo and the end-to-end test.
 *
 *   node tools/demo.js --bridge-url http://127.0.0.1:8099 --token-file api-token \
 *       [--user-dir DIR] [--port 1880] [--examples di4-relay2-webhook,http-endpoints]
 *       [--tarball FILE] [--no-install]
 *   node tools/demo.js --install-only [--user-dir DIR] [--tarball FILE]
 *
 * 1. `npm pack` this package (unless --tarball) and `npm install` the tarball into the user
 *    directory (default .node-red-demo beside this package; npm's cache serves repeats);
 * 2. writes a settings file: loopback only (uiHost 127.0.0.1), no palette catalogue or
 *    installs, no telemetry/update check, no projects, no diagnostics;
 * 3. starts Node-RED (this package's node-red dev dependency: run `npm ci` first);
 * 4. deploys the examples through the admin API with the bridge URL and the token (a credential,
 *    read from --token-file so it never shows in a process list), the demo webhook pointed at
 *    this Node-RED, and prints one line "node-red-demo: ready <url>";
 * 5. runs until SIGINT/SIGTERM, which it passes on to Node-RED.
 *
 * --install-only does step 1 and exits; --no-install skips it (the palette must be in the user
 * directory already). Together they let step 1 run where the npm registry is reachable and
 * Node-RED run where it is not (scripts/demo.sh: in a loopback-only network namespace).
 */

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const PKG_DIR = path.join(__dirname, '..');
const PKG = require(path.join(PKG_DIR, 'package.json'));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function parseArgs(argv) {
    const opts = {
        port: 1880,
        userDir: path.join(PKG_DIR, '.node-red-demo'),
        examples: ['di4-relay2-webhook', 'http-endpoints'],
    };
    const names = {
        '--bridge-url': 'bridgeUrl', '--token-file': 'tokenFile', '--user-dir': 'userDir',
        '--port': 'port', '--examples': 'examples', '--tarball': 'tarball',
    };
    const switches = { '--install-only': 'installOnly', '--no-install': 'noInstall' };
    for (let i = 0; i < argv.length; i += 1) {
        const [flag, inline] = argv[i].split(/=(.*)/s);
        if (flag === '-h' || flag === '--help') {
            console.log(fs.readFileSync(__filename, 'utf8').split('*/')[0].replace(/^[\s\S]*?\/\*\n?/, '').replace(/^ \* ?/gm, ''));
            process.exit(0);
        }
        if (switches[flag] && inline === undefined) {
            opts[switches[flag]] = true;
            continue;
        }
        const key = names[flag];
        if (!key) {
            throw new Error(`unknown argument ${flag} (try --help)`);
        }
        const value = inline !== undefined ? inline : argv[++i];
        if (value === undefined) {
            throw new Error(`${flag} needs a value`);
        }
        opts[key] = value;
    }
    if (opts.installOnly && opts.noInstall) {
        throw new Error('--install-only and --no-install exclude each other');
    }
    if (!opts.installOnly && (!opts.bridgeUrl || !opts.tokenFile)) {
        throw new Error('--bridge-url and --token-file are required (try --help)');
    }
    opts.port = Number(opts.port);
    if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
        throw new Error('--port must be a TCP port number');
    }
    if (typeof opts.examples === 'string') {
        opts.examples = opts.examples.split(',').map((s) => s.trim()).filter(Boolean);
    }
    opts.userDir = path.resolve(opts.userDir);
    return opts;
}

function log(text) {
    console.log(`node-red-demo: ${text}`);
}

function npm(args, cwd) {
    return execFileSync(NPM, args, {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
    });
}

function installedManifest(opts) {
    return path.join(opts.userDir, 'node_modules', ...PKG.name.split('/'), 'package.json');
}

function install(opts) {
    fs.mkdirSync(opts.userDir, { recursive: true });
    const manifest = path.join(opts.userDir, 'package.json');
    if (!fs.existsSync(manifest)) {
        fs.writeFileSync(manifest, JSON.stringify({ name: 'node-red-project', version: '0.0.1', private: true }, null, 2));
    }
    let tarball = opts.tarball && path.resolve(opts.tarball);
    if (!tarball) {
        const out = npm(['pack', '--json', '--pack-destination', opts.userDir], PKG_DIR);
        tarball = path.join(opts.userDir, JSON.parse(out)[0].filename);
    }
    log(`installing ${path.basename(tarball)} into ${opts.userDir}`);
    npm(['install', '--prefer-offline', '--no-package-lock', tarball], opts.userDir);
    if (!fs.existsSync(installedManifest(opts))) {
        throw new Error(`npm install did not install ${PKG.name}`);
    }
}

function writeSettings(opts) {
    const settings = path.join(opts.userDir, 'settings.js');
    fs.writeFileSync(settings, `// Written by ${PKG.name} tools/demo.js: loopback only, nothing fetched at runtime.
module.exports = {
    uiHost: '127.0.0.1',
    uiPort: ${opts.port},
    flowFile: 'flows.json',
    credentialSecret: false,
    editorTheme: {
        projects: { enabled: false },
        palette: { catalogues: [] },
        tours: false,
        multiplayer: { enabled: false },
    },
    externalModules: {
        autoInstall: false,
        palette: { allowInstall: false, allowUpload: false },
        modules: { allowInstall: false },
    },
    diagnostics: { enabled: false, ui: false },
    telemetry: { enabled: false },
    runtimeState: { enabled: false },
    functionExternalModules: false,
    logging: { console: { level: 'info', metrics: false, audit: false } },
};
`);
    return settings;
}

/** The example flows as a user would set them up: bridge URL and token, webhook on this Node-RED. */
function flows(opts, token) {
    const nodes = new Map();
    for (const name of opts.examples) {
        const file = path.join(PKG_DIR, 'examples', `${name.replace(/\.json$/, '')}.json`);
        for (const node of JSON.parse(fs.readFileSync(file, 'utf8'))) {
            if (node.type === 'acurev-config') {
                node.url = opts.bridgeUrl;
                node.credentials = { token };
            } else if (node.type === 'http request') {
                node.url = node.url.replace('http://127.0.0.1:1880', `http://127.0.0.1:${opts.port}`);
            }
            nodes.set(node.id, node);
        }
    }
    return [...nodes.values()];
}

async function waitForAdmin(url, child) {
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) {
            throw new Error(`Node-RED exited (${child.exitCode})`);
        }
        try {
            const res = await fetch(`${url}/settings`, { signal: AbortSignal.timeout(2000) });
            if (res.ok) {
                return;
            }
        } catch {
            // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('Node-RED did not answer within 60 s');
}

async function main() {
    const opts = parseArgs(process.argv.slice(2));
    if (opts.installOnly) {
        install(opts);
        log(`installed ${PKG.name} into ${opts.userDir}`);
        return;
    }
    const token = fs.readFileSync(opts.tokenFile, 'utf8').trim();
    if (token.length < 16) {
        throw new Error(`${opts.tokenFile}: the bridge's API token has at least 16 characters`);
    }
    let redJs;
    try {
        redJs = require.resolve('node-red/red.js', { paths: [PKG_DIR] });
    } catch {
        throw new Error(`node-red is not installed in ${PKG_DIR}: run npm ci there first`);
    }
    if (!opts.noInstall) {
        install(opts);
    } else if (!fs.existsSync(installedManifest(opts))) {
        throw new Error(`${PKG.name} is not installed in ${opts.userDir}: run with --install-only first`);
    }
    const settings = writeSettings(opts);
    const url = `http://127.0.0.1:${opts.port}`;
    log(`starting Node-RED on ${url}`);
    const child = spawn(process.execPath, [redJs, '--userDir', opts.userDir, '--settings', settings], {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false', NODE_RED_ENABLE_TOURS: 'false' },
    });
    const stop = (signal) => {
        if (child.exitCode === null) {
            child.kill(signal);
        }
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    child.on('exit', (code, signal) => {
        log(`Node-RED stopped (${signal || code})`);
        process.exit(code === null ? 0 : code);
    });
    try {
        await waitForAdmin(url, child);
        const res = await fetch(`${url}/flows`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
            body: JSON.stringify(flows(opts, token)),
        });
        if (!res.ok) {
            throw new Error(`deploying the flows failed: HTTP ${res.status} ${await res.text()}`);
        }
        log(`deployed ${opts.examples.join(', ')} against ${opts.bridgeUrl}`);
        log(`ready ${url}`);
    } catch (err) {
        stop('SIGTERM');
        throw err;
    }
}

main().catch((err) => {
    console.error(`node-red-demo: error: ${err.message}`);
    process.exitCode = 1;
});

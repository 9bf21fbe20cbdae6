/* The AcuRev nodes' shared editor form: the meter, channel and relay fields of every node,
 * their validation and their texts (from the acurev-config message catalog, en-US and de).
 * Served by Node-RED at resources/@acurev/node-red-acurev/acurev-editor.js and loaded by each
 * node's .html before its definition. No counts are written here: which channels and relays a
 * meter has is the bridge's to say (its API lists them), so a number is only checked for its
 * form, and the runtime asks the bridge.
 */
/* global RED, $ */
(function (root) {
    'use strict';

    const NS = '@acurev/node-red-acurev/acurev-config';
    const ICONS = { meter: 'fa-hashtag', channel: 'fa-plug', relay: 'fa-toggle-on', name: 'fa-tag' };

    function t(key) {
        return RED._(`${NS}:acurev-config.form.${key}`);
    }

    /** A positive whole number written plainly (what the bridge accepts), or blank. */
    function optionalNumber(v) {
        return v === '' || v === undefined || v === null || /^[1-9][0-9]*$/.test(String(v).trim());
    }

    /** "1, 4" style lists of positive whole numbers, or blank. */
    function numberList(v) {
        return /^\s*([1-9][0-9]*(\s*[, ]\s*[1-9][0-9]*)*)?\s*$/.test(v || '');
    }

    /**
     * Fill the element with class "acurev-fields" in the open edit dialog with the rows for
     * ``fields`` (e.g. ['meter', 'channel']), worded for ``mode`` ('input': blank takes the
     * message's property; 'filter': blank means all), and put the node's values in them.
     */
    function prepare(node, fields, mode) {
        const host = $('#dialog-form .acurev-fields');
        host.empty();
        for (const field of fields) {
            const row = $('<div class="form-row"></div>').appendTo(host);
            $('<label></label>').attr('for', `node-input-${field}`)
                .append($('<i class="fa"></i>').addClass(ICONS[field]))
                .append(document.createTextNode(` ${t(`label.${field}`)}`))
                .appendTo(row);
            $('<input type="text">').attr('id', `node-input-${field}`)
                .attr('placeholder', t(`placeholder.${mode}.${field}`))
                .val(node[field] === undefined ? '' : node[field])
                .appendTo(row);
        }
        offerNumbers(node, fields);
    }

    /**
     * Ask the deployed bridge configuration which meters and numbers exist, and show them
     * under the fields (e.g. "relays: 1, 2, 3 ... 8"). Silent when the configuration is not
     * deployed yet or the bridge is unreachable: the fields still accept any number.
     */
    function offerNumbers(node, fields) {
        if (!node.bridge) {
            return;
        }
        $.getJSON(`acurev-config/${encodeURIComponent(node.bridge)}/meters`).done((data) => {
            const meters = (data && data.meters) || [];
            const hints = { meter: meters.map((m) => m.serial) };
            for (const [field, key] of [['channel', 'channels'], ['relay', 'relays']]) {
                const all = new Set();
                meters.forEach((m) => ((m.numbers && m.numbers[key]) || []).forEach((n) => all.add(n)));
                hints[field] = [...all].sort((a, b) => a - b);
            }
            for (const field of fields) {
                if (hints[field] && hints[field].length) {
                    $('<div class="form-tips"></div>')
                        .text(`${t(`hint.${field}`)}: ${hints[field].join(', ')}`)
                        .insertAfter($(`#node-input-${field}`).closest('.form-row'));
                }
            }
        });
    }

    /** The ``defaults`` entries of the shared fields. */
    function defaults(fields) {
        const out = {};
        for (const field of fields) {
            out[field] = field === 'meter' ? { value: '' } : { value: '', validate: optionalNumber };
        }
        return out;
    }

    root.AcurevEditor = { NS, defaults, numberList, offerNumbers, optionalNumber, prepare, t };
}(globalThis));

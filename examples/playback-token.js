// playback-token.js — the nginx edge's check of Glasscast playback tokens (njs, nginx's own JavaScript module).
// Same format and rules as billing/playback-token.c; loaded by nginx-edge.conf (js_import), see docs/playback-tokens.md.
//
// A token is v1.<channel>.<viewer>.<expires>.<mac>, mac = unpadded base64url
// of HMAC-SHA256 under a shared secret over everything before the last '.'.
// It comes in the query (?token=) or the gc_play cookie. The secrets are the
// hex strings in $gc_playback_secrets (comma-separated: current first, then
// the one being rotated out), set by the rendered playback-secrets.conf.
// Tokens are secrets: nothing here logs one.

const crypto = require('crypto');

const TOKEN_RE = /^v1\.([A-Za-z0-9_-]{1,64})\.([1-9][0-9]{0,18})\.([1-9][0-9]{0,18})\.([A-Za-z0-9_-]{43})$/;

function channelOf(r) {
    const m = /^\/live\/([A-Za-z0-9_-]{1,64})\//.exec(r.uri);
    return m ? m[1] : null;
}

function queryToken(r) {
    const v = r.args.token;
    if (v === undefined) {
        return undefined;
    }
    return Array.isArray(v) ? v[v.length - 1] : v;
}

function cookieTokens(r) {
    const header = r.headersIn.Cookie;
    const out = [];
    if (!header) {
        return out;
    }
    const pairs = header.split(';');
    for (let i = 0; i < pairs.length && out.length < 4; i++) {
        const p = pairs[i].trim();
        if (p.startsWith('gc_play=')) {
            out.push(p.substring(8).trim());
        }
    }
    return out;
}

function equalConstantTime(a, b) {
    if (a.length !== b.length) {
        return false;
    }
    let diff = 0;
    for (let i = 0; i < a.length; i++) {
        diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
    }
    return diff === 0;
}

// Whether @token lets its bearer watch @channel now.
function valid(r, token, channel) {
    if (typeof token !== 'string' || token.length > 256) {
        return false;
    }
    const m = TOKEN_RE.exec(token);
    if (!m) {
        return false;
    }
    const signed = token.substring(0, token.length - 44);
    const secrets = (r.variables.gc_playback_secrets || '').split(',');
    let matched = false;
    for (let i = 0; i < secrets.length; i++) {
        if (secrets[i].length < 64) {
            continue;
        }
        const mac = crypto.createHmac('sha256', Buffer.from(secrets[i], 'hex'))
            .update(signed).digest('base64url');
        matched = equalConstantTime(mac, m[4]) || matched;
    }
    if (!matched || m[1] !== channel) {
        return false;
    }
    return Math.floor(Date.now() / 1000) < Number(m[3]);
}

// js_set $gc_playback_denied: "" when the request may pass, "1" when not.
// Only evaluated for channels listed in playback-channels.conf.
function denied(r) {
    const channel = channelOf(r);
    if (channel === null) {
        return '1';
    }
    const q = queryToken(r);
    if (q !== undefined) {
        return valid(r, q, channel) ? '' : '1';
    }
    const cookies = cookieTokens(r);
    for (let i = 0; i < cookies.length; i++) {
        if (valid(r, cookies[i], channel)) {
            return '';
        }
    }
    return '1';
}

// js_set $gc_playback_cache_key: $request_uri without its token parameter,
// so every viewer's request for a part is one cache entry.
function cacheKey(r) {
    const uri = r.variables.request_uri;
    const q = uri.indexOf('?');
    if (q < 0) {
        return uri;
    }
    const kept = uri.substring(q + 1).split('&').filter(function (p) {
        return p !== 'token' && !p.startsWith('token=');
    });
    return uri.substring(0, q) + (kept.length ? '?' + kept.join('&') : '');
}

export default {denied, cacheKey};

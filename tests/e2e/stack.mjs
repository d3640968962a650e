// stack.mjs — the live stack of the browser e2e tests and the latency benchmark: glasscastd with one
// channel (or more) and a known stream key, and an nginx edge (examples/nginx-edge.conf) in front of it, both on
// 127.0.0.1 with OS-chosen ports in a fresh temp folder, optionally the fake Stripe (tests/fakes) for billing;
// plus the Chromium launcher the tests share.
//
// Needs GLASSCASTD (built binary; glasscast-worker beside it), GST_PLUGIN_PATH (llhlssink, whipserversrc),
// NGINX (optional, default: nginx on PATH or /usr/sbin/nginx).

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SKIP = 77;
const HERE = dirname(fileURLToPath(import.meta.url));
export const SOURCE_ROOT = resolve(HERE, '..', '..');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// The team's chromium-flags.txt less --headless (playwright adds it, and
// gives the profile folder itself).
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  '--allow-loopback-in-peer-connection',
];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function log(msg) {
  console.log(`# [${new Date().toISOString().slice(11, 23)}] ${msg}`);
}

/** Exits 77 (meson: skipped) when something the test needs is missing. */
export async function requirements() {
  const missing = [];
  if (!process.env.GLASSCASTD || !existsSync(process.env.GLASSCASTD))
    missing.push(`glasscastd (GLASSCASTD=${process.env.GLASSCASTD})`);
  if (!existsSync(CHROMIUM))
    missing.push(`${CHROMIUM}`);
  if (!nginxPath())
    missing.push('nginx');
  let chromium = null;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    missing.push('playwright-core (npm ci)');
  }
  if (!existsSync(join(SOURCE_ROOT, 'node_modules', 'hls.js', 'dist', 'hls.min.js')))
    missing.push('hls.js (npm ci)');
  if (missing.length) {
    console.log(`SKIP: not available: ${missing.join(', ')}`);
    process.exit(SKIP);
  }
  return chromium;
}

function nginxPath() {
  for (const p of [process.env.NGINX, '/usr/sbin/nginx', '/usr/bin/nginx'])
    if (p && existsSync(p))
      return p;
  return null;
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitFor(pred, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await pred();
    if (last)
      return last;
    await sleep(50);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

async function get(url) {
  try {
    const r = await fetch(url);
    return { status: r.status, text: await r.text(), headers: r.headers };
  } catch {
    return { status: 0, text: '', headers: new Headers() };
  }
}

/**
 * The channel worker's pipeline with the knobs that set latency:
 * whipserversrc latency (jitter buffer, ms), llhlssink part-duration (ms)
 * and target-duration (s). Audio as in glasscastd's default pipeline.
 */
export function pipeline({ jitterMs = 50, partMs = 200, targetS = 1 } = {}) {
  return `whipserversrc name=src latency=${jitterMs} ` +
    `src.video_0 ! queue ! llhlssink name=sink location={location} ` +
    `target-duration=${targetS} part-duration=${partMs} ` +
    'src.audio_0 ! queue ! opusdec ! audioconvert ! audioresample ! ' +
    'audiorate tolerance=40000000 skip-to-first=true ! avenc_aac ! aacparse ! sink.';
}

export class Stack {
  // owner: the account (username) owning the channel, its chat's broadcaster.
  // channels: more channels, [{name, owner?, playback?: 'token'}], with the same stream key.
  // billing: start the fake Stripe (tests/fakes/fake_stripe.py) and point [billing] at it.
  constructor({ channel = 'demo', pipelineOptions = {}, owner = null, channels = [], billing = false } = {}) {
    this.channel = channel;
    this.pipelineOptions = pipelineOptions;
    this.owner = owner;
    this.channels = channels;
    this.billing = billing;
    this.key = randomBytes(16).toString('hex');
    this.tmp = mkdtempSync(join(tmpdir(), 'gc-e2e-'));
    this.procs = [];
  }

  logfile(name) {
    try {
      return readFileSync(join(this.tmp, `${name}.log`), 'utf8').slice(-4000);
    } catch {
      return '';
    }
  }

  spawnLogged(name, cmd, args) {
    const fd = openSync(join(this.tmp, `${name}.log`), 'a');
    const p = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
    this.procs.push(p);
    return p;
  }

  async start() {
    await this.startGlasscastd();
    await this.startEdge();
    return this;
  }

  async startGlasscastd() {
    const glasscastd = process.env.GLASSCASTD;
    const hashed = spawnSync(glasscastd, ['--hash-key'], { input: `${this.key}\n`, encoding: 'utf8' });
    if (hashed.status !== 0)
      throw new Error(`glasscastd --hash-key: ${hashed.stderr}`);
    const hash = hashed.stdout.trim().split('\n').pop();
    this.mediaDir = join(this.tmp, 'media');
    mkdirSync(this.mediaDir);
    const config = [
      '[server]', `media-dir=${this.mediaDir}`, `data-dir=${join(this.tmp, 'data')}`,
      `plugin-path=${process.env.GST_PLUGIN_PATH || ''}`, 'log-level=info',
      // Loopback only: the only address ICE offers (WEBRTC-NOTES.md).
      '[webrtc]', 'ice-address=127.0.0.1',
      '[worker]', `pipeline=${pipeline(this.pipelineOptions)}`,
      `[channel:${this.channel}]`, `stream-key-hash=${hash}`,
      ...(this.owner ? [`owner=${this.owner}`] : []),
    ];
    for (const ch of this.channels) {
      config.push(`[channel:${ch.name}]`, `stream-key-hash=${hash}`,
        ...(ch.owner ? [`owner=${ch.owner}`] : []), ...(ch.playback ? [`playback=${ch.playback}`] : []));
    }
    if (this.billing)
      config.push(...await this.startFakeStripe());
    const configPath = join(this.tmp, 'glasscast.ini');
    writeFileSync(configPath, config.join('\n') + '\n');
    const p = this.glasscastd = this.spawnLogged('glasscastd', glasscastd,
      ['--config', configPath, '--listen', '127.0.0.1:0']);
    const m = await waitFor(() => {
      if (p.exitCode !== null)
        throw new Error(`glasscastd exited:\n${this.logfile('glasscastd')}`);
      return this.logfile('glasscastd').match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    }, 15000, 'glasscastd listening');
    this.originUrl = m[1];
    log(`glasscastd ${this.originUrl} (pid ${p.pid})`);
    if (this.billing) {
      // Known only now: where the fake delivers its signed webhooks.
      await this.fake('POST', '/_fake/webhooks',
        { url: `${this.originUrl}/api/v1/billing/stripe/webhook`, secrets: [this.webhookSecret] });
    }
  }

  // The fake Stripe on a free port; returns glasscastd's [billing] lines.
  async startFakeStripe() {
    const secretKey = `sk_test_${randomBytes(12).toString('hex')}`;
    this.webhookSecret = `whsec_${randomBytes(16).toString('hex')}`;
    const keyFile = join(this.tmp, 'stripe-secret-key');
    const hooksFile = join(this.tmp, 'stripe-webhook-secrets');
    writeFileSync(keyFile, `${secretKey}\n`, { mode: 0o600 });
    writeFileSync(hooksFile, `${this.webhookSecret}\n`, { mode: 0o600 });
    const p = this.spawnLogged('fake-stripe', 'python3', [join(SOURCE_ROOT, 'tests', 'fakes', 'fake_stripe.py'),
      '--port', '0', '--webhook-secret', this.webhookSecret, '--api-key', secretKey]);
    const m = await waitFor(() => {
      if (p.exitCode !== null)
        throw new Error(`fake_stripe.py exited:\n${this.logfile('fake-stripe')}`);
      return this.logfile('fake-stripe').match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    }, 15000, 'fake Stripe listening');
    this.stripeUrl = m[1];
    log(`fake Stripe ${this.stripeUrl} (pid ${p.pid})`);
    return ['[billing]', `stripe-api-base=${this.stripeUrl}`, `stripe-secret-key-file=${keyFile}`,
      `webhook-secrets-file=${hooksFile}`];
  }

  /** A request to the fake Stripe's control API (/_fake/...); resolves to the JSON answer, throws on non-2xx. */
  async fake(method, path, body) {
    const r = await fetch(`${this.stripeUrl}${path}`, {
      method, headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (!r.ok)
      throw new Error(`fake Stripe ${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  async startEdge() {
    const prefix = join(this.tmp, 'edge');
    for (const sub of ['logs', 'cache', 'tmp', 'html'])
      mkdirSync(join(prefix, sub), { recursive: true });
    // The harness pages and the WHIP module they share with the ingest page,
    // same-origin on the edge.
    symlinkSync(HERE, join(prefix, 'html', 'harness'));
    symlinkSync(join(SOURCE_ROOT, 'orchestrator', 'web'), join(prefix, 'html', 'web'));
    chmodSync(this.tmp, 0o755);
    const origin = this.originUrl.replace('http://', '');
    for (let attempt = 0; attempt < 8; attempt++) {
      const port = await freePort();
      const conf = join(prefix, 'edge.conf');
      const r = spawnSync(join(SOURCE_ROOT, 'examples', 'render-nginx-conf.sh'),
        [conf, `LISTEN=127.0.0.1:${port}`, `ORIGIN=${origin}`,
          `COLLAPSE=unix:${join(prefix, 'collapse.sock')}`, `USER=${userInfo().username}`,
        ], { encoding: 'utf8' });
      if (r.status !== 0)
        throw new Error(`render-nginx-conf.sh: ${r.stderr}`);
      // Two workers are plenty for a few viewers on 2 cores.
      writeFileSync(conf, readFileSync(conf, 'utf8').replace(/^worker_processes\s+[^;]+;/m, 'worker_processes 1;'));
      const name = `nginx-${attempt}`;
      const p = this.spawnLogged(name, nginxPath(), ['-p', `${prefix}/`, '-c', conf, '-g', 'daemon off;']);
      const url = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 10000;
      while (Date.now() < deadline && p.exitCode === null) {
        if ((await get(`${url}/harness/latency-publish.html`)).status === 200) {
          this.edgeUrl = url;
          this.nginx = p;
          log(`nginx edge ${url} (pid ${p.pid})`);
          return;
        }
        await sleep(100);
      }
      const text = this.logfile(name) + (existsSync(join(prefix, 'logs', 'error.log'))
        ? readFileSync(join(prefix, 'logs', 'error.log'), 'utf8').slice(-2000) : '');
      p.kill('SIGKILL');
      if (!text.includes('Address already in use'))
        throw new Error(`nginx did not come up on ${port}:\n${text}`);
    }
    throw new Error('no free port for nginx after 8 tries');
  }

  /** The channel as GET /api/v1/channels/<name> reports it. */
  async channelInfo(name = this.channel) {
    const r = await get(`${this.originUrl}/api/v1/channels/${name}`);
    return r.status === 200 ? JSON.parse(r.text) : null;
  }

  async stop() {
    for (const p of [...this.procs].reverse()) {
      if (p.exitCode === null && p.signalCode === null)
        p.kill('SIGTERM');
    }
    const deadline = Date.now() + 8000;
    for (const p of this.procs) {
      while (p.exitCode === null && p.signalCode === null && Date.now() < deadline)
        await sleep(50);
      if (p.exitCode === null && p.signalCode === null)
        p.kill('SIGKILL');
    }
    this.procs = [];
    if (process.env.GC_KEEP_TMP)
      log(`kept ${this.tmp}`);
    else
      rmSync(this.tmp, { recursive: true, force: true });
  }
}

/**
 * A fresh Chromium profile; close() removes it. bypassCSP: let the harness
 * inject its frame reader into the watch page (whose CSP allows only its
 * own scripts); the ingest test keeps the pages' real CSP.
 */
export async function launchChromium(chromium, extraArgs = [], { bypassCSP = false } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'gc-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    bypassCSP,
    args: [...CHROMIUM_FLAGS, ...extraArgs],
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * One Chromium with as many separate contexts (cookie jars: one signed-in
 * user each) as newContext() makes; close() ends it.
 */
export async function launchBrowser(chromium, extraArgs = []) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...extraArgs],
  });
  return {
    browser,
    newContext: (options = {}) => browser.newContext(options),
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

/** Collects a page's console and errors, for failure messages. */
export function recordConsole(page, name, lines) {
  page.on('console', (m) => lines.push(`${name} ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => lines.push(`${name} pageerror: ${e.message}`));
}

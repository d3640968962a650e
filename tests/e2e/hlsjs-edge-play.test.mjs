// hlsjs-edge-play.test.mjs — hls.js (npm) in Debian's headless Chromium plays a live channel through
// the nginx edge in low-latency mode: currentTime advances every second for 20 s, no stall, hls.latency reported.
//
// Runs with the edge stack up (tests/integration/edge/edgelib.py run ... -- node this-file), which
// sets EDGE_URL and serves tests/e2e at /player/ and node_modules/hls.js/dist at /hls/ on the edge.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SKIP = 77;
const WATCH_SECONDS = 20;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const EDGE_URL = process.env.EDGE_URL;
const CHANNEL = process.env.CHANNEL || 'demo';

// The flags of the team's shared chromium-flags.txt, less --headless
// (playwright adds it, and refuses --user-data-dir: it gets a fresh dir).
const CHROMIUM_FLAGS = [
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

function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(SKIP);
}

if (!EDGE_URL)
  skip('EDGE_URL not set: run through tests/integration/edge/edgelib.py run');
if (!existsSync(CHROMIUM))
  skip(`${CHROMIUM} not installed (scripts/install-deps.sh)`);
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  skip('playwright-core not installed (npm ci, done by scripts/install-deps.sh)');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('hls.js plays the live channel through the edge in low-latency mode without stalling', async (t) => {
  const profile = await mkdtemp(join(tmpdir(), 'gc-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  t.after(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });

  const page = await context.newPage();
  const pageLog = [];
  page.on('console', (msg) => pageLog.push(`${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => pageLog.push(`pageerror: ${err.message}`));
  const src = `/live/${CHANNEL}/index.m3u8`;
  await page.goto(`${EDGE_URL}/player/player.html?src=${encodeURIComponent(src)}`);

  const ready = await page.evaluate(() => ({
    supported: window.player?.supported, version: window.player?.version,
  }));
  assert.ok(ready.supported, `hls.js ${ready.version} says MSE is not supported here:\n${pageLog.join('\n')}`);

  const started = Date.now();
  await page.waitForFunction(() => window.player.playing || window.player.errors.length > 0,
    null, { timeout: 30000 });
  const startup = await page.evaluate(() => window.player.errors);
  assert.deepEqual(startup, [], `hls.js fatal errors before playback:\n${pageLog.join('\n')}`);
  console.log(`# hls.js ${ready.version}: playing after ${Date.now() - started} ms`);

  const state = () => page.evaluate(() => ({
    currentTime: document.getElementById('video').currentTime,
    waiting: window.player.waitingAfterPlaying,
    errors: window.player.errors,
    latency: window.player.latency(),
    target: window.player.targetLatency(),
    lowLatency: window.player.lowLatencyMode(),
  }));
  const trace = async () => `player trace:\n${(await page.evaluate(() => window.player.trace)).join('\n')}` +
    `\npage log:\n${pageLog.join('\n')}`;

  let last = await state();
  assert.ok(last.lowLatency, 'hls.js is not in low-latency mode');
  for (let second = 1; second <= WATCH_SECONDS; second++) {
    await sleep(1000);
    const now = await state();
    assert.deepEqual(now.errors, [], `hls.js fatal errors at ${second} s:\n${await trace()}`);
    assert.equal(now.waiting, 0,
      `the video stalled ('waiting' after playback began) by ${second} s:\n${await trace()}`);
    assert.ok(now.currentTime > last.currentTime,
      `currentTime did not advance in second ${second}: ${last.currentTime} -> ${now.currentTime}\n` +
      await trace());
    last = now;
  }

  assert.ok(Number.isFinite(last.latency) && last.latency > 0,
    `hls.latency is ${last.latency}, expected a finite positive number`);
  console.log(`# hls.latency ${last.latency.toFixed(3)} s (target ${Number(last.target).toFixed(3)} s), ` +
    `currentTime ${last.currentTime.toFixed(2)} s after ${WATCH_SECONDS} s watched`);
});

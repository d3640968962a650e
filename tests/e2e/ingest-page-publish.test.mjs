// ingest-page-publish.test.mjs — the creator's /ingest/<channel> page publishes Chromium's fake camera and
// microphone over WHIP with the stream key; /watch/<channel> (media through the nginx edge) plays it:
// currentTime advances and a latency shows. A wrong key and a second publisher get their own messages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, launchChromium, log, recordConsole, requirements, sleep } from './stack.mjs';

const chromium = await requirements();

async function openIngest(context, stack, lines, name) {
  const page = await context.newPage();
  recordConsole(page, name, lines);
  await page.goto(`${stack.originUrl}/ingest/${stack.channel}`);
  return page;
}

async function goLive(page, key) {
  await page.fill('#key', key);
  await page.click('#go-live');
}

test('the ingest page goes live with the fake camera and the watch page plays it', async (t) => {
  const stack = await new Stack().start();
  t.after(() => stack.stop());
  const browser = await launchChromium(chromium, ['--use-fake-device-for-media-stream=fps=30']);
  t.after(() => browser.close());
  const lines = [];
  const why = () => `\n${lines.slice(-40).join('\n')}\n--- glasscastd ---\n${stack.logfile('glasscastd')}`;

  // A wrong key: 401, explained, and the page is not live.
  const wrong = await openIngest(browser.context, stack, lines, 'ingest-wrong');
  await goLive(wrong, 'not-the-key');
  await wrong.waitForFunction(() => window.glasscastIngest.errors.length > 0, null, { timeout: 15000 });
  const wrongState = await wrong.evaluate(() => ({ state: window.glasscastIngest.state,
    error: window.glasscastIngest.errors[0], shown: document.getElementById('error').textContent }));
  assert.equal(wrongState.error.code, 'unauthorized', `wrong key: ${JSON.stringify(wrongState)}${why()}`);
  assert.match(wrongState.shown, /stream key is wrong/);
  assert.equal(wrongState.state, 'error');
  await wrong.close();

  // The right key: live.
  const ingest = await openIngest(browser.context, stack, lines, 'ingest');
  await goLive(ingest, stack.key);
  await ingest.waitForFunction(() => window.glasscastIngest.state === 'live', null, { timeout: 20000 })
    .catch((e) => { throw new Error(`the ingest page did not go live: ${e.message}${why()}`); });
  log('ingest page live');

  // Health from getStats: H.264, a bitrate and a frame rate.
  await ingest.waitForFunction(() => window.glasscastIngest.health?.bitrate > 0 && window.glasscastIngest.health?.fps > 0,
    null, { timeout: 10000 });
  const health = await ingest.evaluate(() => window.glasscastIngest.health);
  log(`ingest health ${JSON.stringify(health)}`);
  assert.equal(health.codec, 'video/H264');
  assert.equal(await ingest.textContent('#state'), 'LIVE');

  // A second publisher on the same channel: 409, explained.
  const second = await openIngest(browser.context, stack, lines, 'ingest-second');
  await goLive(second, stack.key);
  await second.waitForFunction(() => window.glasscastIngest.errors.length > 0 || window.glasscastIngest.state === 'reconnecting',
    null, { timeout: 15000 });
  const secondState = await second.evaluate(() => ({ state: window.glasscastIngest.state,
    shown: document.getElementById('error').textContent }));
  assert.match(secondState.shown, /already live|another/i, `second publisher: ${JSON.stringify(secondState)}`);
  await second.evaluate(() => document.getElementById('stop').click());
  await second.close();

  // The viewer: the watch page with media through the edge.
  const watch = await browser.context.newPage();
  recordConsole(watch, 'watch', lines);
  await watch.goto(`${stack.originUrl}/watch/${stack.channel}?media=${encodeURIComponent(stack.edgeUrl)}`);
  await watch.waitForFunction(() => window.glasscastWatch.playing, null, { timeout: 20000 })
    .catch((e) => { throw new Error(`the watch page did not play: ${e.message}${why()}`); });
  const t0 = await watch.evaluate(() => document.getElementById('video').currentTime);
  await sleep(5000);
  const after = await watch.evaluate(() => ({
    currentTime: document.getElementById('video').currentTime,
    latency: window.glasscastWatch.latency(),
    overlay: document.getElementById('stats').textContent,
    badge: document.getElementById('state').textContent,
    errors: window.glasscastWatch.errors,
    firstFrameMs: window.glasscastWatch.firstFrameMs,
  }));
  log(`watch: currentTime ${t0.toFixed(2)} -> ${after.currentTime.toFixed(2)}, latency ${after.latency.toFixed(3)} s, ` +
    `first frame ${after.firstFrameMs?.toFixed(0)} ms after load; overlay:\n${after.overlay}`);
  assert.ok(after.currentTime - t0 > 3, `currentTime advanced only ${after.currentTime - t0} s in 5 s${why()}`);
  assert.ok(Number.isFinite(after.latency) && after.latency > 0, `latency ${after.latency}`);
  assert.match(after.overlay, /latency \d+\.\d+ s/);
  assert.equal(after.badge, 'LIVE');
  assert.deepEqual(after.errors, []);

  // Stop: the session ends (DELETE) and the channel goes offline.
  await ingest.click('#stop');
  const deadline = Date.now() + 10000;
  let info;
  while (Date.now() < deadline) {
    info = await stack.channelInfo();
    if (info && !info.live)
      break;
    await sleep(100);
  }
  assert.equal(info.live, false, `channel still live after Stop: ${JSON.stringify(info)}`);
});

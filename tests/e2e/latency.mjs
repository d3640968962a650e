// latency.mjs — the latency harness: the canvas clock (latency-publish.html) is published over WHIP to
// glasscastd; the watch page, through the nginx edge, reads each displayed frame back (latency-viewer.js).
// Same browser, same clock: glass-to-glass. Used by latency-harness.test.mjs (CI, 20 s) and by
// tests/bench/latency-bench.mjs (120 s).

import { join } from 'node:path';
import { launchChromium, log, recordConsole, sleep } from './stack.mjs';

const HERE = new URL('.', import.meta.url).pathname;

export function percentile(sorted, p) {
  if (!sorted.length)
    return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0] ?? NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted[sorted.length - 1] ?? NaN,
    mean: sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1),
  };
}

/**
 * Polls the origin's media playlist every 10 ms: sets times.part when it
 * first lists a part, times.segment (and resolves) when it first lists a
 * complete segment, the first moment hls.js 1.7 can start.
 */
function watchFirstPart(stack, stopSignal, times) {
  const url = `${stack.originUrl}/live/${stack.channel}/video_0/media.m3u8`;
  return (async () => {
    while (!stopSignal.stopped) {
      try {
        const r = await fetch(url);
        const text = await r.text();
        if (r.status === 200 && text.includes('#EXT-X-PART:') && !times.part)
          times.part = Date.now();
        if (r.status === 200 && text.includes('#EXTINF:'))
          return (times.segment = Date.now());
      } catch {
        // not up yet
      }
      await sleep(10);
    }
    return null;
  })();
}

async function openViewer(context, stack, watchQuery, lines, name) {
  const page = await context.newPage();
  recordConsole(page, name, lines);
  await page.addInitScript({ path: join(HERE, 'timecode.js') });
  await page.addInitScript({ path: join(HERE, 'latency-viewer.js') });
  const query = new URLSearchParams({ media: stack.edgeUrl, ...watchQuery });
  await page.goto(`${stack.originUrl}/watch/${stack.channel}?${query}`);
  return page;
}

/**
 * Runs the harness for @seconds of viewing. Returns the latency samples and
 * the start-up times; throws with the pages' console on failure.
 *   watchQuery: extra watch-page parameters (sync=, rate=)
 *   reloads: after the run, load the watch page this many more times and
 *            time its first frame each time (the benchmark does)
 */
export async function runHarness({ chromium, stack, seconds, watchQuery = {}, reloads = 0, warmupSeconds = 5 }) {
  const lines = [];
  const browser = await launchChromium(chromium, [], { bypassCSP: true });
  const stopSignal = { stopped: false };
  try {
    const pub = await browser.context.newPage();
    recordConsole(pub, 'publisher', lines);
    const query = new URLSearchParams({ whip: `${stack.originUrl}/whip/${stack.channel}`, key: stack.key });
    await pub.goto(`${stack.edgeUrl}/harness/latency-publish.html?${query}`);

    const times = {};
    const firstPartPromise = watchFirstPart(stack, stopSignal, times);
    await pub.evaluate(() => window.harness.start());
    const started = await pub.evaluate(() => ({ created: window.harness.created, error: window.harness.error }));
    if (started.error)
      throw new Error(`publishing failed: ${started.error}`);
    log(`WHIP 201 at ${new Date(started.created).toISOString()}`);
    const firstSegmentAt = await Promise.race([firstPartPromise, sleep(15000).then(() => null)]);
    if (firstSegmentAt === null)
      throw new Error('no LL-HLS segment within 15 s of the 201');
    const firstPartMs = times.part - started.created;
    const firstSegmentMs = firstSegmentAt - started.created;
    log(`first part listed ${firstPartMs.toFixed(0)} ms, first segment ${firstSegmentMs.toFixed(0)} ms after the 201`);

    const viewer = await openViewer(browser.context, stack, watchQuery, lines, 'viewer');
    const viewerOpenedAt = Date.now();
    await viewer.waitForFunction(() => window.latencyProbe?.decoded > 0, null, { timeout: 20000 })
      .catch(async () => {
        const state = await viewer.evaluate(() => ({ probe: window.latencyProbe, errors: window.glasscastWatch?.errors }));
        throw new Error(`the viewer decoded no frame in 20 s: ${JSON.stringify(state)}`);
      });
    const firstFrame = await viewer.evaluate(() => ({
      watch: window.glasscastWatch.firstFrameMs, probe: window.latencyProbe.firstFrameAt,
      created: performance.timeOrigin,
    }));
    log(`viewer: first frame ${firstFrame.watch?.toFixed(0)} ms after navigation start; ` +
      `${(firstFrame.created + firstFrame.watch - started.created).toFixed(0)} ms after the 201`);

    const endAt = viewerOpenedAt + seconds * 1000;
    while (Date.now() < endAt) {
      await sleep(Math.min(5000, Math.max(0, endAt - Date.now())));
      const p = await viewer.evaluate(() => {
        const s = window.latencyProbe.samples;
        return { decoded: window.latencyProbe.decoded, frames: window.latencyProbe.frames,
          last: s.length ? s[s.length - 1][1] : null, hls: window.glasscastWatch.latency(),
          buffer: window.glasscastWatch.buffer() };
      });
      log(`frames ${p.frames}, decoded ${p.decoded}, latency now ${p.last?.toFixed(0)} ms ` +
        `(hls.latency ${Number(p.hls).toFixed(3)} s, buffer ${p.buffer.toFixed(2)} s)`);
    }
    const result = await viewer.evaluate(() => ({
      probe: window.latencyProbe,
      watchErrors: window.glasscastWatch.errors,
      hlsLatency: window.glasscastWatch.latency(),
      targetLatency: window.glasscastWatch.targetLatency(),
      dropped: document.getElementById('video').getVideoPlaybackQuality().droppedVideoFrames,
    }));
    const publisherHealth = await pub.evaluate(() => window.harness.health);

    const firstShown = result.probe.samples.length ? result.probe.samples[0][0] : 0;
    const all = result.probe.samples.map(([, l]) => l);
    const steady = result.probe.samples.filter(([t]) => t - firstShown >= warmupSeconds * 1000).map(([, l]) => l);

    // Fresh page loads on the live channel: time to first frame. A load
    // that shows nothing in 10 s is counted as such, not fatal: the figures
    // above are kept.
    const reloadFirstFrames = [];
    let failedReloads = 0;
    await viewer.close();
    for (let i = 0; i < reloads; i++) {
      const again = await openViewer(browser.context, stack, watchQuery, lines, `viewer-${i}`);
      try {
        await again.waitForFunction(() => window.glasscastWatch?.firstFrameMs != null, null, { timeout: 10000 });
        reloadFirstFrames.push(await again.evaluate(() => window.glasscastWatch.firstFrameMs));
      } catch {
        failedReloads++;
      }
      await again.close();
      await sleep(500);
    }

    await pub.evaluate(() => window.harness.publisher.stop());
    return {
      seconds,
      frames: result.probe.frames,
      decoded: result.probe.decoded,
      undecodable: result.probe.undecodable,
      latency: summarize(all),
      steady: summarize(steady),
      firstPartMs,
      firstSegmentMs,
      viewerFirstFrameMs: firstFrame.watch,
      viewerFirstFrameAfter201Ms: firstFrame.created + firstFrame.watch - started.created,
      reloadFirstFrames: summarize(reloadFirstFrames),
      failedReloads,
      hlsLatency: result.hlsLatency,
      targetLatency: result.targetLatency,
      dropped: result.dropped,
      watchErrors: result.watchErrors,
      publisherHealth,
      console: lines,
    };
  } catch (err) {
    err.message += `\n--- browser console ---\n${lines.slice(-60).join('\n')}` +
      `\n--- glasscastd ---\n${stack.logfile('glasscastd')}`;
    throw err;
  } finally {
    stopSignal.stopped = true;
    await browser.close();
  }
}

export function report(r) {
  const f = (x) => (Number.isFinite(x) ? x.toFixed(0) : String(x));
  return [
    `frames presented ${r.frames}, decoded ${r.decoded}, undecodable ${r.undecodable}, dropped ${r.dropped}`,
    `glass-to-glass (all ${r.latency.n}): p50 ${f(r.latency.p50)} ms, p95 ${f(r.latency.p95)} ms, ` +
      `max ${f(r.latency.max)} ms, min ${f(r.latency.min)} ms`,
    `glass-to-glass (after warm-up, ${r.steady.n}): p50 ${f(r.steady.p50)} ms, p95 ${f(r.steady.p95)} ms, ` +
      `max ${f(r.steady.max)} ms`,
    `first part listed ${f(r.firstPartMs)} ms, first complete segment ${f(r.firstSegmentMs)} ms after WHIP 201`,
    `viewer first frame ${f(r.viewerFirstFrameMs)} ms after navigation start ` +
      `(${f(r.viewerFirstFrameAfter201Ms)} ms after the 201)`,
    r.reloadFirstFrames.n ? `viewer first frame on ${r.reloadFirstFrames.n} reloads: p50 ${f(r.reloadFirstFrames.p50)} ms, ` +
      `max ${f(r.reloadFirstFrames.max)} ms` : null,
    r.failedReloads ? `viewer reloads without a frame in 10 s: ${r.failedReloads}` : null,
    `hls.js latency ${Number(r.hlsLatency).toFixed(3)} s, target ${Number(r.targetLatency).toFixed(3)} s`,
    `publisher: ${JSON.stringify(r.publisherHealth)}`,
    r.watchErrors.length ? `watch page errors: ${r.watchErrors.join('; ')}` : null,
  ].filter(Boolean).map((l) => `# ${l}`).join('\n');
}

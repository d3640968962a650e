// latency-viewer.js — the latency harness's frame reader, injected into the watch page after timecode.js:
// reads every displayed frame (requestVideoFrameCallback + drawImage), decodes the painted wall-clock time
// and records display time - painted time. Same browser, same clock: glass-to-glass. Results in
// window.latencyProbe.

(function () {
  'use strict';

  // Injected before the page's own scripts (playwright addInitScript): wait
  // for the video element.
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
    return;
  }
  start();

  function start() {
  const video = document.getElementById('video');
  const canvas = document.createElement('canvas');
  canvas.width = GcTimecode.WIDTH;
  canvas.height = GcTimecode.HEIGHT;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const probe = window.latencyProbe = {
    frames: 0,       // frames presented
    decoded: 0,      // frames whose code checked out
    undecodable: 0,
    samples: [],     // [display wall clock ms, latency ms]
    firstFrameAt: null,  // performance.now() of the first presented frame
    firstDecodedAt: null,
  };

  function onFrame(now, meta) {
    const shown = performance.timeOrigin + (meta.expectedDisplayTime || now);
    probe.frames++;
    if (probe.firstFrameAt === null)
      probe.firstFrameAt = performance.now();
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    const painted = GcTimecode.decode(ctx.getImageData(0, 0, canvas.width, canvas.height).data);
    if (painted === null) {
      probe.undecodable++;
    } else {
      probe.decoded++;
      if (probe.firstDecodedAt === null)
        probe.firstDecodedAt = performance.now();
      probe.samples.push([shown, shown - painted]);
    }
    video.requestVideoFrameCallback(onFrame);
  }
  video.requestVideoFrameCallback(onFrame);
  }
})();

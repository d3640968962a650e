// watch.js — the watch page's behaviour: LL-HLS playback (hls.js low-latency mode, or the browser's own HLS
// without MSE), the channel's live/offline state from /api/v1/channels/<name>, a stats overlay; the chat panel
// (chat.js) is given the playhead's date to hold messages until the video reaches them.
//
// Query parameters (all optional):
//   media=URL   where /live/ is served, e.g. an nginx edge or CDN (default: this page's origin)
//   sync=S      hls.js liveSyncDuration in seconds (default: the playlist's PART-HOLD-BACK)
//   rate=R      hls.js maxLiveSyncPlaybackRate (default 1.25)
//   stall=S     hls.js liveSyncOnStallIncrease in seconds (default 0.2)
//   native=1    prefer the browser's own HLS even where MSE exists
//   chat=URL    the chat WebSocket (default ws(s)://<this host>/chat/<channel>), e.g. a test chat node
// Ticketed channels ([channel] playback=token) answer 403 without a playback token: the page then asks
// /api/v1/playback-token for one (a cookie for this origin; a token in the playlist URL for another media
// origin, which the origin carries into every URI of its playlists) and renews it before it expires.
// Refused one (page.ticket 'sign-in' or 'denied'), it fires a cancelable 'gc-ticket' event on window: the
// support bar (monetize.js) answers with the event's ticket card, and page.retryPlayback() after a purchase.
// window.glasscastWatch exposes the player for the browser tests (tests/e2e).

const params = new URLSearchParams(location.search);
const channel = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
const mediaBase = (params.get('media') || location.origin).replace(/\/+$/, '');
const playlistBase = `${mediaBase}/live/${encodeURIComponent(channel)}/index.m3u8`;
let playlistUrl = playlistBase;
const apiUrl = `/api/v1/channels/${encodeURIComponent(channel)}`;
const $ = (id) => document.getElementById(id);
const video = $('video');

const POLL_MS = 2000;

const page = window.glasscastWatch = {
  channel,
  playlistUrl,
  mode: null,          // 'hls.js' | 'native'
  hls: null,
  channelState: null,  // the API's state: offline | starting | connecting | live | stopping | unknown
  playing: false,
  errors: [],          // fatal playback errors
  firstFrameMs: null,  // performance.now() of the first decoded frame (ms after navigation start)
  latency: () => (page.hls ? page.hls.latency : nativeLatency()),
  targetLatency: () => page.hls?.targetLatency ?? null,
  buffer: () => bufferAhead(),
  playheadDate: () => playheadDate(),
  ticket: null,        // null | 'ok' | 'sign-in' | 'denied': a ticketed channel's answer
};

const TOKEN_RENEW_BEFORE_S = 60;
let tokenTimer = null;

// A playback token for this channel, from the viewer's session.
async function fetchPlaybackToken() {
  const response = await fetch(`/api/v1/playback-token?channel=${encodeURIComponent(channel)}`,
    { credentials: 'same-origin', cache: 'no-store' });
  if (response.status === 401) {
    page.ticket = 'sign-in';
    throw new Error('Sign in to watch this event.');
  }
  if (!response.ok) {
    page.ticket = 'denied';
    throw new Error('This is a ticketed event: you need a ticket to watch it.');
  }
  const { token, expires } = await response.json();
  page.ticket = 'ok';
  // Same origin: the cookie the answer set is enough. Another media origin
  // gets no cookie: the token goes in the playlist's URL.
  playlistUrl = mediaBase === location.origin ? playlistBase
    : `${playlistBase}?token=${encodeURIComponent(token)}`;
  clearTimeout(tokenTimer);
  const renewIn = Math.max(5, expires - Date.now() / 1000 - TOKEN_RENEW_BEFORE_S);
  tokenTimer = setTimeout(() => {
    fetchPlaybackToken().catch(ticketRefused);
  }, renewIn * 1000);
}

// hls.js in low-latency mode: target latency is the playlist's PART-HOLD-BACK
// (3 parts) unless sync= sets one; playback speeds up to catch up when it
// falls behind (after a stall) rather than jumping.
function hlsConfig() {
  const config = {
    lowLatencyMode: true,
    backBufferLength: 4,
    maxLiveSyncPlaybackRate: Number(params.get('rate')) || 1.25,
    // hls.js adds this to the target latency after every stall, for good
    // (default 1 s). One late part on a busy machine then cost a second of
    // latency for the rest of the session (measured: p50 0.83 s -> 1.6 s);
    // a fifth of that still rides out repeated hiccups.
    liveSyncOnStallIncrease: Number(params.get('stall')) || 0.2,
    // Retry quickly and for longer than the defaults (2 tries, 1 s apart):
    // a channel that just went live has parts before its first complete
    // segment, and hls.js needs one segment to start (levelEmptyError until
    // then). Every 250 ms here is time to first frame.
    manifestLoadPolicy: { default: loadPolicy(6) },
    playlistLoadPolicy: { default: loadPolicy(12) },
  };
  if (params.has('sync'))
    config.liveSyncDuration = Number(params.get('sync'));
  return config;
}

function loadPolicy(retries) {
  return {
    maxTimeToFirstByteMs: 10000,
    maxLoadTimeMs: 20000,
    timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
    errorRetry: { maxNumRetry: retries, retryDelayMs: 250, maxRetryDelayMs: 1000 },
  };
}

function bufferAhead() {
  const b = video.buffered;
  for (let i = 0; i < b.length; i++) {
    if (b.start(i) <= video.currentTime + 0.1 && video.currentTime <= b.end(i))
      return b.end(i) - video.currentTime;
  }
  return 0;
}

// Native HLS has no latency API; the PROGRAM-DATE-TIME of the playhead does.
function nativeLatency() {
  const date = video.getStartDate?.();
  if (!date || Number.isNaN(date.getTime()))
    return NaN;
  return (Date.now() - (date.getTime() + video.currentTime * 1000)) / 1000;
}

// The wall-clock time (ms) of the frame on screen, from the playlist's
// PROGRAM-DATE-TIME; null when there is none to speak of (not started, ended,
// no PDT). Paused video keeps its date: the chat holds while it stands still.
function playheadDate() {
  if (!page.playing || video.ended)
    return null;
  if (page.hls) {
    const date = page.hls.playingDate;
    return date && Number.isFinite(date.getTime()) ? date.getTime() : null;
  }
  const start = video.getStartDate?.();
  if (!start || Number.isNaN(start.getTime()))
    return null;
  return start.getTime() + video.currentTime * 1000;
}

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = !message;
}

// No token for this viewer: the support bar (monetize.js) shows the event's
// ticket card instead of a bare error when it is there to take the event.
function ticketRefused(err) {
  const event = new CustomEvent('gc-ticket', { detail: page.ticket, cancelable: true });
  if (window.dispatchEvent(event) || !page.ticket || page.ticket === 'ok')
    showError(err.message);
}

// After a sign-in or a ticket purchase: ask for a token again and play.
page.retryPlayback = () => {
  page.ticket = null;
  stopPlayback();
  showError('');
  return fetchPlaybackToken().then(startPlayback).catch(ticketRefused);
};

function setBadge(state) {
  const badge = $('state');
  const live = state === 'live' || state === 'connecting';
  badge.dataset.state = live ? 'live' : state;
  badge.textContent = live ? 'LIVE' : state === 'unknown' ? 'no such channel' : 'offline';
  $('offline').hidden = live || page.playing;
}

function stopPlayback() {
  page.hls?.destroy();
  page.hls = null;
  page.mode = null;
  page.playing = false;
}

function startPlayback() {
  if (page.mode)
    return;
  showError('');
  const Hls = window.Hls;
  const mse = Hls?.isSupported();
  const native = video.canPlayType('application/vnd.apple.mpegurl') !== '';
  if (native && (!mse || params.get('native') === '1')) {
    page.mode = 'native';
    video.src = playlistUrl;
    video.play().catch(() => {});
    return;
  }
  if (!mse) {
    showError('This browser cannot play live video (no Media Source Extensions and no native HLS).');
    return;
  }
  page.mode = 'hls.js';
  const hls = page.hls = new Hls(hlsConfig());
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) {
      console.debug(`hls.js: ${data.details} ${data.url || ''} ${data.reason || ''}`);
      return;
    }
    // A ticketed channel without (or with an expired) token: get one, retry.
    if (data.response?.code === 403 && page.ticket !== 'sign-in' && page.ticket !== 'denied') {
      stopPlayback();
      fetchPlaybackToken().then(startPlayback).catch(ticketRefused);
      return;
    }
    page.errors.push(`${data.type}: ${data.details} (${data.url || data.context?.url || ''}: ${data.reason || data.error?.message || ''})`);
    // An offline channel's playlist is a 404: wait for the API to say live.
    stopPlayback();
    if (page.channelState === 'live')
      setTimeout(startPlayback, 1000);
  });
  hls.loadSource(playlistUrl);
  hls.attachMedia(video);
  video.play().catch(() => {});
}

async function poll() {
  let state = 'offline';
  try {
    const response = await fetch(apiUrl, { cache: 'no-store' });
    if (response.status === 404)
      state = 'unknown';
    else if (response.ok)
      state = (await response.json()).live ? 'live' : 'offline';
  } catch {
    state = page.channelState || 'offline'; // keep playing through an API blip
  }
  const wasLive = page.channelState === 'live';
  page.channelState = state;
  setBadge(state === 'live' ? 'live' : state);
  // A new session after an ended one: the old playlist said ENDLIST. A
  // refused ticket waits for page.retryPlayback().
  const refused = page.ticket === 'sign-in' || page.ticket === 'denied';
  if (state === 'live' && !refused && (!page.mode || (video.ended && !wasLive))) {
    stopPlayback();
    startPlayback();
  }
}

function renderStats() {
  const lines = [];
  const latency = page.latency();
  if (Number.isFinite(latency))
    lines.push(`latency ${latency.toFixed(2)} s` +
      (page.targetLatency() != null ? ` (target ${page.targetLatency().toFixed(2)} s)` : ''));
  lines.push(`buffer  ${bufferAhead().toFixed(2)} s`);
  const hls = page.hls;
  const level = hls && hls.levels && hls.levels[hls.currentLevel];
  if (level)
    lines.push(`video   ${level.width}×${level.height} ${Math.round(level.bitrate / 1000)} kbit/s`);
  const quality = video.getVideoPlaybackQuality?.();
  if (quality)
    lines.push(`frames  ${quality.totalVideoFrames} (${quality.droppedVideoFrames} dropped)`);
  if (video.playbackRate !== 1)
    lines.push(`speed   ${video.playbackRate.toFixed(2)}×`);
  $('stats').textContent = lines.join('\n');
}

function onFirstFrame() {
  page.firstFrameMs = performance.now();
}

document.title = `${channel} — Glasscast`;
$('channel-name').textContent = channel;
video.addEventListener('playing', () => {
  page.playing = true;
  $('offline').hidden = true;
});
video.addEventListener('ended', () => {
  page.playing = false;
  setBadge('offline');
});
if ('requestVideoFrameCallback' in video)
  video.requestVideoFrameCallback(onFirstFrame);
else
  video.addEventListener('loadeddata', onFirstFrame, { once: true });

// Start at once, before the API answers: every millisecond here is the
// viewer's time to first frame. An offline channel costs one 404.
startPlayback();
poll();
setInterval(poll, POLL_MS);
setInterval(renderStats, 500);
// After playback has started: the chat is not on the first frame's path, and
// a chat that fails to load leaves the video playing.
import('./chat.js')
  .then(({ startChat }) => startChat({ channel, video, playheadDate, socketUrl: params.get('chat') }))
  .catch((err) => console.error(`chat: ${err.message}`));
// Subscribe, tip and tickets under the player.
import('./monetize.js')
  .then(({ startSupport }) => startSupport({ channel, page }))
  .catch((err) => console.error(`support: ${err.message}`));

// ingest.js — the ingest page's behaviour: capture (camera/microphone or screen), preview, WHIP publishing
// through whip-client.js, live health from getStats, errors a creator can act on.
//
// window.glasscastIngest exposes the state for the browser tests (tests/e2e).

import { WhipError, WhipPublisher } from '/web/whip-client.js';

const channel = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
const $ = (id) => document.getElementById(id);

const ui = {
  state: $('state'), preview: $('preview'), noPreview: $('no-preview'), error: $('error'),
  camera: $('camera'), microphone: $('microphone'), key: $('key'),
  goLive: $('go-live'), stop: $('stop'), setup: $('setup'),
};

const page = window.glasscastIngest = {
  channel,
  state: 'idle',
  errors: [],        // {code, message} shown to the user, newest last
  health: null,      // latest PublishStats sample
  reconnects: 0,
  publisher: null,
  stream: null,
};

// What each failure means for the creator, by WhipError code or DOMException name.
const MESSAGES = {
  unauthorized: 'The stream key is wrong. Copy it again from your channel settings.',
  conflict: 'This channel is already live (another tab or OBS is publishing). Stop it there first.',
  not_found: `There is no channel "${channel}".`,
  forbidden: 'Publishing is disabled for this channel.',
  unsupported_codecs: 'The server cannot take the video this browser sends (H.264 is needed).',
  no_h264: 'This browser cannot send H.264 video, which Glasscast needs.',
  NotFoundError: 'No camera or microphone was found. Connect one, or share your screen instead.',
  NotAllowedError: 'Access to the camera/microphone or screen was refused. Allow it in the browser and try again.',
  NotReadableError: 'The camera or microphone is in use by another application.',
  OverconstrainedError: 'The selected camera or microphone is not available any more.',
};

function showError(code, detail) {
  const message = MESSAGES[code] || detail || code;
  page.errors.push({ code, message });
  delete ui.error.dataset.transient;
  ui.error.textContent = message;
  ui.error.hidden = false;
}

function clearError() {
  delete ui.error.dataset.transient;
  ui.error.hidden = true;
  ui.error.textContent = '';
}

function setState(state) {
  page.state = state;
  ui.state.dataset.state = state;
  ui.state.textContent = { idle: 'offline', connecting: 'connecting…', live: 'LIVE',
    reconnecting: 'reconnecting…', stopped: 'offline', error: 'offline' }[state] || state;
  const busy = state === 'connecting' || state === 'live' || state === 'reconnecting';
  ui.goLive.disabled = busy;
  ui.stop.disabled = !busy;
  $('source-fields').disabled = busy;
  ui.key.disabled = busy;
}

async function listDevices() {
  let devices = [];
  try {
    devices = await navigator.mediaDevices.enumerateDevices();
  } catch {
    return;
  }
  for (const [select, kind] of [[ui.camera, 'videoinput'], [ui.microphone, 'audioinput']]) {
    const current = select.value;
    select.replaceChildren();
    const none = kind === 'audioinput' ? [{ deviceId: 'none', label: 'No microphone' }] : [];
    for (const [i, d] of [...devices.filter((x) => x.kind === kind), ...none].entries()) {
      const option = new Option(d.label || `${kind === 'videoinput' ? 'Camera' : 'Microphone'} ${i + 1}`, d.deviceId);
      select.add(option);
    }
    if ([...select.options].some((o) => o.value === current))
      select.value = current;
  }
}

function source() {
  return ui.setup.elements.source.value;
}

async function capture() {
  if (!navigator.mediaDevices)
    throw new DOMException('This page needs a secure context (https or localhost).', 'NotAllowedError');
  if (source() === 'screen') {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 30 }, audio: true });
    // A screen share without its own audio takes the selected microphone.
    if (!stream.getAudioTracks().length && ui.microphone.value && ui.microphone.value !== 'none') {
      try {
        const mic = await navigator.mediaDevices.getUserMedia({ audio: { deviceId: { exact: ui.microphone.value } } });
        mic.getAudioTracks().forEach((t) => stream.addTrack(t));
      } catch {
        // video alone is still a stream
      }
    }
    return stream;
  }
  const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
  if (ui.camera.value)
    video.deviceId = { exact: ui.camera.value };
  const audio = ui.microphone.value === 'none' ? false
    : ui.microphone.value ? { deviceId: { exact: ui.microphone.value } } : true;
  return navigator.mediaDevices.getUserMedia({ video, audio });
}

function stopStream() {
  page.stream?.getTracks().forEach((t) => t.stop());
  page.stream = null;
  ui.preview.srcObject = null;
  ui.noPreview.hidden = false;
}

async function preview() {
  clearError();
  stopStream();
  try {
    page.stream = await capture();
  } catch (err) {
    showError(err.name, err.message);
    return null;
  }
  ui.preview.srcObject = page.stream;
  ui.noPreview.hidden = true;
  // The user ended the share from the browser's own bar: stop publishing too.
  page.stream.getVideoTracks()[0]?.addEventListener('ended', () => stop());
  await listDevices(); // labels appear once permission is granted
  return page.stream;
}

async function goLive(event) {
  event.preventDefault();
  clearError();
  if (!ui.key.value.trim()) {
    showError('missing_key', 'Enter your stream key.');
    return;
  }
  if (!page.stream && !(await preview()))
    return;
  const publisher = page.publisher = new WhipPublisher({
    endpoint: `/whip/${encodeURIComponent(channel)}`, token: ui.key.value.trim(),
  });
  publisher.addEventListener('state', (e) => {
    if (publisher !== page.publisher)
      return;
    if (e.detail.state === 'reconnecting')
      $('h-reconnects').textContent = String(++page.reconnects);
    if (e.detail.state === 'error' && publisher.lastError)
      showError(publisher.lastError.code, publisher.lastError.message);
    setState(e.detail.state);
  });
  publisher.addEventListener('error', (e) => {
    if (!e.detail.error.retryable)
      return;
    ui.error.textContent = `${e.detail.error.message} Reconnecting…`;
    ui.error.dataset.transient = 'yes';
    ui.error.hidden = false;
  });
  try {
    await publisher.start(page.stream);
  } catch (err) {
    if (!(err instanceof WhipError))
      showError('browser', err.message);
  }
}

async function stop() {
  const publisher = page.publisher;
  page.publisher = null;
  await publisher?.stop();
  setState('stopped');
}

function formatBitrate(bps) {
  if (bps == null)
    return '–';
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(2)} Mbit/s` : `${Math.round(bps / 1e3)} kbit/s`;
}

async function updateHealth() {
  const publisher = page.publisher;
  if (!publisher)
    return;
  const h = page.health = await publisher.health();
  $('h-connection').textContent = h.connection || h.state;
  $('h-bitrate').textContent = formatBitrate(h.bitrate);
  $('h-fps').textContent = h.fps != null ? h.fps.toFixed(0) : '–';
  $('h-resolution').textContent = h.width ? `${h.width}×${h.height}` : '–';
  $('h-codec').textContent = h.codec || '–';
  $('h-rtt').textContent = h.rtt != null ? `${Math.round(h.rtt * 1000)} ms` : '–';
  // A transient "reconnecting" notice goes once the stream is back.
  if (h.state === 'live' && ui.error.dataset.transient)
    clearError();
}

document.title = `Go live on ${channel} — Glasscast`;
$('channel-name').textContent = channel;
$('watch-link').href = `/watch/${encodeURIComponent(channel)}`;
ui.setup.addEventListener('submit', goLive);
ui.stop.addEventListener('click', stop);
$('preview-button').addEventListener('click', preview);
navigator.mediaDevices?.addEventListener('devicechange', listDevices);
// Leaving the page ends the session at once (keepalive DELETE) rather than
// leaving the channel "live" until ICE times out.
window.addEventListener('pagehide', () => page.publisher?.stop());
setInterval(updateHealth, 1000);
setState('idle');
listDevices();

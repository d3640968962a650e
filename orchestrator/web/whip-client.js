// whip-client.js — publishing a MediaStream to glasscastd over WHIP (RFC 9725), with automatic reconnect.
// Shared by the ingest page and the latency harness (tests/e2e): one WHIP implementation, tested twice.
//
//   import { WhipPublisher } from '/web/whip-client.js';
//   const pub = new WhipPublisher({ endpoint: '/whip/demo', token: key });
//   pub.addEventListener('state', (e) => console.log(e.detail.state));
//   await pub.start(stream);   // resolves after the first 201; throws a WhipError on 401/409/...
//   await pub.stop();          // DELETE of the session, close
//
// Video is restricted to H.264 with RTCRtpTransceiver.setCodecPreferences so
// the server passes it through; audio to Opus.

/** An HTTP or browser failure with a stable `code` the page can explain. */
export class WhipError extends Error {
  constructor(code, message, status = 0) {
    super(message);
    this.name = 'WhipError';
    this.code = code;
    this.status = status;
  }

  /** Whether trying again later can help (a crashed worker, a network blip). */
  get retryable() {
    return this.status === 0 || this.status === 409 || this.status >= 500 || this.code === 'ice_failed';
  }
}

const STATUS_CODES = {
  400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found',
  406: 'unsupported_codecs', 409: 'conflict', 415: 'unsupported_media_type', 503: 'unavailable',
};

// Chromium's H.264: Constrained Baseline first (every decoder plays it), then
// Main; packetization-mode=1 before 0. RTX stays so lost packets are resent.
function h264First(codecs) {
  const rank = (c) => {
    const fmtp = c.sdpFmtpLine || '';
    const mode = fmtp.includes('packetization-mode=1') ? 0 : 1;
    const profile = /profile-level-id=42e0/i.test(fmtp) ? 0 : /profile-level-id=4200/i.test(fmtp) ? 2 : 4;
    return profile + mode;
  };
  const h264 = codecs.filter((c) => c.mimeType.toLowerCase() === 'video/h264');
  const rtx = codecs.filter((c) => c.mimeType.toLowerCase() === 'video/rtx');
  return h264.length ? [...h264.sort((a, b) => rank(a) - rank(b)), ...rtx] : [];
}

function preferCodecs(transceiver, kind) {
  if (typeof transceiver.setCodecPreferences !== 'function' || !window.RTCRtpSender?.getCapabilities)
    return; // the server rejects what it cannot take with a clear 406
  const caps = RTCRtpSender.getCapabilities(kind);
  if (!caps)
    return;
  if (kind === 'video') {
    const codecs = h264First(caps.codecs);
    if (!codecs.length)
      throw new WhipError('no_h264', 'This browser cannot send H.264 video, which Glasscast needs.');
    transceiver.setCodecPreferences(codecs);
  } else {
    const opus = caps.codecs.filter((c) => c.mimeType.toLowerCase() === 'audio/opus');
    if (opus.length)
      transceiver.setCodecPreferences(opus);
  }
}

// ICE servers from the 201's Link headers (RFC 9725 4.6).
function parseIceServers(linkHeader) {
  if (!linkHeader)
    return [];
  const servers = [];
  for (const link of linkHeader.split(/,(?=\s*<)/)) {
    const m = link.match(/<([^>]+)>(.*)/);
    if (!m || !/rel="?ice-server"?/.test(m[2]))
      continue;
    const server = { urls: m[1] };
    const user = m[2].match(/username="([^"]*)"/);
    const cred = m[2].match(/credential="([^"]*)"/);
    if (user)
      server.username = user[1];
    if (cred)
      server.credential = cred[1];
    servers.push(server);
  }
  return servers;
}

function waitForIceGathering(pc, timeoutMs) {
  if (pc.iceGatheringState === 'complete')
    return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete')
        done();
    };
    // Host candidates come in milliseconds; a slow STUN server must not hold
    // the offer back: what was gathered by then is enough on most networks.
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

async function errorFromResponse(response) {
  let message = `${response.status} ${response.statusText}`;
  let code = STATUS_CODES[response.status] || 'http_error';
  try {
    const body = await response.json();
    if (body?.error?.message)
      message = body.error.message;
    if (body?.error?.code)
      code = body.error.code;
  } catch {
    // not JSON: keep the status line
  }
  return new WhipError(code, message, response.status);
}

/**
 * One WHIP session: one RTCPeerConnection, one POST, one DELETE.
 * Events: 'state' {state} (RTCPeerConnection.connectionState), 'failed' {error}.
 */
export class WhipSession extends EventTarget {
  constructor({ endpoint, token, iceServers = [], maxVideoBitrate = 0, gatherTimeoutMs = 1000 }) {
    super();
    this.endpoint = new URL(endpoint, location.href).href;
    this.token = token;
    this.iceServers = iceServers;
    this.maxVideoBitrate = maxVideoBitrate;
    this.gatherTimeoutMs = gatherTimeoutMs;
    this.pc = null;
    this.resource = null;   // absolute session URL from Location
    this.createdAt = null;  // wall clock (ms) when the 201 arrived
    this.closed = false;
  }

  async start(stream) {
    const pc = this.pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: 'max-bundle' });
    pc.addEventListener('connectionstatechange', () => {
      this.dispatchEvent(new CustomEvent('state', { detail: { state: pc.connectionState } }));
      if (pc.connectionState === 'failed' && !this.closed)
        this.dispatchEvent(new CustomEvent('failed', {
          detail: { error: new WhipError('ice_failed', 'The connection to the server was lost.') },
        }));
    });
    const video = stream.getVideoTracks()[0];
    const audio = stream.getAudioTracks()[0];
    if (!video)
      throw new WhipError('no_video', 'There is no video to publish.');
    const vt = pc.addTransceiver(video, {
      direction: 'sendonly',
      streams: [stream],
      sendEncodings: this.maxVideoBitrate ? [{ maxBitrate: this.maxVideoBitrate }] : undefined,
    });
    preferCodecs(vt, 'video');
    if (audio)
      preferCodecs(pc.addTransceiver(audio, { direction: 'sendonly', streams: [stream] }), 'audio');

    await pc.setLocalDescription(await pc.createOffer());
    await waitForIceGathering(pc, this.gatherTimeoutMs);

    let response;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${this.token}` },
        body: pc.localDescription.sdp,
      });
    } catch (err) {
      throw new WhipError('network', `Cannot reach the server: ${err.message}`);
    }
    if (response.status !== 201)
      throw await errorFromResponse(response);
    this.createdAt = performance.timeOrigin + performance.now();
    const location = response.headers.get('Location');
    this.resource = location ? new URL(location, this.endpoint).href : null;
    this.linkIceServers = parseIceServers(response.headers.get('Link'));
    if (this.linkIceServers.length)
      pc.setConfiguration({ ...pc.getConfiguration(), iceServers: this.linkIceServers });
    await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  }

  /** Ends the session: DELETE (kept alive through a page unload), then close. */
  async stop() {
    if (this.closed)
      return;
    this.closed = true;
    const resource = this.resource;
    this.pc?.close();
    if (resource) {
      try {
        await fetch(resource, {
          method: 'DELETE', keepalive: true, headers: { Authorization: `Bearer ${this.token}` },
        });
      } catch {
        // the server ends a session whose publisher is gone anyway
      }
    }
  }
}

/**
 * Keeps a MediaStream published: reconnects by itself with exponential
 * backoff (1 s, 2 s, 4 s ... 30 s) when the connection fails or the server
 * is briefly unavailable (a crashed worker, 409 while the old session ends,
 * 5xx, network). Errors a retry cannot fix (401, 403, 404, 406, 400) stop it.
 *
 * Events: 'state' {state, attempt}: idle | connecting | live | reconnecting | stopped | error;
 *         'error' {error}; 'session' {session} for each new WhipSession.
 */
export class WhipPublisher extends EventTarget {
  constructor(options) {
    super();
    this.options = options;
    this.session = null;
    this.state = 'idle';
    this.attempt = 0;
    this.lastError = null;
    this.stream = null;
    this.timer = null;
    this.stats = new PublishStats();
  }

  setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, attempt: this.attempt } }));
  }

  /** Resolves once the first session got its 201; rejects on a fatal error. */
  async start(stream) {
    this.stream = stream;
    this.attempt = 0;
    this.stopped = false;
    await this.connect(true);
  }

  async connect(first) {
    clearTimeout(this.timer);
    this.setState(first ? 'connecting' : 'reconnecting');
    const session = new WhipSession(this.options);
    this.session = session;
    this.stats.reset();
    session.addEventListener('state', (e) => {
      if (session !== this.session)
        return;
      if (e.detail.state === 'connected') {
        this.attempt = 0;
        this.setState('live');
      }
      // 'disconnected' often heals by itself within seconds; 'failed' does not.
      if (e.detail.state === 'disconnected')
        this.disconnectTimer = setTimeout(() => this.retry(session, new WhipError('ice_failed',
          'The connection to the server was interrupted.')), 5000);
      else
        clearTimeout(this.disconnectTimer);
    });
    session.addEventListener('failed', (e) => this.retry(session, e.detail.error));
    this.dispatchEvent(new CustomEvent('session', { detail: { session } }));
    try {
      await session.start(this.stream);
    } catch (err) {
      const error = err instanceof WhipError ? err : new WhipError('browser', err.message);
      session.stop();
      if (first && !error.retryable) {
        this.fail(error);
        throw error;
      }
      this.retry(session, error);
    }
  }

  retry(session, error) {
    if (session !== this.session || this.stopped)
      return;
    this.lastError = error;
    this.dispatchEvent(new CustomEvent('error', { detail: { error } }));
    if (!error.retryable) {
      this.fail(error);
      return;
    }
    session.stop();
    const delay = Math.min(30000, 1000 * 2 ** this.attempt);
    this.attempt++;
    this.setState('reconnecting');
    this.timer = setTimeout(() => this.connect(false), delay);
  }

  fail(error) {
    this.lastError = error;
    this.stopped = true;
    this.setState('error');
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.disconnectTimer);
    const session = this.session;
    this.session = null;
    await session?.stop();
    this.setState('stopped');
  }

  /** {state, bitrate (bit/s), fps, width, height, rtt (s), packetsLost} from getStats. */
  async health() {
    const pc = this.session?.pc;
    if (!pc)
      return { state: this.state };
    return this.stats.sample(pc, this.state);
  }
}

/** Rates from successive getStats() reports of the video sender. */
export class PublishStats {
  constructor() {
    this.reset();
  }

  reset() {
    this.last = null;
  }

  async sample(pc, state) {
    const report = await pc.getStats();
    const out = { state, connection: pc.connectionState, bitrate: null, fps: null,
      width: null, height: null, rtt: null, packetsLost: null, codec: null };
    let video = null;
    report.forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && (!video || s.bytesSent > video.bytesSent))
        video = s;
      if (s.type === 'remote-inbound-rtp' && s.kind === 'video') {
        out.rtt = s.roundTripTime ?? null;
        out.packetsLost = s.packetsLost ?? null;
      }
    });
    if (video) {
      out.fps = video.framesPerSecond ?? null;
      out.width = video.frameWidth ?? null;
      out.height = video.frameHeight ?? null;
      const codec = video.codecId && report.get(video.codecId);
      out.codec = codec ? codec.mimeType : null;
      if (this.last && video.timestamp > this.last.timestamp)
        out.bitrate = (8 * (video.bytesSent - this.last.bytesSent) * 1000) / (video.timestamp - this.last.timestamp);
      this.last = { timestamp: video.timestamp, bytesSent: video.bytesSent };
    }
    return out;
  }
}

// chat.js — the watch page's chat panel: the /chat/<channel> WebSocket (chat/PROTOCOL.md), the account form
// (/api/v1/sessions, /api/v1/accounts, /api/v1/me), and holding each message until the video's playhead reaches it.
//
// Why hold: the server stamps a message with its wall-clock time `ts` when it accepts it, and the playlists'
// EXT-X-PROGRAM-DATE-TIME is wall-clock capture time, so `ts` is a point on the media timeline. A viewer watches a
// second or more behind live; a message written about what the sender saw belongs to that moment of the video,
// not to the moment it arrives. Held messages are shown when the playhead's date reaches `ts`; a viewer's own
// messages, the history sent on join (it is the past), and everything when "Sync chat with video" is off are
// shown at once. With no playhead date (no PROGRAM-DATE-TIME, not playing, ended) nothing is held, so nothing
// waits forever; a paused viewer's playhead date stands still, so held messages stay held until play resumes.
//
// Every user-written string goes into the page as text (textContent), never as HTML.
// window.gcChatLog records each message shown, for the browser tests (tests/e2e/chat-sync.test.mjs).

const HISTORY = 50;              // messages asked for on join
const MAX_SHOWN = 300;           // older lines leave the list
const MAX_HELD = 1000;           // beyond this the oldest held message is shown early rather than kept
const ALERT_MS = 6000;           // how long a tip stays announced over the video
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30000;
const TIMER_MS = 100;            // the release check when frames do not run (a hidden tab)
const SYNC_KEY = 'glasscast.chat.sync';

const ERROR_TEXT = {
  login_required: 'Sign in to chat.',
  forbidden: 'You are not allowed to do that here.',
  banned: 'You are banned from this chat.',
  timed_out: 'You are timed out.',
  empty: 'The message is empty.',
  too_long: 'The message is too long.',
  rate_limited: 'You are sending messages too quickly.',
  slow_mode: 'Slow mode is on.',
  subscribers_only: 'This chat is in subscribers-only mode.',
  followers_only: 'This chat is in followers-only mode.',
  account_too_new: 'Your account is too new to chat here.',
  emote_only: 'This chat is in emote-only mode.',
  duplicate: 'Unique chat is on: that message was sent recently.',
  blocked_term: 'The message contains a blocked term.',
};

/**
 * Starts the chat panel of the watch page. The markup is in watch.html (#chat-*, #account-*).
 *   channel      the room (the channel's name)
 *   video        the <video>: its timeupdate events drive the release of held messages
 *   playheadDate () => ms since the epoch of the frame on screen, or null when there is none
 *   socketUrl    the WebSocket URL (default ws(s)://<this host>/chat/<channel>)
 */
export function startChat({ channel, video, playheadDate, socketUrl }) {
  const $ = (id) => document.getElementById(id);
  const list = $('chat-list');
  const input = $('chat-input');
  const sendButton = $('chat-send');
  const syncBox = $('chat-sync');
  const url = socketUrl ||
    `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/chat/${encodeURIComponent(channel)}`;

  const log = window.gcChatLog = [];
  const chat = window.glasscastChat = {
    state: 'connecting',  // connecting | connected | reconnecting
    me: null,             // {user, display_name, roles} from welcome, or null (anonymous)
    account: null,        // {username, ...} from /api/v1/me
    sync: localStorage.getItem(SYNC_KEY) !== 'off',
    errors: [],           // {code, message} from the server, newest last
    held: () => held.length,
    reconnect: () => reconnectNow(),
  };

  const byId = new Map();    // id -> entry {msg, el, own, pending}, shown or held
  const deleted = new Set(); // ids deleted while we were connected: never shown
  let held = [];             // entries waiting for the playhead, by ts
  let socket = null;
  let backoff = RECONNECT_MIN_MS;
  let reconnectTimer = 0;
  let lastTs = 0;            // the newest ts seen: a reconnect asks only for newer ones
  let joined = false;        // a welcome came: later ones bring what we missed, not the past
  let frameRequested = false;
  let releaseTimer = 0;
  let nonceCount = 0;
  const pendingSends = new Map(); // nonce -> text, to give it back to the input on an error

  // ---- the list ----

  function atBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  }

  function append(el) {
    const stick = atBottom();
    list.append(el);
    while (list.children.length > MAX_SHOWN) {
      const old = list.firstElementChild;
      if (old.dataset.id)
        byId.delete(old.dataset.id);
      old.remove();
    }
    if (stick)
      list.scrollTop = list.scrollHeight;
  }

  function systemLine(text, kind = 'notice') {
    const li = document.createElement('li');
    li.className = `system ${kind}`;
    li.textContent = text;
    append(li);
    return li;
  }

  function span(className, text) {
    const s = document.createElement('span');
    s.className = className;
    s.textContent = text;
    return s;
  }

  // Money arrives as integer minor units: the decimal string is built from
  // the digits (never by dividing), and Intl formats that exact string.
  function formatTip(m) {
    try {
      const format = new Intl.NumberFormat(undefined, { style: 'currency', currency: m.currency });
      const digits = format.resolvedOptions().maximumFractionDigits;
      const minor = BigInt(m.amount);
      const sign = minor < 0n ? '-' : '';
      const units = (minor < 0n ? -minor : minor).toString().padStart(digits + 1, '0');
      const text = digits ? `${units.slice(0, -digits)}.${units.slice(-digits)}` : units;
      return format.format(`${sign}${text}`);
    } catch {
      return `${m.amount} ${m.currency}`;
    }
  }

  // ---- tip alerts over the video ----

  // A tip shown live (not from history) is also announced over the picture,
  // at the same moment of the video for every viewer, one at a time.
  const alerts = [];
  let alertShowing = false;
  window.gcTipAlerts = [];

  function tipAlert(m) {
    alerts.push(m);
    if (!alertShowing)
      nextAlert();
  }

  function nextAlert() {
    const box = document.getElementById('tip-alert');
    const m = alerts.shift();
    if (!box || !m) {
      alertShowing = false;
      if (box)
        box.hidden = true;
      return;
    }
    alertShowing = true;
    box.replaceChildren(span('tip-alert-user', m.display_name || m.user || 'Someone'),
      span('tip-alert-amount', ` tipped ${formatTip(m)}`));
    if (m.text)
      box.append(document.createElement('br'), span('tip-alert-text', m.text));
    box.hidden = false;
    window.gcTipAlerts.push({ id: m.id, ts: m.ts, shownAt: Date.now(), playingDate: playheadDate() });
    setTimeout(nextAlert, ALERT_MS);
  }

  function render(entry) {
    const m = entry.msg;
    const li = document.createElement('li');
    li.className = 'msg';
    li.dataset.id = m.id;
    li.dataset.user = (m.user || '').toLowerCase();
    if (entry.own)
      li.classList.add('own');
    if (entry.pending)
      li.classList.add('pending');
    if (m.kind === 'tip')
      li.classList.add('tip');
    const time = new Date(m.ts);
    li.title = Number.isFinite(time.getTime()) ? time.toLocaleTimeString() : '';
    for (const badge of m.badges || [])
      li.append(span(`chat-badge ${badge}`, badge === 'broadcaster' ? 'host' : badge === 'moderator' ? 'mod' : badge));
    if (m.reply_to) {
      const parent = byId.get(String(m.reply_to));
      li.append(span('reply', parent ? `↪ ${parent.msg.display_name || parent.msg.user} ` : '↪ '));
    }
    li.append(span('user', m.display_name || m.user || '?'));
    if (m.kind === 'tip')
      li.append(span('text', ` tipped ${formatTip(m)}${m.text ? `: ${m.text}` : ''}`));
    else
      li.append(span('sep', ': '), span('text', m.text ?? ''));
    return li;
  }

  function show(entry, { live = true } = {}) {
    entry.el = render(entry);
    append(entry.el);
    if (live && entry.msg.kind === 'tip')
      tipAlert(entry.msg);
    const date = playheadDate();
    log.push({
      id: entry.msg.id, user: entry.msg.user, text: entry.msg.text, ts: entry.msg.ts,
      shownAt: Date.now(), playingDate: date, own: entry.own,
    });
  }

  // ---- holding ----

  function isOwn(m) {
    const me = chat.me?.user || chat.account?.username;
    return !!me && typeof m.user === 'string' && m.user.toLowerCase() === me.toLowerCase();
  }

  function hold(entry) {
    // Messages arrive nearly in ts order: insert from the end.
    let i = held.length;
    while (i > 0 && held[i - 1].msg.ts > entry.msg.ts)
      i--;
    held.splice(i, 0, entry);
    if (held.length > MAX_HELD)
      show(held.shift());
    release();
  }

  // Shows every held message the playhead has reached (all of them when sync
  // is off or there is no playhead date), then looks again next frame.
  function release() {
    if (!held.length)
      return;
    const date = chat.sync ? playheadDate() : null;
    while (held.length && (date === null || held[0].msg.ts <= date))
      show(held.shift());
    if (held.length)
      scheduleRelease();
  }

  // Every animation frame while something is held, so a message appears in
  // the frame its moment is on screen; a timer too, since hidden tabs run no
  // frames. timeupdate (4 Hz) alone would be up to 250 ms late.
  function scheduleRelease() {
    if (!frameRequested) {
      frameRequested = true;
      requestAnimationFrame(() => {
        frameRequested = false;
        release();
      });
    }
    if (!releaseTimer) {
      releaseTimer = setTimeout(() => {
        releaseTimer = 0;
        release();
      }, TIMER_MS);
    }
  }

  function received(m, { history = false, kind = 'message' } = {}) {
    const id = String(m.id);
    if (deleted.has(id))
      return;
    if (Number.isFinite(m.ts))
      lastTs = Math.max(lastTs, m.ts);
    const known = byId.get(id);
    if (known) {
      // A duplicate (history and live overlap on join), or the room's copy of
      // a message we were shown early as pending.
      if (known.pending && !m.pending) {
        known.pending = false;
        known.el?.classList.remove('pending');
      }
      return;
    }
    const entry = { msg: { ...m, id, kind }, el: null, own: isOwn(m), pending: !!m.pending };
    byId.set(id, entry);
    // Pending copies (delay mode: the sender's own, a moderator's early one)
    // are for acting on now, not for watching.
    if (history || entry.own || entry.pending || !chat.sync)
      show(entry, { live: !history });
    else
      hold(entry);
  }

  function remove(entry) {
    byId.delete(entry.msg.id);
    entry.el?.remove();
    held = held.filter((e) => e !== entry);
  }

  function onDelete(id) {
    id = String(id);
    deleted.add(id);
    const entry = byId.get(id);
    if (entry)
      remove(entry);
  }

  function onClear(user) {
    if (user) {
      const who = user.toLowerCase();
      for (const entry of [...byId.values()]) {
        if ((entry.msg.user || '').toLowerCase() === who)
          remove(entry);
      }
      return;
    }
    for (const entry of byId.values())
      entry.el?.remove();
    byId.clear();
    held = [];
    for (const li of [...list.children])
      li.remove();
    systemLine('The chat was cleared by a moderator.');
  }

  // ---- room state ----

  function renderSettings(s) {
    const modes = [];
    if (s.slow > 0)
      modes.push(`slow mode ${s.slow} s`);
    if (s.subonly)
      modes.push('subscribers only');
    if (s.emoteonly)
      modes.push('emote only');
    if (s.uniquechat)
      modes.push('unique chat');
    if (s.followers !== undefined && s.followers !== -1 && s.followers !== 'off')
      modes.push(s.followers > 0 ? `followers of ${s.followers} min` : 'followers only');
    if (s.accountage > 0)
      modes.push(`accounts older than ${s.accountage} min`);
    if (s.delay > 0)
      modes.push(`${s.delay} s delay`);
    if (s.review)
      modes.push('messages reviewed');
    $('chat-modes').textContent = modes.length ? `Room: ${modes.join(' · ')}` : '';
    $('chat-modes').hidden = !modes.length;
  }

  function renderViewers(n) {
    if (Number.isFinite(n))
      $('chat-viewers').textContent = `${n} watching`;
  }

  function setState(state) {
    chat.state = state;
    const badge = $('chat-state');
    badge.dataset.state = state;
    badge.textContent = state === 'connected' ? '' : state === 'connecting' ? 'connecting…' : 'reconnecting…';
    updateInput();
  }

  function updateInput() {
    const roles = chat.me?.roles || [];
    let hint = '';
    let canSend = false;
    if (!chat.me && !chat.account)
      hint = 'Sign in to chat. Anyone can read.';
    else if (chat.state !== 'connected')
      hint = 'Not connected to the chat.';
    else if (!chat.me)
      hint = 'The chat does not know you: sign in again to chat.';
    else if (roles.includes('banned'))
      hint = 'You are banned from this chat.';
    else {
      canSend = true;
      // A timeout ends on its own; the server says when with each refusal.
      if (roles.includes('timed_out'))
        hint = 'You are timed out for now.';
    }
    input.disabled = !canSend;
    sendButton.disabled = !canSend;
    input.placeholder = canSend ? 'Send a message' : hint;
    $('chat-hint').textContent = hint;
    $('chat-hint').hidden = !hint;
  }

  function showError(message) {
    const el = $('chat-error');
    el.textContent = message;
    el.hidden = !message;
  }

  function onError(e) {
    chat.errors.push({ code: e.code, message: e.message });
    let text = ERROR_TEXT[e.code] || e.message || e.code;
    if (e.code === 'bad_request' || e.code === 'unknown_command' || e.code === 'not_found')
      text = e.message || text;
    if (Number.isFinite(e.retry_after_ms) && e.retry_after_ms > 0)
      text += ` Try again in ${Math.ceil(e.retry_after_ms / 1000)} s.`;
    showError(text);
    const lost = e.nonce && pendingSends.get(e.nonce);
    if (lost && !input.value)
      input.value = lost;
    if (e.nonce)
      pendingSends.delete(e.nonce);
  }

  function onHeld(h) {
    const m = h.message || {};
    const li = systemLine(`Held for review (“${h.term}”) — ${m.display_name || m.user}: ${m.text ?? ''}`, 'held');
    if (m.id === undefined)
      return;
    for (const [label, type] of [['Approve', 'approve'], ['Reject', 'reject']]) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.addEventListener('click', () => {
        request({ type, id: m.id });
        li.remove();
      });
      li.append(' ', b);
    }
  }

  function handle(f) {
    switch (f.type) {
    case 'welcome':
      backoff = RECONNECT_MIN_MS;
      chat.me = f.you || null;
      renderSettings(f.settings || {});
      renderViewers(f.viewers);
      setState('connected');
      // The first history is the past: shown at once, tips as chat lines
      // without their alert. After a reconnect it is what we missed, which
      // may still be ahead of the playhead (a missed tip still gets its
      // alert at its moment).
      for (const m of f.history || [])
        received(m, { history: !joined, kind: m.kind === 'tip' ? 'tip' : 'message' });
      joined = true;
      break;
    case 'message':
      received(f);
      break;
    case 'tip':
      received(f, { kind: 'tip' });
      break;
    case 'sent':
      pendingSends.delete(f.nonce);
      showError('');
      break;
    case 'delete':
      onDelete(f.id);
      break;
    case 'clear':
      onClear(f.user);
      break;
    case 'settings':
      renderSettings(f);
      break;
    case 'presence':
      renderViewers(f.viewers);
      break;
    case 'notice':
      if (f.code === 'held_for_review')
        systemLine('Your message is held for review by the moderators.');
      else
        systemLine(f.message || f.code);
      break;
    case 'held':
      onHeld(f);
      break;
    case 'error':
      onError(f);
      break;
    default:
      break; // newer servers may say more
    }
  }

  // ---- the socket ----

  function request(obj) {
    if (!socket || socket.readyState !== WebSocket.OPEN)
      return false;
    socket.send(JSON.stringify(obj));
    return true;
  }

  function connect() {
    reconnectTimer = 0;
    const ws = socket = new WebSocket(url);
    setState(chat.state === 'connected' ? 'reconnecting' : chat.state);
    ws.addEventListener('open', () => {
      const join = { type: 'join', history: HISTORY };
      // since is exclusive; one message may share the newest's millisecond.
      if (lastTs)
        join.since = lastTs - 1;
      ws.send(JSON.stringify(join));
    });
    ws.addEventListener('message', (e) => {
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      if (socket === ws && frame && typeof frame === 'object')
        handle(frame);
    });
    ws.addEventListener('close', () => {
      if (socket !== ws)
        return;
      socket = null;
      $('chat-viewers').textContent = '';
      setState('reconnecting');
      // Exponential with jitter: a restarted server is not met by every
      // viewer in the same millisecond.
      const delay = backoff * (0.5 + Math.random() / 2);
      backoff = Math.min(backoff * 2, RECONNECT_MAX_MS);
      reconnectTimer = setTimeout(connect, delay);
    });
  }

  // A new identity (signed in or out) is a new connection: the server reads
  // the session cookie on the upgrade.
  function reconnectNow() {
    clearTimeout(reconnectTimer);
    const old = socket;
    socket = null;
    old?.close();
    backoff = RECONNECT_MIN_MS;
    connect();
  }

  $('chat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value;
    if (!text.trim())
      return;
    const nonce = `n${++nonceCount}`;
    if (!request({ type: 'send', text, nonce })) {
      showError('Not connected to the chat; try again in a moment.');
      return;
    }
    pendingSends.set(nonce, text);
    input.value = '';
  });

  syncBox.checked = chat.sync;
  syncBox.addEventListener('change', () => {
    chat.sync = syncBox.checked;
    localStorage.setItem(SYNC_KEY, chat.sync ? 'on' : 'off');
    release();
  });
  for (const event of ['timeupdate', 'playing', 'seeked', 'ended', 'emptied'])
    video.addEventListener(event, release);

  // ---- the account ----

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    let json = null;
    if (response.status !== 204)
      json = await response.json().catch(() => null);
    return { status: response.status, ok: response.ok, json };
  }

  function renderAccount() {
    const name = chat.account?.username;
    $('account-form').hidden = !!name;
    $('account-signed-in').hidden = !name;
    $('account-name').textContent = name || '';
    updateInput();
  }

  function accountError(message) {
    $('account-error').textContent = message;
    $('account-error').hidden = !message;
  }

  async function signIn(path, action) {
    const form = $('account-form');
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    if (!username || !password) {
      accountError('Enter a username and a password.');
      return;
    }
    accountError('');
    try {
      const r = await api('POST', path, { username, password });
      if (!r.ok) {
        accountError(r.json?.error?.message || `Could not ${action} (HTTP ${r.status}).`);
        return;
      }
      chat.account = r.json?.account || { username };
      form.elements.password.value = '';
      renderAccount();
      reconnectNow();
    } catch (err) {
      accountError(`Could not ${action}: ${err.message}`);
    }
  }

  $('account-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const signUp = e.submitter?.value === 'sign-up';
    signIn(signUp ? '/api/v1/accounts' : '/api/v1/sessions', signUp ? 'sign up' : 'sign in');
  });
  $('account-sign-out').addEventListener('click', async () => {
    await api('DELETE', '/api/v1/sessions/current').catch(() => null);
    chat.account = null;
    chat.me = null;
    renderAccount();
    reconnectNow();
  });

  async function loadAccount() {
    try {
      const r = await api('GET', '/api/v1/me');
      chat.account = r.ok ? r.json?.account || null : null;
    } catch {
      chat.account = null;
    }
    renderAccount();
  }

  renderAccount();
  // Who we are first, so the first welcome already matches; the socket does
  // not wait for it when it is slow.
  Promise.race([loadAccount(), new Promise((r) => setTimeout(r, 1000))]).then(connect);
  return chat;
}

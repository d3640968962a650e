// dashboard.js — the creator dashboard (/dashboard): the signed-in creator's channels with their live state, how
// many are watching and their subscription price, the Stripe payments account (onboarding), earnings of a month
// and since the last payout by type (gross, fee, net), the CSV statement, payouts with their status, "Pay out now".
//
// Everything comes from glasscastd's JSON API (orchestrator/API.md: Accounts, Billing, Channel API). Amounts are
// integer minor units formatted by string handling (money.js). "Watching" is the chat's presence count: the
// page joins each live channel's chat room anonymously and leaves itself out of the count.
// Text from the server goes into the page as text. window.glasscastDashboard is for the tests.

import { decimalText, formatMoney, parseMoney } from './money.js';

const $ = (id) => document.getElementById(id);
const CHANNELS_POLL_MS = 5000;
const PAYOUTS_POLL_MS = 10000;
const TYPE_NAMES = {
  subscription: 'Subscriptions', tip: 'Tips', ppv: 'Pay-per-view', refund: 'Refunds',
  dispute: 'Disputes', payout: 'Payouts',
};

const dash = window.glasscastDashboard = {
  account: null,      // {id, username, ...} or null
  onboarding: null,   // {account, charges_enabled, payouts_enabled} or null (none yet)
  channels: [],       // owned channels as the channel API gives them, with .viewers (chat presence) when known
  prices: {},         // channel name -> its subscription price {amount, currency, amount_text, source}
  earnings: null,     // the last /api/v1/billing/earnings answer
  payouts: [],
  loaded: false,      // the first full load is done
};

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = response.status === 204 ? null : await response.json().catch(() => null);
  return { status: response.status, ok: response.ok, json };
}

function errorText(r, what) {
  return r.json?.error?.message || `Could not ${what} (HTTP ${r.status}).`;
}

function showNotice(text) {
  $('notice').textContent = text;
  $('notice').hidden = !text;
}

function showError(text) {
  $('error').textContent = text;
  $('error').hidden = !text;
}

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null)
    e.textContent = text;
  if (className)
    e.className = className;
  return e;
}

function dateText(seconds, withTime = true) {
  if (!seconds)
    return '—';
  const d = new Date(Number(seconds) * 1000);
  return withTime ? d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
    : d.toLocaleDateString(undefined, { dateStyle: 'medium' });
}

function timeCell(seconds, withTime) {
  const td = el('td');
  if (!seconds) {
    td.textContent = '—';
    return td;
  }
  const t = el('time', dateText(seconds, withTime));
  t.dateTime = new Date(Number(seconds) * 1000).toISOString();
  td.append(t);
  return td;
}

function moneyCell(minor, currency) {
  return el('td', formatMoney(minor, currency), 'num');
}

// ---- the account ----

function renderAccount() {
  const name = dash.account?.username;
  $('who').hidden = !name;
  $('who-name').textContent = name || '';
  $('sign-in').hidden = !!name;
  for (const id of ['channels', 'payments', 'earnings', 'payouts'])
    $(id).hidden = !name;
}

async function loadAccount() {
  const r = await api('GET', '/api/v1/me');
  dash.account = r.ok ? r.json?.account || null : null;
  renderAccount();
}

$('sign-in-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.target;
  showError('');
  const r = await api('POST', '/api/v1/sessions', {
    username: form.elements.username.value.trim(), password: form.elements.password.value,
  }).catch((err) => ({ ok: false, status: 0, json: { error: { message: err.message } } }));
  if (!r.ok) {
    showError(errorText(r, 'sign in'));
    return;
  }
  form.elements.password.value = '';
  await start();
});

$('sign-out').addEventListener('click', async () => {
  await api('DELETE', '/api/v1/sessions/current').catch(() => null);
  location.reload();
});

// ---- channels: live state and viewers ----

const rooms = new Map(); // channel name -> {socket, viewers}

function watchRoom(name) {
  if (rooms.has(name))
    return;
  const room = { socket: null, viewers: null };
  rooms.set(name, room);
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/chat/${encodeURIComponent(name)}`;
  const ws = room.socket = new WebSocket(url);
  ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'join', history: 0 })));
  ws.addEventListener('message', (e) => {
    let f;
    try {
      f = JSON.parse(e.data);
    } catch {
      return;
    }
    if ((f?.type === 'welcome' || f?.type === 'presence') && Number.isFinite(f.viewers)) {
      room.viewers = Math.max(0, f.viewers - 1); // not this page
      renderChannels();
    }
  });
  ws.addEventListener('close', () => {
    if (rooms.get(name) === room)
      rooms.delete(name); // asked again on the next poll while live
  });
}

function unwatchRoom(name) {
  const room = rooms.get(name);
  rooms.delete(name);
  room?.socket?.close();
}

function renderChannels() {
  const list = $('channel-list');
  list.replaceChildren();
  $('channels-none').hidden = dash.channels.length > 0;
  for (const ch of dash.channels) {
    const li = el('li');
    li.dataset.channel = ch.name;
    const badge = el('span', ch.live ? 'LIVE' : 'offline', 'badge');
    badge.dataset.state = ch.live ? 'live' : 'offline';
    const link = el('a', ch.name);
    link.href = `/watch/${encodeURIComponent(ch.name)}`;
    li.append(badge, ' ', link);
    if (ch.live) {
      const viewers = rooms.get(ch.name)?.viewers;
      ch.viewers = viewers ?? null;
      li.append(el('span', viewers == null ? ' · counting viewers…' : ` · ${viewers} watching`, 'viewers'));
      if (ch.since)
        li.append(el('span', ` · live since ${new Date(ch.since).toLocaleTimeString()}`, 'muted'));
      const s = ch.stats;
      if (s?.width && s?.height)
        li.append(el('span', ` · ${s.width}×${s.height}${s.fps ? ` ${Math.round(s.fps)} fps` : ''}`, 'muted'));
    } else {
      ch.viewers = null;
    }
    const price = dash.prices[ch.name];
    if (price)
      li.append(el('span', ` · subscription ${formatMoney(price.amount, price.currency)} a month`, 'price'));
    list.append(li);
  }
}

async function loadPrice(name) {
  const r = await api('GET', `/api/v1/billing/channels/${encodeURIComponent(name)}/price`);
  if (!r.ok)
    return;
  dash.prices[name] = r.json;
  renderChannels();
  if (name === $('price-channel').value)
    priceChannelChanged();
}

// The price form's channel list changes only with the set of channels, so
// a choice being made survives the polls.
function renderPriceForm() {
  const select = $('price-channel');
  const names = dash.channels.map((c) => c.name);
  $('price-form').hidden = !names.length;
  if (names.join('\n') === [...select.options].map((o) => o.value).join('\n'))
    return;
  const chosen = select.value;
  select.replaceChildren(...names.map((n) => {
    const o = el('option', n);
    o.value = n;
    return o;
  }));
  if (names.includes(chosen))
    select.value = chosen;
  priceChannelChanged();
}

function priceChannelChanged() {
  const price = dash.prices[$('price-channel').value];
  $('price-currency').textContent = price?.currency || '';
  $('price-amount').value = price ? decimalText(price.amount, price.currency) : '';
}

$('price-channel').addEventListener('change', priceChannelChanged);

$('price-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = $('price-channel').value;
  const currency = dash.prices[name]?.currency;
  showError('');
  if (!currency) {
    showError('The channel\'s price is not known yet; try again in a moment.');
    return;
  }
  let minor;
  try {
    minor = parseMoney($('price-amount').value, currency);
  } catch (err) {
    showError(err.message);
    return;
  }
  $('price-save').disabled = true;
  try {
    const r = await api('PUT', `/api/v1/billing/channels/${encodeURIComponent(name)}/price`,
      { amount: Number(minor), currency });
    if (!r.ok) {
      showError(errorText(r, 'set the price'));
      return;
    }
    dash.prices[name] = r.json;
    showNotice(`New subscribers to ${name} pay ${formatMoney(r.json.amount, r.json.currency)} a month.`);
    renderChannels();
    priceChannelChanged();
  } catch (err) {
    showError(`Could not set the price: ${err.message}`);
  } finally {
    $('price-save').disabled = false;
  }
});

async function loadChannels() {
  const r = await api('GET', '/api/v1/channels');
  if (!r.ok)
    return;
  const me = dash.account?.username?.toLowerCase();
  dash.channels = (r.json?.channels || []).filter((c) => me && c.owner?.toLowerCase() === me);
  for (const ch of dash.channels) {
    if (ch.live)
      watchRoom(ch.name);
    else
      unwatchRoom(ch.name);
    if (!(ch.name in dash.prices)) {
      dash.prices[ch.name] = null; // asked once
      loadPrice(ch.name);
    }
  }
  renderChannels();
  renderPriceForm();
}

// ---- payments account ----

function renderOnboarding() {
  const o = dash.onboarding;
  const state = $('onboarding-state');
  const go = $('onboarding-go');
  $('payout-go').disabled = !o?.payouts_enabled;
  if (!o) {
    state.textContent = 'Set up a payments account (with Stripe) to take subscriptions, tips and tickets.';
    go.textContent = 'Set up payments';
    go.hidden = false;
    return;
  }
  const yes = (b) => (b ? 'enabled' : 'not enabled yet');
  state.textContent = `Account ${o.account}: charges ${yes(o.charges_enabled)}, payouts ${yes(o.payouts_enabled)}.`;
  go.textContent = 'Continue setting up payments';
  go.hidden = !!(o.charges_enabled && o.payouts_enabled);
}

async function loadOnboarding() {
  const r = await api('GET', '/api/v1/billing/onboarding');
  dash.onboarding = r.ok ? r.json : null;
  if (!r.ok && r.status !== 404)
    showError(errorText(r, 'read the payments account'));
  renderOnboarding();
}

$('onboarding-go').addEventListener('click', async () => {
  const go = $('onboarding-go');
  go.disabled = true;
  showError('');
  try {
    const r = await api('POST', '/api/v1/billing/onboarding', {});
    if (!r.ok || !r.json?.url) {
      showError(errorText(r, 'start the set-up'));
      return;
    }
    const url = new URL(r.json.url, location.href);
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new Error('the set-up address is not a web address');
    location.assign(url.href);
  } catch (err) {
    showError(`Could not start the set-up: ${err.message}`);
  } finally {
    go.disabled = false;
  }
});

// ---- earnings ----

function monthValue(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}`;
}

// [first day of the month, first day of the next) as ISO dates (UTC).
function monthRange(value) {
  const [y, m] = value.split('-').map((x) => Number.parseInt(x, 10));
  const next = m === 12 ? [y + 1, 1] : [y, m + 1];
  const iso = ([yy, mm]) => `${String(yy).padStart(4, '0')}-${String(mm).padStart(2, '0')}-01`;
  return { from: iso([y, m]), to: iso(next) };
}

function fillTable(table, lines, emptyText) {
  const body = table.tBodies[0];
  const foot = table.tFoot;
  body.replaceChildren();
  foot.replaceChildren();
  if (!lines.length) {
    const tr = el('tr');
    const td = el('td', emptyText, 'muted');
    td.colSpan = 5;
    tr.append(td);
    body.append(tr);
    return;
  }
  const totals = new Map(); // currency -> {gross, fee, net} as BigInt
  for (const l of lines) {
    const tr = el('tr');
    tr.dataset.type = l.type;
    tr.append(el('th', `${TYPE_NAMES[l.type] || l.type} (${l.currency.toUpperCase()})`),
      el('td', String(l.count ?? ''), 'num'),
      moneyCell(l.gross, l.currency), moneyCell(l.fee, l.currency), moneyCell(l.net, l.currency));
    tr.firstChild.scope = 'row';
    body.append(tr);
    const t = totals.get(l.currency) || { gross: 0n, fee: 0n, net: 0n };
    t.gross += BigInt(l.gross);
    t.fee += BigInt(l.fee);
    t.net += BigInt(l.net);
    totals.set(l.currency, t);
  }
  for (const [currency, t] of totals) {
    const tr = el('tr');
    const th = el('th', `Total (${currency.toUpperCase()})`);
    th.scope = 'row';
    tr.append(th, el('td'), moneyCell(t.gross, currency), moneyCell(t.fee, currency), moneyCell(t.net, currency));
    foot.append(tr);
  }
}

async function loadEarnings() {
  const value = $('period').value || monthValue(new Date());
  const { from, to } = monthRange(value);
  const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  $('csv-link').href = `/api/v1/billing/earnings.csv?${q}`;
  $('csv-link').setAttribute('download', `glasscast-earnings-${value}.csv`);
  const r = await api('GET', `/api/v1/billing/earnings?${q}`);
  if (!r.ok) {
    showError(errorText(r, 'read the earnings'));
    return;
  }
  dash.earnings = r.json;
  const [y, m] = value.split('-').map(Number);
  $('earnings-caption').textContent =
    new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString(undefined, { year: 'numeric', month: 'long', timeZone: 'UTC' });
  fillTable($('earnings-table'), r.json?.lines || [], 'Nothing in this month.');
  fillTable($('since-table'), r.json?.since_last_payout?.lines || [], 'Nothing since the last payout.');
}

$('period-form').addEventListener('submit', (e) => {
  e.preventDefault();
  showError('');
  loadEarnings();
});

// ---- payouts ----

function statusText(p) {
  return p.failure_code ? `${p.status} (${p.failure_code})` : p.status;
}

function renderPayouts() {
  const table = $('payout-table');
  const body = table.tBodies[0];
  body.replaceChildren();
  $('payouts-none').hidden = dash.payouts.length > 0;
  table.hidden = !dash.payouts.length;
  for (const p of dash.payouts) {
    const tr = el('tr');
    tr.dataset.id = p.id;
    const status = el('td');
    const s = el('span', statusText(p), 'status');
    s.dataset.status = p.status;
    if (Array.isArray(p.history) && p.history.length) {
      s.title = p.history.map((h) => {
        const [what, at] = String(h).split('@');
        return at ? `${what} ${dateText(at)}` : what;
      }).join(' → ');
    }
    status.append(s);
    tr.append(timeCell(p.created, true), moneyCell(p.amount, p.currency), moneyCell(p.fee, p.currency),
      el('td', p.method || ''), status, timeCell(p.arrival_date, false));
    body.append(tr);
  }
}

// Payouts this page asked for: the list shows one once Stripe's
// payout.created webhook is in, which may be a moment after the answer.
const requested = new Map(); // id -> the POST's payout

async function loadPayouts() {
  const r = await api('GET', '/api/v1/billing/payouts');
  if (!r.ok)
    return;
  const listed = r.json?.payouts || [];
  for (const p of listed)
    requested.delete(p.id);
  dash.payouts = [...requested.values(), ...listed];
  renderPayouts();
}

$('payout-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const go = $('payout-go');
  go.disabled = true;
  showError('');
  try {
    const r = await api('POST', '/api/v1/billing/payouts', { method: $('payout-method').value });
    if (!r.ok) {
      showError(errorText(r, 'pay out'));
      return;
    }
    const p = r.json?.payout;
    showNotice(p ? `Payout of ${formatMoney(p.amount, p.currency)} requested (${p.status}).` : 'Payout requested.');
    if (p?.id)
      requested.set(p.id, { created: Math.floor(Date.now() / 1000), ...p });
    await Promise.all([loadPayouts(), loadEarnings()]);
  } catch (err) {
    showError(`Could not pay out: ${err.message}`);
  } finally {
    go.disabled = !dash.onboarding?.payouts_enabled;
  }
});

// ---- start ----

let timers = [];

async function start() {
  await loadAccount();
  timers.forEach(clearInterval);
  timers = [];
  if (!dash.account)
    return;
  $('period').value ||= monthValue(new Date());
  await Promise.all([loadChannels(), loadOnboarding(), loadEarnings(), loadPayouts()]);
  dash.loaded = true;
  timers.push(setInterval(loadChannels, CHANNELS_POLL_MS), setInterval(loadPayouts, PAYOUTS_POLL_MS));
}

const params = new URLSearchParams(location.search);
if (params.has('onboarding')) {
  // "refresh": the set-up link expired before it was finished; the button
  // asks for a new one.
  showNotice(params.get('onboarding') === 'refresh'
    ? 'The payments set-up link expired: press the set-up button to continue where you left off.'
    : 'Back from the payments set-up.');
  history.replaceState(history.state, '', location.pathname);
}
start().catch((err) => showError(`Could not load the dashboard: ${err.message}`));

// monetize.js — the watch page's support bar under the player: subscribe (or the subscription and its cancel),
// tip with a message, and a ticketed channel's pay-per-view card; each goes through Stripe Checkout and back.
//
// The billing API (orchestrator/API.md, Billing) answers a purchase with a checkout_url; the page goes there and
// Checkout returns to /watch/<channel>?checkout=success|cancel. What was being bought is kept in sessionStorage
// for the return. Stripe's webhook, which makes the purchase real, may reach glasscastd a moment after the
// browser is back, so the page asks again for a while until the subscription or ticket shows.
//
// Money is integer minor units: typed amounts become minor units by string handling (money.js), never floats.
// Who is signed in is the chat panel's account form (chat.js): this module watches #account-signed-in.
// User-written and server-given text goes into the page as text. window.glasscastSupport is for the tests.

import { formatMoney, parseMoney } from './money.js';

const PENDING_KEY = 'glasscast.checkout';
const CONFIRM_POLL_MS = 1000;
const CONFIRM_TIMEOUT_MS = 30000;
const PPV_EARLY_S = 3600;       // playback opens an hour before the start (the authorizer's window)
const PPV_DEFAULT_S = 12 * 3600; // and lasts 12 h when the event gives no end
const MAX_TIP_MINOR = 99999999n; // Stripe's largest charge

/**
 * Starts the support bar (#support in watch.html).
 *   channel  the channel's name
 *   page     window.glasscastWatch: .ticket ('sign-in' | 'denied' when playback was refused), .retryPlayback()
 */
export function startSupport({ channel, page }) {
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent(channel);

  const support = window.glasscastSupport = {
    signedIn: false,
    username: null,
    owner: null,           // the channel's owner (username), or null: nobody to pay
    currency: 'USD',       // of tips: the billing currency (the subscription price's), else the events', else USD
    subscriptionPrice: null, // minor units a month (GET /api/v1/billing/channels/<channel>/price)
    subscription: null,    // this viewer's subscription to the channel, or null
    events: [],            // the channel's PPV events
    event: null,           // the one on the card
    checkout: null,        // {kind, ...} of a purchase being confirmed after Checkout
    confirmed: null,       // the kind of the last purchase confirmed after Checkout
    busy: false,
  };

  let currencyKnown = false;

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await response.json().catch(() => null);
    return { status: response.status, ok: response.ok, json };
  }

  function errorText(r, what) {
    return r.json?.error?.message || `Could not ${what} (HTTP ${r.status}).`;
  }

  function showNotice(text) {
    $('support-notice').textContent = text;
    $('support-notice').hidden = !text;
  }

  function showError(text) {
    $('support-error').textContent = text;
    $('support-error').hidden = !text;
  }

  function dateText(seconds, withTime = true) {
    const d = new Date(Number(seconds) * 1000);
    return withTime ? d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
      : d.toLocaleDateString(undefined, { dateStyle: 'medium' });
  }

  function setTime(el, seconds, withTime) {
    el.dateTime = new Date(Number(seconds) * 1000).toISOString();
    el.textContent = dateText(seconds, withTime);
  }

  // ---- state from the API ----

  function nowS() {
    return Math.floor(Date.now() / 1000);
  }

  function eventWindow(ev) {
    return [ev.starts_at - PPV_EARLY_S, ev.ends_at ?? ev.starts_at + PPV_DEFAULT_S];
  }

  // The event playback is open for now, else the next one to come.
  function pickEvent(events) {
    const now = nowS();
    const open = events.filter((ev) => {
      const [from, to] = eventWindow(ev);
      return from <= now && now <= to;
    });
    if (open.length)
      return open.find((ev) => ev.entitled) || open[0];
    const coming = events.filter((ev) => ev.starts_at > now).sort((a, b) => a.starts_at - b.starts_at);
    return coming[0] || null;
  }

  // The owner, and the channel's subscription price, whose currency is the
  // billing currency: tips are in it too.
  async function loadChannel() {
    try {
      const [info, price] = await Promise.all([api('GET', `/api/v1/channels/${enc}`),
        api('GET', `/api/v1/billing/channels/${enc}/price`)]);
      if (info.ok)
        support.owner = info.json?.owner ?? null;
      if (price.ok && typeof price.json?.currency === 'string' && Number.isInteger(price.json?.amount)) {
        support.currency = price.json.currency.toUpperCase();
        support.subscriptionPrice = price.json.amount;
        currencyKnown = true;
      }
    } catch {
      // The bar stays hidden without an owner.
    }
  }

  async function loadEvents() {
    const r = await api('GET', `/api/v1/billing/ppv?channel=${enc}`);
    if (!r.ok)
      return;
    support.events = Array.isArray(r.json?.events) ? r.json.events : [];
    support.event = pickEvent(support.events);
    if (!currencyKnown && support.events.length)
      support.currency = String(support.events[0].currency).toUpperCase();
  }

  async function loadSubscription() {
    if (!support.signedIn) {
      support.subscription = null;
      return;
    }
    const r = await api('GET', '/api/v1/billing/subscriptions');
    if (!r.ok)
      return;
    const mine = (r.json?.subscriptions || []).filter((s) => s.channel === channel && s.access !== false);
    support.subscription = mine[0] || null;
  }

  async function refresh() {
    try {
      await Promise.all([loadEvents(), loadSubscription()]);
    } catch (err) {
      console.debug(`support: ${err.message}`);
    }
    render();
  }

  // ---- rendering ----

  function render() {
    const isOwner = support.signedIn && support.owner !== null &&
      support.username?.toLowerCase() === support.owner.toLowerCase();
    const refused = page.ticket === 'sign-in' || page.ticket === 'denied';
    const section = $('support');
    section.hidden = support.owner === null && !refused && !support.event;

    // Ticket card: the channel's event, or the refusal itself when it has none on sale.
    const ev = support.event;
    const card = $('ppv-card');
    card.hidden = !ev && !refused;
    $('ppv-title').textContent = ev ? ev.title : 'Ticketed channel';
    $('ppv-when').hidden = !ev;
    if (ev) {
      setTime($('ppv-time'), ev.starts_at, true);
      $('ppv-price').textContent = formatMoney(ev.price, ev.currency);
    }
    const entitled = !!ev?.entitled;
    $('ppv-owned').hidden = !entitled;
    $('ppv-buy').hidden = !ev || entitled || isOwner;
    $('ppv-buy').disabled = support.busy || !support.signedIn;
    let reason = '';
    if (!ev && refused)
      reason = 'This channel is for ticket holders, and no event is on sale right now.';
    else if (page.ticket === 'sign-in')
      reason = 'This is a ticketed event. Sign in (beside the chat) to buy a ticket and watch.';
    else if (page.ticket === 'denied' && entitled)
      reason = 'Your ticket lets you in from an hour before the start.';
    else if (page.ticket === 'denied')
      reason = 'This is a ticketed event: buy a ticket to watch.';
    else if (ev && !support.signedIn && !entitled)
      reason = 'Sign in to buy a ticket.';
    $('ppv-reason').textContent = reason;
    $('ppv-reason').hidden = !reason;

    // Subscribe and tip: for signed-in viewers of a channel with an owner who is not them.
    const canPay = support.owner !== null && !isOwner;
    $('support-actions').hidden = !canPay;
    $('support-owner').hidden = !isOwner;
    $('support-sign-in').hidden = !canPay || support.signedIn;
    const sub = support.subscription;
    $('sub-button').hidden = !!sub;
    $('sub-button').textContent = support.subscriptionPrice === null ? 'Subscribe'
      : `Subscribe · ${formatMoney(support.subscriptionPrice, support.currency)} a month`;
    $('sub-button').disabled = support.busy || !support.signedIn;
    $('sub-state').hidden = !sub;
    if (sub) {
      setTime($('sub-until'), sub.access_until || sub.current_period_end, false);
      $('sub-renewal').textContent = sub.cancel_at_period_end ? ' (not renewing)' : '';
      $('sub-cancel').hidden = !!sub.cancel_at_period_end;
      $('sub-cancel').disabled = support.busy;
    }
    $('tip-currency').textContent = support.currency;
    for (const el of $('tip-form').elements)
      el.disabled = support.busy || !support.signedIn;
  }

  // ---- purchases ----

  function safeUrl(url) {
    const u = new URL(url, location.href);
    if (u.protocol !== 'https:' && u.protocol !== 'http:')
      throw new Error('The payment page address is not a web address.');
    return u.href;
  }

  // POSTs a purchase and goes to its Checkout page; @pending says what it
  // was, for the return.
  async function checkout(path, body, pending, what) {
    if (support.busy)
      return;
    support.busy = true;
    showError('');
    render();
    try {
      const r = await api('POST', path, body);
      if (!r.ok || !r.json?.checkout_url) {
        showError(errorText(r, what));
        if (r.status === 409)
          await refresh();
        return;
      }
      const url = safeUrl(r.json.checkout_url);
      // A tip is paid in a new tab: the stream and the chat keep playing
      // here, so the tipper sees their alert at its moment like everyone.
      if (pending.kind === 'tip') {
        const win = window.open(url, 'gc-checkout');
        if (win) {
          support.popupPending = { ...pending, channel, at: Date.now() };
          showNotice('Finish the payment in the new tab; the stream goes on here.');
          return;
        }
      }
      sessionStorage.setItem(PENDING_KEY, JSON.stringify({ ...pending, channel, at: Date.now() }));
      showNotice('Going to the payment page…');
      location.assign(url);
    } catch (err) {
      showError(`Could not ${what}: ${err.message}`);
    } finally {
      support.busy = false;
      render();
    }
  }

  $('sub-button').addEventListener('click', () => {
    checkout('/api/v1/billing/subscriptions', { channel }, { kind: 'subscription' }, 'subscribe');
  });

  $('sub-cancel').addEventListener('click', async () => {
    const until = support.subscription ? dateText(support.subscription.access_until ||
      support.subscription.current_period_end, false) : '';
    if (!window.confirm(`Cancel your subscription to ${channel}? It stays active until ${until}.`))
      return;
    support.busy = true;
    showError('');
    render();
    try {
      const r = await api('DELETE', `/api/v1/billing/subscriptions/${enc}`);
      if (!r.ok) {
        showError(errorText(r, 'cancel the subscription'));
      } else {
        showNotice(`Your subscription will not renew; it stays active until ${until}.`);
        // The answer is the new state; the list may follow Stripe's
        // webhook a moment later.
        if (r.json?.subscription && support.subscription)
          support.subscription = { ...support.subscription, ...r.json.subscription };
      }
    } catch (err) {
      showError(`Could not cancel the subscription: ${err.message}`);
    } finally {
      support.busy = false;
    }
    render();
  });

  $('tip-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const currency = support.currency;
    let minor;
    try {
      minor = parseMoney($('tip-amount').value, currency);
    } catch (err) {
      showError(err.message);
      $('tip-amount').focus();
      return;
    }
    if (minor <= 0n || minor > MAX_TIP_MINOR) {
      showError(`Enter an amount between ${formatMoney(1, currency)} and ${formatMoney(MAX_TIP_MINOR, currency)}.`);
      $('tip-amount').focus();
      return;
    }
    const body = { channel, amount: Number(minor), currency };
    const message = $('tip-message').value.trim();
    if (message)
      body.message = message;
    checkout('/api/v1/billing/tips', body, { kind: 'tip', amount: String(minor), currency }, 'send the tip');
  });

  $('ppv-buy').addEventListener('click', () => {
    const ev = support.event;
    if (!ev)
      return;
    checkout(`/api/v1/billing/ppv/${encodeURIComponent(ev.id)}/purchase`, {},
      { kind: 'ppv', event: ev.id, title: ev.title }, 'buy the ticket');
  });

  // ---- back from Checkout ----

  function takePending() {
    let pending = null;
    try {
      pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || 'null');
    } catch {
      pending = null;
    }
    sessionStorage.removeItem(PENDING_KEY);
    return pending && pending.channel === channel ? pending : null;
  }

  function isConfirmed(pending) {
    if (pending.kind === 'subscription')
      return !!support.subscription;
    if (pending.kind === 'ppv')
      return !!support.events.find((ev) => String(ev.id) === String(pending.event))?.entitled;
    return true;
  }

  function confirmedText(pending) {
    if (pending.kind === 'subscription') {
      const sub = support.subscription;
      return `You are subscribed to ${channel} until ${dateText(sub.access_until || sub.current_period_end, false)}. Thank you!`;
    }
    if (pending.kind === 'ppv')
      return `You have a ticket for “${pending.title}”. Enjoy the show!`;
    return `Thank you! Your tip of ${formatMoney(pending.amount, pending.currency)} is on its way to ${channel}.`;
  }

  async function confirmCheckout(pending) {
    support.checkout = pending;
    showNotice('Payment received; confirming…');
    const deadline = Date.now() + CONFIRM_TIMEOUT_MS;
    for (;;) {
      await refresh();
      if (isConfirmed(pending))
        break;
      if (Date.now() > deadline) {
        showNotice('Payment received. It can take a minute to show here; reload the page in a moment.');
        support.checkout = null;
        return;
      }
      await new Promise((r) => setTimeout(r, CONFIRM_POLL_MS));
    }
    support.checkout = null;
    support.confirmed = pending.kind;
    showNotice(confirmedText(pending));
    if (pending.kind === 'ppv' && (page.ticket === 'denied' || page.ticket === 'sign-in'))
      page.retryPlayback();
  }

  function onReturn() {
    const params = new URLSearchParams(location.search);
    const outcome = params.get('checkout');
    if (!outcome)
      return null;
    // A reload must not announce it again.
    params.delete('checkout');
    params.delete('session_id');
    const query = params.toString();
    history.replaceState(history.state, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
    // The checkout tab of a tip: tell the page that opened it, and close.
    let opener = null;
    try {
      opener = window.opener && window.opener.location.origin === location.origin ? window.opener : null;
    } catch {
      opener = null;
    }
    if (opener) {
      opener.postMessage({ type: 'gc-checkout', outcome, channel }, location.origin);
      window.close();
      return null;
    }
    const pending = takePending();
    if (outcome === 'cancel') {
      showNotice('Checkout cancelled: nothing was charged.');
      return null;
    }
    if (outcome !== 'success')
      return null;
    if (!pending) {
      showNotice('Payment received. Thank you!');
      return null;
    }
    return pending;
  }

  // ---- who is signed in (chat.js's account form) ----

  function readAccount() {
    const signedIn = !$('account-signed-in').hidden;
    const username = signedIn ? $('account-name').textContent.trim() || null : null;
    const changed = signedIn !== support.signedIn || username !== support.username;
    support.signedIn = signedIn;
    support.username = username;
    return changed;
  }

  const watcher = new MutationObserver(() => {
    if (!readAccount())
      return;
    refresh();
    // Signed in on a page that refused playback for want of it.
    if (support.signedIn && page.ticket === 'sign-in')
      page.retryPlayback();
  });
  watcher.observe($('account-signed-in'), { attributes: true, attributeFilter: ['hidden'] });
  watcher.observe($('account-name'), { childList: true, characterData: true, subtree: true });

  // Playback refused: the card takes the place of the bare error.
  window.addEventListener('gc-ticket', (e) => {
    e.preventDefault();
    $('error').hidden = true;
    refresh();
  });
  if (page.ticket === 'sign-in' || page.ticket === 'denied')
    $('error').hidden = true;

  // The tip's checkout tab reports back here.
  window.addEventListener('message', (e) => {
    if (e.origin !== location.origin || e.data?.type !== 'gc-checkout' || e.data.channel !== channel)
      return;
    const done = support.popupPending;
    support.popupPending = null;
    if (e.data.outcome === 'success' && done)
      confirmCheckout(done);
    else if (e.data.outcome === 'cancel')
      showNotice('Checkout cancelled: nothing was charged.');
  });

  const pending = onReturn();
  readAccount();
  render();
  (async () => {
    await loadChannel();
    // The account form asks /api/v1/me; its answer comes through the
    // observer. Give it a moment before the first look.
    await refresh();
    if (pending)
      await confirmCheckout(pending);
  })();
  return support;
}

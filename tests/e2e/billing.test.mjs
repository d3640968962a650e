// billing.test.mjs — money through the pages, against glasscastd and the fake Stripe (tests/fakes/fake_stripe.py):
// (a) a viewer tips during a live stream with the watch page's Tip button and pays on the fake's Checkout page;
//     the webhook reaches glasscastd, the tip goes to the chat, and a second viewer's page (playing 3 s behind
//     live) shows the alert over the video when its playhead date reaches the tip's stamp, within 250 ms; the
//     tipper's page too. The creator's dashboard then shows the tip in its earnings, the channel live with its
//     viewers, the CSV, and a payout made with "Pay out now"; the second viewer subscribes and cancels.
// (b) a pay-per-view event on a ticketed channel (playback=token): the watch page refuses playback (no frame
//     decodes) and shows the ticket card; the viewer buys a ticket through Checkout, comes back, and the page
//     gets a playback token and plays.
//
// Why (a) fails when holding is broken: the second viewer plays >= 1.5 s behind live, so an alert shown on
// arrival would be shown with playingDate >= 1.5 s before the tip's ts.
// The tip is paid in a new tab, as the page does it: the tipper's page keeps playing and stays in the chat.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, launchBrowser, log, recordConsole, requirements, sleep } from './stack.mjs';

const chromium = await requirements();

const CREATOR = 'carol';
const PASSWORD = 'correct horse battery staple';
const VIEWER_LATENCY_S = 3;
const MIN_VIEWER_LATENCY_S = 1.5;
const TOLERANCE_MS = 250;

/** JSON API call as a non-browser client (bearer token). */
async function call(stack, method, path, body, token) {
  const headers = {};
  if (body)
    headers['Content-Type'] = 'application/json';
  if (token)
    headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`${stack.originUrl}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: r.status, json };
}

/** The creator's account, with a Stripe Express account that can take payments and pay out. */
async function onboardedCreator(stack) {
  const signUp = await call(stack, 'POST', '/api/v1/accounts', { username: CREATOR, password: PASSWORD });
  assert.equal(signUp.status, 201, `sign-up: ${JSON.stringify(signUp.json)}`);
  const token = signUp.json.token;
  const ob = await call(stack, 'POST', '/api/v1/billing/onboarding', {}, token);
  assert.equal(ob.status, 200, `POST onboarding: ${ob.status} ${JSON.stringify(ob.json)}`);
  assert.match(ob.json.account, /^acct_/);
  assert.match(ob.json.url, /^http/);
  // What Stripe's hosted onboarding does; account.updated then reaches glasscastd.
  await stack.fake('POST', `/_fake/accounts/${ob.json.account}`, { onboarded: true });
  const deadline = Date.now() + 15000;
  for (;;) {
    const st = await call(stack, 'GET', '/api/v1/billing/onboarding', null, token);
    if (st.status === 200 && st.json.charges_enabled && st.json.payouts_enabled)
      break;
    if (Date.now() > deadline)
      throw new Error(`the creator's account never became enabled: ${st.status} ${JSON.stringify(st.json)}`);
    await sleep(200);
  }
  log(`creator ${CREATOR} onboarded (${ob.json.account})`);
  return { token, account: ob.json.account };
}

async function publish(browser, stack, channel, lines, why) {
  const ingest = await (await browser.newContext()).newPage();
  recordConsole(ingest, 'ingest', lines);
  await ingest.goto(`${stack.originUrl}/ingest/${channel}`);
  await ingest.fill('#key', stack.key);
  await ingest.click('#go-live');
  await ingest.waitForFunction(() => window.glasscastIngest.state === 'live', null, { timeout: 20000 })
    .catch((e) => { throw new Error(`the ingest page did not go live: ${e.message}${why()}`); });
  log(`publishing to ${channel}`);
  return ingest;
}

async function openWatch(context, stack, channel, query, lines, name) {
  const page = await context.newPage();
  recordConsole(page, name, lines);
  const q = new URLSearchParams(query);
  await page.goto(`${stack.originUrl}/watch/${channel}${q.size ? `?${q}` : ''}`);
  return page;
}

// Through the page's own form, as a viewer would.
async function signUp(page, username) {
  await page.waitForFunction(() => window.glasscastChat?.state === 'connected', null, { timeout: 15000 });
  await page.fill('#account-form input[name=username]', username);
  await page.fill('#account-form input[name=password]', PASSWORD);
  await page.click('#account-form button[value=sign-up]');
  await page.waitForFunction((u) => window.glasscastChat?.me?.user === u && window.glasscastChat.state === 'connected',
    username, { timeout: 15000 });
}

function playing(page, minLatency = 0) {
  return page.waitForFunction((min) => {
    const w = window.glasscastWatch;
    return w.playing && w.playheadDate() !== null && w.latency() > min;
  }, minLatency, { timeout: 30000 });
}

/** Clicks the fake Checkout page's Pay link; resolves when the browser is back on the watch page. */
async function payOnCheckout(page, stack, channel) {
  await page.waitForURL((u) => u.href.startsWith(`${stack.stripeUrl}/_fake/pay/`), { timeout: 10000 });
  log(`on the fake's Checkout page: ${page.url()}`);
  await page.click('#pay');
  await page.waitForURL((u) => u.href.startsWith(`${stack.originUrl}/watch/${channel}`), { timeout: 10000 });
}

function frames(page) {
  return page.evaluate(() => document.getElementById('video').getVideoPlaybackQuality().totalVideoFrames);
}

test('a tip during a live stream: paid through Checkout, announced on every viewer at its moment of the video',
  async (t) => {
    const stack = await new Stack({ owner: CREATOR, billing: true }).start();
    t.after(() => stack.stop());
    const browser = await launchBrowser(chromium);
    t.after(() => browser.close());
    const lines = [];
    const why = () => `\n${lines.slice(-40).join('\n')}\n--- glasscastd ---\n${stack.logfile('glasscastd')}` +
      `\n--- fake Stripe ---\n${stack.logfile('fake-stripe')}`;

    await onboardedCreator(stack);
    await publish(browser, stack, stack.channel, lines, why);

    const tipper = await openWatch(await browser.newContext(), stack, stack.channel, {}, lines, 'tipper');
    const viewer = await openWatch(await browser.newContext(), stack, stack.channel,
      { media: stack.edgeUrl, sync: String(VIEWER_LATENCY_S) }, lines, 'viewer');
    await signUp(tipper, 'alex');
    await signUp(viewer, 'bea');
    log('viewers signed up');

    // The support bar: signed in, a channel with an owner who is not them.
    await tipper.waitForSelector('#support-actions:not([hidden]) #tip-amount:not([disabled])', { timeout: 10000 });
    assert.equal(await tipper.textContent('#tip-currency'), 'USD');
    await viewer.waitForSelector('#sub-button:not([hidden]):not([disabled])', { timeout: 10000 });
    // [billing] subscription-price's default, 499 minor units of [billing] currency.
    assert.match(await viewer.textContent('#sub-button'), /Subscribe · \$4\.99 a month/);

    await playing(viewer, MIN_VIEWER_LATENCY_S)
      .catch((e) => { throw new Error(`the viewer did not play > ${MIN_VIEWER_LATENCY_S} s behind live: ${e.message}${why()}`); });
    log(`viewer playing, hls.latency ${(await viewer.evaluate(() => window.glasscastWatch.latency())).toFixed(3)} s`);

    // The tip is paid in a new tab (Checkout): the tipper's page keeps
    // playing and stays in the chat, so it gets the alert like everyone.
    await playing(tipper).catch((e) => { throw new Error(`the tipper did not play: ${e.message}${why()}`); });
    await tipper.fill('#tip-amount', '5');
    await tipper.fill('#tip-message', 'great stream');
    const [checkoutTab] = await Promise.all([
      tipper.context().waitForEvent('page', { timeout: 10000 }),
      tipper.click('#tip-send'),
    ]);
    await checkoutTab.waitForURL((u) => u.href.startsWith(`${stack.stripeUrl}/_fake/pay/`), { timeout: 10000 });
    log(`on the fake's Checkout page in a new tab: ${checkoutTab.url()}`);
    const paidAt = Date.now();
    await Promise.all([
      checkoutTab.waitForEvent('close', { timeout: 15000 }),
      checkoutTab.click('#pay'),
    ]).catch((e) => { throw new Error(`checkout: ${e.message}${why()}`); });
    await tipper.waitForFunction(() => window.glasscastSupport?.confirmed === 'tip', null, { timeout: 15000 });
    const notice = await tipper.textContent('#support-notice');
    log(`tipper's page confirms: "${notice}" at ${tipper.url()}`);
    assert.match(notice, /tip of \$5\.00/);

    const alertOf = (page) => page.waitForFunction(() => (window.gcTipAlerts || [])[0] || null, null, { timeout: 15000 })
      .then((h) => h.jsonValue());
    const seen = await alertOf(viewer)
      .catch((e) => { throw new Error(`the viewer never showed the tip alert: ${e.message}${why()}`); });
    const alertText = await viewer.textContent('#tip-alert');
    const own = await alertOf(tipper)
      .catch((e) => { throw new Error(`the tipper never showed the tip alert: ${e.message}${why()}`); });
    const viewerOffset = seen.playingDate - seen.ts;
    const tipperOffset = own.playingDate - own.ts;
    log(`tip alert "${alertText}": ts ${seen.ts} (${seen.ts - paidAt} ms after the Pay click); viewer shows ` +
      `+${seen.shownAt - seen.ts} ms at playingDate - ts = ${viewerOffset} ms; tipper +${own.shownAt - own.ts} ms ` +
      `at playingDate - ts = ${tipperOffset} ms`);
    assert.match(alertText, /alex tipped \$5\.00/);
    assert.match(alertText, /great stream/);
    assert.equal(own.id, seen.id);
    assert.notEqual(seen.playingDate, null);
    assert.ok(Math.abs(viewerOffset) <= TOLERANCE_MS,
      `the viewer showed the alert at playingDate - ts = ${viewerOffset} ms (allowed ±${TOLERANCE_MS} ms)`);
    assert.ok(seen.shownAt - seen.ts > 1000, `the viewer showed the alert only ${seen.shownAt - seen.ts} ms after the tip: not held`);
    assert.ok(Math.abs(tipperOffset) <= TOLERANCE_MS,
      `the tipper showed the alert at playingDate - ts = ${tipperOffset} ms (allowed ±${TOLERANCE_MS} ms)`);
    assert.deepEqual(await viewer.evaluate(() => window.glasscastWatch.errors), []);

    // The creator's dashboard: the tip, the live channel and its viewers, the CSV, a payout.
    const dash = await (await browser.newContext()).newPage();
    recordConsole(dash, 'dashboard', lines);
    await dash.goto(`${stack.originUrl}/dashboard`);
    await dash.fill('#sign-in-form input[name=username]', CREATOR);
    await dash.fill('#sign-in-form input[name=password]', PASSWORD);
    await dash.click('#sign-in-form button[type=submit]');
    await dash.waitForFunction(() => window.glasscastDashboard?.loaded, null, { timeout: 10000 });
    const tipRow = await dash.textContent('#earnings-table tr[data-type=tip]');
    log(`dashboard tip line: ${tipRow.replace(/\s+/g, ' ')}`);
    assert.match(tipRow, /\$5\.00/);
    assert.match(await dash.textContent('#onboarding-state'), /charges enabled, payouts enabled/);
    await dash.waitForFunction((ch) => /· 2 watching/.test(
      document.querySelector(`#channel-list li[data-channel="${ch}"]`)?.textContent || ''), stack.channel, { timeout: 15000 })
      .catch(async (e) => {
        throw new Error(`dashboard channel: "${await dash.textContent('#channel-list')}": ${e.message}`);
      });
    // The subscription price, set by the owner for new subscribers.
    await dash.waitForFunction(() => document.getElementById('price-amount').value === '4.99', null, { timeout: 5000 });
    await dash.fill('#price-amount', '6.5');
    await dash.click('#price-save');
    await dash.waitForFunction((ch) => /subscription \$6\.50 a month/.test(
      document.querySelector(`#channel-list li[data-channel="${ch}"]`)?.textContent || ''), stack.channel, { timeout: 5000 })
      .catch(async (e) => { throw new Error(`price: "${await dash.textContent('#error')}": ${e.message}`); });
    const price = await call(stack, 'GET', `/api/v1/billing/channels/${stack.channel}/price`);
    assert.equal(price.json.amount, 650);
    const csv = await dash.evaluate(async () => {
      const r = await fetch(document.getElementById('csv-link').href);
      return { status: r.status, type: r.headers.get('Content-Type'), text: await r.text() };
    });
    assert.equal(csv.status, 200);
    assert.match(csv.text, /^occurred_at,type,reference,currency,gross_minor/);
    assert.match(csv.text, /,tip,/);
    await dash.click('#payout-go');
    await dash.waitForSelector('#payout-table:not([hidden]) tbody tr', { timeout: 10000 })
      .catch(async (e) => { throw new Error(`no payout row: ${await dash.textContent('#error')}: ${e.message}${why()}`); });
    const payoutRow = await dash.textContent('#payout-table tbody tr');
    log(`dashboard payout: ${payoutRow.replace(/\s+/g, ' ')}; notice "${await dash.textContent('#notice')}"`);


    // The viewer subscribes through Checkout, then cancels at the period's end.
    viewer.on('dialog', (d) => d.accept());
    await viewer.click('#sub-button');
    await payOnCheckout(viewer, stack, stack.channel).catch((e) => { throw new Error(`checkout: ${e.message}${why()}`); });
    await viewer.waitForFunction(() => window.glasscastSupport?.confirmed === 'subscription', null, { timeout: 20000 })
      .catch((e) => { throw new Error(`the subscription never showed: ${e.message}${why()}`); });
    const subText = (await viewer.textContent('#sub-state')).replace(/\s+/g, ' ').trim();
    log(`subscribed: "${subText}"; notice "${await viewer.textContent('#support-notice')}"`);
    assert.match(subText, /^Subscribed until .+ Cancel$/);
    assert.match(await viewer.textContent('#sub-until'), /\d/);
    assert.equal(await viewer.isHidden('#sub-button'), true);
    await viewer.click('#sub-cancel');
    await viewer.waitForSelector('#sub-cancel', { state: 'hidden', timeout: 10000 })
      .catch(async (e) => { throw new Error(`cancel: "${await viewer.textContent('#support-error')}": ${e.message}${why()}`); });
    assert.match(await viewer.textContent('#sub-state'), /not renewing/);

    log(`playingDate - ts of the tip alert: viewer ${viewerOffset} ms, tipper ${tipperOffset} ms`);
  });

test('a PPV event refuses playback without a ticket and plays once the viewer bought one', async (t) => {
  const channel = 'finale';
  const stack = await new Stack({ billing: true, channels: [{ name: channel, owner: CREATOR, playback: 'token' }] }).start();
  t.after(() => stack.stop());
  const browser = await launchBrowser(chromium);
  t.after(() => browser.close());
  const lines = [];
  const why = () => `\n${lines.slice(-40).join('\n')}\n--- glasscastd ---\n${stack.logfile('glasscastd')}`;

  const { token } = await onboardedCreator(stack);
  const created = await call(stack, 'POST', `/api/v1/billing/ppv?channel=${channel}`,
    { title: 'The Finale', starts_at: Math.floor(Date.now() / 1000), price: 700, currency: 'usd' }, token);
  assert.equal(created.status, 201, `create PPV: ${JSON.stringify(created.json)}`);
  await publish(browser, stack, channel, lines, why);

  const page = await openWatch(await browser.newContext(), stack, channel, {}, lines, 'viewer');
  // Signed out: refused, the card asks to sign in.
  await page.waitForFunction(() => window.glasscastWatch.ticket === 'sign-in', null, { timeout: 20000 })
    .catch((e) => { throw new Error(`playback was not refused for want of a sign-in: ${e.message}${why()}`); });
  await page.waitForSelector('#ppv-card:not([hidden])', { timeout: 5000 });
  assert.match(await page.textContent('#ppv-reason'), /Sign in/);

  await signUp(page, 'cody');
  await page.waitForFunction(() => window.glasscastWatch.ticket === 'denied', null, { timeout: 10000 });
  await page.waitForSelector('#ppv-buy:not([hidden]):not([disabled])', { timeout: 10000 });
  assert.equal(await page.textContent('#ppv-title'), 'The Finale');
  assert.match(await page.textContent('#ppv-price'), /\$7\.00/);
  assert.equal(await page.isHidden('#error'), true, 'a bare error shows instead of the ticket card');
  await sleep(2000);
  assert.equal(await frames(page), 0, 'video frames decoded without a ticket');
  assert.equal(await page.evaluate(() => window.glasscastWatch.playing), false);
  log('refused: the ticket card shows, no frame decoded');

  await page.click('#ppv-buy');
  await payOnCheckout(page, stack, channel).catch((e) => { throw new Error(`checkout: ${e.message}${why()}`); });
  const boughtAt = Date.now();
  await page.waitForFunction(() => window.glasscastWatch.ticket === 'ok' && window.glasscastWatch.playing,
    null, { timeout: 30000 })
    .catch((e) => { throw new Error(`no playback after buying the ticket: ${e.message}${why()}`); });
  log(`playing ${Date.now() - boughtAt} ms after the return; notice "${await page.textContent('#support-notice')}"`);
  await page.waitForSelector('#ppv-owned:not([hidden])', { timeout: 10000 });
  const first = await page.evaluate(() => window.glasscastWatch.playheadDate());
  const framesBefore = await frames(page);
  await sleep(1500);
  const later = await page.evaluate(() => window.glasscastWatch.playheadDate());
  const framesAfter = await frames(page);
  log(`frames ${framesBefore} -> ${framesAfter}; playingDate advanced ${later - first} ms in 1.5 s`);
  assert.ok(framesAfter > framesBefore && framesAfter > 0, 'no frames decode after buying the ticket');
  assert.ok(later - first > 500, `the playhead date advanced only ${later - first} ms in 1.5 s`);
});

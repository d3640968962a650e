// latency-harness.test.mjs — CI run of the glass-to-glass latency harness (latency.mjs) for 20 s:
// frames decode (>= 100) and the latency is finite and positive; prints p50/p95/max.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runHarness, report } from './latency.mjs';
import { Stack, requirements } from './stack.mjs';

const SECONDS = Number(process.env.LATENCY_SECONDS || 20);
const chromium = await requirements();

test('the canvas clock published over WHIP decodes on the watch page with a finite glass-to-glass latency', async (t) => {
  const stack = await new Stack().start();
  t.after(() => stack.stop());
  const r = await runHarness({ chromium, stack, seconds: SECONDS });
  console.log(report(r));
  assert.ok(r.decoded >= 100, `only ${r.decoded} frames decoded (${r.undecodable} undecodable)`);
  for (const [name, v] of Object.entries({ p50: r.latency.p50, p95: r.latency.p95, max: r.latency.max, min: r.latency.min }))
    assert.ok(Number.isFinite(v) && v > 0, `latency ${name} is ${v}`);
  assert.deepEqual(r.watchErrors, [], 'fatal playback errors on the watch page');
});

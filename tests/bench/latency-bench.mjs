// latency-bench.mjs — glass-to-glass latency benchmark: the e2e latency harness (tests/e2e/latency.mjs) run
// for 120 s; prints p50/p95/max, WHIP 201 -> first part / first segment, viewer first frame after page load.
// Figures in docs/benchmarks.md, "Glass-to-glass latency". Prints; never asserts.
//
//   GLASSCASTD=build/orchestrator/glasscastd GST_PLUGIN_PATH=build/plugins/llhls:build/plugins/whip \
//     node tests/bench/latency-bench.mjs [--seconds 120] [--part-ms 200] [--target-s 1] [--jitter-ms 50]
//                                        [--sync S] [--rate R] [--reloads 5] [--json FILE]

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { report, runHarness } from '../e2e/latency.mjs';
import { Stack, requirements } from '../e2e/stack.mjs';

const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    'part-ms': { type: 'string', default: '200' },
    'target-s': { type: 'string', default: '1' },
    'jitter-ms': { type: 'string', default: '50' },
    sync: { type: 'string' },
    rate: { type: 'string' },
    reloads: { type: 'string', default: '5' },
    json: { type: 'string' },
  },
});

const chromium = await requirements();
const pipelineOptions = { partMs: Number(opt['part-ms']), targetS: Number(opt['target-s']), jitterMs: Number(opt['jitter-ms']) };
const watchQuery = {};
if (opt.sync)
  watchQuery.sync = opt.sync;
if (opt.rate)
  watchQuery.rate = opt.rate;

console.log(`# latency-bench: ${opt.seconds} s, pipeline ${JSON.stringify(pipelineOptions)}, ` +
  `watch page ${JSON.stringify(watchQuery)}, ${opt.reloads} reloads`);
const stack = await new Stack({ pipelineOptions }).start();
let code = 0;
try {
  const r = await runHarness({ chromium, stack, seconds: Number(opt.seconds), watchQuery, reloads: Number(opt.reloads) });
  console.log(report(r));
  const { console: _lines, ...figures } = r;
  console.log(JSON.stringify({ pipelineOptions, watchQuery, ...figures }));
  if (opt.json)
    writeFileSync(opt.json, JSON.stringify({ pipelineOptions, watchQuery, ...figures }, null, 2));
} catch (err) {
  console.error(`latency-bench failed: ${err.message}`);
  code = 1;
} finally {
  await stack.stop();
}
process.exit(code);

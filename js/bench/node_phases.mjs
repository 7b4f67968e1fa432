// Where a Node.js system's answer goes: tokenising, tensor creation, the model call, copies back to JS,
// decoding; the fixed cost of one call (an 8-token input: almost no FLOPs); and a long text's windows
// as qa.callPlan runs them vs one batched call. Loads the model through the shared runtime layer
// (js/node/runtimes.mjs), exactly as the runner and the npm client do.
//
//   node node_phases.mjs --format onnx|tfjs|savedmodel --model MAIN_FILE --tokenizer tokenizer.json
//                        [--backend tensorflow|wasm|cpu] [--output-map NAME=start_logits,...] < job.json
//
// job.json: {"short": {question, context}, "long": {question, context}, "runs": N}. Prints one JSON line.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

import * as qa from '../core/qa.mjs';
import { Tokenizer } from '../core/tokenizer.mjs';
import { loadRuntime, plainFiles } from '../node/runtimes.mjs';

console.log = console.error;
console.info = console.error;
console.warn = console.error;

const require = createRequire(new URL('../package.json', import.meta.url)); // js/node_modules
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : null;
};

function parseArgs(argv) {
  const out = { backend: 'tensorflow', outputMap: null };
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase())] = argv[i + 1];
  if (out.outputMap) out.outputMap = Object.fromEntries(out.outputMap.split(',').map((p) => p.split('=')));
  return out;
}

/** Time spent inside Tensor.dataSync (TF.js: the copy of the logits back into JS memory). */
function copyClock(format) {
  const clock = { ms: 0 };
  if (format === 'onnx') return clock; // onnxruntime-node hands back JS arrays: the copy is inside session.run
  const tf = require('@tensorflow/tfjs-core');
  const proto = tf.Tensor.prototype;
  const original = proto.dataSync;
  proto.dataSync = function timedDataSync(...args) {
    const t0 = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      clock.ms += performance.now() - t0;
    }
  };
  return clock;
}

async function phases(runtime, tokenizer, clock, item, runs) {
  const rec = { tokenise: [], tensors: [], run: [], copy: [], release: [], decode: [], total: [] };
  for (let i = 0; i < runs + 1; i++) {
    const t0 = performance.now();
    const enc = await qa.encode(tokenizer, item.question, item.context);
    const t1 = performance.now();
    const [rows, width] = enc.shape;
    let tensors = 0;
    let run = 0;
    let release = 0;
    const copy0 = clock.ms;
    // the windows reach the model exactly as the runner and the client send them (qa.inferInChunks),
    // with each call's tensor creation, model call and release timed apart
    const call = async (ids, mask, n, w, types) => {
      const feed = (data) => ({ shape: [n, w], dtype: 'int32', data });
      const feeds = { input_ids: feed(ids), attention_mask: feed(mask) };
      if (runtime.usesTokenTypes) feeds.token_type_ids = feed(types);
      const a = performance.now();
      const handle = runtime.prepare(feeds);
      const b = performance.now();
      const out = await runtime.run(handle);
      const c = performance.now();
      runtime.release(handle);
      release += performance.now() - c;
      tensors += b - a;
      run += c - b;
      return { start: out.start_logits, end: out.end_logits };
    };
    const solo = qa.soloWidthFor(runtime.format);
    const logits = await qa.inferInChunks(call, enc.inputIds, enc.attentionMask, rows, width, qa.MAX_BATCH_WINDOWS, solo, enc.typeIds);
    const copy = clock.ms - copy0;
    const t2 = performance.now();
    qa.decode(enc, logits.start, logits.end, item.context);
    const t3 = performance.now();
    if (i === 0) continue; // warm-up
    rec.tokenise.push(t1 - t0);
    rec.tensors.push(tensors);
    rec.run.push(run - copy);
    rec.copy.push(copy);
    rec.release.push(release);
    rec.decode.push(t3 - t2);
    rec.total.push(t3 - t0);
  }
  return Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, median(v)]));
}

async function timeInfer(runtime, ids, mask, shape, runs) {
  const times = [];
  for (let i = 0; i < runs + 1; i++) {
    const t0 = performance.now();
    await runtime.infer(ids, mask, shape, new Int32Array(ids.length));
    if (i > 0) times.push(performance.now() - t0);
  }
  return median(times);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const job = JSON.parse(fs.readFileSync(0, 'utf8'));
  const runs = Math.max(1, Number(job.runs ?? 3));
  const clock = copyClock(args.format);
  const modelPath = path.resolve(args.model);
  const runtime = await loadRuntime({
    format: args.format,
    files: plainFiles(path.dirname(modelPath)),
    mainFile: path.basename(modelPath),
    outputMap: args.outputMap,
    backend: args.format === 'tfjs' ? args.backend : 'tensorflow',
  });
  const tokenizer = Tokenizer.fromJSON(fs.readFileSync(path.resolve(args.tokenizer), 'utf8'));
  const result = { runtime: runtime.runtime, format: runtime.format, backend: runtime.backend };
  for (const cls of ['short', 'long']) if (job[cls]) result[cls] = await phases(runtime, tokenizer, clock, job[cls], cls === 'long' ? Math.max(1, runs - 1) : runs);
  const tiny = new Int32Array([101, 2000, 2001, 102, 2002, 2003, 2004, 102]);
  result.call_8_tokens_ms = await timeInfer(runtime, tiny, new Int32Array(8).fill(1), [1, 8], runs * 3);
  if (job.long) {
    const enc = await qa.encode(tokenizer, job.long.question, job.long.context);
    const lengths = enc.windows.map((w) => w.inputIds.length);
    const planned = [];
    const batched = [];
    for (let i = 0; i < Math.max(2, runs - 1); i++) {
      let t = performance.now();
      await qa.inferInChunks((a, b, n, w, t) => runtime.infer(a, b, [n, w], t), enc.inputIds, enc.attentionMask, ...enc.shape, qa.MAX_BATCH_WINDOWS, qa.SOLO_WIDTH, enc.typeIds);
      planned.push(performance.now() - t);
      t = performance.now();
      await runtime.infer(enc.inputIds, enc.attentionMask, enc.shape, enc.typeIds);
      batched.push(performance.now() - t);
    }
    // per_window: full-length windows one per call (qa.SOLO_WIDTH), whatever this runtime's rule is
    result.windows = { lengths, per_window_ms: median(planned), batched_ms: median(batched), rule: qa.soloWidthFor(runtime.format) === Infinity ? 'batched' : 'one per call' };
  }
  process.stdout.write(`PHASES ${JSON.stringify(result)}\n`);
  await runtime.dispose();
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.stdout.write(`PHASES ${JSON.stringify({ error: String(err?.message ?? err).split('\n')[0] })}\n`);
  process.exitCode = 1;
});

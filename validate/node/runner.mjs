// One long-lived Node.js process per runtime, driven by validate/node_bridge.py over JSON lines.
//
//   node runner.mjs --runtime tfjs|onnx|savedmodel --model PATH [--backend wasm|cpu|tensorflow]
//                   [--tokenizer tokenizer.json] [--output-map Identity=end_logits,Identity_1=start_logits]
//
// PATH is the format's main file (model.json, model.onnx, saved_model.pb). The model is loaded by
// runtimes.mjs, the same module the npm client ships, so validation proves the loader users run.
// Loads the model once, prints {"event":"ready",...}, then answers one JSON line per request line on
// stdin (ops: infer, answer, stats, shutdown; _sleep and _exit are debug ops for the bridge's hang and
// crash tests; QAPORT_NODE_FAULT injects the same faults mid-run, see parseFaults). stdout carries only
// protocol lines: console.log is sent to stderr so that a library's chatter cannot corrupt a reply.
// Requests are served one at a time, in order.
//
// Backend 'tensorflow' is @tensorflow/tfjs-node (libtensorflow through its native addon, built offline by
// build_tfjs_node.py against the pip tensorflow wheel); it registers itself in the same, deduplicated
// @tensorflow/tfjs-core that the other backends use.
//
// Trap: the wasm backend's Emscripten glue installs process handlers that rethrow any uncaught
// exception or unhandled rejection (exit code 7), so every request's errors are caught here.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

import * as qa from './qa.mjs';
import {
  LOGICAL_INPUTS,
  LOGICAL_OUTPUTS,
  FORMAT_KINDS,
  TFJS_BACKENDS,
  TOKEN_TYPE_IDS,
  loadRuntime,
  packageVersion,
  plainFiles,
} from './runtimes.mjs';

const require = createRequire(import.meta.url);
const ITEM_BYTES = { int32: 4, float32: 4, int64: 8 };

console.log = console.error;
console.info = console.error;
console.debug = console.error;

// The parent went away (closed our stdout): nobody is left to answer, so leave quietly.
process.stdout.on('error', (err) => {
  process.stderr.write(`runner: stdout closed (${err.code ?? err.message}); exiting\n`);
  process.exit(err.code === 'EPIPE' ? 0 : 1);
});

function send(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function oneLine(err) {
  const text = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  return text.replace(/\s+/g, ' ').trim().slice(0, 2000) || 'unknown error';
}

function parseArgs(argv) {
  const args = { backend: 'wasm', tokenizer: null, outputMap: null };
  const flags = { '--runtime': 'runtime', '--model': 'model', '--backend': 'backend', '--tokenizer': 'tokenizer', '--output-map': 'outputMap' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = flags[argv[i]];
    if (!key || i + 1 >= argv.length) throw new Error(`bad argument ${argv[i]}; usage: ${Object.keys(flags).join(' VALUE ')} VALUE`);
    args[key] = argv[i + 1];
  }
  if (!FORMAT_KINDS.includes(args.runtime)) throw new Error(`--runtime must be one of ${FORMAT_KINDS.join(', ')}, got ${args.runtime}`);
  if (!args.model) throw new Error('--model is required');
  if (!TFJS_BACKENDS.includes(args.backend)) throw new Error(`--backend must be one of ${TFJS_BACKENDS.join(', ')}, got ${args.backend}`);
  return args;
}

function parseOutputMap(text) {
  if (!text) return null;
  const map = {};
  for (const pair of text.split(',').filter(Boolean)) {
    const [name, logical] = pair.split('=');
    if (!name || !LOGICAL_OUTPUTS.includes(logical)) throw new Error(`--output-map entry "${pair}" must be NAME=start_logits|end_logits`);
    map[name.trim()] = logical.trim();
  }
  return map;
}

// ---------------------------------------------------------------------------------------------------
// Arrays on the wire: {"shape": [...], "dtype": "int32"|"float32"|"int64", "data": base64 of little-endian bytes}

const TYPED = { int32: Int32Array, float32: Float32Array, int64: BigInt64Array };

function decodeArray(arr, what) {
  if (!arr || typeof arr !== 'object') throw new Error(`${what} is missing`);
  const { shape, dtype, data } = arr;
  if (!(dtype in TYPED)) throw new Error(`${what} has dtype ${dtype}; supported: ${Object.keys(TYPED).join(', ')}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`${what} has a bad shape`);
  const buf = Buffer.from(data ?? '', 'base64');
  const count = shape.reduce((a, b) => a * b, 1);
  if (buf.length !== count * ITEM_BYTES[dtype]) {
    throw new Error(`${what}: ${buf.length} bytes do not hold shape [${shape}] of ${dtype}`);
  }
  const ab = new ArrayBuffer(buf.length); // a fresh buffer: Buffer's pool offset may be misaligned
  new Uint8Array(ab).set(buf);
  return { shape, dtype, data: new TYPED[dtype](ab) };
}

function encodeArray({ shape, dtype, data }) {
  return { shape: Array.from(shape), dtype, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
}

// ---------------------------------------------------------------------------------------------------

function checkFeeds(runtime, feeds) {
  const names = runtime.inputs.map((i) => i.name);
  const missing = names.filter((n) => !(n in feeds));
  if (missing.length) throw new Error(`inputs ${missing.join(', ')} missing; the model takes ${names.join(', ')}`);
  const [a, b] = LOGICAL_INPUTS.map((n) => feeds[n]?.shape);
  if (!a || a.length !== 2 || !b || a.join() !== b.join()) throw new Error(`input_ids [${a}] and attention_mask [${b}] must be equal 2-D shapes`);
  const t = feeds[TOKEN_TYPE_IDS]?.shape;
  if (t && t.join() !== a.join()) throw new Error(`token_type_ids [${t}] must have the shape of input_ids [${a}]`);
}

function repeatCount(value, name, min) {
  const v = value ?? min;
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min}, got ${value}`);
  return v;
}

async function timedInfer(runtime, feeds, warmup, runs) {
  const handle = runtime.prepare(feeds);
  try {
    for (let i = 0; i < warmup; i++) await runtime.run(handle);
    const times = [];
    let result;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      result = await runtime.run(handle);
      times.push(performance.now() - t0);
    }
    return { result, times };
  } finally {
    runtime.release(handle);
  }
}

/** What the `answer` op calls: the shared runtime layer's infer, in qa.callPlan's calls like the npm client. */
function makeAnswerInfer(runtime) {
  const solo = qa.soloWidthFor(runtime.format);
  // qa.answer hands the windows' token types as the 4th argument when asked to (tokenTypes; null
  // otherwise); qa.inferInChunks slices them per call and passes them as the 5th argument.
  return (ids, mask, [rows, width], types = null) =>
    qa.inferInChunks(
      (a, b, n, w, t) => runtime.infer(a, b, [n, w], t),
      ids,
      mask,
      rows,
      width,
      qa.MAX_BATCH_WINDOWS,
      solo,
      types ?? null,
    );
}

/**
 * QAPORT_NODE_FAULT=KIND:N[:MODEL_SUFFIX][,...] makes this runner fail on its N-th request (1-based),
 * only for a model whose path ends with MODEL_SUFFIX when given: KIND `crash` dies by SIGSEGV, `hang`
 * blocks the event loop for an hour. Tests of the bridge's crash and hang handling use it, mid-validation.
 */
function parseFaults(text, modelPath) {
  const faults = [];
  for (const spec of (text ?? '').split(',').filter(Boolean)) {
    const [kind, n, suffix] = spec.split(':');
    if (!['crash', 'hang'].includes(kind) || !(Number(n) >= 1)) {
      throw new Error(`QAPORT_NODE_FAULT entry "${spec}" must be crash|hang:N[:MODEL_SUFFIX]`);
    }
    if (!suffix || modelPath.split(path.sep).join('/').endsWith(suffix)) faults.push({ kind, at: Number(n) });
  }
  return faults;
}

function injectFault(state) {
  state.requests += 1;
  const fault = state.faults.find((f) => f.at === state.requests);
  if (!fault) return;
  process.stderr.write(`runner: fault injected by QAPORT_NODE_FAULT: ${fault.kind} on request ${state.requests}\n`);
  if (fault.kind === 'crash') process.kill(process.pid, 'SIGSEGV');
  else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3_600_000);
}

/**
 * Peak RSS of this process. getrusage's maxRSS survives execve on Linux, so a node started by a big
 * parent (Python with TensorFlow loaded) reports the parent's peak; VmHWM belongs to this process only.
 */
function peakRss() {
  const maxrssBytes = process.resourceUsage().maxRSS * 1024;
  try {
    const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return { peak_rss_bytes: Number(hwm[1]) * 1024, peak_rss_source: 'VmHWM', maxrss_bytes: maxrssBytes };
  } catch {
    // not Linux: fall back to getrusage
  }
  return { peak_rss_bytes: maxrssBytes, peak_rss_source: 'maxRSS', maxrss_bytes: maxrssBytes };
}

async function handle(state, req) {
  const { runtime } = state;
  switch (req.op) {
    case 'infer': {
      const feeds = {};
      for (const [name, arr] of Object.entries(req.inputs ?? {})) feeds[name] = decodeArray(arr, `inputs.${name}`);
      checkFeeds(runtime, feeds);
      const warmup = repeatCount(req.warmup, 'warmup', 0);
      const runs = repeatCount(req.runs, 'runs', 1);
      const { result, times } = await timedInfer(runtime, feeds, warmup, runs);
      const outputs = Object.fromEntries(LOGICAL_OUTPUTS.map((l) => [l, encodeArray(result[l])]));
      return { outputs, times_ms: times };
    }
    case 'answer': {
      if (!state.tokenizer) throw new Error('answer needs a tokenizer: start the runner with --tokenizer tokenizer.json');
      if (typeof req.question !== 'string' || typeof req.context !== 'string') throw new Error('answer needs string question and context');
      const warmup = repeatCount(req.warmup, 'warmup', 0);
      const runs = repeatCount(req.runs, 'runs', 1);
      const options = {
        maxAnswerLen: repeatCount(req.max_answer_len ?? qa.MAX_ANSWER_LEN, 'max_answer_len', 1),
        maxLength: repeatCount(req.max_length ?? qa.MAX_LENGTH, 'max_length', 1),
        stride: repeatCount(req.stride ?? qa.STRIDE, 'stride', 0),
        tokenTypes: runtime.usesTokenTypes, // BERT, MobileBERT, ALBERT: the model takes token_type_ids
        handleImpossibleAnswer: Boolean(req.handle_impossible_answer),
      };
      const topK = req.top_k === undefined || req.top_k === null ? null : repeatCount(req.top_k, 'top_k', 1);
      const times = [];
      let best;
      let all = null;
      for (let i = 0; i < warmup + runs; i++) {
        const t0 = performance.now();
        if (topK !== null) {
          if (typeof qa.answers !== 'function') throw new Error('top_k needs qa.answers, which this qa.mjs lacks');
          all = await qa.answers(state.answerInfer, state.tokenizer, req.question, req.context, { ...options, topK });
          best = all[0] ?? { text: '', score: 0, start: 0, end: 0 };
        } else {
          best = await qa.answer(state.answerInfer, state.tokenizer, req.question, req.context, options);
        }
        if (i >= warmup) times.push(performance.now() - t0);
      }
      return all === null ? { answer: best, times_ms: times } : { answer: best, answers: all, times_ms: times };
    }
    case 'stats': {
      return { rss_bytes: process.memoryUsage().rss, ...peakRss(), num_tensors: runtime.numTensors() };
    }
    case '_sleep': {
      // Debug op for the bridge's hang detection: blocks the event loop like a stuck kernel would.
      process.stderr.write(`runner: blocking for ${Number(req.ms ?? 1000)} ms on request (_sleep)\n`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(req.ms ?? 1000));
      return {};
    }
    case '_exit': {
      process.stderr.write(`runner: exiting with code ${req.code ?? 3} on request (_exit)\n`);
      process.exit(req.code ?? 3);
      return {};
    }
    default:
      throw new Error(`unknown op ${JSON.stringify(req.op)}; ops: infer, answer, stats, shutdown`);
  }
}

async function main() {
  if (os.endianness() !== 'LE') throw new Error('the wire format is little-endian; this machine is not');
  const args = parseArgs(process.argv.slice(2));
  const modelPath = path.resolve(args.model);
  if (!fs.existsSync(modelPath)) throw new Error(`model not found: ${modelPath}`);
  const outputMap = parseOutputMap(args.outputMap);
  const t0 = performance.now();
  // The model's directory through a plain reader; the npm client hands the same loader a sha256-verifying one.
  const runtime = await loadRuntime({
    format: args.runtime,
    files: plainFiles(path.dirname(modelPath)),
    mainFile: path.basename(modelPath),
    outputMap,
    backend: args.runtime === 'tfjs' ? args.backend : 'tensorflow',
  });
  const state = {
    runtime,
    tokenizer: null,
    answerInfer: makeAnswerInfer(runtime),
    faults: parseFaults(process.env.QAPORT_NODE_FAULT, modelPath),
    requests: 0,
  };
  const versions = { node: process.versions.node, ...runtime.versions };
  if (args.tokenizer) {
    const { Tokenizer } = require('tokenizers');
    state.tokenizer = qa.prepareTokenizer(Tokenizer.fromFile(path.resolve(args.tokenizer)));
    versions.tokenizers = packageVersion('tokenizers');
  }
  const loadMs = performance.now() - t0;
  send({
    event: 'ready',
    load_ms: loadMs,
    runtime: args.runtime,
    runtime_id: runtime.runtime,
    backend: runtime.backend,
    versions,
    inputs: runtime.inputs,
    uses_token_types: runtime.usesTokenTypes,
    outputs: runtime.outputs,
    fixed_length: runtime.fixedLength,
    format: runtime.format,
    num_tensors: runtime.numTensors(),
    ...runtime.extra,
    pid: process.pid,
  });

  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    if (!line.trim()) return;
    chain = chain.then(async () => {
      let req;
      try {
        req = JSON.parse(line);
      } catch (err) {
        send({ id: null, ok: false, error: `request is not JSON: ${oneLine(err)}` });
        return;
      }
      const id = req?.id ?? null;
      if (req?.op === 'shutdown') {
        process.stdout.write(`${JSON.stringify({ id, ok: true })}\n`, () => process.exit(0));
        await new Promise(() => {}); // exit happens in the write callback
      }
      try {
        injectFault(state);
        send({ id, ok: true, ...(await handle(state, req)) });
      } catch (err) {
        send({ id, ok: false, error: oneLine(err) });
      }
    });
  });
  rl.on('close', () => {
    chain.then(() => process.exit(0));
  });
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  send({ event: 'error', error: oneLine(err) });
  process.exitCode = 1;
});

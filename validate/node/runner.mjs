// One long-lived Node.js process per runtime, driven by validate/node_bridge.py over JSON lines.
//
//   node runner.mjs --runtime tfjs|onnx --model PATH [--backend wasm|cpu|tensorflow] [--tokenizer tokenizer.json]
//                   [--output-map Identity=end_logits,Identity_1=start_logits]
//
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

const require = createRequire(import.meta.url);
const LOGICAL_OUTPUTS = ['start_logits', 'end_logits'];
const LOGICAL_INPUTS = ['input_ids', 'attention_mask'];
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
  if (!['tfjs', 'onnx'].includes(args.runtime)) throw new Error(`--runtime must be tfjs or onnx, got ${args.runtime}`);
  if (!args.model) throw new Error('--model is required');
  if (!['wasm', 'cpu', 'tensorflow'].includes(args.backend)) throw new Error(`--backend must be wasm, cpu or tensorflow, got ${args.backend}`);
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

function packageVersion(name) {
  try {
    const dir = path.dirname(require.resolve(`${name}/package.json`));
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

const stripPort = (name) => name.replace(/:0$/, '');

/** Logical output name -> the model's output name, never by position. */
function resolveOutputs(outputNames, outputMap) {
  const map = outputMap ?? Object.fromEntries(outputNames.filter((n) => LOGICAL_OUTPUTS.includes(n)).map((n) => [n, n]));
  const unknown = Object.keys(map).filter((n) => !outputNames.includes(n));
  if (unknown.length) throw new Error(`--output-map names ${unknown.join(', ')}; the model's outputs are: ${outputNames.join(', ')}`);
  const byLogical = {};
  for (const [name, logical] of Object.entries(map)) byLogical[logical] = name;
  const missing = LOGICAL_OUTPUTS.filter((l) => !(l in byLogical));
  if (missing.length) {
    throw new Error(`no output mapped to ${missing.join(', ')} (outputs: ${outputNames.join(', ')}); pass --output-map NAME=LOGICAL,...`);
  }
  return byLogical;
}

// ---------------------------------------------------------------------------------------------------
// Runtimes: prepare(feeds) -> handle (outside the timing), run(handle) -> {start_logits, end_logits}
// (timed), release(handle).

async function loadTfjs(modelPath, backend, outputMap) {
  const tf = require('@tensorflow/tfjs-core');
  const converter = require('@tensorflow/tfjs-converter');
  require('@tensorflow/tfjs-backend-cpu');
  const versions = { 'tfjs-core': tf.version_core, 'tfjs-converter': packageVersion('@tensorflow/tfjs-converter') };
  if (backend === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(`${wasmDir}${path.sep}`);
    versions['tfjs-backend-wasm'] = packageVersion('@tensorflow/tfjs-backend-wasm');
  } else if (backend === 'tensorflow') {
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2'; // libtensorflow's CUDA-probe chatter would fill the stderr tail
    require('@tensorflow/tfjs-node'); // loads the addon and libtensorflow; registers 'tensorflow' in tfjs-core
    if (!tf.findBackendFactory('tensorflow')) throw new Error("@tensorflow/tfjs-node did not register the 'tensorflow' backend");
    versions['tfjs-node'] = packageVersion('@tensorflow/tfjs-node');
  } else {
    versions['tfjs-backend-cpu'] = packageVersion('@tensorflow/tfjs-backend-cpu');
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} failed to initialise`);
  await tf.ready();
  const extra = {};
  if (backend === 'wasm') {
    extra.simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    extra.threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  }
  if (backend === 'tensorflow') {
    if (tf.getBackend() !== 'tensorflow') throw new Error(`tfjs-node loaded but the backend is ${tf.getBackend()}`);
    versions.libtensorflow = tf.backend().binding?.TF_Version ?? null;
  }

  // loadGraphModel('file://') needs tfjs-node; for every backend alike, this IOHandler reads model.json and its shards with fs.
  const dir = path.dirname(modelPath);
  const modelJson = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
  const handler = {
    load: () =>
      tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = [];
        const buffers = [];
        for (const group of manifest) {
          for (const p of group.paths) {
            const buf = fs.readFileSync(path.join(dir, p));
            buffers.push(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
          }
          specs.push(...group.weights);
        }
        return [specs, buffers];
      }),
  };
  const model = await converter.loadGraphModel(handler);
  const inputs = model.inputs.map((t) => ({ name: stripPort(t.name), dtype: t.dtype, shape: t.shape ?? null }));
  const outputs = model.outputs.map((t) => ({ name: stripPort(t.name), dtype: t.dtype, shape: t.shape ?? null }));
  const byLogical = resolveOutputs(outputs.map((o) => o.name), outputMap);
  const fetches = LOGICAL_OUTPUTS.map((l) => byLogical[l]);
  for (const o of outputs) o.logical = LOGICAL_OUTPUTS.find((l) => byLogical[l] === o.name) ?? null;
  let useAsync = false;

  return {
    runtime: 'tfjs',
    backend,
    versions,
    extra,
    inputs,
    outputs,
    numTensors: () => tf.memory().numTensors,
    prepare(feeds) {
      const handle = {};
      try {
        for (const inp of inputs) handle[inp.name] = tf.tensor(toInt32(feeds[inp.name]), feeds[inp.name].shape, 'int32');
      } catch (err) {
        tf.dispose(Object.values(handle));
        throw err;
      }
      return handle;
    },
    async run(handle) {
      let outs;
      if (!useAsync) {
        try {
          outs = model.execute(handle, fetches);
        } catch (err) {
          if (!/executeAsync/.test(String(err?.message))) throw err;
          useAsync = true; // control flow in the graph: only executeAsync can run it
        }
      }
      if (useAsync) outs = await model.executeAsync(handle, fetches);
      try {
        const result = {};
        LOGICAL_OUTPUTS.forEach((l, i) => {
          result[l] = { dtype: 'float32', shape: outs[i].shape, data: outs[i].dataSync() };
        });
        return result;
      } finally {
        tf.dispose(outs);
      }
    },
    release(handle) {
      tf.dispose(Object.values(handle));
    },
  };
}

async function loadOnnx(modelPath, outputMap) {
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(modelPath);
  const meta = (list, names) =>
    names.map((name) => {
      const m = list?.find((x) => x.name === name);
      return { name, dtype: m?.type ?? null, shape: m?.shape ? Array.from(m.shape) : null };
    });
  const inputs = meta(session.inputMetadata, session.inputNames);
  const outputs = meta(session.outputMetadata, session.outputNames);
  for (const inp of inputs) {
    if (!['int64', 'int32'].includes(inp.dtype)) throw new Error(`ONNX input ${inp.name} has type ${inp.dtype}; expected int64 or int32`);
  }
  const byLogical = resolveOutputs(session.outputNames, outputMap);
  for (const o of outputs) o.logical = LOGICAL_OUTPUTS.find((l) => byLogical[l] === o.name) ?? null;
  return {
    runtime: 'onnx',
    backend: 'cpu',
    versions: { 'onnxruntime-node': packageVersion('onnxruntime-node') },
    extra: {},
    inputs,
    outputs,
    numTensors: () => null,
    prepare(feeds) {
      const handle = {};
      for (const inp of inputs) {
        const f = feeds[inp.name];
        const data = inp.dtype === 'int64' ? toInt64(f) : toInt32(f);
        handle[inp.name] = new ort.Tensor(inp.dtype, data, f.shape);
      }
      return handle;
    },
    async run(handle) {
      const res = await session.run(handle);
      const result = {};
      for (const l of LOGICAL_OUTPUTS) {
        const t = res[byLogical[l]];
        if (t.type !== 'float32') throw new Error(`output ${byLogical[l]} is ${t.type}, expected float32`);
        result[l] = { dtype: 'float32', shape: Array.from(t.dims), data: t.data };
      }
      return result;
    },
    release() {},
  };
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

function toInt32(arr) {
  if (arr.data instanceof Int32Array) return arr.data;
  const out = new Int32Array(arr.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Number(arr.data[i]);
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw new Error(`value ${arr.data[i]} does not fit int32`);
    out[i] = v;
  }
  return out;
}

function toInt64(arr) {
  if (arr.data instanceof BigInt64Array) return arr.data;
  const out = new BigInt64Array(arr.data.length);
  for (let i = 0; i < out.length; i++) out[i] = BigInt(arr.data[i]);
  return out;
}

// ---------------------------------------------------------------------------------------------------

function fixedLength(runtime) {
  const shape = runtime.inputs.find((i) => i.name === 'input_ids')?.shape;
  const len = Array.isArray(shape) && shape.length === 2 ? shape[1] : null;
  return Number.isInteger(len) && len > 0 ? len : null;
}

function checkFeeds(runtime, feeds) {
  const names = runtime.inputs.map((i) => i.name);
  const missing = names.filter((n) => !(n in feeds));
  if (missing.length) throw new Error(`inputs ${missing.join(', ')} missing; the model takes ${names.join(', ')}`);
  const [a, b] = LOGICAL_INPUTS.map((n) => feeds[n]?.shape);
  if (!a || a.length !== 2 || !b || a.join() !== b.join()) throw new Error(`input_ids [${a}] and attention_mask [${b}] must be equal 2-D shapes`);
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

function makeAnswerInfer(runtime) {
  const fixed = fixedLength(runtime);
  return async (inputIds, attentionMask, shape) => {
    let [rows, width] = shape;
    let ids = inputIds;
    let mask = attentionMask;
    if (fixed !== null && width !== fixed) {
      if (width > fixed) throw new Error(`${width} tokens do not fit the model's fixed length ${fixed}`);
      ids = new Int32Array(rows * fixed);
      mask = new Int32Array(rows * fixed);
      for (let r = 0; r < rows; r++) {
        ids.set(inputIds.subarray(r * width, (r + 1) * width), r * fixed);
        mask.set(attentionMask.subarray(r * width, (r + 1) * width), r * fixed);
      }
      width = fixed;
    }
    const call = async (a, b, n) => {
      const feeds = {
        input_ids: { shape: [n, width], dtype: 'int32', data: a },
        attention_mask: { shape: [n, width], dtype: 'int32', data: b },
      };
      const { result } = await timedInfer(runtime, feeds, 0, 1);
      return { start: result.start_logits, end: result.end_logits };
    };
    return qa.inferInChunks(call, ids, mask, rows, width);
  };
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
      };
      const times = [];
      let best;
      for (let i = 0; i < warmup + runs; i++) {
        const t0 = performance.now();
        best = await qa.answer(state.answerInfer, state.tokenizer, req.question, req.context, options);
        if (i >= warmup) times.push(performance.now() - t0);
      }
      return { answer: best, times_ms: times };
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
  const runtime = args.runtime === 'tfjs' ? await loadTfjs(modelPath, args.backend, outputMap) : await loadOnnx(modelPath, outputMap);
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
    runtime: runtime.runtime,
    backend: runtime.backend,
    versions,
    inputs: runtime.inputs,
    outputs: runtime.outputs,
    fixed_length: fixedLength(runtime),
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

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
import { performance } from 'node:perf_hooks';

import { modelOps } from '../core/protocol.mjs';
import { Tokenizer } from '../core/tokenizer.mjs';
import { oneLine, parseFaults, protocolStdout, send, serveLines } from './jsonlines.mjs';
import { LOGICAL_OUTPUTS, FORMAT_KINDS, TFJS_BACKENDS, loadRuntime, plainFiles } from './runtimes.mjs';

protocolStdout('runner');

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

/**
 * QAPORT_NODE_FAULT (jsonlines.parseFaults) makes this runner fail on its N-th request: `crash` dies by
 * SIGSEGV, `hang` blocks the event loop for an hour. Tests of the bridge's crash and hang handling use it.
 */
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
    case 'infer':
      return state.ops.infer(req);
    case 'answer':
      return state.ops.answer(req);
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
    faults: parseFaults(process.env.QAPORT_NODE_FAULT, modelPath),
    requests: 0,
  };
  const versions = { node: process.versions.node, ...runtime.versions };
  if (args.tokenizer) {
    // qaport's own tokenizer, the one the npm client and the browser run (js/core/tokenizer.mjs)
    state.tokenizer = Tokenizer.fromJSON(fs.readFileSync(path.resolve(args.tokenizer), 'utf8'));
    versions.tokenizer = 'js/core/tokenizer.mjs';
  }
  state.ops = modelOps({ runtime, tokenizer: state.tokenizer });
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

  serveLines({
    handle(req) {
      injectFault(state);
      return handle(state, req);
    },
  });
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  send({ event: 'error', error: oneLine(err) });
  process.exitCode = 1;
});

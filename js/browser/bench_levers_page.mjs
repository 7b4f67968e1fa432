// The browser benchmark's levers page: where a browser model call's time goes, measured by changing one
// thing at a time on the same ONNX file and the same input, interleaved round by round in one page (so
// a busy machine slows every variant alike). js/browser/bench.mjs bundles and drives it.
//
// Variants: qaport's onnxruntime-web (js/node_modules: the default build qaport's client imports, which
// loads the JSEP wasm; the wasm-only build, plain wasm; the webgpu build, asyncify wasm, which
// transformers.js imports), transformers.js' own onnxruntime-web (nested under
// @huggingface/transformers), each at 1 and 2 threads where it can, with qaport's session options.

import * as ortQaport from 'onnxruntime-web';
import * as ortQaportWasmBuild from 'onnxruntime-web/wasm';
import * as ortQaportWebgpuBuild from 'onnxruntime-web/webgpu';
import * as ortTjs from '../node_modules/@huggingface/transformers/node_modules/onnxruntime-web/dist/ort.webgpu.bundle.min.mjs';

const BUILDS = {
  'qaport ort-web (default build)': { ort: ortQaport, wasm: 'qaport-wasm/ort/' },
  'qaport ort-web (wasm-only build)': { ort: ortQaportWasmBuild, wasm: 'qaport-wasm/ort/' },
  'qaport ort-web (webgpu build)': { ort: ortQaportWebgpuBuild, wasm: 'qaport-wasm/ort/' },
  "transformers.js' ort-web (webgpu build)": { ort: ortTjs, wasm: 'tjs-wasm/' },
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function bytesOf(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

function feeds(ort, session, tokens) {
  const ids = new BigInt64Array(tokens);
  for (let i = 0; i < tokens; i++) ids[i] = BigInt(i === 0 ? 2 : i === tokens - 1 ? 3 : 100 + ((i * 37) % 1500));
  const mask = new BigInt64Array(tokens).fill(1n);
  const out = {};
  for (const name of session.inputNames) {
    out[name] = new ort.Tensor('int64', name.includes('mask') ? mask : ids, [1, tokens]);
  }
  return out;
}

/** threads: one count for the whole page (each onnxruntime-web instance reads its own env once). */
async function measure({ files, tokens = 200, rounds = 15, threads = 1, builds = Object.keys(BUILDS) }) {
  const variants = [];
  for (const name of builds) {
    const { ort, wasm } = BUILDS[name];
    ort.env.wasm.wasmPaths = new URL(wasm, location.href).href;
    ort.env.wasm.numThreads = threads;
    for (const file of files) {
      const bytes = await bytesOf(new URL(`model/${file}`, location.href).href);
      for (const level of ['all', 'disabled']) {
        const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: level });
        variants.push({ name, file, level, ort, session, version: ort.env.versions?.web ?? null, times: [] });
      }
    }
  }
  for (const v of variants) v.feeds = feeds(v.ort, v.session, tokens);
  for (let r = 0; r < 10; r++) for (const v of variants) await v.session.run(v.feeds); // warm-up: V8 tiers the wasm up
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const t = performance.now();
      await v.session.run(v.feeds);
      v.times.push(performance.now() - t);
    }
  }
  const out = variants.map((v) => ({
    build: v.name,
    version: v.version,
    file: v.file,
    graph_optimization: v.level,
    threads: v.ort.env.wasm.numThreads,
    median_ms: median(v.times),
  }));
  for (const v of variants) await v.session.release();
  return { tokens, rounds, cross_origin_isolated: Boolean(globalThis.crossOriginIsolated), variants: out };
}

async function call(op, req) {
  try {
    if (op !== 'measure') throw new Error(`unknown op ${op}`);
    return { ok: true, ...(await measure(req)) };
  } catch (err) {
    return { ok: false, error: String(err?.message ?? err), stack: String(err?.stack ?? '').split('\n').slice(0, 6).join(' | ') };
  }
}

globalThis.qaportBenchLevers = { call };

// The validation page's code: what js/browser/runner.mjs drives in headless Chromium. It is an app like a
// web developer's: the core windowing/decoding (js/core/qa.mjs), the browser tokenizer
// (js/core/tokenizer.mjs) and the browser host (js/browser/runtimes.mjs), bundled by esbuild; the runner
// calls window.qaportPage over the DevTools protocol with the same ops as the Node.js runner
// (load, infer, answer, stats; infer and answer are js/core/protocol.mjs, shared with js/node/runner.mjs).

import { modelOps } from '../core/protocol.mjs';
import { Tokenizer } from '../core/tokenizer.mjs';
import { fetchFiles, gpuRenderer, loadRuntime } from './runtimes.mjs';

const state = { runtime: null, tokenizer: null, ops: null };

async function load({ format, backend, mainFile, entries, outputMap, tokenizer, wasmPaths, inputDtypes }) {
  const t0 = performance.now();
  // with the manifest's entries, every model file is checked against its sha256 (WebCrypto) before use
  const files = fetchFiles(new URL('/model/', location.href).href, { entries });
  state.runtime = await loadRuntime({ format, files, mainFile, outputMap, backend, wasmPaths, inputDtypes });
  const versions = { ...state.runtime.versions, chromium: navigator.userAgent.match(/Chrome\/([\d.]+)/)?.[1] ?? null };
  if (tokenizer) {
    const response = await fetch(tokenizer);
    if (!response.ok) throw new Error(`tokenizer ${tokenizer}: HTTP ${response.status}`);
    state.tokenizer = Tokenizer.fromJSON(await response.text());
    versions.tokenizer = 'qaport js/core/tokenizer.mjs';
  }
  const rt = state.runtime;
  state.ops = modelOps({ runtime: rt, tokenizer: state.tokenizer });
  const gpu = await gpuRenderer(backend);
  return {
    gpu_renderer: gpu.renderer,
    software_renderer: gpu.software,
    load_ms: performance.now() - t0,
    runtime_id: rt.runtime,
    backend: rt.backend,
    versions,
    inputs: rt.inputs,
    uses_token_types: rt.usesTokenTypes,
    outputs: rt.outputs,
    fixed_length: rt.fixedLength,
    format: rt.format,
    num_tensors: rt.numTensors(),
    cross_origin_isolated: Boolean(globalThis.crossOriginIsolated),
    files_verified: Array.isArray(entries) ? entries.length : 0,
    ...rt.extra,
  };
}

function stats() {
  const mem = performance.memory ?? {};
  return { js_heap_bytes: mem.usedJSHeapSize ?? null, num_tensors: state.runtime?.numTensors() ?? null };
}

/** Every op answers {ok, ...} or {ok: false, error}: an exception must not escape page.evaluate as a crash. */
async function call(op, req) {
  try {
    const ops = { load, stats, infer: (r) => state.ops.infer(r), answer: (r) => state.ops.answer(r) };
    if (!(op in ops)) throw new Error(`unknown op ${JSON.stringify(op)}; ops: ${Object.keys(ops).join(', ')}`);
    return { ok: true, ...(await ops[op](req ?? {})) };
  } catch (err) {
    const name = err?.name && err.name !== 'Error' ? `${err.name}: ` : '';
    return { ok: false, error: `${name}${err?.message ?? err}` };
  }
}

globalThis.qaportPage = { call };

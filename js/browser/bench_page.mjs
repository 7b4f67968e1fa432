// The browser benchmark's page: qaport's browser client (js/client/browser.js) and transformers.js
// (@huggingface/transformers, its web build on its own onnxruntime-web) answering the same questions in
// the same headless Chromium, timed in the page with performance.now() around one call each, end to end
// (tokenise, model, decode). js/browser/bench.mjs bundles it with esbuild and drives it over the DevTools
// protocol: one fresh Chromium per system, so TF.js' one engine per page and onnxruntime-web's global
// env.wasm.numThreads cannot leak from one system into the next.
//
//   globalThis.qaportBench.call('load', { kind: 'qaport', runtime, quantized, backend, threads })
//   globalThis.qaportBench.call('load', { kind: 'transformers-js', model, dtype, wasmPaths, localModelPath })
//   globalThis.qaportBench.call('answer', { question, context, warmup, runs }) -> { text, score, start, end, times_ms }

const state = { answer: null, dispose: null };

function chromium() {
  return navigator.userAgent.match(/Chrome\/([\d.]+)/)?.[1] ?? null;
}

async function loadQaport({ runtime, quantized, backend, threads }) {
  const { QAClient } = await import('../client/browser.js');
  const { gpuRenderer } = await import('./runtimes.mjs');
  const qa = await QAClient.fromOptions({
    runtime,
    quantized,
    backend,
    modelUrl: 'model/',
    wasmPaths: 'qaport-wasm/',
    ...(threads ? { threads } : {}),
  });
  state.answer = async (q, c) => {
    const a = await qa.predict(q, c);
    return { text: a.text, score: a.score, start: a.start, end: a.end };
  };
  state.dispose = () => qa.dispose();
  // phases, for the 'why' of a missed target: the client's tokeniser and model calls, timed where it makes them
  // (its internals: _encode and _runtime.infer; a benchmark-only wrapper, the timed rows run unwrapped)
  state.instrument = () => {
    const encode = qa._encode?.bind(qa);
    const infer = qa._runtime?.infer?.bind(qa._runtime);
    if (!encode || !infer) return false;
    qa._encode = async (...args) => timed('tokenise', () => encode(...args));
    qa._runtime.infer = async (...args) => timed('model', () => infer(...args));
    return true;
  };
  const gpu = await gpuRenderer(backend);
  const info = JSON.parse(JSON.stringify(qa.info ?? {}));
  return {
    threads: info.threads ?? null,
    threads_source: threads ? 'set by the benchmark' : 'the client default',
    info,
    versions: { ...(info.versions ?? {}), chromium: chromium() },
    gpu_renderer: gpu.renderer,
    software_renderer: gpu.software,
  };
}

async function loadTransformersJs({ model, dtype, wasmPaths, localModelPath, device }) {
  const { pipeline, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = localModelPath;
  env.useBrowserCache = false;
  env.backends.onnx.wasm.wasmPaths = wasmPaths; // its own onnxruntime-web's dist, served here (no CDN)
  const chosenBefore = env.backends.onnx.wasm.numThreads; // untouched: the default users get
  const qa = await pipeline('question-answering', model, { dtype, device: device ?? 'wasm' });
  state.answer = async (q, c) => {
    const a = await qa(q, c);
    return { text: a.answer, score: a.score, start: -1, end: -1 };
  };
  state.dispose = () => qa.dispose();
  state.instrument = () => {
    const wrap = (fn, phase) => new Proxy(fn, { apply: (target, self, args) => timed(phase, () => Reflect.apply(target, self, args)) });
    qa.tokenizer = wrap(qa.tokenizer, 'tokenise');
    qa.model = wrap(qa.model, 'model');
    return true;
  };
  const ort = env.backends.onnx;
  return {
    threads: ort.wasm.numThreads ?? null, // what onnxruntime-web chose when the session was created
    threads_source: `onnxruntime-web's default (numThreads ${JSON.stringify(chosenBefore ?? null)} before load: min(4, ceil(hardwareConcurrency / 2)) when cross-origin isolated)`,
    info: { dtype, device: device ?? 'wasm', proxy: ort.wasm.proxy ?? null, simd: ort.wasm.simd ?? null },
    versions: { '@huggingface/transformers': env.version ?? null, 'onnxruntime-web': ort.versions?.web ?? ort.versions?.common ?? null, chromium: chromium() },
    gpu_renderer: null,
    software_renderer: false,
  };
}

const spent = { tokenise: 0, model: 0 };

function timed(phase, fn) {
  const t = performance.now();
  const out = fn();
  if (out && typeof out.then === 'function') return out.finally(() => (spent[phase] += performance.now() - t));
  spent[phase] += performance.now() - t;
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Where one answer's time goes (medians, ms): tokenising, the model calls, the rest (tensors, decoding, glue). */
async function phases({ question, context, runs = 5 }) {
  if (!state.instrument?.()) return { error: 'cannot instrument this system' };
  const rows = [];
  await state.answer(question, context);
  for (let i = 0; i < runs; i++) {
    spent.tokenise = 0;
    spent.model = 0;
    const t = performance.now();
    await state.answer(question, context);
    const total = performance.now() - t;
    rows.push({ total, tokenise: spent.tokenise, model: spent.model, rest: total - spent.tokenise - spent.model });
  }
  return Object.fromEntries(['total', 'tokenise', 'model', 'rest'].map((k) => [k, median(rows.map((r) => r[k]))]));
}

async function load(req) {
  const t0 = performance.now();
  const info = req.kind === 'qaport' ? await loadQaport(req) : await loadTransformersJs(req);
  return {
    ...info,
    load_ms: performance.now() - t0,
    cross_origin_isolated: Boolean(globalThis.crossOriginIsolated),
    hardware_concurrency: navigator.hardwareConcurrency ?? null,
  };
}

async function answer({ question, context, warmup = 0, runs = 1 }) {
  if (!state.answer) throw new Error('load first');
  const times = [];
  let out = null;
  for (let i = 0; i < warmup + runs; i++) {
    const t = performance.now();
    out = await state.answer(question, context);
    if (i >= warmup) times.push(performance.now() - t);
  }
  return { ...out, times_ms: times };
}

async function call(op, req) {
  try {
    const ops = { load, answer, phases, dispose: async () => (state.dispose ? (await state.dispose(), {}) : {}) };
    if (!(op in ops)) throw new Error(`unknown op ${JSON.stringify(op)}; ops: ${Object.keys(ops).join(', ')}`);
    return { ok: true, ...(await ops[op](req ?? {})) };
  } catch (err) {
    const name = err?.name && err.name !== 'Error' ? `${err.name}: ` : '';
    return { ok: false, error: `${name}${err?.message ?? err}`, stack: String(err?.stack ?? '').split('\n').slice(0, 6).join(' | ') };
  }
}

globalThis.qaportBench = { call };

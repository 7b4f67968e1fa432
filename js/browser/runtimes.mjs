// The browser host: loads a qaport format into a web runtime. The validation page (js/browser/page.mjs,
// driven in headless Chromium by js/browser/runner.mjs) calls loadRuntime() exactly as a web app does; the
// model contract (outputs by name, infer(), fixed lengths) is js/core/models.mjs, shared with Node.js.
//
//   format 'onnx' -> onnxruntime-web, backend 'wasm'   (runtime id 'onnxruntime-web')
//                                    backend 'webgpu' ('onnxruntime-web-webgpu')
//   format 'tfjs' -> TF.js graph model, backend 'wasm' ('tfjs-wasm-web'), 'webgl' ('tfjs-webgl'),
//                    'webgpu' ('tfjs-webgpu') or 'cpu' ('tfjs-cpu-web')
//
// Files come by fetch from one base URL (the app's own origin: no CDN) and, when the manifest's entries
// are given, each is checked against its sha256 with WebCrypto before any runtime sees it. The runtimes'
// own .wasm files are loaded from `wasmPaths` ({ tfjs, ort }: URL prefixes on the app's origin).
//
// The runtime packages are imported on demand (dynamic import), so a bundler splits them and a page
// downloads only the runtime it uses.

import { IntegrityError, QAError, loadOnnx, loadTfjs } from '../core/models.mjs';

export { IntegrityError, QAError } from '../core/models.mjs';

export const WEB_FORMAT_KINDS = ['onnx', 'tfjs'];
export const WEB_BACKENDS = { onnx: ['wasm', 'webgpu'], tfjs: ['wasm', 'webgl', 'webgpu', 'cpu'] };
/** The runtime vocabulary shared with Python (qaport/registry.py) and the reports. */
export const WEB_RUNTIME_IDS = {
  'onnx:wasm': 'onnxruntime-web',
  'onnx:webgpu': 'onnxruntime-web-webgpu',
  'tfjs:wasm': 'tfjs-wasm-web',
  'tfjs:webgl': 'tfjs-webgl',
  'tfjs:webgpu': 'tfjs-webgpu',
  'tfjs:cpu': 'tfjs-cpu-web',
};

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** sha256 of bytes, hex (WebCrypto: needs a secure context, which 127.0.0.1 and https are). */
export async function sha256Hex(bytes) {
  if (!globalThis.crypto?.subtle) {
    throw new IntegrityError('WebCrypto (crypto.subtle) is unavailable: serve the page from https or localhost so checksums can be verified');
  }
  return hex(await crypto.subtle.digest('SHA-256', bytes));
}

/**
 * A reader of files under `baseUrl` by fetch. With `entries` ([{path, size, sha256}], the manifest's), a
 * file not listed is refused and a listed one whose size or sha256 differs throws IntegrityError.
 */
export function fetchFiles(baseUrl, { entries = null, fetchImpl = globalThis.fetch } = {}) {
  const base = String(baseUrl).endsWith('/') ? String(baseUrl) : `${baseUrl}/`;
  const listed = entries === null ? null : new Map(entries.map((e) => [e.path, e]));
  return {
    async read(rel) {
      const entry = listed?.get(rel);
      if (listed !== null && !entry) throw new IntegrityError(`${rel} is not listed in the manifest; refusing to load an unverified file`);
      let response;
      try {
        response = await fetchImpl(new URL(rel, base).href);
      } catch (err) {
        throw new QAError(`cannot fetch ${rel} from ${base} (${err?.message ?? err}); serve the model directory from the app's origin`);
      }
      if (!response.ok) throw new QAError(`fetching ${rel} from ${base} gave HTTP ${response.status}; serve the model directory from the app's origin`);
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (entry) {
        const digest = await sha256Hex(bytes);
        if (bytes.length !== entry.size || digest !== entry.sha256) {
          throw new IntegrityError(
            `${rel} does not match its manifest checksum (size ${bytes.length}, sha256 ${digest}; expected size ${entry.size}, ` +
              `sha256 ${entry.sha256}); the served model files were modified: redeploy them`,
          );
        }
      }
      return bytes;
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// onnxruntime-web

async function loadOnnxWeb({ files, mainFile, outputMap, backend, wasmPaths, inputDtypes, threads }) {
  // WebGPU runs on onnxruntime-web's native WebGPU execution provider (the 'onnxruntime-web/webgpu' build,
  // as transformers.js loads it). The default build's older JSEP WebGPU kernels fail on tf2onnx's QA head
  // (a Split with axis -1: zero-sized outputs) and give wrong int8 logits (an upload overwrites a GPU buffer
  // a queued kernel has yet to read), in 1.30.0 and 1.31.1: docs/browser.md.
  const ort = backend === 'webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web');
  if (wasmPaths?.ort) ort.env.wasm.wasmPaths = wasmPaths.ort;
  // Threads need SharedArrayBuffer, which a page has only when cross-origin isolated (COOP + COEP).
  const isolated = Boolean(globalThis.crossOriginIsolated);
  ort.env.wasm.numThreads = isolated ? (threads ?? Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1)) : 1;
  if (backend === 'webgpu' && !globalThis.navigator?.gpu) {
    throw new QAError('WebGPU is not available in this browser (navigator.gpu is missing); use backend wasm');
  }
  return loadOnnx({
    ort,
    files,
    mainFile,
    outputMap,
    // one execution provider only: onnxruntime-web would otherwise fall back to the next one in silence
    sessionOptions: { executionProviders: [backend], graphOptimizationLevel: 'all' },
    runtime: WEB_RUNTIME_IDS[`onnx:${backend}`],
    backend,
    versions: { 'onnxruntime-web': ort.env.versions?.web ?? ort.env.versions?.common ?? null },
    extra: { threads: ort.env.wasm.numThreads, cross_origin_isolated: isolated },
    inputDtypes,
  });
}

// ---------------------------------------------------------------------------------------------------
// TensorFlow.js: one engine per page, so the first loaded runtime chooses the backend.

let tfjsReady = null;

async function importBackend(backend, wasmPaths) {
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (wasmPaths?.tfjs) wasm.setWasmPaths(wasmPaths.tfjs);
    return wasm.version_wasm;
  }
  if (backend === 'webgl') return (await import('@tensorflow/tfjs-backend-webgl')).version_webgl;
  if (backend === 'webgpu') return (await import('@tensorflow/tfjs-backend-webgpu')).version_webgpu;
  return (await import('@tensorflow/tfjs-backend-cpu')).version_cpu;
}

async function initTfjs(backend, wasmPaths) {
  const tf = await import('@tensorflow/tfjs-core');
  const versions = { 'tfjs-core': tf.version_core, [`tfjs-backend-${backend}`]: await importBackend(backend, wasmPaths) };
  // Question answering feeds a new sequence length on almost every call: with shapes as uniforms, WebGL
  // compiles each shader once instead of once per shape (compiling dominates on a software renderer).
  if (backend === 'webgl') tf.env().set('WEBGL_USE_SHAPES_UNIFORMS', true);
  // setBackend resolves false (or falls back to another backend) when one fails to initialise: the
  // backend in use is checked, never assumed.
  const ok = await tf.setBackend(backend);
  await tf.ready();
  if (!ok || tf.getBackend() !== backend) {
    throw new QAError(`TF.js backend ${backend} failed to initialise in this browser (running on ${tf.getBackend() ?? 'none'}); pick another backend`);
  }
  const extra = {};
  if (backend === 'wasm') {
    extra.simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    extra.threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  }
  if (backend === 'webgl') {
    extra.webgl_version = tf.env().getNumber('WEBGL_VERSION');
    // float32 textures keep float32 precision; without them TF.js computes in float16
    extra.float32_textures = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
  }
  return { tf, versions, extra };
}

async function tfjsEngine(backend, wasmPaths) {
  tfjsReady ??= initTfjs(backend, wasmPaths).catch((err) => {
    tfjsReady = null;
    throw err;
  });
  const engine = await tfjsReady;
  const current = engine.tf.getBackend();
  if (current !== backend) {
    throw new QAError(`TF.js already runs on the ${current} backend in this page; ${backend} was asked (TF.js has one engine per page)`);
  }
  return engine;
}

async function loadTfjsWeb({ files, mainFile, outputMap, backend, wasmPaths }) {
  const { tf, versions, extra } = await tfjsEngine(backend, wasmPaths);
  const converter = await import('@tensorflow/tfjs-converter');
  versions['tfjs-converter'] = converter.version_converter;
  return loadTfjs({ tf, converter, files, mainFile, outputMap, runtime: WEB_RUNTIME_IDS[`tfjs:${backend}`], backend, versions, extra: { ...extra } });
}

/**
 * Load `mainFile` (relative to the reader's base) of a format into its web runtime. `outputMap` is the
 * manifest's output_names ({model output name: logical name}); `inputDtypes` the manifest signature's
 * input dtypes (used where onnxruntime-web reports no input metadata).
 */
export async function loadRuntime({ format, files, mainFile, outputMap = null, backend = 'wasm', wasmPaths = null, inputDtypes = {}, threads = null }) {
  if (!WEB_FORMAT_KINDS.includes(format)) {
    throw new QAError(`format kind must be one of ${WEB_FORMAT_KINDS.join(', ')} in a browser; got ${JSON.stringify(format)}`);
  }
  if (!WEB_BACKENDS[format].includes(backend)) {
    throw new QAError(`backend for ${format} in a browser must be one of ${WEB_BACKENDS[format].join(', ')}; got ${JSON.stringify(backend)}`);
  }
  if (format === 'onnx') return loadOnnxWeb({ files, mainFile, outputMap, backend, wasmPaths, inputDtypes, threads });
  return loadTfjsWeb({ files, mainFile, outputMap, backend, wasmPaths });
}

/**
 * The GPU behind a backend, as the browser names it (WebGL's unmasked renderer, WebGPU's adapter info), and
 * whether it is a software renderer (SwiftShader, llvmpipe, a WebGPU fallback adapter): timings on one say
 * nothing about a GPU. `{ renderer: null, software: false }` for wasm and cpu.
 */
export async function gpuRenderer(backend) {
  let renderer = null;
  let fallback = false;
  if (backend === 'webgl' && globalThis.document) {
    const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
    const ext = gl?.getExtension('WEBGL_debug_renderer_info');
    renderer = gl ? String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) : null;
  } else if (backend === 'webgpu' && globalThis.navigator?.gpu) {
    const adapter = await navigator.gpu.requestAdapter();
    const info = adapter?.info ?? {};
    fallback = Boolean(adapter?.isFallbackAdapter || info.isFallbackAdapter);
    renderer = adapter ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown adapter' : null;
  }
  return { renderer, software: fallback || /swiftshader|llvmpipe|softpipe|software/i.test(renderer ?? '') };
}

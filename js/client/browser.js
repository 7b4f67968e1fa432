// qaport's question-answering client in browsers: the same QAClient as in Node.js (qaclient.js), with
// the model and the runtimes' wasm files fetched from the app's own origin, never a CDN.
//
//   import { QAClient } from '<this package>';          // bundlers pick this file: the `browser` condition
//   const qa = await QAClient.fromOptions({ runtime: 'onnx', quantized: true });   // model/ beside the page
//   const { text, score, startUtf16, endUtf16 } = await qa.predict(question, context);
//
// Where the files come from (copy them with `npx qaport-web-assets public/`, or any static file server):
//   modelUrl  (default 'model/', resolved against the page's URL): the package's model/ directory. Every file
//             is fetched, checked against its sha256 in model/manifest.json with WebCrypto (a secure context:
//             https or localhost), and only then handed to the runtime: a mismatch throws IntegrityError.
//   wasmPaths (default 'qaport-wasm/'): onnxruntime-web's files under <wasmPaths>ort/ and
//             @tensorflow/tfjs-backend-wasm's under <wasmPaths>tfjs/.
// Runtimes: 'onnx' on onnxruntime-web (backend 'wasm', or 'webgpu') and 'tfjs' on TensorFlow.js ('wasm',
// 'webgl', 'webgpu' or 'cpu'). They are imported on demand, so a bundler splits them into chunks and a page
// downloads only the one it uses. wasm uses every core when the page is cross-origin isolated (COOP + COEP
// headers), one thread otherwise. Model loading is ../browser/runtimes.mjs, the code qaport's browser
// validation ran in headless Chromium.

import { COMMON_OPTIONS, MANIFEST, QAClientBase, show, clientParts, commonOptions, formatFiles, inputDtypesOf, loadTokenizer, manifestEntries, oneLine, parseManifest, pickFormat } from './qaclient.js';
import { IntegrityError, QAError, WEB_BACKENDS, fetchFiles, loadRuntime } from '../browser/runtimes.mjs';

export { DecodeError, IntegrityError, MANIFEST, MAX_ANSWER_LEN, MAX_LENGTH, QAError, STRIDE } from './qaclient.js';

/** Defaults, relative to the page: where `npx qaport-web-assets <public dir>` puts the files. */
export const DEFAULT_MODEL_URL = 'model/';
export const DEFAULT_WASM_PATHS = 'qaport-wasm/';

const RUNTIMES = ['onnx', 'tfjs'];
const OPTIONS = [...COMMON_OPTIONS, 'modelUrl', 'wasmPaths', 'threads'];

function pageUrl() {
  return globalThis.document?.baseURI ?? globalThis.location?.href ?? undefined;
}

/** A URL option resolved against the page, as a directory URL (trailing slash). */
function directoryUrl(value, what) {
  if (value instanceof URL) value = value.href;
  if (typeof value !== 'string' || value === '') throw new QAError(`${what} must be a URL (a string), got ${show(value)}`);
  let url;
  try {
    url = new URL(value, pageUrl());
  } catch {
    throw new QAError(`${what} ${show(value)} is not a URL (relative URLs need a page to resolve against)`);
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}

async function fetchManifest(base, fetchImpl) {
  const where = new URL(MANIFEST, base).href;
  let response;
  try {
    response = await fetchImpl(where);
  } catch (err) {
    throw new QAError(`cannot fetch ${where} (${err?.message ?? err}); modelUrl must be a served qaport model directory`);
  }
  if (!response.ok) throw new QAError(`fetching ${where} gave HTTP ${response.status}; modelUrl must be a served qaport model directory (npx qaport-web-assets copies it)`);
  return parseManifest(await response.text(), where);
}

export class QAClient extends QAClientBase {
  /**
   * Load the model for a runtime: `onnx` (onnxruntime-web; quantized: dynamic int8; backend 'wasm' or
   * 'webgpu') or `tfjs` (TensorFlow.js graph model; quantized: float16 weights; backend 'wasm', 'webgl',
   * 'webgpu' or 'cpu'). Every file is checked against the manifest's sha256 before use.
   */
  static async fromOptions(options = {}) {
    const { runtime, quantized, backend, settings } = commonOptions(options, { known: OPTIONS, runtimes: RUNTIMES, backends: WEB_BACKENDS, defaultBackend: () => 'wasm' });
    const { modelUrl = DEFAULT_MODEL_URL, wasmPaths = DEFAULT_WASM_PATHS, threads = null } = options;
    const fetchImpl = globalThis.fetch?.bind(globalThis);
    if (threads !== null && (!Number.isInteger(threads) || threads < 1)) throw new QAError(`threads must be an integer >= 1, got ${show(threads)}`);
    if (typeof fetchImpl !== 'function') throw new QAError('no fetch() in this environment: the browser entry runs in browsers (Node.js imports index.js)');
    const base = directoryUrl(modelUrl, 'modelUrl');
    const wasm = directoryUrl(wasmPaths, 'wasmPaths');
    const manifest = await fetchManifest(base, fetchImpl);
    const { format, record } = pickFormat(manifest, runtime, quantized, base, RUNTIMES);
    const files = fetchFiles(base, { entries: manifestEntries(manifest, record), fetchImpl });
    const tokenizer = loadTokenizer(new TextDecoder().decode(await files.read('tokenizer.json')));
    let loaded;
    try {
      loaded = await loadRuntime({
        format: runtime,
        files,
        mainFile: record.main_file,
        outputMap: record.output_names ?? {},
        backend,
        wasmPaths: { ort: new URL('ort/', wasm).href, tfjs: new URL('tfjs/', wasm).href },
        inputDtypes: inputDtypesOf(record),
        threads,
      });
    } catch (err) {
      if (err instanceof QAError || err instanceof IntegrityError) throw err;
      // the runtime's own error (its wasm not found, a backend the browser lacks, a parser's): the files
      // passed their checksums, so say what was being loaded where, and the likely fixes (index.js does the same)
      throw new QAError(
        `${formatFiles(format, record)} could not be loaded by ${runtime} on ${backend}: ${oneLine(err?.message ?? err)}; ` +
          `check that ${wasm} serves the runtimes' wasm (npx qaport-web-assets), try another backend, or re-convert the model`,
      );
    }
    const where = { modelUrl: base, threads: typeof loaded.extra?.threads === 'number' ? loaded.extra.threads : null, crossOriginIsolated: Boolean(globalThis.crossOriginIsolated) };
    const parts = clientParts({ loaded, manifest, record, format, runtime, quantized, settings, where, versions: {} });
    return new QAClient({ ...parts, tokenizer, settings, warn: (msg) => console.warn(msg) });
  }
}

export default QAClient;

// qaport's Node.js client: extractive question answering with a DistilBERT model converted and
// validated by qaport, on onnxruntime-node or TensorFlow.js (wasm backend).
//
//   import { QAClient } from '<this package>';
//   const qa = await QAClient.fromOptions({ runtime: 'onnx', quantized: false });
//   const { text, score, start, end } = await qa.predict(question, context);
//   qa.dispose();
//
// Tokenisation, windowing (384 tokens, stride 128) and answer decoding come from ./qa.mjs, copied at
// build time from qaport's validate/node/qa.mjs, the code its validation proved equal to the Python
// reference. Every model file is checked against the sha256 in model/manifest.json before it is used:
// each file is read once into memory, hashed, and the same bytes are handed to the runtime.

import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import * as qa from './qa.mjs';

const require = createRequire(import.meta.url);

/** The model directory shipped inside this package. */
export const PACKAGE_MODEL_DIR = fileURLToPath(new URL('./model/', import.meta.url));
export const MANIFEST = 'manifest.json';
export const { MAX_LENGTH, STRIDE, MAX_ANSWER_LEN } = qa;

const LOGICAL_OUTPUTS = ['start_logits', 'end_logits'];
const RUNTIMES = ['onnx', 'tfjs'];
const FORMATS = {
  onnx: { false: 'onnx', true: 'onnx-int8' },
  tfjs: { false: 'tfjs', true: 'tfjs-fp16' },
};
const DEFAULT_BATCH_WINDOWS = qa.MAX_BATCH_WINDOWS;

/** Bad options or inputs: the message says what was given and what is accepted. */
export class QAError extends Error {
  constructor(message) {
    super(message);
    this.name = 'QAError';
  }
}

/** A model file is missing, unlisted, or differs from the sha256 recorded in the package's manifest. */
export class IntegrityError extends Error {
  constructor(message) {
    super(message);
    this.name = 'IntegrityError';
  }
}

export { DecodeError } from './qa.mjs';

// ---------------------------------------------------------------------------------------------------
// Manifest and integrity

function readManifest(modelDir) {
  const file = path.join(modelDir, MANIFEST);
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new QAError(`no ${MANIFEST} in ${modelDir} (${err.code ?? err.message}); modelDir must be a qaport model directory`);
  }
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new IntegrityError(`${file} is not valid JSON (${err.message})`);
  }
  if (doc?.schema_version !== 1 || typeof doc.formats !== 'object' || doc.formats === null) {
    throw new IntegrityError(`${file} is not a qaport manifest (schema_version ${doc?.schema_version}); expected 1`);
  }
  return doc;
}

/** Resolve a manifest path inside modelDir; absolute paths and `..` escapes are refused. */
function inside(modelDir, rel) {
  if (typeof rel !== 'string' || rel === '' || path.isAbsolute(rel) || rel.includes('\\')) {
    throw new IntegrityError(`manifest names the path ${JSON.stringify(rel)}; only relative paths are allowed`);
  }
  const root = path.resolve(modelDir);
  const full = path.resolve(root, rel);
  if (full !== root && !full.startsWith(root + path.sep)) {
    throw new IntegrityError(`manifest names ${JSON.stringify(rel)}, which is outside ${root}`);
  }
  return full;
}

/**
 * Files of the manifest, read and checked: Map(relative path -> Buffer). A file whose size or sha256
 * differs from the manifest is refused, and so is any file the loader asks for that is not listed.
 */
class VerifiedFiles {
  constructor(modelDir, entries) {
    this.modelDir = modelDir;
    this.entries = new Map(entries.map((e) => [e.path, e]));
  }

  read(rel) {
    const entry = this.entries.get(rel);
    if (!entry) {
      throw new IntegrityError(`${rel} is not listed in ${path.join(this.modelDir, MANIFEST)}; refusing to load an unverified file`);
    }
    const full = inside(this.modelDir, rel);
    let data;
    try {
      data = fs.readFileSync(full);
    } catch (err) {
      throw new IntegrityError(`${rel} is listed in the manifest but cannot be read (${err.code ?? err.message}); reinstall the package`);
    }
    const digest = createHash('sha256').update(data).digest('hex');
    if (data.length !== entry.size || digest !== entry.sha256) {
      throw new IntegrityError(
        `${rel} does not match its manifest checksum (size ${data.length}, sha256 ${digest}; ` +
          `expected size ${entry.size}, sha256 ${entry.sha256}); the model files were modified: reinstall the package`,
      );
    }
    return data;
  }
}

function toArrayBuffer(buf) {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

// ---------------------------------------------------------------------------------------------------
// Runtimes: each returns { infer(ids, mask, [rows, width]) -> {start, end}, dispose(), versions, inputs }

/** require() a runtime package, with an install hint instead of a bare MODULE_NOT_FOUND. */
function load(name) {
  try {
    return require(name);
  } catch (err) {
    if (err?.code !== 'MODULE_NOT_FOUND') throw err;
    throw new QAError(
      `${name} is not installed (${err.message.split('\n')[0]}); reinstall this package ` +
        '(where only the npm registry is reachable: ONNXRUNTIME_NODE_INSTALL=skip npm install)',
    );
  }
}

function packageVersion(name) {
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return null;
  }
}

function byLogical(outputNames, record) {
  const map = record.output_names ?? {};
  const out = {};
  for (const [name, logical] of Object.entries(map)) if (LOGICAL_OUTPUTS.includes(logical)) out[logical] = name;
  const missing = LOGICAL_OUTPUTS.filter((l) => !(l in out) || !outputNames.includes(out[l]));
  if (missing.length) {
    throw new IntegrityError(
      `the manifest maps no model output to ${missing.join(', ')} (model outputs: ${outputNames.join(', ')}; ` +
        `output_names: ${JSON.stringify(map)})`,
    );
  }
  return out;
}

async function loadOnnx(files, record) {
  const ort = load('onnxruntime-node');
  const model = files.read(record.main_file);
  const session = await ort.InferenceSession.create(new Uint8Array(model.buffer, model.byteOffset, model.byteLength));
  const names = byLogical(session.outputNames, record);
  const meta = new Map((session.inputMetadata ?? []).map((m) => [m.name, m]));
  const inputs = session.inputNames.map((name) => ({
    name,
    dtype: meta.get(name)?.type ?? record.signature?.inputs?.[name]?.dtype ?? 'int64',
  }));
  for (const i of inputs) {
    if (!['int64', 'int32'].includes(i.dtype)) throw new QAError(`ONNX input ${i.name} is ${i.dtype}; expected int64 or int32`);
    if (!['input_ids', 'attention_mask'].includes(i.name)) {
      throw new QAError(`ONNX input ${i.name} is not one of input_ids, attention_mask`);
    }
  }
  return {
    versions: { 'onnxruntime-node': packageVersion('onnxruntime-node') },
    async infer(ids, mask, shape) {
      const feeds = {};
      for (const i of inputs) {
        const src = i.name === 'input_ids' ? ids : mask;
        const data = i.dtype === 'int64' ? BigInt64Array.from(src, (v) => BigInt(v)) : src;
        feeds[i.name] = new ort.Tensor(i.dtype, data, shape);
      }
      const res = await session.run(feeds);
      const get = (l) => {
        const t = res[names[l]];
        return { data: t.data, shape: Array.from(t.dims) };
      };
      return { start: get('start_logits'), end: get('end_logits') };
    },
    async dispose() {
      await session.release();
    },
  };
}

let tfjsReady = null;

async function tfjsBackend(backend) {
  const tf = load('@tensorflow/tfjs-core');
  if (backend === 'cpu') {
    load('@tensorflow/tfjs-backend-cpu');
  } else {
    const wasm = load('@tensorflow/tfjs-backend-wasm');
    const file = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
    wasm.setWasmPaths(`${path.dirname(file)}${path.sep}`);
  }
  if (!(await tf.setBackend(backend))) throw new QAError(`TF.js backend ${backend} failed to initialise`);
  await tf.ready();
  return tf;
}

async function loadTfjs(files, record, backend) {
  // TF.js' engine is process-wide: clients share one backend, chosen by the first.
  tfjsReady ??= tfjsBackend(backend).catch((err) => {
    tfjsReady = null;
    throw err;
  });
  const tf = await tfjsReady;
  if (tf.getBackend() !== backend) {
    throw new QAError(`TF.js already runs on the ${tf.getBackend()} backend in this process; ${backend} was asked`);
  }
  const converter = load('@tensorflow/tfjs-converter');
  const dir = path.posix.dirname(record.main_file);
  const modelJson = JSON.parse(files.read(record.main_file).toString('utf8'));
  // loadGraphModel('file://...') needs tfjs-node (a native build); this handler reads verified bytes.
  const handler = {
    load: () =>
      tf.io.getModelArtifactsForJSON(modelJson, async (groups) => {
        const specs = [];
        const buffers = [];
        for (const group of groups) {
          for (const p of group.paths) buffers.push(toArrayBuffer(files.read(path.posix.join(dir, p))));
          specs.push(...group.weights);
        }
        return [specs, buffers];
      }),
  };
  const model = await converter.loadGraphModel(handler);
  const strip = (n) => n.replace(/:0$/, '');
  const names = byLogical(model.outputs.map((t) => strip(t.name)), record);
  const fetches = LOGICAL_OUTPUTS.map((l) => names[l]);
  let useAsync = false;
  return {
    versions: {
      'tfjs-core': tf.version_core,
      'tfjs-converter': packageVersion('@tensorflow/tfjs-converter'),
      backend: tf.getBackend(),
    },
    async infer(ids, mask, shape) {
      const feeds = {
        input_ids: tf.tensor(ids, shape, 'int32'),
        attention_mask: tf.tensor(mask, shape, 'int32'),
      };
      let outs;
      try {
        if (!useAsync) {
          try {
            outs = model.execute(feeds, fetches);
          } catch (err) {
            if (!/executeAsync/.test(String(err?.message))) throw err;
            useAsync = true; // control flow in the graph: only executeAsync runs it
          }
        }
        if (useAsync) outs = await model.executeAsync(feeds, fetches);
        const [start, end] = await Promise.all(outs.map(async (t) => ({ data: await t.data(), shape: t.shape })));
        return { start, end };
      } finally {
        tf.dispose(Object.values(feeds));
        if (outs) tf.dispose(outs);
      }
    },
    async dispose() {
      model.dispose();
    },
  };
}

// ---------------------------------------------------------------------------------------------------

function checkText(value, what) {
  if (typeof value !== 'string') throw new QAError(`${what} must be a string, got ${value === null ? 'null' : typeof value}`);
  return value;
}

function positiveInt(value, what, min = 1) {
  if (!Number.isInteger(value) || value < min) throw new QAError(`${what} must be an integer >= ${min}, got ${value}`);
  return value;
}

function fixedLengthOf(record) {
  const shape = record.signature?.inputs?.input_ids?.shape;
  const len = Array.isArray(shape) && shape.length === 2 ? shape[1] : null;
  return Number.isInteger(len) && len > 0 ? len : null;
}

export class QAClient {
  /** Use QAClient.fromOptions(); the constructor takes an already loaded runtime. */
  constructor({ runtime, tokenizer, info, settings }) {
    this._runtime = runtime;
    this._tokenizer = tokenizer;
    this._settings = settings;
    this.info = Object.freeze(info);
    this._disposed = false;
  }

  /**
   * Load the model for a runtime: `onnx` (onnxruntime-node; quantized: dynamic int8) or `tfjs`
   * (TensorFlow.js wasm backend; quantized: float16 weights). Files are verified before use.
   */
  static async fromOptions(options = {}) {
    const {
      runtime = 'onnx',
      quantized = false,
      modelDir = PACKAGE_MODEL_DIR,
      backend = 'wasm',
      maxBatchWindows = DEFAULT_BATCH_WINDOWS,
      maxAnswerLen = qa.MAX_ANSWER_LEN,
      maxLength = qa.MAX_LENGTH,
      stride = qa.STRIDE,
    } = options;
    const known = ['runtime', 'quantized', 'modelDir', 'backend', 'maxBatchWindows', 'maxAnswerLen', 'maxLength', 'stride'];
    const unknown = Object.keys(options).filter((k) => !known.includes(k));
    if (unknown.length) throw new QAError(`unknown option ${unknown.join(', ')}; options: ${known.join(', ')}`);
    if (!RUNTIMES.includes(runtime)) throw new QAError(`runtime must be one of ${RUNTIMES.join(', ')}; got ${JSON.stringify(runtime)}`);
    if (typeof quantized !== 'boolean') throw new QAError(`quantized must be true or false, got ${JSON.stringify(quantized)}`);
    if (!['wasm', 'cpu'].includes(backend)) throw new QAError(`backend must be wasm or cpu, got ${JSON.stringify(backend)}`);
    const settings = {
      maxBatchWindows: positiveInt(maxBatchWindows, 'maxBatchWindows'),
      maxAnswerLen: positiveInt(maxAnswerLen, 'maxAnswerLen'),
      maxLength: positiveInt(maxLength, 'maxLength', 8),
      stride: positiveInt(stride, 'stride', 0),
    };
    if (settings.stride >= settings.maxLength) throw new QAError(`stride (${stride}) must be smaller than maxLength (${maxLength})`);

    const dir = path.resolve(String(modelDir));
    const manifest = readManifest(dir);
    const format = FORMATS[runtime][quantized];
    const record = manifest.formats[format];
    if (!record) {
      throw new QAError(`${dir} has no ${format} model (runtime ${runtime}, quantized ${quantized}); it has: ${Object.keys(manifest.formats).join(', ')}`);
    }
    const files = new VerifiedFiles(dir, [...(manifest.files ?? []), ...(record.files ?? [])]);
    const { Tokenizer } = load('tokenizers');
    const tokenizer = qa.prepareTokenizer(Tokenizer.fromString(files.read('tokenizer.json').toString('utf8')));
    const loaded = runtime === 'onnx' ? await loadOnnx(files, record) : await loadTfjs(files, record, backend);
    const fixed = fixedLengthOf(record) ?? (Number.isInteger(manifest.fixed_length) ? manifest.fixed_length : null);
    if (fixed !== null && fixed < settings.maxLength) settings.maxLength = fixed;
    const info = {
      runtime,
      quantized,
      format,
      precision: record.precision,
      modelDir: dir,
      fixedLength: fixed,
      model: manifest.source?.name ?? null,
      versions: { node: process.versions.node, tokenizers: packageVersion('tokenizers'), ...loaded.versions },
    };
    return new QAClient({ runtime: { ...loaded, fixed }, tokenizer, info, settings });
  }

  _check() {
    if (this._disposed) throw new QAError('this QAClient has been disposed; create a new one with QAClient.fromOptions()');
  }

  async _encode(question, context) {
    checkText(question, 'question');
    checkText(context, 'context');
    const { maxLength, stride } = this._settings;
    return qa.encode(this._tokenizer, question, context, { maxLength, stride });
  }

  /**
   * Logits of `rows` windows of `width` tokens, in model calls of at most maxBatchWindows windows: a
   * 100,000-character context (hundreds of windows) needs no more memory than a batch of 16.
   */
  async _inferRows(ids, mask, rows, width) {
    const limit = this._settings.maxBatchWindows;
    const call = async (a, b, n) => {
      const out = await this._runtime.infer(a, b, [n, width]);
      const { start, end } = out;
      if (start.shape[0] !== n || start.shape[1] !== width || end.shape.join() !== start.shape.join()) {
        throw new QAError(`the model returned logits of shape [${start.shape}] / [${end.shape}] for input [${n}, ${width}]`);
      }
      return out;
    };
    return qa.inferInChunks(call, ids, mask, rows, width, limit);
  }

  /** One model call for the windows of several encoded pairs, padded to one width; logits split back. */
  async _inferGroup(encodedList) {
    const rows = encodedList.reduce((n, e) => n + e.shape[0], 0);
    let width = Math.max(...encodedList.map((e) => e.shape[1]));
    const { fixed } = this._runtime;
    if (fixed !== null) {
      if (width > fixed) throw new QAError(`${width} tokens do not fit the model's fixed length ${fixed}`);
      width = fixed;
    }
    const ids = new Int32Array(rows * width);
    const mask = new Int32Array(rows * width);
    let r = 0;
    for (const e of encodedList) {
      const [n, w] = e.shape;
      for (let i = 0; i < n; i++, r++) {
        ids.set(e.inputIds.subarray(i * w, (i + 1) * w), r * width);
        mask.set(e.attentionMask.subarray(i * w, (i + 1) * w), r * width);
      }
    }
    const { start, end } = await this._inferRows(ids, mask, rows, width);
    const out = [];
    r = 0;
    for (const e of encodedList) {
      const n = e.shape[0];
      const cut = (t) => ({ data: t.data.subarray(r * width, (r + n) * width), shape: [n, width] });
      out.push({ start: cut(start), end: cut(end) });
      r += n;
    }
    return out;
  }

  /** The best answer span of `context` for `question`. `start`/`end` count code points, like Python. */
  async predict(question, context) {
    this._check();
    const encoded = await this._encode(question, context);
    const [{ start, end }] = await this._inferGroup([encoded]);
    return qa.decode(encoded, start, end, context, { maxAnswerLen: this._settings.maxAnswerLen });
  }

  /**
   * Answers for many {question, context} pairs, in order. Windows of consecutive pairs share a model
   * call (up to maxBatchWindows windows per call), so the scores can differ from predict()'s in the
   * last float digits (other padding); answers are the same unless two spans tie within that noise.
   */
  async predictBatch(items) {
    this._check();
    if (!Array.isArray(items)) throw new QAError('predictBatch takes an array of {question, context}');
    const encoded = [];
    for (const [i, item] of items.entries()) {
      if (item === null || typeof item !== 'object') throw new QAError(`item ${i} must be {question, context}`);
      encoded.push(await this._encode(item.question, item.context));
    }
    const answers = new Array(items.length);
    let group = [];
    let windows = 0;
    const flush = async () => {
      if (!group.length) return;
      const logits = await this._inferGroup(group.map((i) => encoded[i]));
      group.forEach((i, k) => {
        answers[i] = qa.decode(encoded[i], logits[k].start, logits[k].end, items[i].context, {
          maxAnswerLen: this._settings.maxAnswerLen,
        });
      });
      group = [];
      windows = 0;
    };
    for (let i = 0; i < items.length; i++) {
      const n = encoded[i].shape[0];
      if (group.length && windows + n > this._settings.maxBatchWindows) await flush();
      group.push(i);
      windows += n;
    }
    await flush();
    return answers;
  }

  /**
   * Free the model (onnxruntime session or TF.js weights); the client cannot be used afterwards.
   * Awaiting the returned promise is optional: it never rejects.
   */
  dispose() {
    if (this._disposed) return Promise.resolve();
    this._disposed = true;
    return Promise.resolve()
      .then(() => this._runtime.dispose())
      .catch((err) => {
        process.emitWarning(`QAClient.dispose: ${err?.message ?? err}`);
      });
  }
}

export default QAClient;

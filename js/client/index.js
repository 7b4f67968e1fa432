// qaport's Node.js client: extractive question answering with a model converted and validated by
// qaport (DistilBERT, BERT, RoBERTa, MobileBERT or ALBERT), on onnxruntime-node, TensorFlow.js (libtensorflow through @tensorflow/tfjs-node,
// wasm or cpu backend), or the TF SavedModel on tfjs-node (the original DistilBERT + TF.js post's path).
//
//   import { QAClient } from '<this package>';
//   const qa = await QAClient.fromOptions({ runtime: 'onnx', quantized: false });
//   const { text, score, start, end } = await qa.predict(question, context);
//   const top3 = await qa.predict(question, context, { topK: 3, handleImpossibleAnswer: true }); // an array
//   qa.dispose();
//
// Tokenisation, windowing (384 tokens, stride 128) and answer decoding come from ../core/qa.mjs, and model
// loading from ../node/runtimes.mjs: the package ships qaport's js/ folder as it is (same paths, same bytes),
// the code its validation ran. Every model file is checked against the sha256 in
// model/manifest.json before it is used: each file is read once into memory, hashed, and the same bytes
// are handed to the runtime (the SavedModel's directory is verified file by file, then loaded).

import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import * as qa from '../core/qa.mjs';
import { Tokenizer, TokenizerError } from '../core/tokenizer.mjs';
import { IntegrityError, QAError, TFJS_BACKENDS, TFJS_NODE, hasPackage, loadRuntime, packageVersion, requirePackage } from '../node/runtimes.mjs';

/** The model directory shipped inside this package. */
export const PACKAGE_MODEL_DIR = fileURLToPath(new URL('../model/', import.meta.url));
export const MANIFEST = 'manifest.json';
export const { MAX_LENGTH, STRIDE, MAX_ANSWER_LEN } = qa;
const PREDICT_OPTIONS = ['topK', 'handleImpossibleAnswer'];

// The runtimes this client knows; which formats a model directory offers for them, and under which
// options, is its manifest's client_formats (written from qaport's one registry, qaport/registry.py).
const RUNTIMES = ['onnx', 'tfjs', 'savedmodel'];
const DEFAULT_BATCH_WINDOWS = qa.MAX_BATCH_WINDOWS;

export { DecodeError } from '../core/qa.mjs';
export { IntegrityError, QAError } from '../node/runtimes.mjs';

/** The model's tokenizer; one it cannot reproduce exactly (a Precompiled normalizer, ...) is one QAError. */
function loadTokenizer(text) {
  try {
    return Tokenizer.fromJSON(text);
  } catch (err) {
    if (err instanceof TokenizerError) throw new QAError(`the model's tokenizer.json cannot be used: ${err.message}`);
    throw err;
  }
}

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

  /**
   * A directory for a runtime that reads files itself (libtensorflow's SavedModel loader): every listed
   * file under it is read and checked first, and a file there that the manifest does not list is refused.
   */
  dir(rel) {
    const full = inside(this.modelDir, rel);
    const prefix = `${rel.replace(/\/+$/, '')}/`;
    const listed = [...this.entries.keys()].filter((p) => p.startsWith(prefix));
    if (!listed.length) throw new IntegrityError(`the manifest lists no file under ${rel}/; reinstall the package`);
    for (const p of listed) this.read(p);
    const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    for (const f of walk(full)) {
      const relFile = path.relative(this.modelDir, f).split(path.sep).join('/');
      if (!this.entries.has(relFile)) {
        throw new IntegrityError(`${relFile} is not listed in ${path.join(this.modelDir, MANIFEST)}; refusing to load an unverified file`);
      }
    }
    return full;
  }
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

/** predict()'s options, checked: `{ topK = 1, handleImpossibleAnswer = false }`. */
function predictOptions(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new QAError('predict options must be an object: { topK, handleImpossibleAnswer }');
  const unknown = Object.keys(options).filter((k) => !PREDICT_OPTIONS.includes(k));
  if (unknown.length) throw new QAError(`unknown predict option ${unknown.join(', ')}; options: ${PREDICT_OPTIONS.join(', ')}`);
  const { topK = 1, handleImpossibleAnswer = false } = options;
  if (typeof handleImpossibleAnswer !== 'boolean') throw new QAError(`handleImpossibleAnswer must be true or false, got ${JSON.stringify(handleImpossibleAnswer)}`);
  return { topK: positiveInt(topK, 'topK'), handleImpossibleAnswer };
}

function fixedLengthOf(record) {
  const shape = record.signature?.inputs?.input_ids?.shape;
  const len = Array.isArray(shape) && shape.length === 2 ? shape[1] : null;
  return Number.isInteger(len) && len > 0 ? len : null;
}

/** TF.js backend: 'tensorflow' (libtensorflow) when @tensorflow/tfjs-node is installed, else 'wasm'. */
function defaultBackend() {
  return hasPackage(TFJS_NODE) ? 'tensorflow' : 'wasm';
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
   * Load the model for a runtime: `onnx` (onnxruntime-node; quantized: dynamic int8), `tfjs`
   * (TensorFlow.js; quantized: float16 weights; backend 'tensorflow' when @tensorflow/tfjs-node is
   * installed, else 'wasm') or `savedmodel` (the TF SavedModel through @tensorflow/tfjs-node).
   * Files are verified before use.
   */
  static async fromOptions(options = {}) {
    const {
      runtime = 'onnx',
      quantized = false,
      modelDir = PACKAGE_MODEL_DIR,
      backend,
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
    if (backend !== undefined && runtime !== 'tfjs') throw new QAError(`backend applies to runtime 'tfjs' only; runtime is ${JSON.stringify(runtime)}`);
    if (backend !== undefined && !TFJS_BACKENDS.includes(backend)) {
      throw new QAError(`backend must be one of ${TFJS_BACKENDS.join(', ')}, got ${JSON.stringify(backend)}`);
    }
    const settings = {
      maxBatchWindows: positiveInt(maxBatchWindows, 'maxBatchWindows'),
      maxAnswerLen: positiveInt(maxAnswerLen, 'maxAnswerLen'),
      maxLength: positiveInt(maxLength, 'maxLength', 8),
      stride: positiveInt(stride, 'stride', 0),
    };
    if (settings.stride >= settings.maxLength) throw new QAError(`stride (${stride}) must be smaller than maxLength (${maxLength})`);

    const dir = path.resolve(String(modelDir));
    const manifest = readManifest(dir);
    const map = manifest.client_formats;
    if (map === null || typeof map !== 'object') {
      throw new IntegrityError(`${path.join(dir, MANIFEST)} has no client_formats map; re-convert the model with qaport`);
    }
    const format = map[runtime]?.[String(quantized)];
    const record = format ? manifest.formats[format] : undefined;
    if (!record) {
      const offered = Object.entries(map).flatMap(([r, m]) => Object.entries(m).filter(([, f]) => f in manifest.formats).map(([q]) => `{runtime: '${r}', quantized: ${q}}`));
      throw new QAError(
        `${dir} has no model for runtime ${runtime} with quantized ${quantized}${format ? ` (format ${format})` : ''}; ` +
          `it offers: ${offered.join(', ') || 'nothing'}`,
      );
    }
    const files = new VerifiedFiles(dir, [...(manifest.files ?? []), ...(record.files ?? [])]);
    // qaport's own tokenizer (js/core/tokenizer.mjs): the same code in Node.js and browsers, equal to Python's
    // `tokenizers` in ids and offsets; a tokenizer.json it cannot reproduce exactly is refused here.
    const tokenizer = loadTokenizer(files.read('tokenizer.json').toString('utf8'));
    const kind = runtime;
    const chosenBackend = runtime === 'tfjs' ? (backend ?? defaultBackend()) : runtime === 'savedmodel' ? 'tensorflow' : 'cpu';
    const loaded = await loadRuntime({ format: kind, files, mainFile: record.main_file, outputMap: record.output_names ?? {}, backend: chosenBackend });
    const fixed = loaded.fixedLength ?? fixedLengthOf(record) ?? (Number.isInteger(manifest.fixed_length) ? manifest.fixed_length : null);
    if (fixed !== null && fixed < settings.maxLength) settings.maxLength = fixed;
    const info = {
      runtime,
      quantized,
      format,
      backend: loaded.backend,
      runtimeId: loaded.runtime,
      precision: record.precision,
      modelDir: dir,
      fixedLength: fixed,
      model: manifest.source?.name ?? null,
      versions: { node: process.versions.node, ...loaded.versions },
    };
    // BERT, MobileBERT, ALBERT take token_type_ids (the model's inputs say so; runtimes.mjs usesTokenTypes)
    const tokenTypes = Boolean(loaded.usesTokenTypes);
    info.tokenTypes = tokenTypes;
    info.architecture = manifest.architecture?.model_type ?? 'distilbert';
    return new QAClient({ runtime: { infer: loaded.infer, dispose: loaded.dispose, fixed, tokenTypes }, tokenizer, info, settings });
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
   * Logits of `rows` windows of `width` tokens, in the model calls qa.callPlan chooses: full-length
   * windows one per call at their own length where that is faster (onnxruntime, the SavedModel), else
   * at most maxBatchWindows per call, so a 100,000-character context needs no more memory than 16.
   */
  async _inferRows(ids, mask, rows, width, typeIds) {
    const limit = this._settings.maxBatchWindows;
    const call = async (a, b, n, w, t) => {
      const out = await this._runtime.infer(a, b, [n, w], t);
      const { start, end } = out;
      if (start.shape[0] !== n || start.shape[1] !== w || end.shape.join() !== start.shape.join()) {
        throw new QAError(`the model returned logits of shape [${start.shape}] / [${end.shape}] for input [${n}, ${w}]`);
      }
      return out;
    };
    return qa.inferInChunks(call, ids, mask, rows, width, limit, qa.soloWidthFor(this.info.format), typeIds ?? null);
  }

  /** One model call for the windows of several encoded pairs, padded to one width; logits split back. */
  async _inferGroup(encodedList) {
    const rows = encodedList.reduce((n, e) => n + e.shape[0], 0);
    const width = Math.max(...encodedList.map((e) => e.shape[1]));
    const { fixed } = this._runtime;
    // runtimes.mjs pads each window to a fixed length, if the model has one, and cuts the logits back.
    if (fixed !== null && width > fixed) throw new QAError(`${width} tokens do not fit the model's fixed length ${fixed}`);
    const ids = new Int32Array(rows * width);
    const mask = new Int32Array(rows * width);
    const types = this._runtime.tokenTypes ? new Int32Array(rows * width) : null; // only models that take them
    let r = 0;
    for (const e of encodedList) {
      const [n, w] = e.shape;
      for (let i = 0; i < n; i++, r++) {
        ids.set(e.inputIds.subarray(i * w, (i + 1) * w), r * width);
        mask.set(e.attentionMask.subarray(i * w, (i + 1) * w), r * width);
        if (types !== null) types.set(e.typeIds.subarray(i * w, (i + 1) * w), r * width);
      }
    }
    const { start, end } = await this._inferRows(ids, mask, rows, width, types);
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

  /** The answer (topK 1) or the best topK answers (topK > 1: an array, best first) of one encoded pair. */
  _decode(encoded, start, end, context, { topK, handleImpossibleAnswer }) {
    const { maxAnswerLen } = this._settings;
    if (topK === 1) return qa.decode(encoded, start, end, context, { maxAnswerLen, handleImpossibleAnswer });
    return qa.decodeAnswers(encoded, start, end, context, { maxAnswerLen, topK, handleImpossibleAnswer });
  }

  /**
   * The best answer span of `context` for `question`. `start`/`end` count code points, like Python.
   * Options, as transformers' question-answering pipeline has them: `topK` (default 1; above 1 the result is
   * an array of up to topK answers, best first) and `handleImpossibleAnswer` (default false; SQuAD 2.0
   * models: the null answer, text '' at 0..0, when it outscores every span).
   */
  async predict(question, context, options = {}) {
    this._check();
    const opts = predictOptions(options);
    const encoded = await this._encode(question, context);
    const [{ start, end }] = await this._inferGroup([encoded]);
    return this._decode(encoded, start, end, context, opts);
  }

  /**
   * Answers for many {question, context} pairs, in order. Windows of consecutive pairs share a model
   * call (up to maxBatchWindows windows per call), so the scores can differ from predict()'s in the
   * last float digits (other padding); answers are the same unless two spans tie within that noise.
   * `options` as predict()'s (with topK > 1, each item's answer is an array).
   */
  async predictBatch(items, options = {}) {
    this._check();
    const opts = predictOptions(options);
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
        answers[i] = this._decode(encoded[i], logits[k].start, logits[k].end, items[i].context, opts);
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

// The part of qaport's npm client that is the same in Node.js and in browsers: options, the model
// directory's manifest (which format serves which runtime), tokenisation, windowing, batching and
// decoding (../core/qa.mjs). The two entries add only how files are read and which runtimes load them:
// index.js (Node.js: the file system, onnxruntime-node, TF.js on libtensorflow or wasm) and browser.js
// (fetch from the app's origin with WebCrypto checksums, onnxruntime-web, TF.js web backends). package.json's
// `exports` conditions pick the entry, so `import { QAClient } from '<package>'` is the same line everywhere.

import * as qa from '../core/qa.mjs';
import { IntegrityError, QAError } from '../core/models.mjs';
import { Tokenizer, TokenizerError } from '../core/tokenizer.mjs';

export { DecodeError } from '../core/qa.mjs';
export { IntegrityError, QAError } from '../core/models.mjs';

export const MANIFEST = 'manifest.json';
export const { MAX_LENGTH, STRIDE, MAX_ANSWER_LEN } = qa;
const PREDICT_OPTIONS = ['topK', 'handleImpossibleAnswer'];
/** Options every entry takes; each entry adds its own (where the model is, which backend). */
export const COMMON_OPTIONS = ['runtime', 'quantized', 'backend', 'maxBatchWindows', 'maxAnswerLen', 'maxLength', 'stride'];

/** The model's tokenizer; one it cannot reproduce exactly (a Precompiled normalizer, ...) is one QAError. */
export function loadTokenizer(text) {
  try {
    return Tokenizer.fromJSON(text);
  } catch (err) {
    if (err instanceof TokenizerError) throw new QAError(`the model's tokenizer.json cannot be used: ${err.message}`);
    throw err;
  }
}

/**
 * Someone else's error message (a parser's, a runtime's), made fit for one line of ours: control characters
 * and replacement characters (what a damaged file's bytes show as) become '?', whitespace runs one space.
 */
export function oneLine(text, max = 160) {
  let out;
  try {
    out = String(text);
  } catch {
    out = 'an unprintable error';
  }
  out = out.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, '?').replace(/\s+/g, ' ').trim();
  return out.length > max ? `${out.slice(0, max - 3)}...` : out;
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A manifest's text, parsed and checked: `where` names it in errors (a path or a URL). */
export function parseManifest(text, where) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new IntegrityError(`${where} is not valid JSON (${oneLine(err.message)}); reinstall the package or re-convert the model`);
  }
  if (doc?.schema_version !== 1 || typeof doc.formats !== 'object' || doc.formats === null) {
    throw new IntegrityError(`${where} is not a qaport manifest (schema_version ${doc?.schema_version}); expected 1`);
  }
  if (doc.client_formats === null || typeof doc.client_formats !== 'object') {
    throw new IntegrityError(`${where} has no client_formats map; re-convert the model with qaport`);
  }
  return doc;
}

/**
 * The manifest's format record for (runtime, quantized), or one QAError naming what the directory offers.
 * `runtimes`: the runtimes this entry can run (the browser has no SavedModel).
 */
export function pickFormat(manifest, runtime, quantized, where, runtimes, manifestFile = `${String(where).replace(/\/+$/, '')}/${MANIFEST}`) {
  const map = manifest.client_formats;
  const damaged = (what) => new IntegrityError(`${manifestFile}: ${what}; the manifest is damaged: reinstall the package or re-convert the model`);
  if (map[runtime] !== undefined && !isObject(map[runtime])) throw damaged(`client_formats.${runtime} is not an object`);
  const format = map[runtime]?.[String(quantized)];
  if (format !== undefined && (typeof format !== 'string' || !isObject(manifest.formats[format]))) {
    throw damaged(`client_formats.${runtime}.${quantized} names ${show(format)}, which is not a format the manifest describes`);
  }
  const record = format ? manifest.formats[format] : undefined;
  if (!record) {
    const offered = Object.entries(map)
      .filter(([r, m]) => runtimes.includes(r) && isObject(m))
      .flatMap(([r, m]) => Object.entries(m).filter(([, f]) => typeof f === 'string' && isObject(manifest.formats[f])).map(([q]) => `{runtime: '${r}', quantized: ${q}}`));
    throw new QAError(
      `${where} has no model for runtime ${runtime} with quantized ${quantized}; ` +
        `its ${MANIFEST} offers: ${offered.join(', ') || 'nothing'}`,
    );
  }
  if (!Array.isArray(record.files) || typeof record.main_file !== 'string' || record.main_file === '') {
    throw damaged(`format ${format} lists no files or main_file`);
  }
  if (record.output_names !== undefined && !(isObject(record.output_names) && Object.values(record.output_names).every((v) => typeof v === 'string'))) {
    throw damaged(`format ${format}'s output_names is not an object of output names`);
  }
  if (record.signature !== undefined && !(isObject(record.signature) && (record.signature.inputs === undefined || isObject(record.signature.inputs)))) {
    throw damaged(`format ${format}'s signature is not an object of inputs and outputs`);
  }
  return { format, record };
}

/** The files of a format, for a message about it: all of them when few, else the main file and a count. */
export function formatFiles(format, record) {
  const paths = Array.isArray(record.files) ? record.files.map((e) => e?.path).filter((p) => typeof p === 'string') : [];
  const shown = paths.length <= 4 ? paths.join(', ') : `${record.main_file} and ${paths.length - 1} more files under ${String(record.main_file).split('/')[0]}/`;
  return `format ${format} (${shown || record.main_file})`;
}

/** The files a format's client may read: the directory's own (tokenizer, config) and the format's. */
export function manifestEntries(manifest, record, where = `the ${MANIFEST}`) {
  if (manifest.files !== undefined && !Array.isArray(manifest.files)) {
    throw new IntegrityError(`${where}: 'files' is not a list of file entries; reinstall the package or re-convert the model`);
  }
  const entries = [...(manifest.files ?? []), ...record.files];
  for (const e of entries) {
    if (e === null || typeof e !== 'object' || typeof e.path !== 'string' || typeof e.sha256 !== 'string' || !Number.isInteger(e.size)) {
      throw new IntegrityError(`${where} has a file entry without path, size and sha256 (${show(e)}); reinstall the package or re-convert the model`);
    }
  }
  return entries;
}

/**
 * A caller's value, shown in an error message: never throws (JSON.stringify throws on a BigInt, a template
 * string on a Symbol), never long.
 */
export function show(value) {
  let out;
  try {
    if (typeof value === 'bigint') out = `${value}n`;
    else if (typeof value === 'symbol' || typeof value === 'function') out = `a ${typeof value}`;
    else if (typeof value === 'number' || value === undefined) out = String(value);
    else out = JSON.stringify(value) ?? Object.prototype.toString.call(value);
  } catch {
    out = Object.prototype.toString.call(value);
  }
  return out.length > 80 ? `${out.slice(0, 77)}...` : out;
}

export function checkText(value, what) {
  if (typeof value !== 'string') throw new QAError(`${what} must be a string, got ${value === null ? 'null' : typeof value}`);
  return value;
}

export function positiveInt(value, what, min = 1) {
  if (!Number.isInteger(value) || value < min) throw new QAError(`${what} must be an integer >= ${min}, got ${show(value)}`);
  return value;
}

/**
 * The options every entry shares, checked: unknown keys (against `known`), runtime, quantized, backend
 * (against `backends[runtime]`), and the windowing settings. Returns `{ runtime, quantized, backend, settings }`.
 */
export function commonOptions(options, { known, runtimes, backends, defaultBackend }) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new QAError(`fromOptions takes an options object: { ${known.join(', ')} }`);
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length) throw new QAError(`unknown option ${unknown.join(', ')}; options: ${known.join(', ')}`);
  const {
    runtime = 'onnx',
    quantized = false,
    backend,
    maxBatchWindows = qa.MAX_BATCH_WINDOWS,
    maxAnswerLen = qa.MAX_ANSWER_LEN,
    maxLength = qa.MAX_LENGTH,
    stride = qa.STRIDE,
  } = options;
  if (!runtimes.includes(runtime)) throw new QAError(`runtime must be one of ${runtimes.join(', ')}; got ${show(runtime)}`);
  if (typeof quantized !== 'boolean') throw new QAError(`quantized must be true or false, got ${show(quantized)}`);
  const allowed = backends[runtime] ?? [];
  if (backend !== undefined && !allowed.includes(backend)) {
    throw new QAError(
      allowed.length > 1
        ? `backend for runtime '${runtime}' must be one of ${allowed.join(', ')}, got ${show(backend)}`
        : `backend does not apply to runtime '${runtime}' here; got ${show(backend)}`,
    );
  }
  const settings = {
    maxBatchWindows: positiveInt(maxBatchWindows, 'maxBatchWindows'),
    maxAnswerLen: positiveInt(maxAnswerLen, 'maxAnswerLen'),
    maxLength: positiveInt(maxLength, 'maxLength', 8),
    stride: positiveInt(stride, 'stride', 0),
  };
  if (settings.stride >= settings.maxLength) throw new QAError(`stride (${show(stride)}) must be smaller than maxLength (${show(maxLength)})`);
  return { runtime, quantized, backend: backend ?? defaultBackend(runtime), settings };
}

/** predict()'s options, checked: `{ topK = 1, handleImpossibleAnswer = false }`. */
function predictOptions(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new QAError('predict options must be an object: { topK, handleImpossibleAnswer }');
  const unknown = Object.keys(options).filter((k) => !PREDICT_OPTIONS.includes(k));
  if (unknown.length) throw new QAError(`unknown predict option ${unknown.join(', ')}; options: ${PREDICT_OPTIONS.join(', ')}`);
  const { topK = 1, handleImpossibleAnswer = false } = options;
  if (typeof handleImpossibleAnswer !== 'boolean') throw new QAError(`handleImpossibleAnswer must be true or false, got ${show(handleImpossibleAnswer)}`);
  return { topK: positiveInt(topK, 'topK'), handleImpossibleAnswer };
}

function fixedLengthOf(record) {
  const shape = record.signature?.inputs?.input_ids?.shape;
  const len = Array.isArray(shape) && shape.length === 2 ? shape[1] : null;
  return Number.isInteger(len) && len > 0 ? len : null;
}

/** The manifest signature's input dtypes ({name: dtype}), for runtimes that report no input metadata. */
export function inputDtypesOf(record) {
  const inputs = record.signature?.inputs ?? {};
  return Object.fromEntries(Object.entries(inputs).filter(([, s]) => s && typeof s.dtype === 'string').map(([k, s]) => [s.name ?? k, s.dtype]));
}

/**
 * The client's info and runtime wrapper from what an entry loaded: `loaded` is a runtime of
 * ../core/models.mjs' contract (infer, dispose, fixedLength, usesTokenTypes, runtime, backend, versions).
 */
export function clientParts({ loaded, manifest, record, format, runtime, quantized, settings, where, versions }) {
  const fixed = loaded.fixedLength ?? fixedLengthOf(record) ?? (Number.isInteger(manifest.fixed_length) ? manifest.fixed_length : null);
  if (fixed !== null && fixed < settings.maxLength) settings.maxLength = fixed;
  // BERT, MobileBERT, ALBERT take token_type_ids (the model's inputs say so: usesTokenTypes)
  const tokenTypes = Boolean(loaded.usesTokenTypes);
  const info = {
    runtime,
    quantized,
    format,
    backend: loaded.backend,
    runtimeId: loaded.runtime,
    precision: record.precision,
    ...where,
    fixedLength: fixed,
    model: manifest.source?.name ?? null,
    architecture: manifest.architecture?.model_type ?? 'distilbert',
    tokenTypes,
    versions: { ...versions, ...loaded.versions },
  };
  return { runtime: { infer: loaded.infer, dispose: loaded.dispose, fixed, tokenTypes, what: formatFiles(format, record) }, info };
}

export class QAClientBase {
  /** Use QAClient.fromOptions(); the constructor takes an already loaded runtime. */
  constructor({ runtime, tokenizer, info, settings, warn = (msg) => console.warn(msg) }) {
    this._runtime = runtime;
    this._tokenizer = tokenizer;
    this._settings = settings;
    this._warn = warn;
    this.info = Object.freeze(info);
    this._disposed = false;
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
      let out;
      try {
        out = await this._runtime.infer(a, b, [n, w], t);
      } catch (err) {
        if (err instanceof QAError || err instanceof IntegrityError) throw err;
        // a runtime's own error (a shape check, a bad axis): the model files load but do not run
        throw new QAError(`the model, ${this._runtime.what ?? this.info.format}, failed to run: ${oneLine(err?.message ?? err)}; its files may be damaged: reinstall the package or re-convert the model`);
      }
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
    // the runtimes pad each window to a fixed length, if the model has one, and cut the logits back
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
        this._warn(`QAClient.dispose: ${err?.message ?? err}`);
      });
  }
}

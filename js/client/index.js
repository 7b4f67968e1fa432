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
// Everything but file reading and model loading is qaclient.js, shared with the browser entry (browser.js);
// tokenisation, windowing (384 tokens, stride 128) and answer decoding come from ../core/, and model
// loading from ../node/runtimes.mjs: the package ships qaport's js/ folder as it is (same paths, same bytes),
// the code its validation ran. Every model file is checked against the sha256 in
// model/manifest.json before it is used: each file is read once into memory, hashed, and the same bytes
// are handed to the runtime (the SavedModel's directory is verified file by file, then loaded).

import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { COMMON_OPTIONS, MANIFEST, QAClientBase, show, clientParts, commonOptions, formatFiles, loadTokenizer, manifestEntries, oneLine, parseManifest, pickFormat } from './qaclient.js';
import { IntegrityError, QAError, TFJS_BACKENDS, TFJS_NODE, hasPackage, loadRuntime } from '../node/runtimes.mjs';

export { DecodeError, IntegrityError, MANIFEST, MAX_ANSWER_LEN, MAX_LENGTH, QAError, STRIDE } from './qaclient.js';

/** The model directory shipped inside this package. */
export const PACKAGE_MODEL_DIR = fileURLToPath(new URL('../model/', import.meta.url));

// The runtimes this client knows; which formats a model directory offers for them, and under which
// options, is its manifest's client_formats (written from qaport's one registry, qaport/registry.py).
const RUNTIMES = ['onnx', 'tfjs', 'savedmodel'];
const BACKENDS = { tfjs: TFJS_BACKENDS };
const OPTIONS = [...COMMON_OPTIONS, 'modelDir'];
const MAX_MANIFEST_BYTES = 16 << 20; // as qaport.manifest's cap

// ---------------------------------------------------------------------------------------------------
// Manifest and integrity

function readManifest(modelDir) {
  const file = path.join(modelDir, MANIFEST);
  let text;
  let stat;
  try {
    stat = fs.lstatSync(file);
    if (stat.isSymbolicLink()) {
      const real = fs.realpathSync(file);
      if (!real.startsWith(fs.realpathSync(modelDir) + path.sep)) {
        throw new IntegrityError(`${file} is a symlink to ${real}, outside ${modelDir}; a manifest must be the directory's own file: reinstall the package`);
      }
      stat = fs.statSync(file);
    }
    if (stat.size > MAX_MANIFEST_BYTES) {
      throw new IntegrityError(`${file} is ${Math.round(stat.size / 1e6)} MB, not a manifest (at most ${MAX_MANIFEST_BYTES >> 20} MB); reinstall the package`);
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof IntegrityError) throw err;
    throw new QAError(`no ${MANIFEST} in ${modelDir} (${err.code ?? err.message}); modelDir must be a qaport model directory`);
  }
  return parseManifest(text, file);
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
      if (fs.lstatSync(full).isSymbolicLink()) {
        const real = fs.realpathSync(full);
        const root = fs.realpathSync(this.modelDir);
        if (!real.startsWith(root + path.sep)) {
          throw new IntegrityError(`${rel} is a symlink to ${real}, outside ${root}; refusing to load a file from elsewhere: reinstall the package`);
        }
      }
      data = fs.readFileSync(full);
    } catch (err) {
      if (err instanceof IntegrityError) throw err;
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

/** TF.js backend: 'tensorflow' (libtensorflow) when @tensorflow/tfjs-node is installed, else 'wasm'. */
function defaultBackend(runtime) {
  if (runtime === 'tfjs') return hasPackage(TFJS_NODE) ? 'tensorflow' : 'wasm';
  return runtime === 'savedmodel' ? 'tensorflow' : 'cpu';
}

export class QAClient extends QAClientBase {
  /**
   * Load the model for a runtime: `onnx` (onnxruntime-node; quantized: dynamic int8), `tfjs`
   * (TensorFlow.js; quantized: float16 weights; backend 'tensorflow' when @tensorflow/tfjs-node is
   * installed, else 'wasm') or `savedmodel` (the TF SavedModel through @tensorflow/tfjs-node).
   * Files are verified before use.
   */
  static async fromOptions(options = {}) {
    const { runtime, quantized, backend, settings } = commonOptions(options, { known: OPTIONS, runtimes: RUNTIMES, backends: BACKENDS, defaultBackend });
    const { modelDir = PACKAGE_MODEL_DIR } = options;
    if (typeof modelDir !== 'string' || modelDir === '') throw new QAError(`modelDir must be a directory path (a string), got ${show(modelDir)}`);
    const dir = path.resolve(modelDir);
    const manifest = readManifest(dir);
    const manifestFile = path.join(dir, MANIFEST);
    const { format, record } = pickFormat(manifest, runtime, quantized, dir, RUNTIMES, manifestFile);
    const files = new VerifiedFiles(dir, manifestEntries(manifest, record, manifestFile));
    // qaport's own tokenizer (js/core/tokenizer.mjs): the same code in Node.js and browsers, equal to Python's
    // `tokenizers` in ids and offsets; a tokenizer.json it cannot reproduce exactly is refused here.
    const tokenizer = loadTokenizer(files.read('tokenizer.json').toString('utf8'));
    let loaded;
    try {
      loaded = await loadRuntime({ format: runtime, files, mainFile: record.main_file, outputMap: record.output_names ?? {}, backend });
    } catch (err) {
      if (err instanceof QAError || err instanceof IntegrityError) throw err;
      // the runtime's own error (a parser's, a protobuf's, a shape check): the files passed their checksums,
      // so the converter wrote them wrong (or the manifest was re-signed); name the format's files
      throw new IntegrityError(`${formatFiles(format, record)} cannot be loaded by ${runtime}: ${oneLine(err?.message ?? err)}; reinstall the package or re-convert the model`);
    }
    const parts = clientParts({ loaded, manifest, record, format, runtime, quantized, settings, where: { modelDir: dir }, versions: { node: process.versions.node } });
    return new QAClient({ ...parts, tokenizer, settings, warn: (msg) => process.emitWarning(msg) });
  }
}

export default QAClient;

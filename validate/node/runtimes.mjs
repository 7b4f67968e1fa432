// The one place where a qaport format is loaded into a Node.js runtime. validate/node/runner.mjs (what
// validation runs) and the npm client's index.js (what users run) both call loadRuntime(); the package
// ships this file byte-identical (tests/publish/test_publish.py checks), so a loader bug that validation cannot
// see cannot exist.
//
//   format 'onnx'       -> onnxruntime-node                       (runtime id 'onnxruntime-node')
//   format 'tfjs'       -> TF.js graph model, backend 'wasm'       ('tfjs-wasm'),
//                          'cpu' ('tfjs-cpu') or 'tensorflow'     ('tfjs-node': libtensorflow via @tensorflow/tfjs-node)
//   format 'savedmodel' -> tf.node.loadSavedModel, serving_default ('tfjs-node'; the original post's path)
//
// Files come through a callback object, so the client can hand in its sha256-verified reader:
//   files.read(rel)  -> Buffer of one file (rel is relative to the model directory, '/'-separated)
//   files.dir(rel)   -> absolute path of a directory whose every file the reader has vouched for
//                       (only the SavedModel needs it: libtensorflow reads the directory itself)
//
// Every loaded runtime exposes prepare(feeds) -> handle (tensor creation), run(handle) -> logits (the
// model call: what latency measures), release(handle), and infer(ids, mask, [rows, width], typeIds) = all
// three. Models take input_ids and attention_mask, and token_type_ids where the architecture uses them
// (BERT, MobileBERT, ALBERT; qaport/architectures.py): rt.usesTokenTypes says so, and infer() then needs
// typeIds (an Int32Array of the same rows x width); for the others typeIds is ignored.
// Outputs are mapped to start_logits / end_logits by name (the manifest's output_names), never by
// position: onnxruntime lists them alphabetically and TF.js names them Identity / Identity_1.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const LOGICAL_OUTPUTS = ['start_logits', 'end_logits'];
export const LOGICAL_INPUTS = ['input_ids', 'attention_mask']; // every model takes these
export const TOKEN_TYPE_IDS = 'token_type_ids'; // and BERT, MobileBERT and ALBERT this one too
export const ALL_INPUTS = [...LOGICAL_INPUTS, TOKEN_TYPE_IDS];
export const FORMAT_KINDS = ['onnx', 'tfjs', 'savedmodel'];
export const TFJS_BACKENDS = ['tensorflow', 'wasm', 'cpu'];
/** The runtime vocabulary shared with Python (validate/validation.py) and the benchmark. */
export const RUNTIME_IDS = { onnx: 'onnxruntime-node', wasm: 'tfjs-wasm', cpu: 'tfjs-cpu', tensorflow: 'tfjs-node' };
export const TFJS_NODE = '@tensorflow/tfjs-node';

/** Bad options, or a runtime package that is not installed: the message says what to do. */
export class QAError extends Error {
  constructor(message) {
    super(message);
    this.name = 'QAError';
  }
}

/** A model file is missing, unlisted, differs from its manifest checksum, or does not fit its manifest. */
export class IntegrityError extends Error {
  constructor(message) {
    super(message);
    this.name = 'IntegrityError';
  }
}

const INSTALL_HINTS = {
  [TFJS_NODE]:
    `${TFJS_NODE} is an optional peer dependency, needed for runtime 'savedmodel' and backend 'tensorflow': ` +
    `npm install ${TFJS_NODE}@4.22.0 (its install script downloads libtensorflow; where only the npm registry ` +
    'is reachable: npm install --ignore-scripts, then build its addon against the pip tensorflow wheel with ' +
    "qaport's validate/node/build_tfjs_node.py --package node_modules/@tensorflow/tfjs-node)",
};

/** require() a runtime package, with an install hint instead of a bare MODULE_NOT_FOUND. */
export function requirePackage(name) {
  try {
    return require(name);
  } catch (err) {
    const missingAddon = name === TFJS_NODE && /tfjs_binding\.node|libtensorflow/.test(String(err?.message));
    if (err?.code !== 'MODULE_NOT_FOUND' && !missingAddon) throw err;
    const what = missingAddon ? `${name} is installed but its native addon is not built` : `${name} is not installed`;
    const hint =
      INSTALL_HINTS[name] ?? 'reinstall this package (where only the npm registry is reachable: ONNXRUNTIME_NODE_INSTALL=skip npm install)';
    throw new QAError(`${what}; ${hint}`);
  }
}

/** Whether a package can be resolved from here (without loading it). */
export function hasPackage(name) {
  try {
    require.resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
}

export function packageVersion(name) {
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return null;
  }
}

const stripPort = (name) => name.replace(/:0$/, '');

/** Logical output -> the model's output name, from the manifest's {name: logical} map; never by position. */
export function resolveOutputs(outputNames, outputMap) {
  const map = outputMap ?? Object.fromEntries(outputNames.filter((n) => LOGICAL_OUTPUTS.includes(n)).map((n) => [n, n]));
  const unknown = Object.keys(map).filter((n) => !outputNames.includes(n));
  if (unknown.length) {
    throw new IntegrityError(`the output map names ${unknown.join(', ')}; the model's outputs are: ${outputNames.join(', ')}`);
  }
  const byLogical = {};
  for (const [name, logical] of Object.entries(map)) if (LOGICAL_OUTPUTS.includes(logical)) byLogical[logical] = name;
  const missing = LOGICAL_OUTPUTS.filter((l) => !(l in byLogical));
  if (missing.length) {
    throw new IntegrityError(
      `no output mapped to ${missing.join(', ')} (outputs: ${outputNames.join(', ')}; output map: ${JSON.stringify(map)}); ` +
        're-convert so the manifest maps each output',
    );
  }
  return byLogical;
}

export function toInt32(data) {
  if (data instanceof Int32Array) return data;
  const out = new Int32Array(data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Number(data[i]);
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw new QAError(`value ${data[i]} does not fit int32`);
    out[i] = v;
  }
  return out;
}

export function toInt64(data) {
  if (data instanceof BigInt64Array) return data;
  const out = new BigInt64Array(data.length);
  for (let i = 0; i < out.length; i++) out[i] = BigInt(data[i]);
  return out;
}

function toArrayBuffer(buf) {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

function fixedLengthOf(inputs) {
  const shape = inputs.find((i) => i.name === 'input_ids')?.shape;
  const len = Array.isArray(shape) && shape.length === 2 ? shape[1] : null;
  return Number.isInteger(len) && len > 0 ? len : null;
}

function checkInputs(inputs, what) {
  const names = inputs.map((i) => i.name);
  const odd = names.filter((n) => !ALL_INPUTS.includes(n));
  const missing = LOGICAL_INPUTS.filter((n) => !names.includes(n));
  if (odd.length || missing.length) {
    throw new IntegrityError(
      `${what} takes inputs ${names.join(', ')}; expected ${LOGICAL_INPUTS.join(', ')} (and ${TOKEN_TYPE_IDS} where the model uses them)`,
    );
  }
}

/** Rows of `width` tokens copied into rows of `to` tokens (zero padding: pad id 0, mask 0). */
function widen(data, rows, width, to) {
  const out = new Int32Array(rows * to);
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * width, (r + 1) * width), r * to);
  return out;
}

/** Logits of rows of `from` columns cut back to `width` columns. */
function narrow(t, rows, from, width) {
  if (from === width) return t;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) out.set(t.data.subarray(r * from, r * from + width), r * width);
  return { ...t, data: out, shape: [rows, width] };
}

/**
 * Adds the fixed length (from the input signature) and infer(): prepare + run + release, padding each
 * window to the fixed length when the model has one and cutting the logits back to the given width.
 */
function finish(rt) {
  rt.fixedLength = fixedLengthOf(rt.inputs);
  rt.usesTokenTypes = rt.inputs.some((i) => i.name === TOKEN_TYPE_IDS);
  rt.infer = async (ids, mask, shape, typeIds = null) => {
    const [rows, width] = shape;
    const fixed = rt.fixedLength;
    if (fixed !== null && width > fixed) throw new QAError(`${width} tokens do not fit the model's fixed length ${fixed}`);
    const to = fixed ?? width;
    const feed = (data) => ({ shape: [rows, to], dtype: 'int32', data: to === width ? toInt32(data) : widen(toInt32(data), rows, width, to) });
    const feeds = { input_ids: feed(ids), attention_mask: feed(mask) };
    if (rt.usesTokenTypes) {
      if (typeIds === null || typeIds === undefined) {
        throw new QAError(`the model takes ${TOKEN_TYPE_IDS} (inputs: ${rt.inputs.map((i) => i.name).join(', ')}); pass typeIds to infer()`);
      }
      if (typeIds.length !== rows * width) throw new QAError(`typeIds has ${typeIds.length} values; ${rows} x ${width} expected`);
      feeds[TOKEN_TYPE_IDS] = feed(typeIds);
    }
    const handle = rt.prepare(feeds);
    try {
      const out = await rt.run(handle);
      return { start: narrow(out.start_logits, rows, to, width), end: narrow(out.end_logits, rows, to, width) };
    } finally {
      rt.release(handle);
    }
  };
  return rt;
}

// ---------------------------------------------------------------------------------------------------
// onnxruntime-node

async function loadOnnx(files, mainFile, outputMap) {
  const ort = requirePackage('onnxruntime-node');
  const bytes = files.read(mainFile);
  const session = await ort.InferenceSession.create(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const meta = (list, names) =>
    names.map((name) => {
      const m = Array.isArray(list) ? list.find((x) => x.name === name) : undefined;
      return { name, dtype: m?.type ?? null, shape: m?.shape ? Array.from(m.shape) : null };
    });
  const inputs = meta(session.inputMetadata, session.inputNames);
  const outputs = meta(session.outputMetadata, session.outputNames);
  checkInputs(inputs, `ONNX model ${mainFile}`);
  for (const inp of inputs) {
    if (!['int64', 'int32'].includes(inp.dtype)) throw new IntegrityError(`ONNX input ${inp.name} has type ${inp.dtype}; expected int64 or int32`);
  }
  const byLogical = resolveOutputs(session.outputNames, outputMap);
  for (const o of outputs) o.logical = LOGICAL_OUTPUTS.find((l) => byLogical[l] === o.name) ?? null;
  return finish({
    runtime: RUNTIME_IDS.onnx,
    format: 'onnx',
    backend: 'cpu',
    versions: { 'onnxruntime-node': packageVersion('onnxruntime-node') },
    extra: {},
    inputs,
    outputs,
    numTensors: () => null,
    prepare(feeds) {
      const handle = {};
      for (const inp of inputs) {
        const f = feeds[inp.name];
        handle[inp.name] = new ort.Tensor(inp.dtype, inp.dtype === 'int64' ? toInt64(f.data) : toInt32(f.data), f.shape);
      }
      return handle;
    },
    async run(handle) {
      const res = await session.run(handle);
      const result = {};
      for (const l of LOGICAL_OUTPUTS) {
        const t = res[byLogical[l]];
        if (t.type !== 'float32') throw new IntegrityError(`output ${byLogical[l]} is ${t.type}, expected float32`);
        result[l] = { dtype: 'float32', shape: Array.from(t.dims), data: t.data };
      }
      return result;
    },
    release() {},
    async dispose() {
      await session.release();
    },
  });
}

// ---------------------------------------------------------------------------------------------------
// TensorFlow.js: one engine per process, so the first loaded runtime chooses the backend.

let tfjsReady = null;

async function initTfjs(backend) {
  const tf = requirePackage('@tensorflow/tfjs-core');
  const versions = { 'tfjs-core': tf.version_core };
  const extra = {};
  if (backend === 'wasm') {
    const wasm = requirePackage('@tensorflow/tfjs-backend-wasm');
    const file = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
    wasm.setWasmPaths(`${path.dirname(file)}${path.sep}`);
    versions['tfjs-backend-wasm'] = packageVersion('@tensorflow/tfjs-backend-wasm');
  } else if (backend === 'tensorflow') {
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2'; // libtensorflow's CUDA-probe chatter
    requirePackage(TFJS_NODE); // loads the addon and libtensorflow; registers 'tensorflow' in tfjs-core
    if (!tf.findBackendFactory('tensorflow')) {
      throw new QAError(
        `${TFJS_NODE} did not register its backend in this package's @tensorflow/tfjs-core ` +
          `(${tf.version_core}): install ${TFJS_NODE} at the same version (4.22.0) so npm dedupes tfjs-core`,
      );
    }
    versions['tfjs-node'] = packageVersion(TFJS_NODE);
  } else {
    requirePackage('@tensorflow/tfjs-backend-cpu');
    versions['tfjs-backend-cpu'] = packageVersion('@tensorflow/tfjs-backend-cpu');
  }
  if (!(await tf.setBackend(backend))) throw new QAError(`TF.js backend ${backend} failed to initialise`);
  await tf.ready();
  if (backend === 'wasm') {
    extra.simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    extra.threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  }
  if (backend === 'tensorflow') versions.libtensorflow = tf.backend().binding?.TF_Version ?? null;
  return { tf, versions, extra };
}

async function tfjsEngine(backend) {
  if (!TFJS_BACKENDS.includes(backend)) throw new QAError(`TF.js backend must be one of ${TFJS_BACKENDS.join(', ')}; got ${JSON.stringify(backend)}`);
  if (backend === 'tensorflow') requirePackage(TFJS_NODE); // a missing tfjs-node is the error to report first
  tfjsReady ??= initTfjs(backend).catch((err) => {
    tfjsReady = null;
    throw err;
  });
  const engine = await tfjsReady;
  const current = engine.tf.getBackend();
  if (current !== backend) {
    throw new QAError(`TF.js already runs on the ${current} backend in this process; ${backend} was asked (TF.js has one engine per process)`);
  }
  return engine;
}

function tfTensors(tf, inputs, feeds) {
  const handle = {};
  try {
    for (const inp of inputs) handle[inp.name] = tf.tensor(toInt32(feeds[inp.name].data), feeds[inp.name].shape, 'int32');
  } catch (err) {
    tf.dispose(Object.values(handle));
    throw err;
  }
  return handle;
}

async function tfOutputs(tensors) {
  const result = {};
  LOGICAL_OUTPUTS.forEach((l, i) => {
    const t = tensors[i];
    result[l] = { dtype: 'float32', shape: t.shape, data: t.dataSync() };
  });
  return result;
}

async function loadTfjs(files, mainFile, outputMap, backend) {
  const { tf, versions, extra } = await tfjsEngine(backend);
  const converter = requirePackage('@tensorflow/tfjs-converter');
  versions['tfjs-converter'] = packageVersion('@tensorflow/tfjs-converter');
  const dir = path.posix.dirname(mainFile);
  const modelJson = JSON.parse(files.read(mainFile).toString('utf8'));
  // loadGraphModel('file://...') needs tfjs-node; this IOHandler reads the shards through the callback.
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
  const inputs = model.inputs.map((t) => ({ name: stripPort(t.name), dtype: t.dtype, shape: t.shape ?? null }));
  const outputs = model.outputs.map((t) => ({ name: stripPort(t.name), dtype: t.dtype, shape: t.shape ?? null }));
  checkInputs(inputs, `TF.js model ${mainFile}`);
  const byLogical = resolveOutputs(outputs.map((o) => o.name), outputMap);
  const fetches = LOGICAL_OUTPUTS.map((l) => byLogical[l]);
  for (const o of outputs) o.logical = LOGICAL_OUTPUTS.find((l) => byLogical[l] === o.name) ?? null;
  let useAsync = false;
  return finish({
    runtime: RUNTIME_IDS[backend],
    format: 'tfjs',
    backend,
    versions,
    extra,
    inputs,
    outputs,
    numTensors: () => tf.memory().numTensors,
    prepare: (feeds) => tfTensors(tf, inputs, feeds),
    async run(handle) {
      let outs;
      if (!useAsync) {
        try {
          outs = model.execute(handle, fetches);
        } catch (err) {
          if (!/executeAsync/.test(String(err?.message))) throw err;
          useAsync = true; // control flow in the graph: only executeAsync can run it
        }
      }
      if (useAsync) outs = await model.executeAsync(handle, fetches);
      try {
        return await tfOutputs(outs);
      } finally {
        tf.dispose(outs);
      }
    },
    release(handle) {
      tf.dispose(Object.values(handle));
    },
    async dispose() {
      model.dispose();
    },
  });
}

// ---------------------------------------------------------------------------------------------------
// SavedModel on libtensorflow (tfjs-node): the serving_default signature, int32 tensors.

const SERVING_TAGS = ['serve'];
const SERVING_SIGNATURE = 'serving_default';

async function loadSavedModel(files, mainFile, outputMap) {
  const { tf, versions, extra } = await tfjsEngine('tensorflow');
  const tfnode = requirePackage(TFJS_NODE);
  const dir = files.dir(path.posix.dirname(mainFile));
  const model = await tfnode.node.loadSavedModel(dir, SERVING_TAGS, SERVING_SIGNATURE);
  // The signature's own keys (input_ids, ...), not its tensor names (serving_default_input_ids:0):
  // predict() takes and returns maps keyed by them. tfDtype is the TF type (dtype folds int64 into int32).
  const signature = model.signature ?? {};
  const dims = (shape) => (Array.isArray(shape) ? shape.map((d) => Number(d?.getSize?.() ?? d?.size ?? d)) : null);
  const TF_DTYPES = { DT_INT32: 'int32', DT_INT64: 'int64', DT_FLOAT: 'float32' };
  const spec = (m) =>
    Object.entries(m ?? {}).map(([name, t]) => ({ name, dtype: TF_DTYPES[t.tfDtype] ?? t.tfDtype ?? t.dtype, shape: dims(t.shape), tensor: t.name }));
  const inputs = spec(signature.inputs);
  const outputs = spec(signature.outputs);
  checkInputs(inputs, `SavedModel ${dir} (signature ${SERVING_SIGNATURE})`);
  for (const inp of inputs) {
    if (inp.dtype !== 'int32') {
      throw new IntegrityError(`SavedModel input ${inp.name} is ${inp.dtype}; the serving signature must take int32 (re-convert)`);
    }
  }
  const byLogical = resolveOutputs(outputs.map((o) => o.name), outputMap);
  for (const o of outputs) o.logical = LOGICAL_OUTPUTS.find((l) => byLogical[l] === o.name) ?? null;
  return finish({
    runtime: RUNTIME_IDS.tensorflow,
    format: 'savedmodel',
    backend: 'tensorflow',
    versions,
    extra: { ...extra, signature: SERVING_SIGNATURE, tags: SERVING_TAGS },
    inputs,
    outputs,
    numTensors: () => tf.memory().numTensors,
    prepare: (feeds) => tfTensors(tf, inputs, feeds),
    async run(handle) {
      const res = model.predict(handle); // a NamedTensorMap keyed by the signature's output names
      const tensors = LOGICAL_OUTPUTS.map((l) => res[byLogical[l]]);
      try {
        return await tfOutputs(tensors);
      } finally {
        tf.dispose(Object.values(res));
      }
    },
    release(handle) {
      tf.dispose(Object.values(handle));
    },
    async dispose() {
      model.dispose();
    },
  });
}

/**
 * Load `mainFile` (relative to the model directory) of a format into its Node.js runtime.
 * `outputMap` is the manifest's output_names ({model output name: logical name}); null maps outputs
 * that already carry logical names.
 */
export async function loadRuntime({ format, files, mainFile, outputMap = null, backend = 'wasm' }) {
  if (format === 'onnx') return loadOnnx(files, mainFile, outputMap);
  if (format === 'tfjs') return loadTfjs(files, mainFile, outputMap, backend);
  if (format === 'savedmodel') return loadSavedModel(files, mainFile, outputMap);
  throw new QAError(`format kind must be one of ${FORMAT_KINDS.join(', ')}; got ${JSON.stringify(format)}`);
}

/** A plain reader over a directory (what validation uses; the npm client passes a verifying one). */
export function plainFiles(root) {
  return {
    read: (rel) => fs.readFileSync(path.join(root, ...rel.split('/'))),
    dir: (rel) => path.resolve(root, ...rel.split('/')),
  };
}

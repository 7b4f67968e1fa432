// The Node.js host: loads a qaport format into a Node.js runtime. js/node/runner.mjs (what validation runs)
// and the npm client's js/client/index.js (what users run) both call loadRuntime(); the package ships this
// file byte-identical (tests/publish/test_publish.py checks), so a loader bug that validation cannot see
// cannot exist. The model contract (outputs by name, infer(), fixed lengths) is js/core/models.mjs, shared
// with the browser host (js/browser/runtimes.mjs).
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

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

import {
  IntegrityError,
  LOGICAL_OUTPUTS,
  QAError,
  checkInputs,
  finish,
  loadOnnx,
  loadTfjs,
  resolveOutputs,
  tensorsToLogits,
  tfTensors,
} from '../core/models.mjs';

export {
  ALL_INPUTS,
  IntegrityError,
  LOGICAL_INPUTS,
  LOGICAL_OUTPUTS,
  QAError,
  TOKEN_TYPE_IDS,
  resolveOutputs,
  toInt32,
  toInt64,
} from '../core/models.mjs';

const require = createRequire(import.meta.url);

export const FORMAT_KINDS = ['onnx', 'tfjs', 'savedmodel'];
export const TFJS_BACKENDS = ['tensorflow', 'wasm', 'cpu'];
/** The runtime vocabulary shared with Python (validate/validation.py) and the benchmark. */
export const RUNTIME_IDS = { onnx: 'onnxruntime-node', wasm: 'tfjs-wasm', cpu: 'tfjs-cpu', tensorflow: 'tfjs-node' };
export const TFJS_NODE = '@tensorflow/tfjs-node';

const INSTALL_HINTS = {
  [TFJS_NODE]:
    `${TFJS_NODE} is an optional peer dependency, needed for runtime 'savedmodel' and backend 'tensorflow': ` +
    `npm install ${TFJS_NODE}@4.22.0 (its install script downloads libtensorflow; where only the npm registry ` +
    'is reachable: npm install --ignore-scripts, then build its addon against the CPU-only libtensorflow of the pip ' +
    "tensorflow-cpu wheel with qaport's js/node/build_tfjs_node.py --package node_modules/@tensorflow/tfjs-node)",
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

// ---------------------------------------------------------------------------------------------------
// onnxruntime-node

/**
 * The session options onnxruntime-node runs with: the same as Python's (validate/runners/ort_runner.py),
 * set explicitly rather than left to the binding's defaults, so the same file costs the same on both
 * sides (tests/validate/test_ort_parity.py compares them): every graph optimisation, one intra-op thread
 * per logical CPU (QAPORT_ORT_THREADS overrides, as in Python), sequential execution, spinning worker
 * threads, the CPU memory arena and memory patterns on. Reported in the runtime's extra.sessionOptions.
 */
export function onnxSessionOptions(env = process.env) {
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: Number.parseInt(env.QAPORT_ORT_THREADS ?? '', 10) || cpus || 1,
    interOpNumThreads: 0, // ORT's default, as Python's: unused in sequential execution
    executionMode: 'sequential',
    enableCpuMemArena: true,
    enableMemPattern: true,
    extra: { session: { intra_op: { allow_spinning: '1' } } },
  };
}

async function loadOnnxNode(files, mainFile, outputMap) {
  const ort = requirePackage('onnxruntime-node');
  const sessionOptions = onnxSessionOptions();
  return loadOnnx({
    ort,
    files,
    mainFile,
    outputMap,
    sessionOptions,
    runtime: RUNTIME_IDS.onnx,
    backend: 'cpu',
    versions: { 'onnxruntime-node': packageVersion('onnxruntime-node') },
    extra: { sessionOptions },
  });
}

// ---------------------------------------------------------------------------------------------------
// TensorFlow.js: one engine per process, so the first loaded runtime chooses the backend.

let tfjsReady = null;

let tflogLevel = null; // the absl level set, once qaport_tflog.node was found

/**
 * require('@tensorflow/tfjs-node'), quiet: libtensorflow logs info and warnings when it loads and when a
 * SavedModel loads. TF's logger reads TF_CPP_MIN_LOG_LEVEL once, while the library loads, so it is
 * set before (to 2, errors only, unless the user chose a level: theirs is kept); absl's follows it.
 */
function requireTfjsNode() {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const tfnode = requirePackage(TFJS_NODE);
  tflogLevel ??= quietTensorflowLogs(process.env.TF_CPP_MIN_LOG_LEVEL);
  return tfnode;
}

/**
 * TensorFlow 2.19 sends part of its messages through absl logging, which TF_CPP_MIN_LOG_LEVEL does not
 * reach ("MLIR V1 optimization pass is not enabled" while a SavedModel loads, XLA's notices). qaport's
 * build of the addon (js/node/build_tfjs_node.py) puts qaport_tflog.node beside it, linked to the same
 * libtensorflow_framework.so.2: it sets absl's minimum level on TF_CPP_MIN_LOG_LEVEL's scale. Returns the
 * level set, or null where the module is absent (a tfjs-node installed by its own script, whose
 * libtensorflow 2.9 logs through TF's logger only).
 */
function quietTensorflowLogs(level) {
  let file;
  try {
    const pkg = path.dirname(require.resolve(`${TFJS_NODE}/package.json`));
    file = path.join(pkg, 'lib', 'napi-v8', 'qaport_tflog.node');
  } catch {
    return null;
  }
  if (!fs.existsSync(file)) return null;
  const n = Number.parseInt(level, 10);
  const wanted = Number.isFinite(n) ? Math.min(Math.max(n, 0), 3) : 0; // TF reads a non-number as 0
  require(file).setMinLogLevel(wanted);
  return wanted;
}

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
    requireTfjsNode(); // loads the addon and libtensorflow; registers 'tensorflow' in tfjs-core
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
  if (backend === 'tensorflow') requireTfjsNode(); // a missing tfjs-node is the error to report first
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

async function loadTfjsNode(files, mainFile, outputMap, backend) {
  const { tf, versions, extra } = await tfjsEngine(backend);
  const converter = requirePackage('@tensorflow/tfjs-converter');
  versions['tfjs-converter'] = packageVersion('@tensorflow/tfjs-converter');
  return loadTfjs({ tf, converter, files, mainFile, outputMap, runtime: RUNTIME_IDS[backend], backend, versions, extra });
}

// ---------------------------------------------------------------------------------------------------
// SavedModel on libtensorflow (tfjs-node): the serving_default signature, int32 tensors.

const SERVING_TAGS = ['serve'];
const SERVING_SIGNATURE = 'serving_default';

async function loadSavedModel(files, mainFile, outputMap) {
  const { tf, versions, extra } = await tfjsEngine('tensorflow');
  const tfnode = requireTfjsNode();
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
        return await tensorsToLogits(tensors);
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
  if (format === 'onnx') return loadOnnxNode(files, mainFile, outputMap);
  if (format === 'tfjs') return loadTfjsNode(files, mainFile, outputMap, backend);
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

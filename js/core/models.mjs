// The model contract every host shares: how a qaport format is loaded into a runtime, whatever reads its
// files. js/node/runtimes.mjs (Node.js: files by fs, onnxruntime-node, TF.js wasm/cpu/tfjs-node, the
// SavedModel) and js/browser/runtimes.mjs (files by fetch, onnxruntime-web, TF.js web backends) pass their
// runtime modules and file readers in; nothing here touches the file system, the network or `require`.
//
// Files come through a callback object, so each host hands in its own (sha256-verifying) reader:
//   files.read(rel) -> bytes of one file (a Uint8Array or Buffer, or a Promise of one); rel is relative
//                      to the model directory, '/'-separated
//
// Every loaded runtime exposes prepare(feeds) -> handle (tensor creation), run(handle) -> logits (the
// model call: what latency measures), release(handle), and infer(ids, mask, [rows, width], typeIds) = all
// three. Models take input_ids and attention_mask, and token_type_ids where the architecture uses them
// (BERT, MobileBERT, ALBERT; qaport/architectures.py): rt.usesTokenTypes says so, and infer() then needs
// typeIds (an Int32Array of the same rows x width); for the others typeIds is ignored.
// Outputs are mapped to start_logits / end_logits by name (the manifest's output_names), never by
// position: onnxruntime lists them alphabetically and TF.js names them Identity / Identity_1.

export const LOGICAL_OUTPUTS = ['start_logits', 'end_logits'];
export const LOGICAL_INPUTS = ['input_ids', 'attention_mask']; // every model takes these
export const TOKEN_TYPE_IDS = 'token_type_ids'; // and BERT, MobileBERT and ALBERT this one too
export const ALL_INPUTS = [...LOGICAL_INPUTS, TOKEN_TYPE_IDS];

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

/** The bytes of a Buffer / Uint8Array as an ArrayBuffer of their own (what TF.js weight loading takes). */
export function toArrayBuffer(bytes) {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

function asBytes(bytes) {
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
}

function fixedLengthOf(inputs) {
  const shape = inputs.find((i) => i.name === 'input_ids')?.shape;
  const len = Array.isArray(shape) && shape.length === 2 ? shape[1] : null;
  return Number.isInteger(len) && len > 0 ? len : null;
}

export function checkInputs(inputs, what) {
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
export function finish(rt) {
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
// ONNX: onnxruntime-node and onnxruntime-web share the InferenceSession / Tensor API.

/**
 * An ONNX model on `ort` (onnxruntime-node or onnxruntime-web). `sessionOptions` go to
 * InferenceSession.create (the web host passes executionProviders); `runtime`, `backend` and `versions`
 * describe the host's runtime in reports. `inputDtypes` ({name: dtype}, from the manifest's signature)
 * stands in where a runtime reports no input metadata.
 */
export async function loadOnnx({ ort, files, mainFile, outputMap, sessionOptions = {}, runtime, backend, versions = {}, extra = {}, inputDtypes = {} }) {
  const bytes = asBytes(await files.read(mainFile));
  const session = await ort.InferenceSession.create(bytes, sessionOptions);
  const meta = (list, names) =>
    names.map((name) => {
      const m = Array.isArray(list) ? list.find((x) => x.name === name) : undefined;
      return { name, dtype: m?.type ?? inputDtypes[name] ?? null, shape: m?.shape ? Array.from(m.shape) : null };
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
    runtime,
    format: 'onnx',
    backend,
    versions,
    extra,
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
      try {
        for (const l of LOGICAL_OUTPUTS) {
          const t = res[byLogical[l]];
          if (t.type !== 'float32') throw new IntegrityError(`output ${byLogical[l]} is ${t.type}, expected float32`);
          // getData() downloads a GPU-resident tensor (webgpu); on the CPU it is the data itself
          const data = typeof t.getData === 'function' && t.location && t.location !== 'cpu' ? await t.getData(true) : t.data;
          result[l] = { dtype: 'float32', shape: Array.from(t.dims), data };
        }
      } finally {
        for (const t of Object.values(res)) if (t.location && t.location !== 'cpu' && typeof t.dispose === 'function') t.dispose();
      }
      return result;
    },
    release(handle) {
      for (const t of Object.values(handle)) if (typeof t.dispose === 'function') t.dispose();
    },
    async dispose() {
      await session.release();
    },
  });
}

// ---------------------------------------------------------------------------------------------------
// TensorFlow.js graph model, on whatever backend the host made current in `tf`.

export function tfTensors(tf, inputs, feeds) {
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
  for (let i = 0; i < LOGICAL_OUTPUTS.length; i++) {
    const t = tensors[i];
    // data() (async) rather than dataSync(): GPU backends (webgl, webgpu) cannot read back synchronously
    // without stalling, and webgpu not at all; on the CPU backends it resolves at once.
    result[LOGICAL_OUTPUTS[i]] = { dtype: 'float32', shape: t.shape, data: await t.data() };
  }
  return result;
}

/**
 * A TF.js graph model (model.json + shards, read through `files`) on the current backend of `tf`
 * (@tensorflow/tfjs-core, whose backend the host has set and checked). `tfjsModel` is the converter
 * module. `runtime`, `backend`, `versions`, `extra` describe it in reports.
 */
export async function loadTfjs({ tf, converter, files, mainFile, outputMap, runtime, backend, versions = {}, extra = {} }) {
  const slash = mainFile.lastIndexOf('/');
  const dir = slash < 0 ? '' : mainFile.slice(0, slash + 1);
  const text = new TextDecoder().decode(asBytes(await files.read(mainFile)));
  const modelJson = JSON.parse(text);
  // An IOHandler that reads the shards through the host's reader (loadGraphModel('file://...') needs
  // tfjs-node, and a URL would bypass the reader's checksums).
  const handler = {
    load: () =>
      tf.io.getModelArtifactsForJSON(modelJson, async (groups) => {
        const specs = [];
        const buffers = [];
        for (const group of groups) {
          for (const p of group.paths) buffers.push(toArrayBuffer(asBytes(await files.read(`${dir}${p}`))));
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
    runtime,
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

/** Named tensors (a SavedModel signature's outputs) read back as logits, for hosts that run one. */
export async function tensorsToLogits(tensors) {
  return tfOutputs(tensors);
}

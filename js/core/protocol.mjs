// The validation protocol's model ops, the same in every host: js/node/runner.mjs (Node.js) and
// js/browser/page.mjs (a page of headless Chromium) both answer validate/node_bridge.py's `infer` and
// `answer` requests through these, so a browser target is driven exactly as a Node.js one.
//
// Arrays travel as {shape, dtype, data: base64 of little-endian bytes} (int32, int64, float32), so logits
// come back bit for bit. No host API is used (atob/btoa exist in Node.js >= 16 and in browsers).

import * as qa from './qa.mjs';
import { LOGICAL_INPUTS, LOGICAL_OUTPUTS, TOKEN_TYPE_IDS } from './models.mjs';

const TYPED = { int32: Int32Array, float32: Float32Array, int64: BigInt64Array };

export function toBase64(typed) {
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function fromBase64(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A wire array as a typed array (a fresh, aligned buffer); a size that does not fit the shape is an error. */
export function decodeArray(arr, what) {
  if (!arr || typeof arr !== 'object') throw new Error(`${what} is missing`);
  const { shape, dtype, data } = arr;
  if (!(dtype in TYPED)) throw new Error(`${what} has dtype ${dtype}; supported: ${Object.keys(TYPED).join(', ')}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`${what} has a bad shape`);
  const bytes = fromBase64(data ?? '');
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== count * TYPED[dtype].BYTES_PER_ELEMENT) {
    throw new Error(`${what}: ${bytes.byteLength} bytes do not hold shape [${shape}] of ${dtype}`);
  }
  return { shape, dtype, data: new TYPED[dtype](bytes.buffer, 0, count) };
}

export function encodeArray({ shape, dtype, data }) {
  const typed = data instanceof TYPED[dtype] ? data : TYPED[dtype].from(data);
  return { shape: Array.from(shape), dtype, data: toBase64(typed) };
}

function checkFeeds(runtime, feeds) {
  const names = runtime.inputs.map((i) => i.name);
  const missing = names.filter((n) => !(n in feeds));
  if (missing.length) throw new Error(`inputs ${missing.join(', ')} missing; the model takes ${names.join(', ')}`);
  const [a, b] = LOGICAL_INPUTS.map((n) => feeds[n]?.shape);
  if (!a || a.length !== 2 || !b || a.join() !== b.join()) throw new Error(`input_ids [${a}] and attention_mask [${b}] must be equal 2-D shapes`);
  const t = feeds[TOKEN_TYPE_IDS]?.shape;
  if (t && t.join() !== a.join()) throw new Error(`token_type_ids [${t}] must have the shape of input_ids [${a}]`);
}

export function repeatCount(value, name, min) {
  const v = value ?? min;
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min}, got ${value}`);
  return v;
}

/** What the `answer` op calls: the runtime's infer, in qa.callPlan's calls, exactly like the npm client. */
export function answerInfer(runtime, onCall = null) {
  const solo = qa.soloWidthFor(runtime.format);
  const call = (a, b, n, w, t) => {
    onCall?.([n, w]);
    return runtime.infer(a, b, [n, w], t);
  };
  return (ids, mask, [rows, width], types = null) =>
    qa.inferInChunks(call, ids, mask, rows, width, qa.MAX_BATCH_WINDOWS, solo, types ?? null);
}

/**
 * The model ops over a loaded runtime (js/core/models.mjs contract) and a tokenizer (js/core/tokenizer.mjs),
 * timed with `now()` (performance.now).
 *   infer({inputs, warmup, runs})                     -> {outputs, times_ms}
 *   answer({question, context, warmup, runs, top_k, handle_impossible_answer, max_answer_len, max_length,
 *           stride, with_logits})                     -> {answer, answers?, times_ms, batch?, logits?}
 * `with_logits`: also the batch the last run fed the model (its windows: input_ids, attention_mask,
 * token_type_ids) and the logits it got, when it fed them in one call of the whole batch, so that one
 * end-to-end run proves both the answers and the logits (otherwise no logits: the caller infers the batch).
 */
export function modelOps({ runtime, tokenizer, now = () => performance.now() }) {
  let calls = [];
  const infer = answerInfer(runtime, (shape) => calls.push(shape));
  return {
    async infer(req) {
      const feeds = {};
      for (const [name, arr] of Object.entries(req.inputs ?? {})) feeds[name] = decodeArray(arr, `inputs.${name}`);
      checkFeeds(runtime, feeds);
      const warmup = repeatCount(req.warmup, 'warmup', 0);
      const runs = repeatCount(req.runs, 'runs', 1);
      const handle = runtime.prepare(feeds);
      try {
        for (let i = 0; i < warmup; i++) await runtime.run(handle);
        const times = [];
        let result;
        for (let i = 0; i < runs; i++) {
          const t0 = now();
          result = await runtime.run(handle);
          times.push(now() - t0);
        }
        const outputs = Object.fromEntries(LOGICAL_OUTPUTS.map((l) => [l, encodeArray({ ...result[l], data: Float32Array.from(result[l].data) })]));
        return { outputs, times_ms: times };
      } finally {
        runtime.release(handle);
      }
    },

    async answer(req) {
      if (!tokenizer) throw new Error('answer needs a tokenizer: start the runner with --tokenizer tokenizer.json');
      if (typeof req.question !== 'string' || typeof req.context !== 'string') throw new Error('answer needs string question and context');
      const warmup = repeatCount(req.warmup, 'warmup', 0);
      const runs = repeatCount(req.runs, 'runs', 1);
      const options = {
        maxAnswerLen: repeatCount(req.max_answer_len ?? qa.MAX_ANSWER_LEN, 'max_answer_len', 1),
        maxLength: repeatCount(req.max_length ?? qa.MAX_LENGTH, 'max_length', 1),
        stride: repeatCount(req.stride ?? qa.STRIDE, 'stride', 0),
        tokenTypes: runtime.usesTokenTypes, // BERT, MobileBERT, ALBERT: the model takes token_type_ids
        handleImpossibleAnswer: Boolean(req.handle_impossible_answer),
      };
      const topK = req.top_k === undefined || req.top_k === null ? null : repeatCount(req.top_k, 'top_k', 1);
      let last = null;
      const capture = async (ids, mask, shape, types) => {
        calls = [];
        const out = await infer(ids, mask, shape, types);
        // the model saw exactly this batch only if qa.callPlan made one call of its full shape (windows run
        // one per call, or in chunks, give logits that may differ in the last bits from the batch's)
        last = { ids, mask, shape, types, out, whole: calls.length === 1 && calls[0].join() === shape.join() };
        return out;
      };
      const times = [];
      let best;
      let all = null;
      for (let i = 0; i < warmup + runs; i++) {
        const t0 = now();
        if (topK !== null) {
          all = await qa.answers(capture, tokenizer, req.question, req.context, { ...options, topK });
          best = all[0] ?? { text: '', score: 0, start: 0, end: 0 };
        } else {
          best = await qa.answer(capture, tokenizer, req.question, req.context, options);
        }
        if (i >= warmup) times.push(now() - t0);
      }
      const reply = all === null ? { answer: best, times_ms: times } : { answer: best, answers: all, times_ms: times };
      if (req.with_logits && last !== null) {
        const int32 = (data) => encodeArray({ shape: last.shape, dtype: 'int32', data });
        reply.batch = { input_ids: int32(last.ids), attention_mask: int32(last.mask) };
        if (last.types) reply.batch.token_type_ids = int32(last.types);
        if (last.whole) {
          reply.logits = {
            start_logits: encodeArray({ shape: last.out.start.shape, dtype: 'float32', data: last.out.start.data }),
            end_logits: encodeArray({ shape: last.out.end.shape, dtype: 'float32', data: last.out.end.data }),
          };
        }
      }
      return reply;
    },
  };
}

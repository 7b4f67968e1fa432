// Question answering in JavaScript: windowing and answer decoding, an exact port of qaport/decode.py.
//
// Kept free of any runtime (TF.js, onnxruntime) and of any host API (Node.js or browser), so that the npm
// client, the Node.js runner and the browser page all run this file: the model is an
// `infer(inputIds, attentionMask, shape, tokenTypeIds)` callback returning `{start, end, shape}` (Float32Arrays,
// row-major); `tokenTypeIds` is null unless the caller asks for token types (BERT, MobileBERT, ALBERT).
//
// Every tokenizer family windows alike: the question is sequence 0, the context sequence 1, the special
// tokens come from the tokenizer's post-processor ([CLS] q [SEP] c [SEP], or <s> q </s></s> c </s> for
// byte-level BPE), and the classification token kept in the softmax ("no answer") is every token equal to
// the window's first token when that is a special one (`encoded.clsId`), as in the pipeline.
//
// Windowing is done here, not by a tokenizer's truncation: the pair is tokenised once, whole, by qaport's
// own tokenizer (js/core/tokenizer.mjs, equal to Python's `tokenizers` in ids and offsets, the same code in
// Node.js and browsers), and the windows are cut exactly as tokenizers 0.22's `only_second` truncation with
// a stride cuts them (the Python side pins tokenizers < 0.23: 0.23.1 returns too few overflowing windows,
// huggingface/tokenizers#2091), so the windows equal Python's token for token.
//
// Character offsets from the tokenizer count Unicode code points (as in Python); JS strings index UTF-16
// code units. Answers carry both: `start`/`end` in code points (equal to Python's) and
// `startUtf16`/`endUtf16`, which index the JS string (`context.slice(startUtf16, endUtf16) === text`).

export const MAX_LENGTH = 384;
export const STRIDE = 128;
export const MAX_ANSWER_LEN = 15;
export const TOP_K = 1;
// windows per model call, at most (Python: qaport.decode.MAX_BATCH_WINDOWS)
export const MAX_BATCH_WINDOWS = 16;
// windows this long run one per call (callPlan says why; Python: qaport.decode.SOLO_WIDTH)
export const SOLO_WIDTH = 256;

export class DecodeError extends Error {
  constructor(message) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** No truncation, no padding: the windows are cut by `windowsOf` (see the header for why). */
export function prepareTokenizer(tokenizer) {
  tokenizer.disableTruncation();
  tokenizer.disablePadding();
  return tokenizer;
}

function plain(x) {
  return x === undefined || x === null ? null : x;
}

/** The 0.22 `only_second` truncation with stride, applied to an untruncated pair encoding. */
export function windowsOf(full, { maxLength = MAX_LENGTH, stride = STRIDE } = {}) {
  if (stride >= maxLength) {
    throw new DecodeError(`stride (${stride}) must be smaller than max_length (${maxLength})`);
  }
  const n = full.inputIds.length;
  if (n <= maxLength) return [full];
  const ctx = [];
  full.sequenceIds.forEach((s, i) => {
    if (s === 1) ctx.push(i);
  });
  if (ctx.length === 0 || ctx[ctx.length - 1] - ctx[0] + 1 !== ctx.length) {
    throw new DecodeError('the context tokens are not one contiguous run in the pair encoding');
  }
  const cs = ctx[0];
  const ce = cs + ctx.length;
  const toRemove = n - maxLength;
  const winLen = ctx.length - toRemove;
  const hint = `the question must leave room for context in a ${maxLength}-token window: shorten the question or raise max_length`;
  if (winLen <= 0) {
    throw new DecodeError(`cannot window this question/context pair (the question is too long); ${hint}`);
  }
  if (stride >= winLen) {
    throw new DecodeError(
      `cannot window this question/context pair (${winLen} context tokens per window, stride ${stride}); ${hint}`,
    );
  }
  const step = winLen - stride;
  const ranges = [];
  for (let start = 0; start < ctx.length; start += step) {
    const stop = Math.min(start + winLen, ctx.length);
    ranges.push([start, stop]);
    if (stop === ctx.length) break;
  }
  const cut = (arr, a, b) => [...arr.slice(0, cs), ...arr.slice(cs + a, cs + b), ...arr.slice(ce)];
  return ranges.map(([a, b]) => ({
    inputIds: cut(full.inputIds, a, b),
    sequenceIds: cut(full.sequenceIds, a, b),
    wordIds: cut(full.wordIds, a, b),
    offsets: cut(full.offsets, a, b),
    typeIds: cut(full.typeIds ?? new Array(n).fill(0), a, b),
  }));
}

/** The classification token of a window: its first token when that is special (sequence id null), else null. */
export function clsIdOf(window) {
  return window.inputIds.length && window.sequenceIds[0] === null ? window.inputIds[0] : null;
}

/**
 * Tokenise into windows and pad them into one int32 batch (row-major, `shape = [windows, width]`):
 * `inputIds` (padded with `padId`), `attentionMask`, `typeIds` (the token type ids, padded with 0).
 */
export async function encode(tokenizer, question, context, { maxLength = MAX_LENGTH, stride = STRIDE, padId = 0 } = {}) {
  prepareTokenizer(tokenizer);
  const enc = await tokenizer.encode(question, context);
  const full = {
    inputIds: Array.from(enc.getIds()),
    sequenceIds: Array.from(enc.getSequenceIds(), plain),
    wordIds: Array.from(enc.getWordIds(), plain),
    offsets: Array.from(enc.getOffsets(), (o) => [o[0], o[1]]),
    typeIds: Array.from(enc.getTypeIds()),
  };
  const windows = windowsOf(full, { maxLength, stride });
  const width = Math.max(...windows.map((w) => w.inputIds.length));
  const inputIds = new Int32Array(windows.length * width).fill(padId);
  const attentionMask = new Int32Array(windows.length * width);
  const typeIds = new Int32Array(windows.length * width);
  windows.forEach((w, i) => {
    inputIds.set(w.inputIds, i * width);
    attentionMask.fill(1, i * width, i * width + w.inputIds.length);
    typeIds.set(w.typeIds, i * width);
  });
  return { windows, inputIds, attentionMask, typeIds, shape: [windows.length, width], clsId: clsIdOf(windows[0]) };
}

function softmaxMasked(logits, allowed) {
  const x = Array.from(logits, (v, i) => (allowed[i] ? v : -10000.0));
  let max = -Infinity;
  for (const v of x) if (v > max) max = v;
  const e = x.map((v) => Math.exp(v - max));
  let sum = 0;
  for (const v of e) sum += v;
  return e.map((v) => v / sum);
}

/** The pipeline's `p_mask == 0`: context tokens and every token equal to the cls token (position 0 without one). */
function allowedOf(window, clsId) {
  const allowed = window.sequenceIds.map((s) => s === 1);
  if (clsId === null || clsId === undefined) allowed[0] = true;
  else window.inputIds.forEach((id, i) => {
    if (id === clsId) allowed[i] = true;
  });
  return allowed;
}

function probabilities(window, startLogits, endLogits, clsId) {
  const n = window.inputIds.length;
  const allowed = allowedOf(window, clsId);
  return { pStart: softmaxMasked(startLogits.subarray(0, n), allowed), pEnd: softmaxMasked(endLogits.subarray(0, n), allowed), allowed };
}

/**
 * Best token spans of one window as [startToken, endToken, score], best first. `clsId` undefined: the
 * window's first token if it is special (clsIdOf).
 */
export function windowCandidates(window, startLogits, endLogits, { maxAnswerLen = MAX_ANSWER_LEN, topK = TOP_K, alignToWords = true, clsId } = {}) {
  const n = window.inputIds.length;
  const { pStart, pEnd, allowed } = probabilities(window, startLogits, endLogits, clsId === undefined ? clsIdOf(window) : clsId);
  pStart[0] = 0; // the pipeline zeroes position 0 only
  pEnd[0] = 0;
  // Only the band s <= e < s + maxAnswerLen can score above zero; numpy's order among exact zeros is
  // arbitrary, so ties are broken by flat index here.
  const cells = [];
  for (let s = 0; s < n; s++) {
    const stop = Math.min(n, s + maxAnswerLen);
    for (let e = s; e < stop; e++) cells.push([s, e, pStart[s] * pEnd[e]]);
  }
  cells.sort((a, b) => b[2] - a[2] || a[0] * n + a[1] - (b[0] * n + b[1]));
  const k = alignToWords ? topK * 2 + 10 : topK;
  return cells.slice(0, k).filter(([s, e]) => allowed[s] && allowed[e]);
}

/**
 * The null answer's score (handleImpossibleAnswer), as the pipeline computes it: the minimum over
 * windows of pStart[0] * pEnd[0], with the probabilities of the span softmax.
 */
export function nullScore(encoded, start, end) {
  const width = start.shape[1];
  let best = 1000000; // the pipeline's initial min_null_score
  encoded.windows.forEach((window, i) => {
    const sRow = start.data.subarray(i * width, (i + 1) * width);
    const eRow = end.data.subarray(i * width, (i + 1) * width);
    const { pStart, pEnd } = probabilities(window, sRow, eRow, encoded.clsId ?? clsIdOf(window));
    best = Math.min(best, pStart[0] * pEnd[0]);
  });
  return best;
}

/** tokenizers' Encoding.wordToChars(word, 1): first to last token of `word` in the context; null if absent. */
function wordToChars(window, word) {
  let first = null;
  let last = null;
  for (let i = 0; i < window.wordIds.length; i++) {
    if (window.sequenceIds[i] !== 1) continue;
    const w = window.wordIds[i];
    if (w !== null && w > word) break;
    if (w === word) {
      if (first === null) first = i;
      last = i;
    }
  }
  return first === null ? null : [window.offsets[first][0], window.offsets[last][1]];
}

/**
 * Character span (code points) of tokens start..end, the pipeline's get_indices: widened to whole words, or,
 * when either end has no word in the context (a special token), the tokens' own offsets.
 */
export function spanChars(window, s, e, alignToWords = true) {
  if (alignToWords) {
    const ws = window.wordIds[s];
    const we = window.wordIds[e];
    if (ws !== null && we !== null) {
      const a = wordToChars(window, ws);
      const b = wordToChars(window, we);
      if (a !== null && b !== null) return [a[0], b[1]];
    }
  }
  return [window.offsets[s][0], window.offsets[e][1]];
}

/** Code point index -> UTF-16 index for every position of `text` (length: code points + 1). */
export function codePointToUtf16(text) {
  const map = [];
  let u = 0;
  for (const ch of text) {
    map.push(u);
    u += ch.length;
  }
  map.push(u);
  return map;
}

function toUtf16(map, cp) {
  // Python slicing clamps out-of-range indices; so does this.
  return map[Math.max(0, Math.min(cp, map.length - 1))];
}

// Equal answers merge by Python's `str.lower()` (3.11: Unicode 14.0), as in the pipeline. `toLowerCase`
// follows Node's ICU, which may know a newer Unicode (Node 20 with ICU 78: Unicode 17). Compared on every
// code point (tests/validate/test_js_python_property.py does so on the running Node), the differences are:
// - characters assigned after Unicode 14.0 that ICU lowercases (Cyrillic TJE, Latin additions, Garay,
//   Beria Erfe capitals) or holds cased or case-ignorable (for the final-sigma rule): to Python they are
//   unassigned, kept as they are and neither cased nor case-ignorable;
const NEWER_SET =
  String.raw`\u0897\u0ECE\u1ACF-\u1ADD\u1AE0-\u1AEB\u1C89\u1C8A\uA7CB-\uA7CF\uA7D2\uA7D4\uA7DA-\uA7DC\uA7F1` +
  String.raw`\u{10D4E}\u{10D50}-\u{10D65}\u{10D69}-\u{10D6D}\u{10D6F}-\u{10D85}\u{10EC5}\u{10EFA}-\u{10EFF}` +
  String.raw`\u{11241}\u{113BB}-\u{113C0}\u{113CE}\u{113D0}\u{113D2}\u{113E1}\u{113E2}\u{11B60}` +
  String.raw`\u{11B62}-\u{11B64}\u{11B66}\u{11DD9}\u{11F00}\u{11F01}\u{11F36}-\u{11F3A}\u{11F40}\u{11F42}` +
  String.raw`\u{11F5A}\u{13439}-\u{13440}\u{13447}-\u{13455}\u{1611E}-\u{16129}\u{1612D}-\u{1612F}` +
  String.raw`\u{16D40}-\u{16D42}\u{16D6B}\u{16D6C}\u{16EA0}-\u{16EB8}\u{16EBB}-\u{16ED3}\u{16FF2}\u{16FF3}` +
  String.raw`\u{1DF25}-\u{1DF2A}\u{1E030}-\u{1E06D}\u{1E08F}\u{1E4EB}-\u{1E4EF}\u{1E5EE}\u{1E5EF}\u{1E6E3}` +
  String.raw`\u{1E6E6}\u{1E6EE}\u{1E6EF}\u{1E6F5}\u{1E6FF}`;
const NEWER = new RegExp(`[${NEWER_SET}]`, 'u');
const NEEDS_CARE = new RegExp(`[\\u03A3${NEWER_SET}]`, 'u');
// - U+0295 was Ll in Unicode 14 (cased; Lo since 16), U+1171E was Mn (case-ignorable; Mc since 16).
function sigmaClass(ch) {
  if (ch === '\u0295') return 'cased';
  if (ch === '\u{1171E}' || (!NEWER.test(ch) && /\p{Case_Ignorable}/u.test(ch))) return 'ignorable';
  return !NEWER.test(ch) && /\p{Cased}/u.test(ch) ? 'cased' : null;
}

// Python's Final_Sigma: a cased letter before (case-ignorables skipped), none after.
function isFinalSigma(chars, i) {
  let j = i - 1;
  while (j >= 0 && sigmaClass(chars[j]) === 'ignorable') j--;
  if (j < 0 || sigmaClass(chars[j]) !== 'cased') return false;
  let k = i + 1;
  while (k < chars.length && sigmaClass(chars[k]) === 'ignorable') k++;
  return k === chars.length || sigmaClass(chars[k]) !== 'cased';
}

/** `text.lower()` as the pipeline's Python computes it (the only context-dependent mapping is final sigma). */
export function lowerLikePython(text) {
  if (!NEEDS_CARE.test(text)) return text.toLowerCase();
  const chars = Array.from(text);
  const lower = (ch, i) => {
    if (ch === '\u03A3') return isFinalSigma(chars, i) ? '\u03C2' : '\u03C3';
    return NEWER.test(ch) ? ch : ch.toLowerCase();
  };
  return chars.map(lower).join('');
}

/** Every candidate over all windows, equal texts (case-insensitive) merged, in the order first seen. */
export function decodeCandidates(encoded, start, end, context, { maxAnswerLen = MAX_ANSWER_LEN, alignToWords = true, topK = TOP_K } = {}) {
  const [rows, width] = start.shape;
  if (rows !== encoded.windows.length || end.shape[0] !== rows || end.shape[1] !== width) {
    throw new DecodeError(
      `logits of shape [${start.shape}] / [${end.shape}] do not match ${encoded.windows.length} windows ` +
        `of width ${encoded.shape[1]}`,
    );
  }
  const map = codePointToUtf16(context);
  const merged = [];
  const byText = new Map();
  encoded.windows.forEach((window, i) => {
    const sRow = start.data.subarray(i * width, (i + 1) * width);
    const eRow = end.data.subarray(i * width, (i + 1) * width);
    const clsId = encoded.clsId === undefined ? clsIdOf(window) : encoded.clsId;
    for (const [s, e, score] of windowCandidates(window, sRow, eRow, { maxAnswerLen, topK, alignToWords, clsId })) {
      const [a, b] = spanChars(window, s, e, alignToWords);
      const ua = toUtf16(map, a);
      const ub = toUtf16(map, b);
      const text = context.slice(ua, ub); // like Python, an end before the start gives ''
      const key = lowerLikePython(text);
      const same = byText.get(key);
      if (same !== undefined) {
        same.score += score;
      } else {
        const entry = { text, score, start: a, end: b, startUtf16: ua, endUtf16: ub };
        byText.set(key, entry);
        merged.push(entry);
      }
    }
  });
  return merged;
}

const NO_ANSWER = Object.freeze({ text: '', score: 0, start: 0, end: 0, startUtf16: 0, endUtf16: 0 });

/**
 * The best `topK` answers, best first (fewer when the context offers fewer), ranked as the pipeline ranks
 * them: a stable sort of the merged candidates and, with `handleImpossibleAnswer`, the null answer
 * `{text: '', score: nullScore, start: 0, end: 0}` last among equals (Python: qaport.decode.decode_answers).
 */
export function decodeAnswers(encoded, start, end, context, { topK = TOP_K, handleImpossibleAnswer = false, maxAnswerLen = MAX_ANSWER_LEN, alignToWords = true } = {}) {
  if (!Number.isInteger(topK) || topK < 1) throw new DecodeError(`topK must be an integer >= 1, got ${topK}`);
  const answers = decodeCandidates(encoded, start, end, context, { maxAnswerLen, alignToWords, topK });
  if (handleImpossibleAnswer) answers.push({ ...NO_ANSWER, score: nullScore(encoded, start, end) });
  return answers.sort((a, b) => b.score - a.score).slice(0, topK); // Array.prototype.sort is stable
}

/**
 * Best answer over all windows; the first of equal scores wins, like the pipeline's stable sort. With
 * `handleImpossibleAnswer`, the null answer (text '') when it outscores every span.
 */
export function decode(encoded, start, end, context, { maxAnswerLen = MAX_ANSWER_LEN, alignToWords = true, handleImpossibleAnswer = false } = {}) {
  const [best] = decodeAnswers(encoded, start, end, context, { maxAnswerLen, alignToWords, handleImpossibleAnswer });
  return best ?? { ...NO_ANSWER };
}

/**
 * How the windows reach the model: [firstRow, rows, width] per call (Python: qaport.decode.call_plan).
 * Windows of at least `soloWidth` tokens run one per call at their own length: on a runtime whose call
 * costs little beyond its FLOPs, such a call is already compute-bound, and batching them only adds
 * padding and a larger working set (measured by the benchmark, 6 full-size windows on onnxruntime: one
 * call per window 1,422 ms vs one batched call 1,670 ms). Shorter windows, or every window on a runtime
 * with a large fixed cost per call (soloWidthFor), are batched, `limit` per call, padded to the longest.
 */
export function callPlan(lengths, limit = MAX_BATCH_WINDOWS, soloWidth = SOLO_WIDTH) {
  if (lengths.length === 0) return [];
  if (Math.max(...lengths) >= soloWidth) return lengths.map((n, i) => [i, 1, n]);
  const step = Math.max(1, limit);
  const plan = [];
  for (let r = 0; r < lengths.length; r += step) {
    const part = lengths.slice(r, r + step);
    plan.push([r, part.length, Math.max(...part)]);
  }
  return plan;
}

/**
 * The solo width for a format: TF.js graph models run op by op from JavaScript, a fixed cost per call
 * (the benchmark's Node.js phases: about 110 ms for an 8-token call on tfjs-node with the small default
 * model, against 3 ms for the SavedModel and 1 ms for onnxruntime-node), so their windows stay batched.
 */
export function soloWidthFor(format) {
  return String(format).startsWith('tfjs') ? Infinity : SOLO_WIDTH;
}

/**
 * Logits of `rows` windows of `width` tokens (row-major `ids`/`mask`/`typeIds`, each window's real tokens
 * first), through `call(ids, mask, n, w, typeIds)` -> `{ start, end }` (each `{ data }`, n x w row-major;
 * `typeIds` sliced like the ids, null when `typeIds` is null or omitted), in the calls
 * `callPlan` chooses (`soloWidth`: soloWidthFor(format)): at most `limit` windows per call, so that memory stays bounded whatever the
 * context's length (a 100,000-character context is hundreds of windows). Positions beyond a window's
 * own tokens are 0 in the result (decoding never reads them).
 */
export async function inferInChunks(call, ids, mask, rows, width, limit = MAX_BATCH_WINDOWS, soloWidth = SOLO_WIDTH, typeIds = null) {
  const types = typeIds ?? null;
  const lengths = [];
  for (let r = 0; r < rows; r++) {
    let n = 0;
    for (let i = r * width; i < (r + 1) * width; i++) n += mask[i] ? 1 : 0;
    lengths.push(n);
  }
  const plan = callPlan(lengths, limit, soloWidth);
  if (plan.length === 1 && plan[0][2] === width) return call(ids, mask, rows, width, types);
  const start = new Float32Array(rows * width);
  const end = new Float32Array(rows * width);
  for (const [r, n, w] of plan) {
    const a = new Int32Array(n * w);
    const b = new Int32Array(n * w);
    const t = types === null ? null : new Int32Array(n * w);
    for (let i = 0; i < n; i++) {
      a.set(ids.subarray((r + i) * width, (r + i) * width + w), i * w);
      b.set(mask.subarray((r + i) * width, (r + i) * width + w), i * w);
      if (t !== null) t.set(types.subarray((r + i) * width, (r + i) * width + w), i * w);
    }
    const out = await call(a, b, n, w, t);
    for (let i = 0; i < n; i++) {
      start.set(out.start.data.subarray(i * w, (i + 1) * w), (r + i) * width);
      end.set(out.end.data.subarray(i * w, (i + 1) * w), (r + i) * width);
    }
  }
  return { start: { data: start, shape: [rows, width] }, end: { data: end, shape: [rows, width] } };
}

/**
 * End to end: tokenise, infer, decode. `infer(inputIds, attentionMask, shape, tokenTypeIds)` -> `{start: {data,
 * shape}, end: {data, shape}}` (may be async) gets the whole padded batch (`tokenTypeIds`: the batch's
 * token type ids with `tokenTypes: true`, else null); the Node runner and the npm client pass one that runs
 * it through inferInChunks. Returns the best answer (the null answer '' with `handleImpossibleAnswer` when
 * it outscores every span); `answers` returns the best `topK`.
 */
export async function answer(infer, tokenizer, question, context, { maxLength = MAX_LENGTH, stride = STRIDE, maxAnswerLen = MAX_ANSWER_LEN, tokenTypes = false, handleImpossibleAnswer = false } = {}) {
  const [best] = await answers(infer, tokenizer, question, context, { maxLength, stride, maxAnswerLen, tokenTypes, handleImpossibleAnswer });
  return best ?? { ...NO_ANSWER };
}

/** End to end, the best `topK` answers, best first (Python: qaport.decode.answers); always an array. */
export async function answers(
  infer,
  tokenizer,
  question,
  context,
  { maxLength = MAX_LENGTH, stride = STRIDE, maxAnswerLen = MAX_ANSWER_LEN, tokenTypes = false, topK = TOP_K, handleImpossibleAnswer = false, alignToWords = true } = {},
) {
  const encoded = await encode(tokenizer, question, context, { maxLength, stride });
  const { start, end } = await infer(encoded.inputIds, encoded.attentionMask, encoded.shape, tokenTypes ? encoded.typeIds : null);
  return decodeAnswers(encoded, start, end, context, { topK, handleImpossibleAnswer, maxAnswerLen, alignToWords });
}

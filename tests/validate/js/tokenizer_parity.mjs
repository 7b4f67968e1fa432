// Encodes question/context pairs with js/core/tokenizer.mjs, field by field as Python tokenizers' Encoding.
// A pure ES module (no Node imports), so a browser page can load it as it is.
import { Tokenizer } from '../../../js/core/tokenizer.mjs';

/**
 * tokenizerJsonText: a tokenizer.json text; pairs: [[question, context-or-null], ...].
 * Returns, per pair, {ids, typeIds, specialTokensMask, sequenceIds, wordIds, offsets} or {error: message}
 * (a load error gives one {error} per pair).
 */
export function encodeAll(tokenizerJsonText, pairs) {
  let tok;
  try {
    tok = Tokenizer.fromJSON(tokenizerJsonText);
  } catch (err) {
    return pairs.map(() => ({ error: `${err.name}: ${err.message}` }));
  }
  tok.disableTruncation();
  tok.disablePadding();
  return pairs.map(([question, context]) => {
    try {
      const enc = context === null || context === undefined ? tok.encode(question) : tok.encode(question, context);
      return {
        ids: enc.getIds(),
        typeIds: enc.getTypeIds(),
        specialTokensMask: enc.getSpecialTokensMask(),
        sequenceIds: enc.getSequenceIds(),
        wordIds: enc.getWordIds(),
        offsets: enc.getOffsets(),
      };
    } catch (err) {
      return { error: `${err.name}: ${err.message}` };
    }
  });
}

/** Every job at once ({jobs: [{tokenizer, pairs}, ...]}): what the Node.js driver and the browser page call. */
export function encodeJobs({ jobs }) {
  const t0 = performance.now();
  return { results: jobs.map((j) => encodeAll(j.tokenizer, j.pairs)), ms: performance.now() - t0 };
}

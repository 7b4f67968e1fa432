// The JavaScript side of tests/validate/test_js_python_property.py, as a browser-safe ES module: the same
// file runs in Node.js (qa_parity_node.mjs) and in a page of headless Chromium (in_browser.mjs), so the
// windowing, decoding and tokenizer of js/core are proven equal to Python in both hosts.
//
// runJob({ tokenizer_json, cases, lower, top }) -> { results, lower, ms }: for each case, the windows and
// batch qa.encode gives and, with logits given (base64 float32), the answers qa.decode gives.

import * as qa from '../../../js/core/qa.mjs';
import { fromBase64, toBase64 } from '../../../js/core/protocol.mjs';
import { Tokenizer } from '../../../js/core/tokenizer.mjs';

const f32 = (b64) => {
  const bytes = fromBase64(b64);
  return new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
};

export async function runJob(job) {
  const t0 = performance.now();
  const lower = (job.lower ?? []).map((t) => qa.lowerLikePython(t));
  const out = [];
  const tok = job.tokenizer_json ? Tokenizer.fromJSON(job.tokenizer_json) : null;
  for (const c of job.cases ?? []) {
    const item = {};
    out.push(item);
    let enc;
    try {
      enc = await qa.encode(tok, c.question, c.context);
    } catch (err) {
      if (!(err instanceof qa.DecodeError)) throw err;
      item.error = err.message;
      continue;
    }
    item.shape = enc.shape;
    item.input_ids = toBase64(enc.inputIds);
    item.attention_mask = toBase64(enc.attentionMask);
    item.token_type_ids = toBase64(enc.typeIds);
    item.cls_id = enc.clsId;
    item.windows = enc.windows.map((w) => [w.inputIds, w.sequenceIds, w.wordIds, w.offsets]);
    if (c.start === undefined) continue;
    const start = { data: f32(c.start), shape: c.shape };
    const end = { data: f32(c.end), shape: c.shape };
    try {
      item.answer = qa.decode(enc, start, end, c.context);
      item.candidates = qa.decodeCandidates(enc, start, end, c.context).filter((a) => a.score > 0);
      if (job.top) {
        item.top = qa.decodeAnswers(enc, start, end, c.context, { topK: 3, handleImpossibleAnswer: true });
        item.null_answer = qa.decode(enc, start, end, c.context, { handleImpossibleAnswer: true });
      }
    } catch (err) {
      if (!(err instanceof qa.DecodeError)) throw err;
      item.decode_error = err.message;
    }
  }
  return { results: out, lower, ms: performance.now() - t0 };
}

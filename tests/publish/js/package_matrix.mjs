// The npm client against damaged model directories (issue 26's corruption matrix; driven by
// tests/publish/test_package_matrix.py). stdin: {cases: [{id, dir, runtime, quantized}], intact: dir}.
// Each case loads QAClient.fromOptions({runtime, quantized, backend: 'wasm' for tfjs, modelDir: dir}) and
// asks one question; the result is what was thrown (name, message) or the answer. The intact directory
// is loaded last: the client must still work after every failure.
import fs from 'node:fs';
import { QAClient } from './client/index.js';

const job = JSON.parse(fs.readFileSync(0, 'utf8'));
const QUESTION = ['Who won?', 'The Denver Broncos won the game in 2016.'];

async function attempt({ dir, runtime, quantized }) {
  let qa;
  try {
    const options = { runtime, quantized, modelDir: dir };
    if (runtime === 'tfjs') options.backend = 'wasm';
    qa = await QAClient.fromOptions(options);
    const answer = await qa.predict(...QUESTION);
    return { ok: true, text: answer.text };
  } catch (err) {
    return { ok: false, name: err?.name ?? typeof err, message: String(err?.message ?? err) };
  } finally {
    try {
      await qa?.dispose();
    } catch {
      // disposing a half-loaded client must not hide the result
    }
  }
}

const results = [];
for (const c of job.cases) results.push({ id: c.id, ...(await attempt(c)) });
const intact = await attempt({ dir: job.intact, runtime: 'onnx', quantized: false });
console.log(JSON.stringify({ results, intact }));

// The Node.js half of the onnxruntime parity measurement (bench/ort_parity.py): one ONNX file loaded
// through the shared runtime layer (js/node/runtimes.mjs, exactly as the runner and the npm client load
// it, with its session options), then one JSON line per request on stdin:
//   {"op":"time","tokens":N,"runs":R[,"session":"defaults"]} -> {"ok":true,"times_ms":[...]}  (rt.infer on
//       one [1, N] window: tensor creation, session.run and the logits back, as the client; "defaults": a
//       second session of the same file on onnxruntime-node's own defaults (InferenceSession.create(bytes, {})),
//       loaded only with --defaults: what qaport ran before its session options were set)
//   {"op":"shutdown"}
// Prints {"event":"ready","sessionOptions":...,"versions":...} first. stdout carries protocol lines only.
//
//   node ort_call.mjs --model MAIN_FILE [--output-map NAME=start_logits,...] [--defaults]

import path from 'node:path';
import readline from 'node:readline';
import { performance } from 'node:perf_hooks';

import { loadOnnx } from '../core/models.mjs';
import { loadRuntime, plainFiles, requirePackage } from '../node/runtimes.mjs';

console.log = console.error;
console.info = console.error;
console.warn = console.error;

const send = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

/** The same synthetic window as bench/ort_parity.py's: [CLS] ids... [SEP], all attended. */
export function window(tokens) {
  const ids = new Int32Array(tokens);
  for (let i = 0; i < tokens; i++) ids[i] = 110 + ((i * 7) % 890); // inside any vocabulary
  ids[0] = 101;
  ids[tokens - 1] = 102;
  return { ids, mask: new Int32Array(tokens).fill(1), types: new Int32Array(tokens) };
}

async function main() {
  const argv = process.argv.slice(2);
  const arg = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : null;
  };
  const model = path.resolve(arg('--model'));
  const map = arg('--output-map');
  const outputMap = map ? Object.fromEntries(map.split(',').map((p) => p.split('='))) : null;
  const files = plainFiles(path.dirname(model));
  const rt = await loadRuntime({ format: 'onnx', files, mainFile: path.basename(model), outputMap });
  const runtimes = { qaport: rt };
  if (argv.includes('--defaults')) {
    const ort = requirePackage('onnxruntime-node');
    runtimes.defaults = await loadOnnx({ ort, files, mainFile: path.basename(model), outputMap, sessionOptions: {}, runtime: 'onnxruntime-node', backend: 'cpu' });
  }
  send({ event: 'ready', sessionOptions: rt.extra.sessionOptions, versions: rt.versions });
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const req = JSON.parse(line);
    if (req.op === 'shutdown') break;
    try {
      const { ids, mask, types } = window(req.tokens);
      const which = runtimes[req.session ?? 'qaport'];
      if (!which) throw new Error(`no session ${JSON.stringify(req.session)} (sessions: ${Object.keys(runtimes).join(', ')})`);
      const times = [];
      for (let i = 0; i < req.runs; i++) {
        const t = performance.now();
        await which.infer(ids, mask, [1, req.tokens], types);
        times.push(performance.now() - t);
      }
      send({ ok: true, times_ms: times });
    } catch (err) {
      send({ ok: false, error: String(err?.message ?? err).split('\n')[0] });
    }
  }
  for (const r of Object.values(runtimes)) await r.dispose();
  process.exit(0); // stdin stays open in the parent: without this the event loop would keep node alive
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  send({ event: 'error', error: String(err?.message ?? err).split('\n')[0] });
  process.exitCode = 1;
});

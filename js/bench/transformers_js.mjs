// The benchmark's transformers.js peer: @huggingface/transformers' question-answering pipeline on a
// qaport artifact directory (a transformers.js local model: config.json, tokenizer.json,
// tokenizer_config.json, onnx/model.onnx, onnx/model_quantized.onnx), offline.
//
//   node transformers_js.mjs --dir ARTIFACT_DIR --dtype fp32|q8 --packages js
//
// Prints {"event":"ready",...}, then answers one JSON line per request line on stdin:
//   {"op":"answer","question":...,"context":...,"warmup":N,"runs":N} -> {"ok":true,"answer":...,"score":...,"times_ms":[...]}
//   {"op":"stats"} -> {"ok":true,"peak_rss_bytes":...}
// Timing is end to end in this process (tokenise, session run, decode), like every other system.
// stdout carries only protocol lines: console.log goes to stderr.

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

console.log = console.error;
console.info = console.error;
console.warn = console.error;

const send = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  if (!out.dir || !['fp32', 'q8'].includes(out.dtype) || !out.packages) {
    throw new Error('usage: --dir ARTIFACT_DIR --dtype fp32|q8 --packages DIR_WITH_NODE_MODULES');
  }
  return out;
}

function peakRss() {
  const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return hwm ? Number(hwm[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

async function main() {
  const opts = args(process.argv.slice(2));
  const require = createRequire(path.join(path.resolve(opts.packages), 'package.json'));
  const t0 = performance.now();
  const { pipeline, env } = await import(pathToFileURL(require.resolve('@huggingface/transformers')).href);
  const dir = path.resolve(opts.dir);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(dir) + path.sep;
  const qa = await pipeline('question-answering', path.basename(dir), { dtype: opts.dtype });
  const manifest = path.join(path.resolve(opts.packages), 'node_modules', '@huggingface', 'transformers', 'package.json');
  const version = JSON.parse(fs.readFileSync(manifest, 'utf8')).version; // its exports hide package.json
  send({ event: 'ready', load_ms: performance.now() - t0, versions: { node: process.versions.node, '@huggingface/transformers': version } });

  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    try {
      const req = JSON.parse(line);
      if (req.op === 'stats') {
        send({ ok: true, peak_rss_bytes: peakRss() });
      } else if (req.op === 'answer') {
        const times = [];
        let out;
        for (let i = 0; i < (req.warmup ?? 0) + (req.runs ?? 1); i++) {
          const t = performance.now();
          out = await qa(req.question, req.context);
          if (i >= (req.warmup ?? 0)) times.push(performance.now() - t);
        }
        send({ ok: true, answer: out.answer, score: out.score, times_ms: times });
      } else if (req.op === 'shutdown') {
        break;
      } else {
        send({ ok: false, error: `unknown op ${JSON.stringify(req.op)}; ops: answer, stats, shutdown` });
      }
    } catch (err) {
      send({ ok: false, error: String(err?.message ?? err).split('\n')[0] });
    }
  }
  await qa.dispose();
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  send({ event: 'error', error: String(err?.message ?? err).split('\n')[0] });
  process.exit(1);
});

// The browser benchmark's driver (bench/browser.py runs it): serves an artifact directory, the
// bench page (js/browser/bench_page.mjs, bundled by esbuild) and the runtimes' wasm files on 127.0.0.1
// with COOP/COEP (so wasm gets threads), and times every browser system on the same questions, one fresh
// headless Chromium per system (TF.js has one engine per page; onnxruntime-web's numThreads is global).
//
//   node browser/bench.mjs < job.json
//   job: { dir, browser, systems: [{ id, kind: 'qaport'|'transformers-js', runtime, quantized, backend, threads, dtype }],
//          questions: [{ id, class, question, context }], protocol: { warmup, runs, min_runs, budget_s } }
//
// stdout: one JSON line per system ({ event: 'system', id, status: 'ok'|'failed', ... }), then { event: 'done' }.
// Requests to any other host are refused and fail the system that made them (no CDN, no model hub).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { blockedError, keepOnOrigin, processTree, startChromium } from './chromium.mjs';
import { serve } from './server.mjs';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const JS_DIR = path.dirname(HERE);
const CLIENT = path.join(JS_DIR, 'client', 'browser.js');
const TJS = '@huggingface/transformers';
const WARM_CALLS = 10;
const WARM_MS = 1500;
const WARM_CAP_MS = 30_000;

const out = process.stdout.write.bind(process.stdout);
const send = (obj) => out(`${JSON.stringify(obj)}\n`);
console.log = console.error; // stdout carries protocol lines only
const log = (line) => process.stderr.write(`${line}\n`);

/**
 * The bench page bundle, built into a fresh directory for this run (esbuild takes about a second), so a
 * concurrent clean of node_modules/.cache cannot pull the page from under a running benchmark.
 */
async function buildPage() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qaport-bench-page-'));
  const esbuild = require('esbuild');
  // Until js/client/browser.js exists, the qaport rows fail with this message and transformers.js still runs.
  const missingClient = {
    name: 'missing-client',
    setup(build) {
      build.onResolve({ filter: /client\/browser\.js$/ }, (args) => {
        if (fs.existsSync(CLIENT)) return undefined;
        return { path: 'missing-client', namespace: 'missing' };
      });
      build.onLoad({ filter: /.*/, namespace: 'missing' }, () => ({
        contents: "export const QAClient = { fromOptions() { throw new Error('js/client/browser.js does not exist'); } };",
      }));
    },
  };
  await esbuild.build({
    entryPoints: { bench_page: path.join(HERE, 'bench_page.mjs'), bench_levers_page: path.join(HERE, 'bench_levers_page.mjs') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: dir,
    logLevel: 'error',
    plugins: [missingClient],
    external: ['fs', 'path', 'os', 'url', 'sharp', 'perf_hooks', 'worker_threads', 'crypto', 'node:*', 'onnxruntime-node'],
  });
  fs.writeFileSync(
    path.join(dir, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>qaport bench</title><link rel="icon" href="data:,"><script type="module" src="./bench_page.js"></script>\n',
  );
  fs.writeFileSync(
    path.join(dir, 'levers.html'),
    '<!doctype html><meta charset="utf-8"><title>qaport bench levers</title><link rel="icon" href="data:,"><script type="module" src="./bench_levers_page.js"></script>\n',
  );
  return dir;
}

/** The levers page in a fresh Chromium: model calls alone, variants interleaved round by round. */
async function runLevers(levers, job, ctx) {
  const out = [];
  for (const threads of levers.threads ?? [1, 2]) {
    const chromium = await startChromium(job.browser, { log });
    try {
      const page = await chromium.browser.newPage();
      const blocked = await keepOnOrigin(page, ctx.server.origin);
      await page.goto(`${ctx.server.url}levers.html`, { waitUntil: 'load', timeout: 60_000 });
      await page.waitForFunction(() => globalThis.qaportBenchLevers !== undefined, { timeout: 60_000 });
      const reply = await page.evaluate((r) => globalThis.qaportBenchLevers.call('measure', r), { ...levers, threads });
      if (blocked.length) throw blockedError(blocked);
      if (!reply.ok) throw new Error(`${reply.error} (${reply.stack})`);
      out.push({ threads, ...reply });
    } finally {
      await chromium.close();
    }
  }
  return out;
}

/** One more round of a system: times pooled, answers checked equal, phases of the median round kept. */
function merge(prev, next) {
  if (!prev) return { ...next, phases_rounds: [next.phases_ms] };
  const out = { ...prev };
  for (const [qid, ts] of Object.entries(next.times_ms)) out.times_ms[qid] = [...(out.times_ms[qid] ?? []), ...ts];
  for (const [qid, a] of Object.entries(next.answers)) {
    const before = prev.answers[qid];
    if (before && (before.text !== a.text || before.start !== a.start)) {
      out.answers_changed = [...(out.answers_changed ?? []), { id: qid, before: before.text, after: a.text }];
    }
  }
  for (const [cls, plan] of Object.entries(next.runs)) out.runs[cls] = { ...plan, runs: (out.runs[cls]?.runs ?? 0) + plan.runs };
  out.peak_rss_bytes = Math.max(prev.peak_rss_bytes, next.peak_rss_bytes);
  out.cpu_seconds = prev.cpu_seconds + next.cpu_seconds;
  out.wall_seconds = prev.wall_seconds + next.wall_seconds;
  out.phases_rounds = [...prev.phases_rounds, next.phases_ms];
  const ok = out.phases_rounds.filter((p) => p && typeof p.total === 'number').sort((a, b) => a.total - b.total);
  out.phases_ms = ok.length ? ok[Math.floor((ok.length - 1) / 2)] : next.phases_ms;
  return out;
}

/** transformers.js' own onnxruntime-web (its dependency, nested when it differs from ours), and its version. */
function transformersOrt() {
  const tjsDir = path.join(JS_DIR, 'node_modules', ...TJS.split('/'));
  for (const dir of [path.join(tjsDir, 'node_modules', 'onnxruntime-web'), path.join(JS_DIR, 'node_modules', 'onnxruntime-web')]) {
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      return { dist: path.join(dir, 'dist'), version: JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version };
    }
  }
  throw new Error(`no onnxruntime-web for ${TJS}`);
}

function chromiumTree(rootPid) {
  // VmHWM summed over the Chromium process tree (as js/browser/runner.mjs reports it), and its CPU time
  // (utime + stime; Linux clock ticks, 100 per second)
  let total = 0;
  let ticks = 0;
  for (const pid of processTree(rootPid)) {
    try {
      total += Number(/^VmHWM:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // gone
    }
  }
  return { peak: total, cpu_seconds: ticks / 100 };
}

/** (warm-up, runs) per question, as bench/worker.py's _runs: slow systems get fewer runs. */
function plannedRuns(firstMs, questions, proto) {
  const perCall = Math.max(firstMs, 1e-3) / 1000;
  const warmup = perCall < 1 ? Number(proto.warmup) : 1;
  const fit = Math.floor(Number(proto.budget_s) / (questions * perCall)) - warmup;
  let floor = Number(proto.min_runs);
  if (questions * perCall > Number(proto.budget_s)) floor = Math.min(2, floor);
  return { warmup, runs: Math.max(floor, Math.min(Number(proto.runs), fit)) };
}

async function runSystem(system, job, ctx) {
  const t0 = performance.now();
  const chromium = await startChromium(job.browser, { log });
  const consoleTail = [];
  try {
    const page = await chromium.browser.newPage();
    const blocked = await keepOnOrigin(page, ctx.server.origin);
    page.on('console', (msg) => {
      consoleTail.push(`[${msg.type()}] ${msg.text()}`);
      if (consoleTail.length > 20) consoleTail.shift();
    });
    page.on('pageerror', (err) => consoleTail.push(`[pageerror] ${err?.message ?? err}`));
    await page.goto(ctx.server.url, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForFunction(() => globalThis.qaportBench !== undefined, { timeout: 60_000 });
    const call = async (op, req) => {
      const reply = await page.evaluate((o, r) => globalThis.qaportBench.call(o, r), op, req);
      if (blocked.length) throw blockedError(blocked);
      if (!reply.ok) throw new Error(`${reply.error} (${reply.stack}); console: ${consoleTail.slice(-5).join(' | ')}`);
      const { ok: _ok, ...rest } = reply;
      return rest;
    };
    const loadReq =
      system.kind === 'qaport'
        ? { kind: 'qaport', runtime: system.runtime, quantized: Boolean(system.quantized), backend: system.backend, threads: system.threads ?? null }
        : {
            kind: 'transformers-js',
            model: ctx.modelName,
            dtype: system.dtype,
            device: system.backend === 'webgpu' ? 'webgpu' : 'wasm',
            // a path, not a URL: transformers.js 4.3.2 looks for a tokenizer only under a non-URL local path
            // (_get_file_metadata skips isValidUrl paths), so with an http:// localModelPath it loads none
            localModelPath: '/tjs-models/',
            wasmPaths: `${ctx.server.origin}/tjs-wasm/`,
          };
    const ready = await call('load', loadReq);
    // Warm up until V8 has tiered the wasm and JS up (Liftoff -> TurboFan happens in the background after
    // some calls): at least WARM_CALLS calls and WARM_MS of calls on the first question. With the Python
    // protocol's one or two warm-up calls, the first timed calls of a page ran 2-3x slower than later ones.
    const first = job.questions.find((q) => !system.classes || system.classes.includes(q.class));
    let warmCalls = 0;
    const warmStart = performance.now();
    while (first && (warmCalls < WARM_CALLS || performance.now() - warmStart < WARM_MS) && performance.now() - warmStart < WARM_CAP_MS) {
      await call('answer', { question: first.question, context: first.context, warmup: 0, runs: 1 });
      warmCalls += 1;
    }
    const result = { answers: {}, times_ms: {}, runs: {}, page_warmup: { calls: warmCalls, ms: performance.now() - warmStart } };
    for (const cls of ['short', 'long']) {
      const qs = job.questions.filter((q) => q.class === cls && (!system.classes || system.classes.includes(cls)));
      if (!qs.length) continue;
      const gauge = await call('answer', { question: qs[0].question, context: qs[0].context, warmup: 1, runs: 1 });
      const plan = system.fixed_runs ?? plannedRuns(gauge.times_ms[0], qs.length, job.protocol);
      result.runs[cls] = { ...plan, gauge_ms: gauge.times_ms[0] };
      for (const q of qs) {
        const got = await call('answer', { question: q.question, context: q.context, ...plan });
        result.answers[q.id] = { text: got.text, score: got.score, start: got.start, end: got.end };
        result.times_ms[q.id] = got.times_ms;
      }
    }
    // after the timed runs (the wrappers stay in this page, which is then closed)
    const shortQ = job.questions.find((q) => q.class === 'short');
    const phases = shortQ ? await call('phases', { question: shortQ.question, context: shortQ.context, runs: 5 }).catch((err) => ({ error: String(err.message) })) : null;
    const tree = chromiumTree(chromium.child.pid);
    await call('dispose', {}).catch(() => {});
    return {
      status: 'ok',
      ...result,
      load_seconds: ready.load_ms / 1000,
      peak_rss_bytes: tree.peak,
      cpu_seconds: tree.cpu_seconds, // the Chromium tree's CPU time (its helpers are not reaped by our parent)
      phases_ms: phases,
      rss_scope: 'Chromium process tree (VmHWM summed)',
      details: { ...ready, blocked_requests: blocked.length, ...(system.kind !== 'qaport' ? { onnxruntime_web_dist: ctx.tjsOrt.version } : {}) },
      wall_seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await chromium.close();
  }
}

async function main() {
  const job = JSON.parse(fs.readFileSync(0, 'utf8'));
  const dir = path.resolve(job.dir);
  const bundle = await buildPage();
  const tjsOrt = transformersOrt();
  const modelName = path.basename(dir);
  const mounts = {
    '/': bundle,
    '/model/': dir, // qaport's client reads manifest.json and the format's files from here
    [`/tjs-models/${modelName}/`]: dir, // the same directory as a transformers.js local model
    '/qaport-wasm/ort/': path.join(JS_DIR, 'node_modules', 'onnxruntime-web', 'dist'),
    '/qaport-wasm/tfjs/': path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')),
    '/tjs-wasm/': tjsOrt.dist,
  };
  const server = await serve(mounts, { log: () => {} });
  const ctx = { server, modelName, tjsOrt };
  try {
    // Rounds: every system once per round, in reverse order every other round, times pooled, so that a
    // machine that gets busier or quieter during the run weighs on every system alike.
    const rounds = Math.max(1, Math.floor(Number(job.rounds ?? 1)));
    const merged = {};
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? job.systems : [...job.systems].reverse();
      for (const system of order) {
        if (merged[system.id]?.status === 'failed') continue;
        try {
          merged[system.id] = merge(merged[system.id], await runSystem(system, job, ctx));
        } catch (err) {
          merged[system.id] = { status: 'failed', reason: String(err?.message ?? err).split('\n')[0].slice(0, 600) };
        }
        send({ event: 'progress', id: system.id, round: r + 1, rounds, status: merged[system.id].status });
      }
    }
    for (const system of job.systems) send({ event: 'system', id: system.id, ...merged[system.id], rounds });
    if (job.levers) {
      try {
        send({ event: 'levers', status: 'ok', runs: await runLevers(job.levers, job, ctx) });
      } catch (err) {
        send({ event: 'levers', status: 'failed', reason: String(err?.message ?? err).split('\n')[0].slice(0, 600) });
      }
    }
  } finally {
    await server.close();
    fs.rmSync(bundle, { recursive: true, force: true });
  }
  send({ event: 'done' });
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    send({ event: 'error', error: String(err?.message ?? err).split('\n')[0] });
    process.exit(1);
  },
);

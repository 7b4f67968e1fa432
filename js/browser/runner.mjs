// One long-lived Node.js process per browser target: it serves the model and the page on 127.0.0.1,
// starts headless Chromium, and forwards validate/node_bridge.py's JSON-lines requests into the page.
// The protocol is js/node/runner.mjs' (ops: infer, answer, stats, shutdown), so Python drives a browser
// target exactly as a Node.js one.
//
//   node browser/runner.mjs --runtime onnx|tfjs --backend wasm|webgl|webgpu|cpu --model PATH --browser CHROMIUM
//                           [--tokenizer tokenizer.json] [--output-map Identity=end_logits,...] [--input-dtypes input_ids=int64,...]
//
// What runs in the page is js/browser/page.mjs bundled by esbuild (js/core + js/browser/runtimes.mjs + the
// runtime packages from js/node_modules): the code a web app bundles. The page is served with COOP/COEP so
// that wasm gets threads; the runtimes' .wasm files come from js/node_modules through the same server.
// Every request the page makes to another origin is refused and reported: the first one fails every later
// request of this runner, with the URL in the error. Chromium runs in this process's process group, so the
// bridge's kill of a hung runner takes the browser with it; a crashed page ends the runner with the tail of
// the page's console in its stderr.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { oneLine, parseFaults, protocolStdout, send, serveLines } from '../node/jsonlines.mjs';
import { blockedError, keepOnOrigin, processTree, startChromium } from './chromium.mjs';
import { serve } from './server.mjs';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const JS_DIR = path.dirname(HERE);
const CONSOLE_TAIL = 40;

protocolStdout('browser runner');

export const BACKENDS = { onnx: ['wasm', 'webgpu'], tfjs: ['wasm', 'webgl', 'webgpu', 'cpu'] };

function parseArgs(argv) {
  const args = { tokenizer: null, outputMap: null, inputDtypes: null, backend: 'wasm', browser: null, manifest: null };
  const flags = {
    '--runtime': 'runtime',
    '--model': 'model',
    '--backend': 'backend',
    '--tokenizer': 'tokenizer',
    '--output-map': 'outputMap',
    '--input-dtypes': 'inputDtypes',
    '--browser': 'browser',
    '--manifest': 'manifest',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = flags[argv[i]];
    if (!key || i + 1 >= argv.length) throw new Error(`bad argument ${argv[i]}; usage: ${Object.keys(flags).join(' VALUE ')} VALUE`);
    args[key] = argv[i + 1];
  }
  if (!(args.runtime in BACKENDS)) throw new Error(`--runtime must be one of ${Object.keys(BACKENDS).join(', ')} in a browser, got ${args.runtime}`);
  if (!BACKENDS[args.runtime].includes(args.backend)) {
    throw new Error(`--backend for ${args.runtime} must be one of ${BACKENDS[args.runtime].join(', ')}, got ${args.backend}`);
  }
  if (!args.model) throw new Error('--model is required');
  if (!args.browser) throw new Error('--browser (the Chromium executable) is required');
  return args;
}

function parsePairs(text, what) {
  if (!text) return null;
  const map = {};
  for (const pair of text.split(',').filter(Boolean)) {
    const [name, value] = pair.split('=');
    if (!name || !value) throw new Error(`${what} entry "${pair}" must be NAME=VALUE`);
    map[name.trim()] = value.trim();
  }
  return map;
}

// ---------------------------------------------------------------------------------------------------
// The page bundle: built once per content of its inputs, cached under node_modules/.cache.

function bundleInputsDigest() {
  const h = crypto.createHash('sha256');
  const files = [
    ...['core', 'browser'].flatMap((d) => fs.readdirSync(path.join(JS_DIR, d)).filter((f) => f.endsWith('.mjs')).map((f) => path.join(JS_DIR, d, f))),
    path.join(JS_DIR, 'package-lock.json'),
  ].sort();
  for (const f of files) h.update(f).update(fs.readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

export async function buildPage() {
  const dir = path.join(JS_DIR, 'node_modules', '.cache', 'qaport-browser', bundleInputsDigest());
  if (fs.existsSync(path.join(dir, 'page.js'))) return dir;
  const esbuild = require('esbuild');
  const staging = `${dir}.tmp-${process.pid}`;
  await esbuild.build({
    entryPoints: { page: path.join(HERE, 'page.mjs') },
    bundle: true,
    splitting: true, // each runtime package in its own chunk, loaded on demand as in a web app
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: staging,
    logLevel: 'error',
    // Node built-ins that some runtime packages mention behind environment checks are never reached in a page
    external: ['fs', 'path', 'os', 'perf_hooks', 'worker_threads', 'crypto', 'node:*'],
  });
  fs.writeFileSync(
    path.join(staging, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>qaport validation</title><link rel="icon" href="data:,"><script type="module" src="./page.js"></script>\n',
  );
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  try {
    fs.renameSync(staging, dir); // whole or not at all: a concurrent builder may have won the race
  } catch {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}

/** Peak RSS of every process of the Chromium tree (VmHWM, Linux), summed; null elsewhere. */
function chromiumPeakRss(rootPid) {
  try {
    let total = 0;
    let current = 0;
    for (const pid of processTree(rootPid)) {
      try {
        const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
        total += Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
        current += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
      } catch {
        // gone
      }
    }
    return { peak: total, current };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------

let onFatal = async () => {};

/**
 * The manifest's file entries under the model's directory, with paths relative to it (what the page
 * serves under /model/): the page checks every file it fetches against them with WebCrypto.
 */
function manifestEntries(manifestPath, modelDir) {
  const root = path.dirname(path.resolve(manifestPath));
  const doc = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const all = [...(doc.files ?? []), ...Object.values(doc.formats ?? {}).flatMap((f) => f.files ?? [])];
  const prefix = path.relative(root, modelDir).split(path.sep).join('/');
  const seen = new Map();
  for (const e of all) {
    if (typeof e?.path === 'string' && (prefix === '' || e.path.startsWith(`${prefix}/`))) {
      seen.set(e.path, { path: prefix === '' ? e.path : e.path.slice(prefix.length + 1), size: e.size, sha256: e.sha256 });
    }
  }
  return [...seen.values()];
}


async function main() {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const modelPath = path.resolve(args.model);
  if (!fs.existsSync(modelPath)) throw new Error(`model not found: ${modelPath}`);
  const consoleTail = [];
  const log = (line) => {
    process.stderr.write(`${line}\n`);
  };
  const pageLog = (line) => {
    consoleTail.push(line);
    if (consoleTail.length > CONSOLE_TAIL) consoleTail.shift();
    log(line);
  };

  const bundle = await buildPage();
  const mounts = {
    '/': bundle,
    '/model/': path.dirname(modelPath),
    '/wasm/tfjs/': path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')),
    '/wasm/ort/': path.join(JS_DIR, 'node_modules', 'onnxruntime-web', 'dist'),
  };
  if (args.tokenizer) mounts['/tokenizer.json'] = path.resolve(args.tokenizer);
  const server = await serve(mounts, { log });
  const chromium = await startChromium(args.browser, { log });
  onFatal = () => chromium.close();
  let crashed = null;
  const cleanup = async () => {
    await chromium.close();
    await server.close();
  };
  process.on('SIGTERM', () => cleanup().finally(() => process.exit(143)));

  const page = await chromium.browser.newPage();
  const blocked = await keepOnOrigin(page, server.origin, {
    onBlocked: (url) => pageLog(`browser runner: refused a request to another host: ${url}`),
  });
  page.on('console', (msg) => pageLog(`[page console.${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => pageLog(`[page error] ${oneLine(err)}`));
  page.on('error', (err) => {
    crashed = oneLine(err);
    pageLog(`[page crashed] ${crashed}`);
    process.stderr.write(`browser runner: the page crashed (${crashed}); console tail:\n${consoleTail.join('\n')}\n`);
    send({ event: 'error', error: `the page crashed: ${crashed}` });
    cleanup().finally(() => process.exit(1));
  });
  await page.goto(server.url, { waitUntil: 'load', timeout: 60_000 });
  await page.waitForFunction(() => globalThis.qaportPage !== undefined, { timeout: 60_000 });

  const call = async (op, req) => {
    if (blocked.length) throw blockedError(blocked);
    const reply = await page.evaluate((o, r) => globalThis.qaportPage.call(o, r), op, req);
    if (blocked.length) throw blockedError(blocked);
    if (!reply.ok) throw new Error(reply.error);
    const { ok: _ok, ...rest } = reply;
    return rest;
  };

  const ready = await call('load', {
    format: args.runtime,
    backend: args.backend,
    mainFile: path.basename(modelPath),
    entries: args.manifest ? manifestEntries(args.manifest, path.dirname(modelPath)) : null,
    outputMap: parsePairs(args.outputMap, '--output-map'),
    inputDtypes: parsePairs(args.inputDtypes, '--input-dtypes') ?? {},
    tokenizer: args.tokenizer ? '/tokenizer.json' : null,
    wasmPaths: { tfjs: `${server.origin}/wasm/tfjs/`, ort: `${server.origin}/wasm/ort/` },
  });
  send({
    event: 'ready',
    ...ready,
    load_ms: performance.now() - t0,
    page_load_ms: ready.load_ms,
    runtime: args.runtime,
    host: 'browser',
    versions: { node: process.versions.node, ...ready.versions, 'puppeteer-core': require('puppeteer-core/package.json').version },
    pid: process.pid,
    browser_pid: chromium.child.pid,
  });

  // Debug ops and QAPORT_NODE_FAULT (kind:N[:MODEL_SUFFIX], as js/node/runner.mjs reads it): a renderer
  // crash, or a page that never returns, on the N-th request; the bridge's crash and hang handling is tested
  // with them mid-validation.
  const crash = async () => {
    const cdp = await page.createCDPSession();
    await cdp.send('Page.crash'); // the renderer dies as on a real crash; the page's 'error' handler reports it
    return {};
  };
  const hang = () => page.evaluate(() => {
    for (;;);
  });
  const faults = parseFaults(process.env.QAPORT_NODE_FAULT, modelPath);
  let requests = 0;
  const injectFault = async () => {
    requests += 1;
    const fault = faults.find((f) => f.at === requests);
    if (!fault) return;
    log(`browser runner: fault injected by QAPORT_NODE_FAULT: ${fault.kind} on request ${requests}`);
    (fault.kind === 'crash' ? crash() : hang()).catch(() => {});
    await new Promise(() => {}); // no reply: the crash ends this runner, a hang is the bridge's to kill
  };

  const stats = async () => {
    const inPage = await call('stats', {});
    const rss = chromiumPeakRss(chromium.child.pid);
    return {
      ...inPage,
      rss_bytes: rss?.current ?? null,
      peak_rss_bytes: rss?.peak ?? null,
      peak_rss_source: 'VmHWM summed over the Chromium process tree',
      blocked_requests: blocked.length,
    };
  };

  serveLines({
    shutdown: cleanup,
    async handle(req) {
      try {
        await injectFault();
        if (req.op === 'stats') return await stats();
        if (req.op === 'infer' || req.op === 'answer') return await call(req.op, req);
        // debug ops: a request elsewhere, a renderer crash, a page that never returns
        if (req.op === '_fetch') return await page.evaluate((u) => fetch(u).then(() => ({}), (e) => ({ fetch_error: String(e) })), String(req.url));
        if (req.op === '_crash') return await crash();
        if (req.op === '_hang') return await hang();
        throw new Error(`unknown op ${JSON.stringify(req.op)}; ops: infer, answer, stats, shutdown`);
      } catch (err) {
        if (crashed) err.silent = true; // the crash handler reports and exits
        throw err;
      }
    },
  });
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  send({ event: 'error', error: oneLine(err) });
  process.exitCode = 1;
  onFatal().finally(() => process.exit(1));
});

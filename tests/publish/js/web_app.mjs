// Drive a web app built from the packed npm package in headless Chromium: serve its static directory on
// 127.0.0.1 (COOP/COEP, so wasm gets threads), open index.html, and call the app's window.qaportApp.
//
//   node tests/publish/js/web_app.mjs --browser CHROMIUM --public DIR --job JOB.json --out OUT.json
//
// JOB.json: { combos: [[runtime, quantized, backend], ...], items: [{question, context}], errors: [{ name,
// options, question?, context?, tamper? }] }. `tamper` names a file under model/ whose bytes the "server"
// flips for that case only (the page must refuse it with IntegrityError). Any request to another origin is
// blocked and reported: the app must work offline, from its own origin.

import fs from 'node:fs';

import { keepOnOrigin, startChromium } from '../../../js/browser/chromium.mjs';
import { serve } from '../../../js/browser/server.mjs';

const args = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
for (const k of ['browser', 'public', 'job', 'out']) if (!args[k]) throw new Error(`--${k} is required`);

const job = JSON.parse(fs.readFileSync(args.job, 'utf8'));
const log = (line) => process.stderr.write(`${line}\n`);
const server = await serve({ '/': args.public }, { log });
const chromium = await startChromium(args.browser, { log });
let offOrigin = [];
const requested = new Set();
let tamper = null;
let failure = null;
try {
  const page = await chromium.browser.newPage();
  offOrigin = await keepOnOrigin(page, server.origin, {
    serve: (req, url) => {
      requested.add(new URL(url, server.origin).pathname);
      if (!tamper || url !== `${server.origin}/model/${tamper}`) return false;
      const bytes = fs.readFileSync(`${args.public}/model/${tamper}`);
      bytes[bytes.length >> 1] ^= 0x01;
      req.respond({ status: 200, contentType: 'application/octet-stream', body: bytes, headers: { 'Cross-Origin-Resource-Policy': 'same-origin' } });
      return true;
    },
  });
  page.on('console', (msg) => log(`[page console.${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => {
    failure ??= `page error: ${err.message}`;
  });
  page.on('error', (err) => {
    failure ??= `the page crashed: ${err.message}`;
  });
  await page.goto(server.url, { waitUntil: 'load' });
  await page.waitForFunction(() => Boolean(globalThis.qaportApp), { timeout: 60_000 });
  const answers = await page.evaluate((combos, items) => globalThis.qaportApp.answerAll(combos, items), job.combos, job.items);
  const errors = {};
  for (const c of job.errors ?? []) {
    tamper = c.tamper ?? null;
    errors[c.name] = await page.evaluate((o, q, ctx) => globalThis.qaportApp.errorOf(o, q, ctx), c.options, c.question ?? null, c.context ?? null);
    tamper = null;
  }
  // the client keeps answering after the refusals
  const after = await page.evaluate((items) => globalThis.qaportApp.answerAll([['onnx', false, 'wasm']], items.slice(0, 1)), job.items);
  const isolated = await page.evaluate(() => globalThis.crossOriginIsolated);
  if (failure) throw new Error(failure);
  fs.writeFileSync(args.out, JSON.stringify({ answers, errors, after, isolated, offOrigin, requested: [...requested].sort() }));
} catch (err) {
  process.stderr.write(`web_app: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
} finally {
  await chromium.close();
  await server.close();
}

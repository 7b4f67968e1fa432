// Run an exported function of a browser-safe ES module inside a page of headless Chromium, for tests that
// prove the JavaScript core behaves in a browser exactly as in Node.js.
//
//   node tests/validate/js/in_browser.mjs --browser CHROMIUM --module /tests/qa_parity.mjs --fn runJob --job JOB.json --out OUT.json
//
// Served on 127.0.0.1 with COOP/COEP (js/browser/server.mjs): /js/ (qaport's js/ folder, raw: the core
// modules have no bare imports, so no bundler stands between the test and the shipped files) and /tests/
// (this folder). JOB.json's content is passed to the function as its one argument; its JSON result is
// written to OUT.json. A request to another host, a page error or a crash fails the run (exit 1).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { keepOnOrigin, startChromium } from '../../../js/browser/chromium.mjs';
import { serve } from '../../../js/browser/server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..', '..');

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const k of ['browser', 'module', 'fn', 'job', 'out']) if (!args[k]) throw new Error(`--${k} is required`);
  return args;
}

const args = parseArgs(process.argv.slice(2));
const page0 = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), 'qaport-page-'));
fs.writeFileSync(path.join(page0, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>qaport test</title>\n');
const log = (line) => process.stderr.write(`${line}\n`);
const server = await serve({ '/': page0, '/js/': path.join(ROOT, 'js'), '/tests/': HERE }, { log });
const chromium = await startChromium(args.browser, { log });
let failure = null;
try {
  const page = await chromium.browser.newPage();
  await keepOnOrigin(page, server.origin, { onBlocked: (url) => (failure ??= `the page requested another host: ${url}`) });
  page.on('console', (msg) => log(`[page console.${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => {
    failure ??= `page error: ${err.message}`;
  });
  page.on('error', (err) => {
    failure ??= `the page crashed: ${err.message}`;
  });
  await page.goto(server.url, { waitUntil: 'load' });
  const job = JSON.parse(fs.readFileSync(args.job, 'utf8'));
  const t0 = performance.now();
  const result = await page.evaluate(
    async (url, fn, input) => {
      const mod = await import(url);
      return { value: await mod[fn](input), userAgent: navigator.userAgent, isolated: globalThis.crossOriginIsolated };
    },
    `${server.origin}${args.module}`,
    args.fn,
    job,
  );
  if (failure) throw new Error(failure);
  fs.writeFileSync(args.out, JSON.stringify({ ...result, ms: performance.now() - t0 }));
} catch (err) {
  process.stderr.write(`in_browser: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
} finally {
  await chromium.close();
  await server.close();
  fs.rmSync(page0, { recursive: true, force: true });
}

// The headless proof of a built site (python -m publish.site DIR --check): serve it on 127.0.0.1 (COOP/COEP),
// open the demo in headless Chromium, pick the Super Bowl text, type the question, click Ask, read the
// highlighted answer; ask again from the keyboard (focus the question, Enter) at a 390 px wide viewport and
// measure horizontal overflow; ask a question too long for the window and read the message; open the proof
// page and count its rows and plots. Screenshots go to SITE/screenshots/. One JSON line on stdout.
//
//   node js/web/check.mjs --site SITE --browser CHROMIUM --job JOB.json
//   JOB.json: {"example": "super-bowl-50", "question": "...", "long_question": "..."}
//
// A request to another host, a page error or a page that never gets ready fails the run (exit 1).

import fs from 'node:fs';
import path from 'node:path';

import { keepOnOrigin, startChromium } from '../browser/chromium.mjs';
import { serve } from '../browser/server.mjs';

const READY_MS = 180_000;
const ANSWER_MS = 180_000;

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const k of ['site', 'browser', 'job']) if (!args[k]) throw new Error(`--${k} is required`);
  return args;
}

const args = parseArgs(process.argv.slice(2));
const site = path.resolve(args.site);
const job = JSON.parse(fs.readFileSync(args.job, 'utf8'));
const shots = path.join(site, 'screenshots');
fs.mkdirSync(shots, { recursive: true });
const log = (line) => process.stderr.write(`${line}\n`);
const server = await serve({ '/': site }, { log });
const chromium = await startChromium(args.browser, { log });
const failures = [];
const t0 = performance.now();

async function waitState(page, states, timeout) {
  await page.waitForFunction((s) => s.includes(document.body.dataset.state), { timeout, polling: 100 }, states);
  return page.evaluate(() => document.body.dataset.state);
}

const callsDone = (page) => page.evaluate(() => Number(document.body.dataset.calls ?? 0));

/** Submit the form (by clicking Ask, or by Enter in the focused question field) and wait for the new call. */
async function ask(page, question, how) {
  const before = await callsDone(page);
  await page.$eval('#question', (el) => {
    el.value = '';
  });
  if (question.length > 200) {
    // typing 5,000 characters key by key takes a minute; set the value, then use the keyboard to submit
    await page.$eval('#question', (el, q) => {
      el.value = q;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, question);
    await page.focus('#question');
  } else {
    await page.focus('#question');
    await page.keyboard.type(question);
  }
  if (how === 'enter') await page.keyboard.press('Enter');
  else await page.click('#ask');
  await page.waitForFunction((n) => Number(document.body.dataset.calls ?? 0) > n, { timeout: ANSWER_MS, polling: 100 }, before);
  return page.evaluate(() => ({
    state: document.body.dataset.state,
    mark: document.getElementById('answer-mark')?.textContent ?? null,
    answer: document.getElementById('verdict').dataset.answer ?? null,
    verdict: document.getElementById('verdict').textContent,
    score: Number(document.querySelector('#topk li .score')?.textContent ?? NaN),
    topk: [...document.querySelectorAll('#topk li .topk-text')].map((e) => e.textContent),
    error: document.getElementById('error').hidden ? '' : document.getElementById('error').textContent,
    activeElement: document.activeElement?.id ?? null,
  }));
}

let result;
try {
  const page = await chromium.browser.newPage();
  await page.setViewport({ width: 1024, height: 900 });
  await keepOnOrigin(page, server.origin, { onBlocked: (url) => failures.push(`the page requested another host: ${url}`) });
  page.on('console', (msg) => log(`[page console.${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => failures.push(`page error: ${err.message}`));
  page.on('error', (err) => failures.push(`the page crashed: ${err.message}`));

  await page.goto(server.url, { waitUntil: 'load' });
  const loaded = await waitState(page, ['ready', 'load-error'], READY_MS);
  if (loaded !== 'ready') throw new Error(`the demo did not load its model: ${await page.$eval('#error', (e) => e.textContent)}`);
  const info = await page.$$eval('#info dd', (dds) => Object.fromEntries(dds.map((d) => [d.dataset.key, d.textContent])));
  const crossOriginIsolated = await page.evaluate(() => globalThis.crossOriginIsolated);

  // 1. the mouse: pick the example, type the question, click Ask
  await page.select('#example', job.example);
  const clicked = await ask(page, job.question, 'click');
  await page.screenshot({ path: path.join(shots, 'demo.png'), fullPage: true });

  // 2. the keyboard, on a phone-wide viewport: focus the question, Enter submits the form
  await page.setViewport({ width: 390, height: 844 });
  const keyboard = await ask(page, job.question, 'enter');
  const narrow = await page.evaluate(() => ({ scroll_width: document.documentElement.scrollWidth, inner_width: window.innerWidth }));
  await page.screenshot({ path: path.join(shots, 'demo-narrow.png'), fullPage: true });

  // 3. a question too long for the window: a readable message, not a crash
  await page.setViewport({ width: 1024, height: 900 });
  const tooLong = await ask(page, job.long_question, 'enter');
  const afterError = await page.evaluate(() => ({ ask_enabled: !document.getElementById('ask').disabled }));

  // 4. the proof page
  await page.goto(`${server.url}proof.html`, { waitUntil: 'load' });
  const proofState = await waitState(page, ['ready', 'error'], 60_000);
  const proof = await page.evaluate(() => ({
    rows: document.querySelectorAll('#targets tbody tr[data-target]').length,
    plots: document.querySelectorAll('svg.logit-plot').length,
    figures: document.querySelectorAll('figure.plot').length,
    latency_charts: document.querySelectorAll('svg.latency-chart').length,
    verdict: document.getElementById('verdict-badge')?.textContent ?? null,
    not_run_reasons: [...document.querySelectorAll('tr[data-status="not_run"] .reason')].map((e) => e.textContent),
  }));
  await page.screenshot({ path: path.join(shots, 'proof.png'), fullPage: true });
  await page.setViewport({ width: 390, height: 844 });
  const proofNarrow = await page.evaluate(() => ({ scroll_width: document.documentElement.scrollWidth, inner_width: window.innerWidth }));

  result = {
    answer: { text: clicked.answer, mark: clicked.mark, score: clicked.score, topk: clicked.topk, state: clicked.state, error: clicked.error },
    keyboard_answer: keyboard.answer,
    keyboard: { state: keyboard.state, mark: keyboard.mark, focused_before_submit: 'question' },
    narrow,
    decode_error: { state: tooLong.state, message: tooLong.error, ask_enabled_after: afterError.ask_enabled },
    proof: { state: proofState, ...proof, narrow: proofNarrow },
    info,
    cross_origin_isolated: crossOriginIsolated,
    screenshots: ['demo.png', 'demo-narrow.png', 'proof.png'].map((f) => path.join(shots, f)),
    failures,
    seconds: (performance.now() - t0) / 1000,
  };
  if (clicked.mark !== clicked.answer) failures.push(`the highlighted text ${JSON.stringify(clicked.mark)} is not the answer ${JSON.stringify(clicked.answer)}`);
  if (failures.length) throw new Error(failures.join('; '));
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (err) {
  process.stderr.write(`check: ${err?.message ?? err}\n`);
  if (failures.length) process.stderr.write(`check: ${failures.join('; ')}\n`);
  process.exitCode = 1;
} finally {
  await chromium.close();
  await server.close();
}

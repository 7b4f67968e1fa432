// Fuzz what a caller passes to the npm client: random non-string, empty, huge and odd-Unicode arguments to
// predict, predictBatch and fromOptions (seeded: a failure replays with the same --seed). Every call must
// either answer (a well-formed Answer whose UTF-16 offsets slice its text out of the context) or throw one
// of the client's errors (QAError, DecodeError, IntegrityError): never a TypeError or RangeError from
// inside. The client keeps answering afterwards.
//
//   node tests/publish/js/client_fuzz.mjs --entry js/client/index.js --model DIR --seed 1 --cases 300 --out OUT.json

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
const seed = Number(args.seed ?? 1);
const cases = Number(args.cases ?? 300);
const client = await import(pathToFileURL(path.resolve(args.entry)).href);
const { QAClient, QAError, DecodeError, IntegrityError } = client;
const OURS = [QAError, DecodeError, IntegrityError];

function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(seed);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const int = (n) => Math.floor(rand() * n);

const ODD = [
  '\u0000', '\ud800', '\udfff', '\ufeff', '\u200b', '\u200d', '\u202e', '\u0301', '\uffff', '\ufffd', '👨‍👩‍👧', '🏳️‍🌈',
  'ǅ', 'ß', 'İ', 'ﬁ', '\u3000', '\t', '\r\n', '\u2028', 'Ω', 'अनुच्छेद', 'مرحبا', '漢字', '  ', '[CLS]', '[SEP]', '</s>', '<pad>',
];
const WORDS = ['Who', 'won', 'the', 'Tigers', 'Lions', 'Paris', '1999', 'Maria', 'founded', 'Northwind', 'Labs', 'in', 'what', '?', '.', ','];

function oddText(maxLen) {
  const n = int(maxLen + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += rand() < 0.3 ? pick(ODD) : `${pick(WORDS)} `;
  return s;
}

function junk() {
  return pick([
    undefined, null, 0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 10n, true, false, '', ' ', 'x', [], [1], {},
    { toString: () => 'boom' }, Symbol('s'), () => 'f', new Date(0), /re/, new Uint8Array(3), new Map(), Object.create(null),
  ]);
}

function text() {
  const r = rand();
  if (r < 0.15) return junk();
  if (r < 0.25) return '';
  if (r < 0.3) return oddText(20).repeat(2000); // huge: about 100,000 characters
  return oddText(40);
}

function predictOptions() {
  const r = rand();
  if (r < 0.4) return undefined;
  if (r < 0.5) return junk();
  const o = {};
  if (rand() < 0.6) o.topK = rand() < 0.5 ? 1 + int(6) : junk();
  if (rand() < 0.5) o.handleImpossibleAnswer = rand() < 0.5 ? rand() < 0.5 : junk();
  if (rand() < 0.1) o[pick(['topk', 'top_k', 'maxAnswerLen', '__proto__x'])] = 1;
  return o;
}

function clientOptions(modelDir) {
  const r = rand();
  if (r < 0.1) return junk();
  const o = { modelDir };
  const keys = ['runtime', 'quantized', 'backend', 'modelDir', 'maxBatchWindows', 'maxAnswerLen', 'maxLength', 'stride', 'unknownKey'];
  for (const k of keys) {
    if (rand() < 0.25) o[k] = pick([junk(), 'onnx', 'tfjs', 'savedmodel', 'wasm', 'cpu', 'tensorflow', 'webgl', true, false, 0, 1, 8, 64, 384, 512, -3, 1e9]);
  }
  return o;
}

function describe(value) {
  try {
    if (typeof value === 'string') return value.length > 60 ? `string(${value.length})` : JSON.stringify(value);
    if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') return String(typeof value);
    return JSON.stringify(value)?.slice(0, 80) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function checkAnswer(a, context, where) {
  if (Array.isArray(a)) {
    for (const x of a) checkAnswer(x, context, where);
    return;
  }
  const ok =
    // scores are summed over equal answers in several windows (as transformers' pipeline does): not capped at 1
    a && typeof a.text === 'string' && Number.isFinite(a.score) && a.score >= 0 &&
    Number.isInteger(a.start) && Number.isInteger(a.end) && a.start <= a.end &&
    Number.isInteger(a.startUtf16) && Number.isInteger(a.endUtf16) &&
    context.slice(a.startUtf16, a.endUtf16) === a.text && [...context].slice(a.start, a.end).join('') === a.text;
  if (!ok) throw new Error(`${where}: malformed answer ${JSON.stringify(a)?.slice(0, 200)}`);
}

const tally = { fromOptions: { tried: 0, answered: 0, refused: {} }, predict: { tried: 0, answered: 0, refused: {} }, predictBatch: { tried: 0, answered: 0, refused: {} } };
const failures = [];

async function attempt(api, detail, fn) {
  tally[api].tried++;
  try {
    await fn();
    tally[api].answered++;
  } catch (err) {
    if (OURS.some((k) => err instanceof k)) {
      tally[api].refused[err.name] = (tally[api].refused[err.name] ?? 0) + 1;
      if (typeof err.message !== 'string' || !err.message || err.message.includes('\n')) failures.push({ api, detail, error: `${err.name} without a one-line message` });
    } else {
      failures.push({ api, detail, error: `${err?.name ?? typeof err}: ${err?.message ?? String(err)}`.slice(0, 300) });
    }
  }
}

const modelDir = path.resolve(args.model);
const qa = await QAClient.fromOptions({ modelDir });
for (let i = 0; i < cases; i++) {
  const which = rand();
  if (which < 0.15) {
    const opts = clientOptions(modelDir);
    await attempt('fromOptions', describe(opts), async () => {
      const c = await QAClient.fromOptions(opts);
      await c.dispose();
    });
  } else if (which < 0.75) {
    const q = text();
    const c = text();
    const o = predictOptions();
    await attempt('predict', `q=${describe(q)} c=${describe(c)} o=${describe(o)}`, async () => checkAnswer(await qa.predict(q, c, o), c, 'predict'));
  } else {
    const items = rand() < 0.15 ? junk() : Array.from({ length: int(4) }, () => (rand() < 0.15 ? junk() : { question: text(), context: text() }));
    const o = predictOptions();
    await attempt('predictBatch', `${Array.isArray(items) ? `${items.length} items` : describe(items)} o=${describe(o)}`, async () => {
      const out = await qa.predictBatch(items, o);
      if (!Array.isArray(out) || out.length !== items.length) throw new Error('predictBatch returned the wrong number of answers');
      out.forEach((a, k) => checkAnswer(a, items[k].context, 'predictBatch'));
    });
  }
}
// still answering, and the same answer as a fresh client
const context = 'The Tigers beat the Lions 24-10 in Paris in 1999.';
const after = await qa.predict('Where did the Tigers play?', context);
const fresh = await QAClient.fromOptions({ modelDir });
const again = await fresh.predict('Where did the Tigers play?', context);
await fresh.dispose();
await qa.dispose();
const result = { seed, cases, tally, failures, after, again };
fs.writeFileSync(args.out, JSON.stringify(result));
for (const [api, t] of Object.entries(tally)) console.log(`${api}: ${t.tried} cases, ${t.answered} answered, refused ${JSON.stringify(t.refused)}`);
console.log(`failures: ${failures.length}`);

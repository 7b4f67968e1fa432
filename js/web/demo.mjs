// The demo page (index.html of a site built by python -m publish.site): ask a question about a text and see
// the answer highlighted, with its score, the top answers, the runtime it ran on and the time of each call.
// It is a plain web app on qaport's npm client (its browser entry), bundled by esbuild; the model, the
// runtimes' wasm files and site.json (the example texts and the model's options, written by publish/site.py)
// come from the site's own origin, by relative URLs.

import { DecodeError, IntegrityError, QAClient, QAError } from '../client/browser.js';

const TOP_K = 5;
const LOG_ROWS = 12;
const $ = (id) => document.getElementById(id);

const KIND_LABEL = { onnx: 'ONNX', tfjs: 'TF.js' };
const BACKEND_LABEL = { wasm: 'wasm', webgl: 'WebGL', webgpu: 'WebGPU', cpu: 'CPU' };
const BACKENDS = { onnx: ['wasm', 'webgpu'], tfjs: ['wasm', 'webgl', 'webgpu'] };

const state = {
  site: null,
  qa: null,
  choice: null, // {runtime, quantized, backend}
  tfjsBackend: null, // TF.js has one engine per page: the backend it was first set to
  loading: null,
  calls: 0,
  log: [],
};

function setState(value) {
  document.body.dataset.state = value;
}

function setStatus(text) {
  $('status').textContent = text;
}

function choiceKey({ runtime, quantized, backend }) {
  return `${runtime}:${quantized ? 'true' : 'false'}:${backend}`;
}

function parseKey(key) {
  const [runtime, quantized, backend] = key.split(':');
  return { runtime, quantized: quantized === 'true', backend };
}

/** The (runtime, quantized, backend) choices the model directory offers (its manifest's client_formats). */
function choicesOf(site) {
  const out = [];
  for (const { runtime, quantized, format, precision } of site.choices) {
    for (const backend of BACKENDS[runtime] ?? []) {
      const gpu = backend === 'webgpu' && !('gpu' in navigator);
      out.push({ runtime, quantized, backend, format, disabled: gpu, label: `${KIND_LABEL[runtime]} ${precision} · ${BACKEND_LABEL[backend]}${gpu ? ' (no WebGPU here)' : ''}` });
    }
  }
  return out;
}

function choiceFromUrl(choices) {
  const params = new URLSearchParams(location.search);
  const wanted = { runtime: params.get('runtime'), quantized: params.get('quantized') === 'true' || params.get('quantized') === '1', backend: params.get('backend') };
  return choices.find((c) => !c.disabled && c.runtime === wanted.runtime && c.quantized === wanted.quantized && c.backend === wanted.backend) ?? null;
}

/** A readable sentence for what went wrong, by the client's error classes. */
function explain(err) {
  const message = String(err?.message ?? err);
  if (err instanceof DecodeError) {
    if (/question is too long|leave room for context/.test(message)) {
      const window = state.qa?.info.fixedLength ?? state.site.max_length;
      return `This question is too long for the model's ${window}-token window: shorten the question. (${message})`;
    }
    return `This question and context cannot be answered: ${message}`;
  }
  if (err instanceof IntegrityError) return `A model file does not match its manifest (sha256): ${message}`;
  if (err instanceof QAError) return `The model cannot be used this way: ${message}`;
  return `Something went wrong: ${message}`;
}

function showError(text) {
  const box = $('error');
  box.textContent = text;
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

function renderInfo(qa, loadMs) {
  const info = qa.info;
  const rows = [
    ['runtime', info.runtimeId],
    ['backend', info.backend],
    ['format', `${info.format} (${info.precision})`],
    ['threads', info.threads ?? '—'],
    ['cross-origin isolated', info.crossOriginIsolated ? 'yes' : 'no (wasm runs on one thread)'],
    ['model', `${info.model ?? state.site.model} (${info.architecture ?? 'unknown architecture'})`],
    ['window', info.fixedLength ? `${info.fixedLength} tokens, fixed` : `${state.site.max_length} tokens, stride ${state.site.stride}`],
    ['versions', Object.entries(info.versions ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || '—'],
    ['load time', `${loadMs.toFixed(0)} ms`],
  ];
  const dl = $('info');
  dl.replaceChildren();
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = String(v);
    dd.dataset.key = k;
    dl.append(dt, dd);
  }
}

async function load(choice) {
  const previous = state.qa;
  state.qa = null;
  $('ask').disabled = true;
  setState('loading');
  clearError();
  const label = choicesOf(state.site).find((c) => choiceKey(c) === choiceKey(choice))?.label ?? choiceKey(choice);
  setStatus(`Loading ${label}…`);
  if (previous) await previous.dispose();
  const t0 = performance.now();
  try {
    const qa = await QAClient.fromOptions({ runtime: choice.runtime, quantized: choice.quantized, backend: choice.backend, modelUrl: 'model/', wasmPaths: 'qaport-wasm/' });
    if (choice.runtime === 'tfjs') state.tfjsBackend = choice.backend;
    state.qa = qa;
    state.choice = choice;
    renderInfo(qa, performance.now() - t0);
    setStatus(`Ready: ${qa.info.runtimeId} (${qa.info.backend}, ${qa.info.precision}).`);
    $('ask').disabled = false;
    setState('ready');
  } catch (err) {
    showError(explain(err));
    setStatus('The model did not load: pick another runtime.');
    setState('load-error');
  }
}

function onRuntimeChange() {
  const choice = parseKey($('runtime').value);
  const url = new URL(location.href);
  url.searchParams.set('runtime', choice.runtime);
  url.searchParams.set('quantized', String(choice.quantized));
  url.searchParams.set('backend', choice.backend);
  if (choice.runtime === 'tfjs' && state.tfjsBackend && state.tfjsBackend !== choice.backend) {
    // TF.js keeps one engine per page: another TF.js backend needs a fresh page
    setStatus(`Reloading the page to switch TF.js from ${state.tfjsBackend} to ${choice.backend}…`);
    location.assign(url.href);
    return;
  }
  history.replaceState(null, '', url.href);
  state.loading = load(choice);
}

/** The context with the answer in a <mark> (UTF-16 offsets index the JavaScript string). */
function renderContext(context, best) {
  const view = $('context-view');
  view.replaceChildren();
  if (!best || best.text === '') {
    view.textContent = context;
    return;
  }
  const mark = document.createElement('mark');
  mark.id = 'answer-mark';
  mark.textContent = context.slice(best.startUtf16, best.endUtf16);
  view.append(context.slice(0, best.startUtf16), mark, context.slice(best.endUtf16));
}

function renderTopK(list) {
  const ol = $('topk');
  ol.replaceChildren();
  for (const a of list) {
    const li = document.createElement('li');
    const text = document.createElement('span');
    text.className = 'topk-text';
    text.textContent = a.text === '' ? '(no answer)' : a.text;
    const score = document.createElement('span');
    score.className = 'score';
    score.textContent = a.score.toFixed(4);
    li.append(text, ' ', score);
    ol.append(li);
  }
}

function addLog(entry) {
  state.log.unshift(entry);
  state.log.length = Math.min(state.log.length, LOG_ROWS);
  const body = $('log').tBodies[0];
  body.replaceChildren();
  for (const e of state.log) {
    const tr = document.createElement('tr');
    for (const v of [e.n, e.question, e.answer, e.runtime, e.ms]) {
      const td = document.createElement('td');
      td.textContent = String(v);
      tr.append(td);
    }
    body.append(tr);
  }
}

function short(text, n = 60) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

async function ask(event) {
  event.preventDefault();
  if (!state.qa) return;
  const question = $('question').value.trim();
  const context = $('context').value;
  clearError();
  if (!question || !context.trim()) {
    showError(!question ? 'Type a question first.' : 'Paste or pick a context first.');
    (!question ? $('question') : $('context')).focus();
    return;
  }
  const qa = state.qa;
  const handleImpossibleAnswer = $('impossible').checked;
  $('ask').disabled = true;
  setState('asking');
  setStatus('Answering…');
  const n = ++state.calls;
  const t0 = performance.now();
  try {
    const answers = await qa.predict(question, context, { topK: TOP_K, handleImpossibleAnswer });
    const ms = performance.now() - t0;
    const list = Array.isArray(answers) ? answers : [answers];
    const best = list[0] ?? null;
    const verdict = $('verdict');
    verdict.replaceChildren();
    if (!best || best.text === '') {
      verdict.textContent = `No answer: the model says this text does not answer the question${best ? ` (score ${best.score.toFixed(4)})` : ''}.`;
      verdict.dataset.answer = '';
    } else {
      const strong = document.createElement('strong');
      strong.id = 'answer-text';
      strong.textContent = best.text;
      verdict.append(strong, ` · score ${best.score.toFixed(4)} · characters ${best.start}–${best.end}`);
      verdict.dataset.answer = best.text;
    }
    $('context-view-box').hidden = false;
    renderContext(context, best);
    renderTopK(list);
    addLog({ n, question: short(question), answer: best?.text === '' ? '(no answer)' : short(best?.text ?? ''), runtime: `${qa.info.runtimeId} ${qa.info.precision}`, ms: ms.toFixed(1) });
    setStatus(`Answered in ${ms.toFixed(1)} ms on ${qa.info.runtimeId} (${qa.info.backend}).`);
    setState('answered');
  } catch (err) {
    const ms = performance.now() - t0;
    showError(explain(err));
    $('verdict').textContent = 'No answer: see the message above.';
    $('verdict').dataset.answer = '';
    $('context-view-box').hidden = true;
    $('topk').replaceChildren();
    addLog({ n, question: short(question), answer: `(${err?.name ?? 'error'})`, runtime: `${qa.info.runtimeId} ${qa.info.precision}`, ms: ms.toFixed(1) });
    setStatus('That question could not be answered.');
    setState('error');
  } finally {
    $('ask').disabled = state.qa === null;
    document.body.dataset.calls = String(n); // a finished call: what a test (js/web/check.mjs) waits for
  }
}

function fillExample(site, id) {
  const ex = site.examples.find((e) => e.id === id);
  if (!ex) return;
  $('context').value = ex.context;
  $('question').value = ex.question;
  updateCount();
}

function updateCount() {
  const n = [...$('context').value].length;
  $('context-count').textContent = `(${n.toLocaleString('en')} characters)`;
}

async function main() {
  const response = await fetch('site.json');
  if (!response.ok) throw new Error(`site.json: HTTP ${response.status}`);
  const site = await response.json();
  state.site = site;
  document.title = `qaport demo: ${site.model}`;

  const exampleSelect = $('example');
  for (const ex of site.examples) exampleSelect.append(new Option(ex.title, ex.id));
  exampleSelect.append(new Option('Your own text (paste it below)', ''));
  exampleSelect.addEventListener('change', () => {
    if (exampleSelect.value) fillExample(site, exampleSelect.value);
    else {
      $('context').value = '';
      $('question').value = '';
      updateCount();
      $('context').focus();
    }
  });
  $('context').addEventListener('input', () => {
    updateCount();
    if (exampleSelect.value && $('context').value !== site.examples.find((e) => e.id === exampleSelect.value)?.context) exampleSelect.value = '';
  });
  if (site.examples.length) fillExample(site, site.examples[0].id);

  $('impossible').checked = Boolean(site.handle_impossible_answer);

  const choices = choicesOf(site);
  const runtimeSelect = $('runtime');
  for (const c of choices) {
    const option = new Option(c.label, choiceKey(c));
    option.disabled = c.disabled;
    runtimeSelect.append(option);
  }
  const first = choiceFromUrl(choices) ?? choices.find((c) => !c.disabled);
  if (!first) {
    showError('This model directory offers no format a browser can run (ONNX or TF.js).');
    setState('load-error');
    return;
  }
  runtimeSelect.value = choiceKey(first);
  runtimeSelect.addEventListener('change', onRuntimeChange);
  $('ask-form').addEventListener('submit', ask);
  state.loading = load(first);
  await state.loading;
}

main().catch((err) => {
  showError(`The demo could not start: ${err?.message ?? err}`);
  setState('load-error');
});

// The proof page (proof.html of a site built by python -m publish.site): report.json, as python -m validate
// wrote it (validate/report.py), rendered: the verdict, one row per target, a plot of each target's
// logit differences against the Keras reference on a log10 axis with its tolerance, and latency per runtime.
// Plain DOM and inline SVG: no framework, no CDN.

const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);
const STATUS_WORDS = { passed: 'passed', failed: 'failed', not_run: 'not run' };
const STATS = [
  ['median_abs_diff', 'median'],
  ['mean_abs_diff', 'mean'],
  ['p99_abs_diff', 'p99'],
  ['p999_abs_diff', 'p99.9'],
  ['max_abs_diff', 'max'],
];
const JUDGED = { max: 'max_abs_diff', p99: 'p99_abs_diff', p999: 'p999_abs_diff', mean: 'mean_abs_diff', median: 'median_abs_diff' };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

const num = (v, digits = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');
const p50 = (t, size, part) => t.latency?.[size]?.[part]?.p50_ms;

function sci(v) {
  if (v === 0) return '0';
  if (v >= 0.01 && v < 1000) return String(Number(v.toPrecision(2)));
  return v.toExponential(1).replace('e', 'e');
}

function renderVerdict(report) {
  const targets = report.targets ?? [];
  const passed = targets.filter((t) => t.status === 'passed').length;
  const notRun = targets.filter((t) => t.status === 'not_run').length;
  const box = $('verdict');
  box.replaceChildren();
  const badge = el('span', { class: `badge ${report.passed ? 'passed' : 'failed'}`, id: 'verdict-badge' }, report.passed ? 'PASSED' : 'FAILED');
  const questions = report.examples?.count ?? report.scored_examples ?? '?';
  box.append(
    el('p', {}, badge, ` ${passed} of ${targets.length} targets passed${notRun ? `, ${notRun} not run` : ''}.`),
    el(
      'p',
      {},
      `Model `,
      el('strong', {}, String(report.model ?? '?')),
      ` · ${questions} questions` + (report.scored_examples ? ` (${report.scored_examples} with gold answers)` : '') +
        (report.reference?.gold ? ` · Keras reference EM ${num(report.reference.gold.exact_match, 2)} / F1 ${num(report.reference.gold.f1, 2)}` : ''),
    ),
  );
  const sources = report.examples?.sources;
  if (sources) box.append(el('p', { class: 'hint' }, `Questions: ${Object.entries(sources).map(([k, v]) => `${k} ${v}`).join(', ')}.`));
  if (report.machine) box.append(el('p', { class: 'hint' }, `Machine: ${report.machine.platform ?? ''} · Python ${report.machine.python ?? ''}.`));
}

function renderTable(report) {
  const body = $('targets').tBodies[0];
  body.replaceChildren();
  for (const t of report.targets ?? []) {
    const tr = el('tr', { 'data-target': t.id, 'data-status': t.status });
    tr.append(el('td', {}, t.format ?? ''), el('td', {}, t.runtime ?? ''), el('td', {}, el('span', { class: `badge ${t.status}` }, STATUS_WORDS[t.status] ?? t.status)));
    if (t.status === 'not_run') {
      tr.append(el('td', { colspan: '4', class: 'reason' }, t.reason ?? 'not run (no reason recorded)'));
    } else {
      const a = t.answers ?? {};
      const gold = t.gold ? `${num(t.gold.exact_match, 2)} / ${num(t.gold.f1, 2)}` : '—';
      tr.append(
        el('td', {}, t.answers ? `${a.agree ?? 0} / ${a.tie ?? 0} / ${a.disagree ?? 0}` : '—'),
        el('td', {}, gold),
        el('td', {}, `${num(p50(t, 'short', 'model_call'))} / ${num(p50(t, 'long', 'model_call'))}`),
        el('td', {}, `${num(p50(t, 'short', 'end_to_end'))} / ${num(p50(t, 'long', 'end_to_end'))}`),
      );
      if (t.status === 'failed' && t.reason) tr.title = t.reason;
    }
    body.append(tr);
    if (t.status === 'failed' && t.reason) body.append(el('tr', { class: 'reason-row' }, el('td', { colspan: '7', class: 'reason' }, `${t.id}: ${t.reason}`)));
  }
}

/** The log10 range every plot shares: from a decade under the smallest non-zero value to a decade over the largest. */
function logRange(targets) {
  const values = [];
  for (const t of targets) {
    for (const side of ['start_logits', 'end_logits']) {
      const s = t.logits?.[side];
      if (!s) continue;
      for (const [k] of STATS) if (typeof s[k] === 'number') values.push(s[k]);
      if (typeof s.atol === 'number') values.push(s.atol);
    }
  }
  const positive = values.filter((v) => v > 0);
  if (!positive.length) return [-8, 0];
  const lo = Math.floor(Math.log10(Math.min(...positive))) - 1;
  const hi = Math.ceil(Math.log10(Math.max(...positive)) + 0.01);
  return [Math.max(lo, -12), Math.max(hi, lo + 2)];
}

function plotTarget(t, [lo, hi]) {
  const W = 560;
  const left = 60;
  const right = 14;
  const rowH = 36;
  const top = 14;
  const H = top + 2 * rowH + 26;
  const x = (v) => {
    const lv = v <= 0 ? lo : Math.min(Math.max(Math.log10(v), lo), hi);
    return left + ((lv - lo) / (hi - lo)) * (W - left - right);
  };
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'logit-plot', role: 'img', 'data-target': t.id });
  const desc = [];
  root.append(svg('title', {}, `${t.id}: absolute logit differences against Keras`));
  // decades
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d);
    root.append(svg('line', { x1: gx, x2: gx, y1: top - 4, y2: top + 2 * rowH, class: 'grid' }));
    const label = d === lo ? '0' : `1e${d}`;
    root.append(svg('text', { x: gx, y: H - 8, class: 'tick', 'text-anchor': 'middle' }, label));
  }
  ['start_logits', 'end_logits'].forEach((side, i) => {
    const s = t.logits?.[side];
    const cy = top + i * rowH + rowH / 2;
    root.append(svg('text', { x: left - 8, y: cy + 4, class: 'row-label', 'text-anchor': 'end' }, side === 'start_logits' ? 'start' : 'end'));
    if (!s) return;
    const points = STATS.filter(([k]) => typeof s[k] === 'number').map(([k, name]) => ({ k, name, v: s[k], px: x(s[k]) }));
    if (points.length) {
      root.append(svg('line', { x1: Math.min(...points.map((p) => p.px)), x2: Math.max(...points.map((p) => p.px)), y1: cy, y2: cy, class: 'strip' }));
    }
    const judged = JUDGED[s.judged_stat] ?? null;
    // points closer than a label's width share one label ("median/mean/p99"), alternately above and below
    const clusters = [];
    for (const p of [...points].sort((a, b) => a.px - b.px)) {
      const last = clusters[clusters.length - 1];
      if (last && p.px - last[last.length - 1].px < 26) last.push(p);
      else clusters.push([p]);
    }
    clusters.forEach((group, j) => {
      const cx = group.reduce((sum, p) => sum + p.px, 0) / group.length;
      const zero = group.every((p) => p.v === 0);
      const text = group.map((p) => p.name).join('/') + (zero ? ' = 0' : '');
      root.append(svg('text', { x: Math.max(cx, left + 4), y: cy + (j % 2 ? 13 : -7), class: 'q-label', 'text-anchor': cx < left + 30 ? 'start' : 'middle' }, text));
    });
    for (const p of points) {
      root.append(svg('circle', { cx: p.px, cy, r: 3.5, class: `q q-${p.name.replace('.', '')}` }, null));
      if (p.k === judged) root.append(svg('circle', { cx: p.px, cy, r: 7, class: 'judged' }));
      desc.push(`${side === 'start_logits' ? 'start' : 'end'} ${p.name} ${sci(p.v)}`);
    }
    if (typeof s.atol === 'number') {
      const ax = x(s.atol);
      root.append(svg('line', { x1: ax, x2: ax, y1: cy - rowH / 2 + 2, y2: cy + rowH / 2 - 2, class: 'atol' }));
      root.append(svg('text', { x: ax + 3, y: cy - rowH / 2 + 9, class: 'atol-label' }, `tol ${sci(s.atol)}`));
      desc.push(`${side === 'start_logits' ? 'start' : 'end'} tolerance ${sci(s.atol)}`);
    }
  });
  root.append(svg('desc', {}, desc.join('; ')));
  root.setAttribute('aria-label', `${t.id}: ${desc.join('; ')}`);
  return root;
}

function renderPlots(report) {
  const targets = (report.targets ?? []).filter((t) => t.logits && (t.logits.start_logits || t.logits.end_logits));
  const range = logRange(targets);
  const box = $('plots');
  box.replaceChildren();
  for (const t of report.targets ?? []) {
    const fig = el('figure', { class: 'plot', 'data-target': t.id });
    const caption = el('figcaption', {}, el('strong', {}, t.id), ` · ${t.precision ?? ''} · `, el('span', { class: `badge ${t.status}` }, STATUS_WORDS[t.status] ?? t.status));
    fig.append(caption);
    if (targets.includes(t)) {
      const s = t.logits.start_logits ?? t.logits.end_logits;
      fig.append(plotTarget(t, range));
      if (s?.judged_stat) {
        const worst = Math.max(...['start_logits', 'end_logits'].map((k) => t.logits[k]?.[JUDGED[t.logits[k]?.judged_stat]] ?? 0));
        const atol = s.atol;
        fig.append(el('p', { class: 'hint' }, `judged on ${s.judged_stat}: ${sci(worst)} against a tolerance of ${sci(atol)}` + (worst > 0 && atol ? ` (${(atol / worst).toFixed(atol / worst >= 10 ? 0 : 1)}x under)` : worst === 0 ? ' (identical)' : '')));
      }
    } else {
      fig.append(el('p', { class: 'reason' }, t.status === 'not_run' ? `Not run: ${t.reason ?? 'no reason recorded'}` : 'No logits were compared for this target.'));
    }
    box.append(fig);
  }
}

function renderLatency(report) {
  const rows = [];
  const add = (id, t, software) => {
    const model = p50(t, 'short', 'model_call');
    const e2e = p50(t, 'short', 'end_to_end');
    if (typeof model === 'number' || typeof e2e === 'number') rows.push({ id, model, e2e, software });
  };
  if (report.reference) add(`${report.reference.id ?? 'keras'} (reference)`, report.reference, false);
  for (const t of report.targets ?? []) add(t.id, t, Boolean(t.budget));
  const box = $('latency');
  box.replaceChildren();
  if (!rows.length) {
    box.append(el('p', {}, 'No latency was measured.'));
    return;
  }
  const values = rows.flatMap((r) => [r.model, r.e2e]).filter((v) => typeof v === 'number' && v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.max(Math.ceil(Math.log10(Math.max(...values))), lo + 1);
  const W = 560;
  const left = 210;
  const right = 60;
  const barH = 8;
  const rowH = 24;
  const top = 8;
  const H = top + rows.length * rowH + 30;
  const x = (v) => left + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (W - left - right);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'latency-chart', role: 'img', 'aria-label': 'median latency per runtime, short text, log scale' });
  root.append(svg('title', {}, 'Median latency of a short text per target, model call and end to end (log scale, ms)'));
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d);
    root.append(svg('line', { x1: gx, x2: gx, y1: top, y2: top + rows.length * rowH, class: 'grid' }));
    root.append(svg('text', { x: gx, y: H - 14, class: 'tick', 'text-anchor': 'middle' }, `${10 ** d >= 1 ? 10 ** d : (10 ** d).toPrecision(1)} ms`));
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    root.append(svg('text', { x: left - 6, y: y + rowH / 2 + 4, class: `row-label${r.software ? ' software' : ''}`, 'text-anchor': 'end' }, r.software ? `${r.id} *` : r.id));
    [
      ['model', r.model, 3],
      ['e2e', r.e2e, 3 + barH + 1],
    ].forEach(([kind, v, dy]) => {
      if (typeof v !== 'number') return;
      root.append(svg('rect', { x: left, y: y + dy, width: Math.max(1, x(v) - left), height: barH, class: `bar bar-${kind}${r.software ? ' software' : ''}` }));
      root.append(svg('text', { x: x(v) + 3, y: y + dy + barH - 1, class: 'bar-label' }, num(v, v < 10 ? 2 : 1)));
    });
  });
  root.append(svg('rect', { x: left, y: H - 10, width: 10, height: 8, class: 'bar bar-model' }));
  root.append(svg('text', { x: left + 14, y: H - 3, class: 'tick' }, 'model call'));
  root.append(svg('rect', { x: left + 100, y: H - 10, width: 10, height: 8, class: 'bar bar-e2e' }));
  root.append(svg('text', { x: left + 114, y: H - 3, class: 'tick' }, 'end to end'));
  box.append(root);
  if (rows.some((r) => r.software)) box.append(el('p', { class: 'hint' }, '* software-rendered GPU backend: not representative of a GPU.'));
}

async function main() {
  const response = await fetch('report.json');
  if (!response.ok) throw new Error(`report.json: HTTP ${response.status}`);
  const report = await response.json();
  document.title = `qaport proof: ${report.model ?? 'model'} ${report.passed ? 'passed' : 'failed'}`;
  renderVerdict(report);
  renderTable(report);
  renderPlots(report);
  renderLatency(report);
  document.body.dataset.state = 'ready';
}

main().catch((err) => {
  $('verdict').textContent = `The report could not be shown: ${err?.message ?? err}`;
  document.body.dataset.state = 'error';
});

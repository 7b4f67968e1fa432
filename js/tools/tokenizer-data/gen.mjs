// Writes js/core/unicode-data.mjs, the Unicode tables js/core/tokenizer.mjs uses, measured from Python
// tokenizers rather than taken from the JavaScript engine (whose Unicode version differs):
//   cd js/tools/tokenizer-data && ../../../.nox/toolchain/bin/python probe.py \
//     && ../../../.nox/toolchain/bin/python probe_w.py && node gen.mjs ../../core/unicode-data.mjs
// probe.py / probe_w.py ask tokenizers about every code point; crate.json holds the canonical combining
// classes and compositions of unicode-normalization-alignments 0.1.12 (its src/tables.rs).
import { readFileSync, writeFileSync } from 'node:fs';
const probe = JSON.parse(readFileSync(new URL('./probe.json', import.meta.url), 'utf8'));
const crate = JSON.parse(readFileSync(new URL('./crate.json', import.meta.url), 'utf8'));
const b36 = (n) => (n < 0 ? '-' + (-n).toString(36) : n.toString(36));
function ranges(list) {
  const s = [...new Set(list)].sort((a, b) => a - b);
  const out = [];
  let pos = 0;
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    out.push(b36(s[i] - pos) + '.' + b36(j - i + 1));
    pos = s[j] + 1;
    i = j + 1;
  }
  return out.join(',');
}
const sets = {
  other: ranges(probe.other), mark: ranges(probe.mark), mn: ranges(probe.mn), punct: ranges(probe.punct),
  ws: ranges(probe.ws), L: ranges(probe.L), N: ranges(probe.N), S: ranges(probe.S_bytelevel), W: ranges(probe.W),
  numeric: ranges(probe.numeric),
};
// ccc runs
const ccc = Object.entries(crate.ccc).map(([c, k]) => [+c, k]).sort((a, b) => a[0] - b[0]);
const cccOut = [];
let last = 0;
for (let i = 0; i < ccc.length; ) {
  let j = i;
  while (j + 1 < ccc.length && ccc[j + 1][0] === ccc[j][0] + 1 && ccc[j + 1][1] === ccc[i][1]) j++;
  cccOut.push(`${b36(ccc[i][0] - last)}.${b36(j - i + 1)}.${b36(ccc[i][1])}`);
  last = ccc[j][0] + 1;
  i = j + 1;
}
const comp = crate.comp.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
let pa = 0;
const compOut = comp.map(([a, b, c]) => {
  const s = `${b36(a - pa)}.${b36(b)}.${b36(c)}`;
  pa = a;
  return s;
});
// lowercase runs: gap.count.step.delta
const lowSingle = [];
const lowerMulti = [];
for (const [c, seq] of Object.entries(probe.lower)) {
  if (seq.length === 1) lowSingle.push([+c, seq[0] - +c]);
  else lowerMulti.push([+c, seq]);
}
lowSingle.sort((a, b) => a[0] - b[0]);
const lowOut = [];
let pos = 0;
for (let i = 0; i < lowSingle.length; ) {
  const [c, d] = lowSingle[i];
  let step = i + 1 < lowSingle.length ? lowSingle[i + 1][0] - c : 1;
  if (step > 2) step = 1;
  let j = i;
  while (j + 1 < lowSingle.length && lowSingle[j + 1][0] === lowSingle[j][0] + step && lowSingle[j + 1][1] === d) j++;
  if (j === i) step = 1;
  lowOut.push(`${b36(c - pos)}.${b36(j - i + 1)}.${b36(step)}.${b36(d)}`);
  pos = lowSingle[j][0];
  i = j + 1;
}
// decomposition exceptions: where this engine's one-character NFD/NFKD differs from tokenizers' (Unicode 9.0)
const decompExceptions = { nfd: [], nfkd: [] };
for (const form of ['nfd', 'nfkd']) {
  const want = probe[form];
  for (let c = 0; c < 0x110000; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const js = Array.from(String.fromCodePoint(c).normalize(form.toUpperCase()), (x) => x.codePointAt(0));
    const py = want[c] || [c];
    if (js.length !== py.length || js.some((x, i) => x !== py[i])) decompExceptions[form].push([c, py]);
  }
}
console.error('exceptions', decompExceptions.nfd.length, decompExceptions.nfkd.length, 'lowerMulti', lowerMulti, 'lower runs', lowOut.length);
const data = {
  sets, ccc: cccOut.join(','), compose: compOut.join(','), lower: lowOut.join(','), lowerMulti, decompExceptions,
};
const text = `// Measured from Python tokenizers 0.22.2 over all code points (sets: base-36 "gap.length" ranges), combining
// classes and compositions from unicode-normalization-alignments 0.1.12 (Unicode 9.0), decomposition
// exceptions against Node 20 (ICU 78, Unicode 17.0). Regenerate rather than edit.
export const UNICODE_DATA = ${JSON.stringify(data)};
`;
const src = text;
writeFileSync(process.argv[2], src);
console.error('bytes', src.length, Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, v.length])));

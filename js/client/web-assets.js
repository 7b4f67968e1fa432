#!/usr/bin/env node
// qaport-web-assets: copy what the browser client fetches into a web app's static directory, so that the
// app serves everything from its own origin (no CDN):
//
//   npx qaport-web-assets public/                 -> public/model/ and public/qaport-wasm/{ort,tfjs}/
//   npx qaport-web-assets public/ --model-dir DIR (a qaport model directory other than this package's)
//
// The model files a browser can run (manifest.json, the tokenizer and config, ONNX and TF.js formats; not the
// SavedModel, which is Node.js only) are checked against their sha256 while copied, and the copy appears
// whole or not at all (written beside the destination, then renamed). The runtimes' wasm files are
// onnxruntime-web's (the default build's and the WebGPU build's) and @tensorflow/tfjs-backend-wasm's, from
// the versions this package depends on. QAClient.fromOptions() finds them at its defaults
// (modelUrl 'model/', wasmPaths 'qaport-wasm/'), relative to the page.

import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const PACKAGE_MODEL_DIR = fileURLToPath(new URL('../model/', import.meta.url));
const NODE_ONLY_FORMATS = ['savedmodel'];
// onnxruntime-web's default build loads the .jsep pair; its WebGPU build ('onnxruntime-web/webgpu') the .asyncify pair
const ORT_FILES = ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];
const TFJS_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
const USAGE = 'usage: qaport-web-assets DEST [--model-dir DIR]';

class AssetError extends Error {}

function parseArgs(argv) {
  const args = { dest: null, modelDir: PACKAGE_MODEL_DIR };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a === '--model-dir') {
      if (i + 1 >= argv.length) throw new AssetError(`--model-dir needs a directory; ${USAGE}`);
      args.modelDir = argv[++i];
    } else if (a.startsWith('-')) throw new AssetError(`unknown option ${a}; ${USAGE}`);
    else if (args.dest === null) args.dest = a;
    else throw new AssetError(`one destination only (got ${args.dest} and ${a}); ${USAGE}`);
  }
  if (args.dest === null) throw new AssetError(`no destination directory given; ${USAGE}`);
  return args;
}

function inside(root, rel) {
  const full = path.resolve(root, ...String(rel).split('/'));
  if (typeof rel !== 'string' || rel === '' || path.isAbsolute(rel) || !full.startsWith(path.resolve(root) + path.sep)) {
    throw new AssetError(`the manifest names ${JSON.stringify(rel)}, which is not a relative path inside ${root}; re-convert the model with qaport`);
  }
  return full;
}

function browserEntries(modelDir) {
  const file = path.join(modelDir, 'manifest.json');
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new AssetError(`cannot read ${file} (${err.code ?? err.message}); --model-dir must be a qaport model directory`);
  }
  if (manifest?.schema_version !== 1 || typeof manifest.formats !== 'object' || manifest.formats === null) {
    throw new AssetError(`${file} is not a qaport manifest (schema_version ${manifest?.schema_version}); expected 1`);
  }
  const formats = Object.entries(manifest.formats).filter(([name]) => !NODE_ONLY_FORMATS.includes(name));
  if (!formats.length) throw new AssetError(`${file} lists no format a browser can run (onnx or tfjs)`);
  const entries = [...(manifest.files ?? []), ...formats.flatMap(([, f]) => f.files ?? [])].filter((e) => !String(e.path).startsWith('npm/'));
  return { file, entries };
}

function copyVerified(modelDir, entry, out) {
  const data = fs.readFileSync(inside(modelDir, entry.path));
  const digest = createHash('sha256').update(data).digest('hex');
  if (data.length !== entry.size || digest !== entry.sha256) {
    throw new AssetError(`${entry.path} in ${modelDir} does not match its manifest checksum (sha256 ${digest}, expected ${entry.sha256}); reinstall the package or re-convert`);
  }
  const target = inside(out, entry.path);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, data);
}

function distDir(spec) {
  try {
    return path.dirname(require.resolve(spec));
  } catch {
    throw new AssetError(`${spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/')} is not installed; run npm install in your app`);
  }
}

export function copyAssets(dest, modelDir = PACKAGE_MODEL_DIR) {
  const root = path.resolve(dest);
  const { file, entries } = browserEntries(path.resolve(modelDir));
  fs.mkdirSync(root, { recursive: true });
  const staging = fs.mkdtempSync(path.join(root, '.qaport-assets-'));
  try {
    const model = path.join(staging, 'model');
    for (const entry of entries) copyVerified(path.resolve(modelDir), entry, model);
    fs.copyFileSync(file, path.join(model, 'manifest.json'));
    const ort = distDir('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm');
    const tfjs = distDir('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
    for (const [dir, names, sub] of [[ort, ORT_FILES, 'ort'], [tfjs, TFJS_FILES, 'tfjs']]) {
      fs.mkdirSync(path.join(staging, 'qaport-wasm', sub), { recursive: true });
      for (const name of names) fs.copyFileSync(path.join(dir, name), path.join(staging, 'qaport-wasm', sub, name));
    }
    const written = [];
    for (const name of ['model', 'qaport-wasm']) {
      const final = path.join(root, name);
      const old = path.join(staging, `old-${name}`);
      if (fs.existsSync(final)) fs.renameSync(final, old);
      fs.renameSync(path.join(staging, name), final);
      written.push(final);
    }
    return { files: entries.length + 1, written };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { dest, modelDir } = parseArgs(process.argv.slice(2));
    const { files, written } = copyAssets(dest, modelDir);
    console.log(`qaport-web-assets: ${files} model files (sha256 checked) and the runtimes' wasm files -> ${written.join(', ')}`);
  } catch (err) {
    if (!(err instanceof AssetError) && !err?.code) throw err;
    console.error(`ERROR: ${err.message}`);
    process.exit(2);
  }
}

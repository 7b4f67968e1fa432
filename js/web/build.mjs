// Bundle the demo and proof pages for publish/site.py: esbuild from js/node_modules, browser platform, ES
// modules with code splitting (each runtime package in its own chunk, loaded only when the page picks it).
//
//   node js/web/build.mjs --out DIR      -> DIR/assets/demo.js, DIR/assets/proof.js, DIR/assets/chunks/*
//
// The pages import qaport's npm client through its browser entry (js/client/browser.js), as a web app does.

import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));

const i = process.argv.indexOf('--out');
if (i < 0 || !process.argv[i + 1]) {
  process.stderr.write('usage: node js/web/build.mjs --out DIR\n');
  process.exit(2);
}
const out = path.resolve(process.argv[i + 1]);
const esbuild = require('esbuild');
try {
  await esbuild.build({
    entryPoints: { demo: path.join(HERE, 'demo.mjs'), proof: path.join(HERE, 'proof.mjs') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: path.join(out, 'assets'),
    chunkNames: 'chunks/[name]-[hash]',
    minify: true,
    legalComments: 'linked',
    logLevel: 'error',
    // Node built-ins that some runtime packages mention behind environment checks are never reached in a page
    external: ['fs', 'path', 'os', 'perf_hooks', 'worker_threads', 'crypto', 'node:*'],
  });
} catch (err) {
  process.stderr.write(`esbuild failed: ${String(err?.message ?? err).split('\n')[0]}\n`);
  process.exit(1);
}

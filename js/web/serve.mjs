// Serve a built qaport site (python -m publish.site DIR --serve) on 127.0.0.1 with the COOP/COEP headers
// that give the wasm runtimes their threads (js/browser/server.mjs), print its URL, and wait for Ctrl-C.
//
//   node js/web/serve.mjs SITE_DIR [--port N]

import fs from 'node:fs';
import path from 'node:path';

import { serve } from '../browser/server.mjs';

const site = process.argv[2];
if (!site || !fs.existsSync(path.join(site, 'index.html'))) {
  process.stderr.write(`usage: node js/web/serve.mjs SITE_DIR (a directory built by python -m publish.site)\n`);
  process.exit(2);
}
const server = await serve({ '/': path.resolve(site) });
process.stdout.write(`demo:  ${server.url}\nproof: ${server.url}proof.html\nserving ${path.resolve(site)} (Ctrl-C stops)\n`);
const stop = () => {
  setTimeout(() => process.exit(0), 500).unref(); // an open keep-alive connection must not hold the exit
  server.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

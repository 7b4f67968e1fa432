// A static file server for browser validation: 127.0.0.1 only, an ephemeral port, a fixed set of mounts,
// and the headers that make the page cross-origin isolated (COOP same-origin + COEP require-corp, CORP
// same-origin on every file), so that wasm runtimes get SharedArrayBuffer and their threads.
//
//   const server = await serve({ '/': dirA, '/model/': dirB, '/tokenizer.json': fileC });
//   server.url   -> 'http://127.0.0.1:PORT/'
//   await server.close();
//
// Paths are confined to their mount (no '..', no symlink leaving it); anything else is 404.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

export const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function resolveMount(mounts, urlPath) {
  // the longest mount prefix wins
  const keys = Object.keys(mounts).sort((a, b) => b.length - a.length);
  for (const prefix of keys) {
    const target = mounts[prefix];
    if (!prefix.endsWith('/')) {
      if (urlPath === prefix) return target;
      continue;
    }
    if (!urlPath.startsWith(prefix)) continue;
    const rel = urlPath.slice(prefix.length) || 'index.html';
    const root = fs.realpathSync(target);
    const full = path.resolve(root, ...rel.split('/'));
    if (full !== root && !full.startsWith(root + path.sep)) return null;
    let real;
    try {
      real = fs.realpathSync(full);
    } catch {
      return null;
    }
    if (real !== root && !real.startsWith(root + path.sep)) return null; // a symlink leaving the mount
    return real;
  }
  return null;
}

/** Serve `mounts` ({urlPrefix: directory} or {urlPath: file}) on 127.0.0.1. `log(line)` gets one line per miss. */
export function serve(mounts, { log = () => {} } = {}) {
  const server = http.createServer((req, res) => {
    let urlPath;
    try {
      urlPath = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = req.method === 'GET' || req.method === 'HEAD' ? resolveMount(mounts, urlPath) : null;
    let stat = null;
    try {
      stat = file ? fs.statSync(file) : null;
    } catch {
      stat = null;
    }
    if (!stat?.isFile()) {
      log(`server: 404 ${req.method} ${urlPath}`);
      res.writeHead(404, { 'Content-Type': 'text/plain', ...ISOLATION_HEADERS }).end('not found');
      return;
    }
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': stat.size,
      'Cache-Control': 'no-store',
      ...ISOLATION_HEADERS,
    });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}/`,
        origin: `http://127.0.0.1:${port}`,
        close: () => new Promise((done) => server.close(() => done())),
        server,
      });
    });
  });
}

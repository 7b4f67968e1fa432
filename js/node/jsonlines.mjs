// The JSON-lines side of the runners validate/node_bridge.py drives (js/node/runner.mjs in Node.js,
// js/browser/runner.mjs for a page of headless Chromium): stdout carries protocol lines only, one reply
// per request line, requests served one at a time and in order, every error a one-line reply.

import path from 'node:path';
import readline from 'node:readline';

/** Route console output to stderr (a library's chatter must not corrupt a reply) and leave quietly when
 * the parent closes our stdout. */
export function protocolStdout(name) {
  console.log = console.error;
  console.info = console.error;
  console.debug = console.error;
  process.stdout.on('error', (err) => {
    process.stderr.write(`${name}: stdout closed (${err.code ?? err.message}); exiting\n`);
    process.exit(err.code === 'EPIPE' ? 0 : 1);
  });
}

export function send(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

export function oneLine(err) {
  const text = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  return text.replace(/\s+/g, ' ').trim().slice(0, 2000) || 'unknown error';
}

/**
 * QAPORT_NODE_FAULT=KIND:N[:MODEL_SUFFIX][,...]: fail on the N-th request (1-based), only for a model whose
 * path ends with MODEL_SUFFIX when given. KIND `crash` or `hang`; what they do is the runner's.
 */
export function parseFaults(text, modelPath) {
  const faults = [];
  for (const spec of (text ?? '').split(',').filter(Boolean)) {
    const [kind, n, suffix] = spec.split(':');
    if (!['crash', 'hang'].includes(kind) || !(Number(n) >= 1)) {
      throw new Error(`QAPORT_NODE_FAULT entry "${spec}" must be crash|hang:N[:MODEL_SUFFIX]`);
    }
    if (!suffix || modelPath.split(path.sep).join('/').endsWith(suffix)) faults.push({ kind, at: Number(n) });
  }
  return faults;
}

/**
 * Serve requests from stdin: `handle(req)` -> reply fields (or throws: an `ok: false` reply); `shutdown()`
 * runs before the `shutdown` op's reply and the exit, and when stdin closes.
 */
export function serveLines({ handle, shutdown = async () => {} }) {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    if (!line.trim()) return;
    chain = chain.then(async () => {
      let req;
      try {
        req = JSON.parse(line);
      } catch (err) {
        send({ id: null, ok: false, error: `request is not JSON: ${oneLine(err)}` });
        return;
      }
      const id = req?.id ?? null;
      if (req?.op === 'shutdown') {
        await shutdown();
        process.stdout.write(`${JSON.stringify({ id, ok: true })}\n`, () => process.exit(0));
        await new Promise(() => {}); // exit happens in the write callback
      }
      try {
        send({ id, ok: true, ...(await handle(req)) });
      } catch (err) {
        if (err?.silent) return; // the runner has already reported (a crashed page)
        send({ id, ok: false, error: oneLine(err) });
      }
    });
  });
  rl.on('close', () => {
    chain.then(shutdown).then(() => process.exit(0));
  });
}

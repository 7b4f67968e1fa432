// Headless Chromium for qaport: started by us (not by puppeteer.launch, which detaches it into its own
// process group, so a kill of a hung runner would leave the browser behind) and driven over the DevTools
// protocol by puppeteer-core. js/browser/runner.mjs (validation) and the browser tests use it.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);


export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking', // else Chromium calls Google hosts at start, refused on a closed network
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--disable-extensions',
  '--disable-default-apps',
  '--mute-audio',
  '--enable-unsafe-swiftshader', // WebGL on the SwiftShader software renderer where there is no GPU
  '--enable-unsafe-webgpu', // WebGPU (a fallback adapter on SwiftShader)
  '--remote-debugging-port=0',
];

export async function startChromium(executable, { log }) {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qaport-chromium-'));
  const flags = [...CHROMIUM_FLAGS, `--user-data-dir=${userDir}`];
  if (process.getuid?.() === 0) flags.push('--no-sandbox'); // Chromium refuses to run as root with its sandbox
  const child = spawn(executable, [...flags, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const endpoint = await new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`Chromium (${executable}) printed no DevTools endpoint within 60 s`)), 60_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start Chromium ${executable}: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited at start (code ${code}, signal ${signal}): ${buffered.split('\n').slice(-5).join(' | ')}`));
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      buffered += chunk;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(buffered);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  child.removeAllListeners('exit');
  child.stderr.removeAllListeners('data');
  child.stderr.on('data', () => {}); // keep the pipe drained; Chromium's own chatter is not ours to report
  const puppeteer = require('puppeteer-core');
  const browser = await puppeteer.connect({ browserWSEndpoint: endpoint, defaultViewport: { width: 1024, height: 768 } });
  const close = async () => {
    try {
      await browser.close();
    } catch {
      // already gone
    }
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    }
    // Chromium's helper processes may still write to the profile for a moment after the browser is gone
    try {
      fs.rmSync(userDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (err) {
      process.stderr.write(`chromium: could not remove ${userDir} (${err.code ?? err.message})\n`);
    }
  };
  log(`browser runner: Chromium ${await browser.version()} (pid ${child.pid})`);
  return { browser, child, close };
}

/** The pids of a process and all its descendants, from Linux /proc (processes that end meanwhile drop out). */
export function processTree(rootPid) {
  const children = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch {
      // the process ended meanwhile
    }
  }
  const pids = [];
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop();
    pids.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return pids;
}

/**
 * Keep a page on its own origin: every request to another host is refused (the network here is closed,
 * and a web app built with qaport must not need one) and recorded. `onBlocked(url)` hears each refusal;
 * `serve(req)`, when given, answers same-origin requests itself (return true) or lets them through.
 * Returns the list of refused URLs, which the caller checks after each step.
 */
export async function keepOnOrigin(page, origin, { onBlocked = () => {}, serve = null } = {}) {
  const blocked = [];
  await page.setRequestInterception(true);
  page.on('request', async (req) => {
    const url = req.url();
    if (!(url.startsWith(`${origin}/`) || url.startsWith('data:') || url.startsWith('blob:'))) {
      blocked.push(url);
      onBlocked(url);
      req.abort('blockedbyclient');
      return;
    }
    if (serve && (await serve(req, url))) return;
    req.continue();
  });
  return blocked;
}

/** The error to throw when a page asked for another host. */
export function blockedError(blocked) {
  return new Error(`the page requested another host (refused): ${blocked.slice(0, 3).join(', ')}`);
}

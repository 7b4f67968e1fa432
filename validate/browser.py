"""Which Chromium the browser targets run in, and what to do when there is none.

Browser targets (``tfjs-webgl``, ``onnxruntime-web``, ...; qaport/registry.py) run in headless Chromium
driven by ``js/browser/runner.mjs``. The browser is found, in order: ``$QAPORT_CHROMIUM`` (any Chromium
or Chrome >= 120), then ``chromium``, ``chromium-browser``, ``google-chrome-stable``, ``google-chrome`` on
PATH. ``nox -s browser`` installs Debian's ``chromium`` where it can (as root, with apt-get); every nox
session that validates runs that step. Why this and not an npm package that ships Chromium
(``@sparticuz/chromium``, tried): docs/browser.md.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

BROWSER_ENV = "QAPORT_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
ADD_BROWSER = f"nox -s browser (as root: apt-get install -y chromium), or set {BROWSER_ENV}=/path/to/chromium"
BROWSER_PACKAGES = ("puppeteer-core", "esbuild")
WEB_PACKAGES = {
    "onnx": ("onnxruntime-web",),
    "tfjs": ("@tensorflow/tfjs-core", "@tensorflow/tfjs-converter"),
}
# A backend on a software renderer (SwiftShader) answers this many questions, spread over the set, and is
# timed on two short texts only (a long text is minutes there): the measurements are in docs/browser.md.
SOFTWARE_GPU_QUESTIONS = 30
SOFTWARE_GPU_LATENCY = {"warmup": 1, "runs_short": 2, "runs_long": 1, "short_examples": 2, "long_examples": 0}
WEB_BACKEND_PACKAGES = {
    "wasm": "@tensorflow/tfjs-backend-wasm",
    "webgl": "@tensorflow/tfjs-backend-webgl",
    "webgpu": "@tensorflow/tfjs-backend-webgpu",
    "cpu": "@tensorflow/tfjs-backend-cpu",
}


def find_chromium() -> Path | None:
    """The Chromium executable browser targets use, or None."""
    chosen = os.environ.get(BROWSER_ENV)
    if chosen:
        path = Path(chosen)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def browser_unavailable() -> str | None:
    """Why browser targets cannot run here (with the command that fixes it), or None."""
    chosen = os.environ.get(BROWSER_ENV)
    if find_chromium() is None:
        if chosen:
            return f"{BROWSER_ENV}={chosen} is not an executable file; point it at a Chromium binary, or unset it"
        return f"no Chromium found ({', '.join(CANDIDATES)} on PATH, or ${BROWSER_ENV}); add one: {ADD_BROWSER}"
    return None


def install() -> int:
    """``python -m validate.browser``: report the Chromium found, or install Debian's where this user can."""
    import subprocess
    import sys

    found = find_chromium()
    if found is not None:
        print(f"browser targets: Chromium at {found}")
        return 0
    chosen = os.environ.get(BROWSER_ENV)
    if chosen:
        print(f"browser targets will not run: {browser_unavailable()}", file=sys.stderr)
        return 0
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        why = "no apt-get here" if apt is None else "not root"
        print(
            f"browser targets will not run ({why}): install Chromium (Debian: apt-get install -y chromium) "
            f"or set {BROWSER_ENV}=/path/to/chromium; validation reports those targets as not run",
            file=sys.stderr,
        )
        return 0
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("browser targets: installing Debian's chromium (apt-get, about 30 s) ...")
    for cmd in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "--no-install-recommends", "chromium"]):
        proc = subprocess.run(cmd, env=env, check=False, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
            print(f"browser targets will not run: {' '.join(cmd)} failed ({tail})", file=sys.stderr)
            return 0
    print(f"browser targets: Chromium at {find_chromium()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(install())

"""Thin sessions over the project's own CLIs; every toolchain session shares one locked venv.

The venv lives in ``.nox/toolchain`` and is (re)installed only when requirements.lock changes, so
``nox -s convert validate`` installs once and later runs start in seconds.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".nox" / "toolchain"
LOCK = ROOT / "requirements.lock"
NODE_DIR = ROOT / "js"  # the one npm project: core, Node.js and browser hosts, the npm client
DEFAULT_DIR = "artifacts/default"

nox.options.default_venv_backend = "none"
nox.options.sessions = ["tests"]

ENV = {
    "TF_USE_LEGACY_KERAS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONHASHSEED": "0",
    "PYTHONPATH": str(ROOT),
}


def _python() -> Path:
    return VENV / "bin" / "python"


def toolchain(session: nox.Session) -> str:
    """Create or refresh the shared venv; a no-op when the lock is unchanged."""
    stamp = VENV / ".lock-sha256"
    want = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text() == want and _python().is_file():
        session.log(f"toolchain up to date ({VENV})")
        return str(_python())
    # run_install: these run under `nox --install-only` too, where session.run is skipped
    if not _python().is_file():
        session.run_install(sys.executable, "-m", "venv", str(VENV), external=True)
    session.run_install(str(_python()), "-m", "pip", "install", "--quiet", "-r", str(LOCK), external=True)
    stamp.write_text(want)
    return str(_python())


def node_packages(session: nox.Session) -> None:
    """``npm ci`` for the Node.js runners (only when package-lock.json changed), then tfjs-node's addon.

    Install scripts are skipped: tfjs-node's and onnxruntime-node's would download from hosts outside
    the npm registry (libtensorflow; CUDA providers). ``build_tfjs_node.py`` compiles tfjs-node's addon
    against the toolchain's tensorflow wheel instead; it returns at once when the addon is up to date.
    """
    lock = NODE_DIR / "package-lock.json"
    if not lock.is_file():
        return
    if shutil.which("npm") is None:
        session.warn("npm not found: Node.js runtimes will be reported as not_run")
        return
    stamp = NODE_DIR / "node_modules" / ".lock-sha256"
    want = hashlib.sha256(lock.read_bytes()).hexdigest()
    if not (stamp.is_file() and stamp.read_text() == want):
        env = {"ONNXRUNTIME_NODE_INSTALL": "skip", "ONNXRUNTIME_NODE_INSTALL_CUDA": "skip"}
        with session.chdir(NODE_DIR):
            session.run_install("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", external=True, env=env)
        stamp.write_text(want)
    session.run_install(toolchain(session), str(NODE_DIR / "node" / "build_tfjs_node.py"), external=True)
    browser_install(session)


def browser_install(session: nox.Session) -> None:
    """Chromium for the browser targets: the one found, or Debian's installed where this user can (root)."""
    session.run_install(toolchain(session), "-m", "validate.browser", external=True, env={"PYTHONPATH": str(ROOT)})


def run(session: nox.Session, *args: str) -> None:
    session.run(toolchain(session), *args, external=True, env={**os.environ, **ENV})


@nox.session(python=False)
def convert(session: nox.Session) -> None:
    """Convert a model (default: the embedded one) to every format: python -m convert."""
    run(session, "-m", "convert", *session.posargs)


@nox.session(python=False)
def validate(session: nox.Session) -> None:
    """Validate every format of an artifact directory: python -m validate DIR."""
    node_packages(session)
    run(session, "-m", "validate", *(session.posargs or [DEFAULT_DIR]))


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The test suite (unit, integration and slow tests)."""
    node_packages(session)
    run(session, "-m", "pytest", *session.posargs)


@nox.session(python=False)
def browser(session: nox.Session) -> None:
    """Add the browser the browser targets run in (Debian's chromium, as root), or say where one is."""
    browser_install(session)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """ruff and mypy on the project's own code."""
    run(session, "-m", "ruff", "check", ".")
    run(session, "-m", "ruff", "format", "--check", ".")
    run(session, "-m", "mypy")


@nox.session(python=False, name="train-default-model")
def train_default_model(session: nox.Session) -> None:
    """Rebuild the embedded default model (deterministic; --check compares with the committed one)."""
    run(session, "-m", "convert.train_default", *session.posargs)


@nox.session(python=False)
def package(session: nox.Session) -> None:
    """Build the npm package of a validated directory: python -m publish DIR [--name N] [--version V]."""
    run(session, "-m", "publish", *(session.posargs or [DEFAULT_DIR]))


@nox.session(python=False)
def release(session: nox.Session) -> None:
    """What CI runs on a version tag: convert, validate, the demo/proof site, package, npm publish --dry-run
    (posargs -> publish)."""
    node_packages(session)
    run(session, "-m", "convert", "--out", DEFAULT_DIR)
    run(session, "-m", "validate", DEFAULT_DIR)
    run(session, "-m", "publish.site", DEFAULT_DIR)  # the demo and proof pages (artifacts/default-site)
    run(session, "-m", "publish", DEFAULT_DIR, "--dry-run-publish", *session.posargs)


@nox.session(python=False)
def demo(session: nox.Session) -> None:
    """The demo and proof pages of a validated directory: build DIR-site and serve it on 127.0.0.1
    (``-- DIR --check``: answer the Super Bowl question in headless Chromium, as Python does)."""
    node_packages(session)
    run(session, "-m", "publish.site", *(session.posargs or [DEFAULT_DIR, "--serve"]))


@nox.session(python=False, name="bench-convert")
def bench_convert(session: nox.Session) -> None:
    """Conversion time and peak memory, default and full size, vs the targets (python -m bench.conversion)."""
    run(session, "-m", "bench.conversion", *session.posargs)


@nox.session(python=False)
def bench(session: nox.Session) -> None:
    """Side-by-side latency of every runtime vs the transformers pipeline (python -m bench)."""
    node_packages(session)
    run(session, "-m", "bench", *session.posargs)

"""Shared fixtures. Heavy ones (a converted default model) are built once per session."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m <args>`` the way a user does, from ``cwd``, with the project importable."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd or ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("ERROR")]


def copy_artifacts(src: Path, dst: Path) -> Path:
    """A private copy of a converted directory, without its report or npm tarball."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("report.*", "npm"))
    return dst


def resign(root: Path, rel: str) -> None:
    """Make the manifest agree with the (edited) file, as a buggy converter that wrote it would have."""
    doc = json.loads((root / "manifest.json").read_text())
    data = (root / rel).read_bytes()
    for entry in [*doc["files"], *(e for f in doc["formats"].values() for e in f["files"])]:
        if entry["path"] == rel:
            entry["size"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    (root / "manifest.json").write_text(json.dumps(doc))


@pytest.fixture(scope="session")
def word_tokenizer(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A small cased WordPiece tokenizer (tokenizers only, no TensorFlow)."""
    import string

    from tokenizers import BertWordPieceTokenizer, Tokenizer
    from tokenizers.processors import BertProcessing

    text = [
        "The Tigers defeated the Lions 24–10 to win the Northern Cup in Paris in 1999.",
        "Who won the cup? Where was the game played? When did it happen? How many fans came?",
        "Maria Lindqvist founded Northwind Labs in Rostock; 4,200 people attended the opening.",
    ] * 40
    tok = BertWordPieceTokenizer(lowercase=False, strip_accents=False)
    tok.train_from_iterator(text, vocab_size=400, initial_alphabet=list(string.ascii_letters + string.digits))
    tok.post_processor = BertProcessing(("[SEP]", tok.token_to_id("[SEP]")), ("[CLS]", tok.token_to_id("[CLS]")))
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tok.save(str(path))
    return Tokenizer.from_file(str(path))


@pytest.fixture(scope="session")
def default_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded default model converted to every format (once per test session)."""
    out = tmp_path_factory.mktemp("artifacts") / "default"
    proc = run_cli("convert", "--out", str(out), timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


# -- shared by the reliability tests of every package (formerly tests/test_reliability.py) --------------
NODE_DIR = ROOT / "js"  # the one npm project (qaport.javascript.JS_DIR)
HAVE_NODE = shutil.which("node") is not None and (NODE_DIR / "node_modules").is_dir()
HAVE_NPM = shutil.which("npm") is not None
needs_node = pytest.mark.skipif(not HAVE_NODE, reason="needs node on PATH and `npm ci` in js/")
needs_npm = pytest.mark.skipif(not (HAVE_NODE and HAVE_NPM), reason="needs node and npm on PATH")


# -- shared fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def artifacts(request: pytest.FixtureRequest) -> Path:
    """The embedded default model converted to every format (conftest's session fixture)."""
    src = os.environ.get("QAPORT_RELIABILITY_DIR")
    return Path(src) if src else Path(request.getfixturevalue("default_artifacts"))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha(p) for p in sorted(root.rglob("*")) if p.is_file()}


def passed_report(root: Path, *, write: bool = True) -> dict[str, Any]:
    """A report.json saying every target passed (packaging mechanics are under test, not validation)."""
    from publish.checks import SHIPPABLE

    doc = json.loads((root / "manifest.json").read_text())
    targets = [
        {
            "id": tid,
            "format": tid.split("@")[0],
            "runtime": tid.split("@")[1],
            "status": "passed",
            "answers": {"agree": 1, "tie": 0, "disagree": 0, "agreement": 1.0},
            "logits": {},
        }
        for fmt, tids in SHIPPABLE.items()
        if fmt in doc["formats"]
        for tid in tids
    ]
    report = {"schema_version": 1, "model": doc["source"].get("spec"), "passed": True, "targets": targets}
    if write:
        (root / "report.json").write_text(json.dumps(report))
    return report


def stage(root: Path, dest: Path, *, link_modules: bool) -> Path:
    """The npm package tree of ``root`` (as python -m publish stages it), runnable in place if linked."""
    from publish.contents import stage_package
    from qaport.manifest import load_manifest

    report = passed_report(root, write=False)
    stage_package(root, load_manifest(root), report, dest, "qaport-reliability", "0.0.0")
    if link_modules:  # the client's require() finds onnxruntime-node, tfjs and tokenizers here
        (dest / "node_modules").symlink_to(NODE_DIR / "node_modules", target_is_directory=True)
    return dest


@pytest.fixture(scope="module")
def package(artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stage(artifacts, tmp_path_factory.mktemp("pkg") / "package", link_modules=True)


def run_node(script: str, job: Any, cwd: Path, timeout: float = 600) -> Any:
    path = cwd / f"job-{os.getpid()}-{time.monotonic_ns()}.mjs"
    path.write_text(script)
    try:
        proc = subprocess.run(
            ["node", str(path)],
            input=json.dumps(job),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:
        path.unlink()
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])

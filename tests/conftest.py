"""Shared fixtures. Heavy ones (a converted default model) are built once per session."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

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

"""The corruption matrix (issue 26) for the npm package's model directory, through the packed Node.js client.

The package's model/manifest.json is damaged every way (tests/corruption.py: missing, empty, truncated,
invalid JSON, wrong shape, wrong-typed fields, garbage, UTF-16, a symlink leaving the directory, 40 MB), and
so is every file the client reads (tokenizer.json, the ONNX files, the TF.js model.json and shards): once as
it is (the manifest's sha256 must catch it) and once re-signed into the manifest (tests/conftest.py
``resign``: a buggy converter), so the damaged bytes reach the tokenizer or the runtime.

Expected for every case: ``QAClient.fromOptions`` (or the first ``predict``) throws ``IntegrityError`` or
``QAError`` with a one-line message naming the damaged file, never a ``TypeError`` or a runtime's own
error, and the client loads and answers from an intact directory afterwards, in the same process. Each case
is its own directory of hard links to the intact files with the damaged one written anew.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import needs_node, resign, run_node
from tests.corruption import SEED, announce, apply_damage, byte_damages, json_damages, sample

MANIFEST_FIELDS: list[tuple[Any, ...]] = [
    ("schema_version",),
    ("formats",),
    ("client_formats",),
    ("files",),
    ("files", 2),
    ("files", 2, "path"),
    ("files", 2, "size"),
    ("files", 2, "sha256"),
    ("formats", "onnx"),
    ("formats", "onnx", "files"),
    ("formats", "onnx", "files", 0),
    ("formats", "onnx", "files", 0, "sha256"),
    ("formats", "onnx", "main_file"),
    ("formats", "onnx", "output_names"),
    ("formats", "onnx", "signature"),
    ("client_formats", "onnx"),
    ("client_formats", "onnx", "false"),
]
MODEL_JSON_FIELDS: list[tuple[Any, ...]] = [
    ("modelTopology",),
    ("modelTopology", "node"),
    ("weightsManifest",),
    ("weightsManifest", 0, "paths"),
    ("weightsManifest", 0, "weights"),
    ("weightsManifest", 0, "weights", 0, "shape"),
]
# the file -> (runtime, quantized) that reads it
READERS = {
    "tokenizer.json": ("onnx", False),
    "onnx/model.onnx": ("onnx", False),
    "onnx/model_quantized.onnx": ("onnx", True),
    "tfjs/model.json": ("tfjs", False),
    "tfjs/group1-shard1of1.bin": ("tfjs", False),
    "tfjs-fp16/model.json": ("tfjs", True),
    "tfjs-fp16/group1-shard1of1.bin": ("tfjs", True),
}
SCRIPT = Path(__file__).parent / "js" / "package_matrix.mjs"


def cases(model: Path) -> list[tuple[str, str, Any, bool]]:
    """(file, damage, how, re-signed)."""
    out: list[tuple[str, str, Any, bool]] = []
    rng = random.Random(f"{SEED}:package:manifest.json")
    out += [
        ("manifest.json", n, h, False)
        for n, h in json_damages((model / "manifest.json").read_bytes(), MANIFEST_FIELDS, rng)
    ]
    for rel in READERS:
        rng = random.Random(f"{SEED}:package:{rel}")
        data = (model / rel).read_bytes()
        damages = list(
            json_damages(data, MODEL_JSON_FIELDS, rng) if rel.endswith("model.json") else byte_damages(data, rng)
        )
        out += [(rel, n, h, False) for n, h in damages if n in ("truncated-50%", "garbage", "missing")]
        out += [(rel, n, h, True) for n, h in damages if h is not None]
    return out


def _link_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, copy_function=os.link)


@pytest.mark.node
@needs_node
def test_every_damaged_package_file_is_an_integrity_or_qa_error_naming_it(package: Path, tmp_path: Path) -> None:
    model = package / "model"
    every = cases(model)
    picked = sample(every, "npm client", default=30)
    outside = tmp_path / "outside.json"
    outside.write_text('{"note": "a file outside the model directory"}')
    jobs = []
    for i, (rel, _name, how, signed) in enumerate(picked):
        d = tmp_path / f"case-{i}"
        _link_tree(model, d)
        (d / "manifest.json").unlink()
        shutil.copyfile(model / "manifest.json", d / "manifest.json")  # resign rewrites it: not a link
        apply_damage(d / rel, how, outside)
        if signed:
            resign(d, rel)
        runtime, quantized = READERS.get(rel, ("onnx", False))
        jobs.append({"id": i, "dir": str(d), "runtime": runtime, "quantized": quantized})
    start = time.perf_counter()
    (package / "package_matrix.mjs").write_text(SCRIPT.read_text())
    try:
        out = run_node('import "./package_matrix.mjs";\n', {"cases": jobs, "intact": str(model)}, package, timeout=900)
    finally:
        (package / "package_matrix.mjs").unlink()
    tried: Counter[str] = Counter()
    names: Counter[str] = Counter()
    failures = []
    shown: dict[str, str] = {}  # one message per file, printed: what a user of the package reads
    for (rel, name, _, signed), res in zip(picked, out["results"], strict=True):
        case = f"{rel} {name}{' re-signed' if signed else ''}"
        tried[rel] += 1
        names[res.get("name", "answered")] += 1
        shown.setdefault(f"{rel}{' re-signed' if signed else ''}", f"{name}: {res.get('name')}: {res.get('message')}")
        if res["ok"]:
            failures.append(f"{case}: loaded and answered {res['text']!r}")
        elif res["name"] not in ("IntegrityError", "QAError"):
            failures.append(f"{case}: {res['name']}: {res['message'][:300]}")
        elif "\n" in res["message"] or rel not in res["message"]:
            failures.append(f"{case}: the message is not one line naming {rel}: {res['message'][:300]!r}")
    detail = f"({dict(tried)}; {dict(names)}; {time.perf_counter() - start:.0f} s)"
    announce("npm client", len(picked), len(every), detail)
    for what, message in shown.items():
        print(f"  {what}: {message[:240]}")
    assert out["intact"]["ok"] and out["intact"]["text"], out["intact"]
    assert not failures, f"{len(failures)} of {len(picked)} cases failed:\n" + "\n".join(failures)

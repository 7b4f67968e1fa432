"""The corruption matrix (issue 26) for an artifact directory's model files through ``python -m validate``.

The manifest's sha256 check already refuses a modified file. Here each damage is re-signed into the
manifest (tests/conftest.py ``resign``), as a buggy converter would have written it, so the damaged bytes
reach the runtime. Every model file of four formats (onnx, onnx-int8, tfjs, savedmodel) is damaged every
way (tests/corruption.py; tfjs/model.json also as JSON: invalid, wrong shape, wrong-typed fields).

Expected for every case but those in ``ACCEPTED`` (which must pass, and say why): validation ends (no
hang: ``--node-timeout`` and the test's own timeout), exits 1, prints no traceback, and report.json fails
exactly the damaged format's target with a reason naming the format's file or folder, while the intact
formats of the same run pass. Cases run in rounds: each round
damages one file in three formats and keeps the fourth intact as the control, rotating the control.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import copy_artifacts, resign, run_cli
from tests.corruption import FULL, ONLY, SEED, announce, apply_damage, byte_damages, json_damages, sample

TARGETS = {
    "onnx": "onnx@onnxruntime",
    "onnx-int8": "onnx-int8@onnxruntime",
    "tfjs": "tfjs@tfjs-wasm",
    "savedmodel": "savedmodel@tensorflow",
}
# (file, damage) -> why the format still passes: validation proves its logits, so these are not failures
ACCEPTED = {
    ("tfjs/model.json", "wrong-type:format"): "TF.js builds the graph from modelTopology whatever 'format' says",
    ("tfjs/model.json", "wrong-type:signature"): (
        "TF.js falls back to the graph's node names (Identity, Identity_1) when the signature is unusable, "
        "and qaport maps outputs by the manifest's output_names"
    ),
}
MODEL_JSON_FIELDS: list[tuple[Any, ...]] = [
    ("format",),
    ("modelTopology",),
    ("modelTopology", "node"),
    ("modelTopology", "node", 0),
    ("signature",),
    ("weightsManifest",),
    ("weightsManifest", 0),
    ("weightsManifest", 0, "paths"),
    ("weightsManifest", 0, "weights"),
    ("weightsManifest", 0, "weights", 0, "shape"),
    ("weightsManifest", 0, "weights", 0, "dtype"),
]


def files_of(root: Path) -> dict[str, list[str]]:
    doc = json.loads((root / "manifest.json").read_text())
    return {fmt: [e["path"] for e in doc["formats"][fmt]["files"]] for fmt in TARGETS}


def cases(root: Path) -> dict[str, list[tuple[str, str, Any]]]:
    out: dict[str, list[tuple[str, str, Any]]] = {}
    for fmt, rels in files_of(root).items():
        out[fmt] = []
        for rel in rels:
            if rel.endswith(("fingerprint.pb", "keras_metadata.pb")) or "/assets/" in rel:
                continue  # not read when the model loads (fingerprint.pb is a cache key by design)
            rng = random.Random(f"{SEED}:model-files:{rel}")
            data = (root / rel).read_bytes()
            damages = json_damages(data, MODEL_JSON_FIELDS, rng) if rel.endswith(".json") else byte_damages(data, rng)
            out[fmt] += [(rel, name, how) for name, how in damages]
    return out


def rounds(per_format: dict[str, list[tuple[str, str, Any]]]) -> list[dict[str, tuple[str, str, Any]]]:
    """Each round: one case for three formats, the fourth (rotating) left intact as the control; when
    fewer formats have cases left, the others are the controls."""
    queues = {fmt: list(c) for fmt, c in per_format.items()}
    out: list[dict[str, tuple[str, str, Any]]] = []
    formats = list(TARGETS)
    while any(queues.values()):
        control = formats[len(out) % len(formats)]
        damaged = {fmt: q.pop(0) for fmt, q in queues.items() if q and fmt != control}
        # only the control has cases left: damage it; the formats with none left are the controls then
        out.append(damaged or {control: queues[control].pop(0)})
    return out


@pytest.mark.tf
@pytest.mark.node
def test_every_damaged_model_file_fails_its_format_alone_with_a_reason(artifacts: Path, tmp_path: Path) -> None:
    pristine = copy_artifacts(artifacts, tmp_path / "pristine")
    per_format = cases(pristine)
    every = rounds(per_format)
    # CI's sample draws from the runs that damage three formats (the late runs have only tfjs files left)
    pool = every if FULL or ONLY else [r for r in every if len(r) == len(TARGETS) - 1]
    picked = sample(pool, "validate model files", default=1)
    outside = tmp_path / "outside.bin"
    outside.write_bytes(random.Random(SEED).randbytes(4096))
    tried: Counter[str] = Counter()
    failures = []
    start = time.perf_counter()
    for n_run, damaged in enumerate(picked, start=1):
        root = tmp_path / "art"
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(pristine, root)
        for rel, _, how in damaged.values():
            apply_damage(root / rel, how, outside)
            if how is not None:
                resign(root, rel)
        only = [arg for t in TARGETS.values() for arg in ("--only", t)]
        proc = run_cli(
            "validate",
            str(root),
            *only,
            *("--limit", "1", "--warmup", "0", "--runs-short", "1", "--runs-long", "1", "--node-timeout", "120"),
            timeout=900,
        )
        label = ", ".join(f"{rel} {name}" for rel, name, _ in damaged.values())
        tried.update(rel for rel, _, _ in damaged.values())
        print(f"  run {n_run}/{len(picked)}: [{label}] exit {proc.returncode}", flush=True)
        want_exit = 0 if all((rel, name) in ACCEPTED for rel, name, _ in damaged.values()) else 1
        if "Traceback" in proc.stderr or proc.returncode != want_exit:
            failures.append(f"[{label}]: exit {proc.returncode}, {proc.stderr.strip().splitlines()[-3:]}")
            continue
        report = json.loads((root / "report.json").read_text())
        by_id = {t["id"]: t for t in report["targets"]}
        for fmt, target in TARGETS.items():
            entry = by_id.get(target, {})
            if fmt not in damaged:
                if entry.get("status") != "passed":
                    failures.append(f"[{label}]: intact {target} {entry.get('status')}: {entry.get('reason')}")
                continue
            rel, name = damaged[fmt][:2]
            reason = str(entry.get("reason") or "")
            folder = rel.split("/")[0] + "/"
            if (rel, name) in ACCEPTED:
                if entry.get("status") != "passed":
                    failures.append(f"{rel} {name}: {target} {entry.get('status')} (expected passed: {reason})")
            elif entry.get("status") != "failed":
                failures.append(f"{rel} {name}: {target} {entry.get('status')} (expected failed)")
            elif folder not in reason:
                failures.append(f"{rel} {name}: {target}'s reason does not name {folder}: {reason[:300]}")
    n = sum(len(r) for r in picked)
    total = sum(len(c) for c in per_format.values())
    announce(
        "validate model files",
        n,
        total,
        f"in {len(picked)} of {len(every)} runs ({dict(tried)}; {time.perf_counter() - start:.0f} s)",
    )
    assert not failures, f"{len(failures)} problems in {len(picked)} runs:\n" + "\n".join(failures)

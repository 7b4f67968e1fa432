"""python -m publish.site: the demo and proof pages as a static site, and the headless check of the demo.

The slow test builds the site of the session's converted default model (with a validation report written
here: the pages' rendering is under test, not validation) and runs ``--check``: headless Chromium answers the
Super Bowl question through qaport's browser client exactly as Python's onnxruntime does, from the mouse and
from the keyboard, at 1024 and 390 px, shows a readable message for a question too long for the window, and
renders the proof page: one row and one plot per target.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import copy_artifacts, error_lines, needs_node, run_cli, tree
from validate.browser import browser_unavailable

PNG = b"\x89PNG\r\n\x1a\n"


def _stats(atol: float, scale: float) -> dict[str, Any]:
    values = {"median_abs_diff": 0.05, "mean_abs_diff": 0.07, "p99_abs_diff": 0.3, "p999_abs_diff": 0.5}
    values = {k: v * scale for k, v in values.items()}
    values["max_abs_diff"] = 0.9 * scale
    return {**values, "max_rel_diff": 1.0, "tokens": 1000, "non_finite": 0, "atol": atol, "judged_stat": "max"}


def _latency(short_ms: float) -> dict[str, Any]:
    part = {"runs": 5, "p50_ms": short_ms, "p95_ms": short_ms * 1.2, "min_ms": short_ms * 0.9, "mean_ms": short_ms}
    longer = {k: (v * 8 if k != "runs" else 3) for k, v in part.items()}
    return {
        "short": {"model_call": part, "end_to_end": {**part, "p50_ms": short_ms * 1.3}},
        "long": {"model_call": longer},
    }


def _report(manifest: dict[str, Any]) -> dict[str, Any]:
    """A report.json in validate/report.py's schema: passed targets with logits and latency, a float32
    target whose logits are identical (zeros on the plot's floor) and one target not run, with its reason."""
    plan = [
        ("onnx", "onnxruntime", "float32", 1e-4, 1e-5),
        ("onnx", "onnxruntime-web", "float32", 1e-4, 0.0),
        ("onnx-int8", "onnxruntime-web", "int8", 0.5, 0.8),
        ("tfjs", "tfjs-wasm-web", "float32", 1e-4, 2e-5),
        ("tfjs-fp16", "tfjs-webgl", "float16", 0.02, 0.01),
    ]
    targets: list[dict[str, Any]] = [
        {
            "id": f"{fmt}@{runtime}",
            "format": fmt,
            "runtime": runtime,
            "precision": precision,
            "status": "passed",
            "latency": _latency(5.0 + i * 7),
            "logits": {"start_logits": _stats(atol, scale), "end_logits": _stats(atol, scale * 0.8)},
            "answers": {"agree": 9, "tie": 1, "disagree": 0, "agreement": 1.0},
            "gold": {"exact_match": 90.0, "f1": 93.5, "count": 10},
        }
        for i, (fmt, runtime, precision, atol, scale) in enumerate(plan)
        if fmt in manifest["formats"]
    ]
    targets.append(
        {
            "id": "tfjs@tfjs-webgpu",
            "format": "tfjs",
            "runtime": "tfjs-webgpu",
            "precision": "float32",
            "status": "not_run",
            "reason": "no WebGPU adapter in this browser",
        }
    )
    return {
        "schema_version": 1,
        "model": "default",
        "passed": False,
        "examples": {"count": 10, "sources": {"held-out set": 9, "super bowl": 1}},
        "scored_examples": 10,
        "options": {"handle_impossible_answer": False},
        "reference": {"id": "keras@tf-keras", "gold": {"exact_match": 90.0, "f1": 93.5}, "latency": _latency(4.0)},
        "targets": targets,
    }


@pytest.fixture(scope="module")
def validated(default_artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's converted default model with a report.json (the shared directory stays as it was)."""
    src = copy_artifacts(default_artifacts, tmp_path_factory.mktemp("site-src") / "default")
    manifest = json.loads((src / "manifest.json").read_text())
    (src / "report.json").write_text(json.dumps(_report(manifest)))
    return src


@pytest.mark.tf
@pytest.mark.node
@pytest.mark.slow
@needs_node
def test_site_builds_and_the_demo_answers_as_python_in_headless_chromium(validated: Path, tmp_path: Path) -> None:
    if browser_unavailable():  # fail, do not skip: a demo that cannot be checked is a missing feature
        pytest.fail(f"the site check needs Chromium: {browser_unavailable()}", pytrace=False)
    before = tree(validated)
    out = tmp_path / "site"
    proc = run_cli("publish.site", str(validated), "--out", str(out), "--check", timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "page answer:   'Denver Broncos'" in proc.stdout and "python answer: 'Denver Broncos'" in proc.stdout
    assert tree(validated) == before  # DIR keeps exactly its files

    # the static site: pages, bundles, model files a browser runs (no SavedModel), wasm, relative URLs only
    for rel in [
        "index.html",
        "proof.html",
        "site.css",
        "site.json",
        "report.json",
        "assets/demo.js",
        "assets/proof.js",
    ]:
        assert (out / rel).is_file(), rel
    assert (out / "model" / "manifest.json").read_bytes() == (validated / "manifest.json").read_bytes()
    assert (out / "model" / "onnx" / "model.onnx").is_file() and (out / "model" / "tfjs" / "model.json").is_file()
    assert not (out / "model" / "savedmodel").exists()
    assert sorted(p.name for p in (out / "qaport-wasm" / "tfjs").iterdir()) == [
        "tfjs-backend-wasm-simd.wasm",
        "tfjs-backend-wasm-threaded-simd.wasm",
        "tfjs-backend-wasm.wasm",
    ]
    # the default build's pair (wasm) and the WebGPU build's, as the npm package's qaport-web-assets copies them
    assert sorted(p.name for p in (out / "qaport-wasm" / "ort").iterdir()) == [
        f"ort-wasm-simd-threaded.{kind}.{ext}" for kind in ("asyncify", "jsep") for ext in ("mjs", "wasm")
    ]
    for page in ["index.html", "proof.html"]:
        html = (out / page).read_text()
        assert "http://" not in html and "https://" not in html and 'src="/' not in html and 'href="/' not in html
    site = json.loads((out / "site.json").read_text())
    assert site["handle_impossible_answer"] is False
    assert any(ex["id"] == "super-bowl-50" for ex in site["examples"]) and len(site["examples"]) >= 3

    result = json.loads((out / "screenshots" / "check.json").read_text())
    assert result["answer"]["text"] == result["python"]["text"] == "Denver Broncos"
    assert result["answer"]["mark"] == "Denver Broncos"  # the highlighted <mark> in the context
    assert abs(result["answer"]["score"] - result["python"]["score"]) < 1e-3  # shown with 4 decimals
    assert result["keyboard_answer"] == "Denver Broncos"  # focus + Enter submitted the form
    assert result["cross_origin_isolated"] is True and result["info"]["runtime"] == "onnxruntime-web"
    assert result["narrow"]["inner_width"] == 390
    assert result["narrow"]["scroll_width"] <= result["narrow"]["inner_width"]  # no sideways scroll on a phone
    assert result["proof"]["narrow"]["scroll_width"] <= result["proof"]["narrow"]["inner_width"]
    error = result["decode_error"]
    assert error["state"] == "error" and "too long" in error["message"] and "384-token window" in error["message"]
    assert error["ask_enabled_after"] is True  # the page still works after the error

    report = json.loads((validated / "report.json").read_text())
    assert result["proof"]["state"] == "ready"
    assert result["proof"]["rows"] == len(report["targets"])
    assert result["proof"]["figures"] == len(report["targets"])
    assert result["proof"]["plots"] == sum(1 for t in report["targets"] if t.get("logits"))
    assert result["proof"]["latency_charts"] == 1 and result["proof"]["verdict"] == "FAILED"
    assert result["proof"]["not_run_reasons"] == ["no WebGPU adapter in this browser"]

    for name in ["demo.png", "demo-narrow.png", "proof.png"]:
        shot = out / "screenshots" / name
        data = shot.read_bytes()
        assert str(shot) in proc.stdout and data[:8] == PNG and 20_000 < len(data) < 20_000_000, (name, len(data))
    assert result["failures"] == []

    inside = run_cli("publish.site", str(validated), "--out", str(validated / "site"), timeout=120)
    assert inside.returncode == 2 and len(error_lines(inside.stderr)) == 1 and "inside" in inside.stderr
    assert tree(validated) == before


@pytest.mark.parametrize("make", ["missing", "no-manifest", "file"])
def test_a_bad_dir_is_one_error_line_and_nothing_is_written(tmp_path: Path, make: str) -> None:
    src = tmp_path / "arts"
    if make == "no-manifest":
        src.mkdir()
        (src / "report.json").write_text("{}")
    elif make == "file":
        src.write_text("not a directory")
    out = tmp_path / "out-site"
    proc = run_cli("publish.site", str(src), "--out", str(out), timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = error_lines(proc.stderr)
    assert len(lines) == 1 and str(src) in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out-site")] == []  # no staging left behind


@pytest.mark.tf
@pytest.mark.parametrize("damage", ["missing", "[]", '{"targets": [1]}', "{'not json'"])
def test_a_bad_report_is_refused_as_publish_refuses_it(validated: Path, tmp_path: Path, damage: str) -> None:
    """The site reads report.json with publish's own reader: the same one-line refusals, nothing written."""
    src = copy_artifacts(validated, tmp_path / "arts")
    if damage == "missing":
        (src / "report.json").unlink(missing_ok=True)  # copy_artifacts may leave it out already
    else:
        (src / "report.json").write_text(damage)
    out = tmp_path / "out-site"
    proc = run_cli("publish.site", str(src), "--out", str(out), timeout=120)
    lines = error_lines(proc.stderr)
    assert proc.returncode == 2 and len(lines) == 1 and "report.json" in lines[0], proc.stderr
    assert "python -m validate" in lines[0] and "Traceback" not in proc.stderr
    assert not out.exists()

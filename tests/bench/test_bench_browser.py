"""The benchmark's browser rows: qaport's browser client and transformers.js in headless Chromium.

A quick run on the default model (few questions, few runs): the rows exist with positive latencies,
qaport's browser answers equal Python's on the same ONNX file, every row records the thread count it
ran with (transformers.js: the one onnxruntime-web chose by default), and the browser target is printed
with its measured ratio.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.systems import SYSTEMS
from tests.conftest import needs_node, run_cli
from validate.browser import browser_unavailable

pytestmark = [pytest.mark.node, needs_node]

if browser_unavailable():  # fail, do not skip: a browser target that cannot run is a missing feature
    pytest.fail(f"browser tests need Chromium: {browser_unavailable()}", pytrace=False)

WEB = ("web-onnx-int8-t1", "web-onnx-t2", "web-tjs", "web-tjs-q8")


def test_browser_rows_answer_like_python_and_print_the_target(default_artifacts: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    systems = ",".join(("onnx", "onnx-int8", *WEB))
    args = ("bench", "--dir", str(default_artifacts), "--quick", "--systems", systems, "--out", str(out))
    proc = run_cli(*args, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    report = json.loads(out.read_text())
    by_id = {e["id"]: e for e in report["systems"]}
    short = [q["id"] for q in report["questions"] if q["class"] == "short"]
    for sid in WEB:
        e = by_id[sid]
        assert e["status"] == "ok", e
        assert SYSTEMS[sid].language == "browser"
        assert 0 < e["latency"]["short"]["p50_ms"] <= e["latency"]["short"]["p95_ms"]
        assert all(t > 0 for ts in e["times_ms"].values() for t in ts)
        details = e["details"]
        assert details["cross_origin_isolated"] is True and details["blocked_requests"] == 0
        assert isinstance(details["threads"], int) and details["threads"] >= 1, details
        assert e["peak_rss_bytes"] > 10e6
        assert {"total", "tokenise", "model", "rest"} <= set(e["phases_ms"]), e["phases_ms"]
        assert f"  {sid}: {details['threads']} thread(s)" in proc.stdout
    assert by_id["web-onnx-int8-t1"]["details"]["threads"] == 1
    assert by_id["web-onnx-t2"]["details"]["threads"] == 2
    assert "onnxruntime-web's default" in by_id["web-tjs"]["details"]["threads_source"]
    # qaport in the browser answers as Python does on the same file (text and offsets)
    for web, py in (("web-onnx-t2", "onnx"), ("web-onnx-int8-t1", "onnx-int8")):
        for q in short:
            mine, ref = by_id[web]["answers"][q], by_id[py]["answers"][q]
            assert (mine["text"], mine["start"], mine["end"]) == (ref["text"], ref["start"], ref["end"]), (web, q)
        assert by_id[web]["answers_vs_pipeline"]["passes"]
    for sid in ("web-tjs", "web-tjs-q8"):  # transformers.js: where its rules pick our span, the same answer
        rules = by_id[sid]["rules"]
        assert rules["questions"] == len(short) and rules["rules_agree"] == rules["equal_where_agree"], rules
    targets = {t["target"]: t for t in report["targets"]}
    for tag, precision in (("fp32", "float32"), ("q8", "int8")):
        name = (
            f"qaport's fastest browser path vs transformers.js {tag} in the browser ({precision}), short texts, "
            "same model and precision"
        )
        t = targets[name]
        assert t["value"] > 0 and t["needed"].startswith(">= 1.3x")
        assert f"{'MET   ' if t['met'] else 'MISSED'} {name}: {t['achieved']}" in proc.stdout
        assert t["met"] or t["why"]
    assert "browser rows (headless Chromium" in proc.stdout
    # the levers page: the model call alone per onnxruntime-web build (qaport's and transformers.js' own)
    assert report["browser_levers"]["status"] == "ok", report["browser_levers"]
    builds = {v["build"] for run in report["browser_levers"]["runs"] for v in run["variants"]}
    assert "transformers.js' ort-web (webgpu build)" in builds and "model call alone" in proc.stdout

"""Conversion of the embedded default model: signatures read back from files, manifest, reruns, atomicity."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, error_lines, run_cli

pytestmark = [pytest.mark.tf, pytest.mark.slow]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha(p) for p in sorted(root.rglob("*")) if p.is_file()}


def test_transformers_js_layout(default_artifacts: Path) -> None:
    for rel in (
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "onnx/model.onnx",
        "onnx/model_quantized.onnx",
        "savedmodel/saved_model.pb",
        "tfjs/model.json",
        "tfjs-fp16/model.json",
        "manifest.json",
    ):
        assert (default_artifacts / rel).is_file(), rel


def test_savedmodel_signature_from_file(default_artifacts: Path) -> None:
    import tensorflow as tf

    fn = tf.saved_model.load(str(default_artifacts / "savedmodel")).signatures["serving_default"]
    _, kwargs = fn.structured_input_signature
    assert set(kwargs) == {"input_ids", "attention_mask"}
    for spec in kwargs.values():
        assert spec.dtype == tf.int32 and spec.shape.as_list() == [None, None]
    assert set(fn.structured_outputs) == {"start_logits", "end_logits"}
    for spec in fn.structured_outputs.values():
        assert spec.dtype == tf.float32 and spec.shape.as_list() == [None, None]


def test_tfjs_signature_from_file(default_artifacts: Path) -> None:
    for name, weight_dtype in (("tfjs", "float32"), ("tfjs-fp16", "float16")):
        doc = json.loads((default_artifacts / name / "model.json").read_text())
        assert doc["format"] == "graph-model"
        inputs = doc["signature"]["inputs"]
        assert {k.split(":")[0] for k in inputs} == {"input_ids", "attention_mask"}
        for info in inputs.values():
            assert info["dtype"] == "DT_INT32"
            assert [d["size"] for d in info["tensorShape"]["dim"]] == ["-1", "-1"]
        assert {k.split(":")[0] for k in doc["signature"]["outputs"]} == {"Identity", "Identity_1"}
        dtypes = {
            w.get("quantization", {}).get("dtype", w["dtype"]) for g in doc["weightsManifest"] for w in g["weights"]
        }
        assert weight_dtype in dtypes
        if weight_dtype == "float16":
            assert "float32" not in {
                w["dtype"] for g in doc["weightsManifest"] for w in g["weights"] if "quantization" not in w
            }


def test_onnx_signature_from_file(default_artifacts: Path) -> None:
    import numpy as np
    import onnx
    import onnxruntime as ort

    for rel in ("onnx/model.onnx", "onnx/model_quantized.onnx"):
        model = onnx.load(str(default_artifacts / rel))
        ins = {v.name: v for v in model.graph.input}
        outs = {v.name: v for v in model.graph.output}
        assert set(ins) == {"input_ids", "attention_mask"} and set(outs) == {"start_logits", "end_logits"}
        for v in ins.values():
            assert v.type.tensor_type.elem_type == onnx.TensorProto.INT64
            assert [d.dim_param for d in v.type.tensor_type.shape.dim] == ["batch", "sequence"]
        for v in outs.values():
            assert v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
        ops = {n.op_type for n in model.graph.node}
        # the int8 file's erf GELU is fused (BiasGelu, docs/int8.md); the float32 file keeps Erf
        assert "Erfc" not in ops and ("Erf" in ops if rel == "onnx/model.onnx" else "BiasGelu" in ops)
        ort.InferenceSession(str(default_artifacts / rel), providers=["CPUExecutionProvider"])
    quant = onnx.load(str(default_artifacts / "onnx/model_quantized.onnx")).graph
    assert {"DynamicQuantizeLinear", "MatMulInteger", "QAttention"} <= {n.op_type for n in quant.node}
    # U8S8 with 7-bit weights, the fast AVX2 kernel: |w| <= 64 keeps each pair of u8 x s8 products
    # within int16 (2 x 255 x 64 = 32640 <= 32767), so VPMADDUBSW cannot saturate (convert.onnx_export)
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in quant.initializer}
    b_inputs = [
        n.input[1] for n in quant.node if n.op_type in ("MatMulInteger", "QAttention") and n.input[1] in weights
    ]
    assert len(b_inputs) >= 8, b_inputs  # 2 layers x (packed q/k/v in QAttention, out, ffn in, ffn out) at least
    for name in b_inputs:
        w = weights[name]
        assert w.dtype == np.int8 and int(w.min()) >= -64 and int(w.max()) <= 64, (name, w.dtype, w.min(), w.max())


def test_manifest_lists_every_file_with_checksums(default_artifacts: Path) -> None:
    from qaport.manifest import all_entries, load_manifest, verify_files

    doc = load_manifest(default_artifacts)
    verify_files(default_artifacts, doc, allow_extra=("report.json", "report.md"))
    listed = {e["path"] for e in all_entries(doc)}
    on_disk = {p.relative_to(default_artifacts).as_posix() for p in default_artifacts.rglob("*") if p.is_file()}
    assert on_disk - listed <= {"manifest.json", "report.json", "report.md"}
    for entry in all_entries(doc):
        assert entry["sha256"] == sha(default_artifacts / entry["path"])
        assert entry["size"] == (default_artifacts / entry["path"]).stat().st_size
    for tool in (
        "python",
        "tensorflow",
        "tf-keras",
        "tensorflowjs",
        "tf2onnx",
        "onnx",
        "onnxruntime",
        "transformers",
        "tokenizers",
    ):
        assert doc["tools"][tool] and doc["tools"][tool] != "not installed"
    assert doc["source"]["kind"] == "default" and len(doc["source"]["weights_sha256"]) == 64
    for name, fmt in doc["formats"].items():
        assert sorted(fmt["output_names"].values()) == ["end_logits", "start_logits"], name
        assert fmt["conversion_seconds"] > 0 and fmt["peak_rss_bytes"] > 0
        assert fmt["signature"]["inputs"] and fmt["signature"]["outputs"]
    assert doc["formats"]["tfjs"]["output_names"] == {"Identity": "end_logits", "Identity_1": "start_logits"}


def test_rerun_is_byte_identical(default_artifacts: Path, tmp_path: Path) -> None:
    from convert.formats import FORMATS

    again = tmp_path / "again"
    proc = run_cli("convert", "--out", str(again))
    assert proc.returncode == 0, proc.stderr[-2000:]
    first, second = tree(default_artifacts), tree(again)
    doc = json.loads((default_artifacts / "manifest.json").read_text())
    for name, fmt in doc["formats"].items():
        for entry in fmt["files"]:
            same = first[entry["path"]] == second[entry["path"]]
            if FORMATS[name].reproducible:
                assert same, f"{entry['path']} differs between two conversions"
    for rel in ("savedmodel/saved_model.pb", "savedmodel/variables/variables.index", "tokenizer.json", "config.json"):
        assert first[rel] == second[rel], rel
    assert doc["formats"]["savedmodel"]["reproducible"] is False
    assert "fingerprint.pb" in doc["formats"]["savedmodel"]["reproducible_note"]


def _start(out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "convert", "--out", str(out), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )


def _wait_for(proc: subprocess.Popen[str], marker: str, timeout: float = 300) -> str:
    seen = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    msg = f"never saw {marker!r}: {''.join(seen)[-2000:]}"
    raise AssertionError(msg)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_killed_midway_leaves_previous_dir_intact(default_artifacts: Path, tmp_path: Path, sig: signal.Signals) -> None:
    dest = tmp_path / "dest"
    shutil.copytree(default_artifacts, dest)
    before = tree(dest)
    proc = _start(dest)
    _wait_for(proc, "tfjs: converting")
    proc.send_signal(sig)
    proc.wait(timeout=120)
    assert proc.returncode != 0
    assert tree(dest) == before
    leftovers = list(tmp_path.glob(".dest.staging-*"))
    if sig != signal.SIGKILL:
        assert leftovers == []
    else:  # nothing can clean up after SIGKILL; the next run does
        proc = run_cli("convert", "--out", str(dest), "--formats", "onnx")
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert list(tmp_path.glob(".dest.staging-*")) == []


def test_one_failing_format_reports_all_and_keeps_previous(default_artifacts: Path, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    shutil.copytree(default_artifacts, dest)
    before = tree(dest)
    proc = run_cli("convert", "--out", str(dest), env={"QAPORT_FAIL_FORMAT": "tfjs"})
    assert proc.returncode == 1
    (line,) = error_lines(proc.stderr)
    assert "1 format(s) failed" in line and "tfjs: RuntimeError: failure injected" in line
    for other in ("savedmodel: done", "tfjs-fp16: done", "onnx: done", "onnx-int8: done"):
        assert other in proc.stdout, other  # the others still ran
    assert tree(dest) == before and list(tmp_path.glob(".dest.staging-*")) == []


def test_subset_publishes_only_what_was_asked(tmp_path: Path) -> None:
    out = tmp_path / "sub"
    proc = run_cli("convert", "--out", str(out), "--formats", "tfjs")
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((out / "manifest.json").read_text())
    assert list(doc["formats"]) == ["tfjs"]
    assert not (out / "savedmodel").exists() and not (out / ".work").exists()


def test_tfjs_export_ignores_the_callers_onednn_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TF_ENABLE_ONEDNN_OPTS=1 in the caller's environment (a shell, or the trainer) must not reach the TF.js
    converter: there grappler fuses this small model's layer norms into _MklLayerNorm, an op TF.js lacks
    ("Unsupported Ops in the model after optimization" without the fix, measured)."""
    import tensorflow as tf
    from transformers import DistilBertConfig, TFDistilBertForQuestionAnswering

    from convert import tfjs_export
    from convert.gelu import use_erf_gelu
    from convert.savedmodel_export import export_savedmodel

    tf.keras.utils.set_random_seed(0)
    config = DistilBertConfig(vocab_size=300, dim=32, hidden_dim=64, n_layers=2, n_heads=2)
    model = TFDistilBertForQuestionAnswering(config)
    model(input_ids=tf.zeros((1, 8), tf.int32), attention_mask=tf.ones((1, 8), tf.int32))
    use_erf_gelu(model)
    export_savedmodel(model, tmp_path / "savedmodel")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    tfjs_export.export_tfjs(tmp_path / "savedmodel", tmp_path / "tfjs")
    ops = {n["op"] for n in json.loads((tmp_path / "tfjs" / "model.json").read_text())["modelTopology"]["node"]}
    assert not any(op.startswith("_Mkl") for op in ops), sorted(ops)


def test_unknown_format_did_you_mean(tmp_path: Path) -> None:
    proc = run_cli("convert", "--formats", "tfjs,onx", cwd=tmp_path)
    assert proc.returncode == 2
    (line,) = error_lines(proc.stderr)
    assert "unknown format 'onx'; did you mean 'onnx'?" in line
    assert not (tmp_path / "artifacts").exists()


def test_fixed_length_option(tmp_path: Path) -> None:
    out = tmp_path / "fixed"
    proc = run_cli("convert", "--out", str(out), "--formats", "savedmodel,onnx", "--fixed-length", "384")
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((out / "manifest.json").read_text())
    assert doc["formats"]["savedmodel"]["signature"]["inputs"]["input_ids"]["shape"] == [-1, 384]
    assert doc["formats"]["onnx"]["signature"]["inputs"]["input_ids"]["shape"] == ["batch", 384]


def test_onnx_memory_fix_leaves_the_graph_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tf2onnx memory fix (fresh NodeProtos, no deep copies) must not change a single byte."""
    import contextlib
    import os

    from tf2onnx import graph as tf2onnx_graph

    from convert import onnx_export
    from convert.sources import load_model

    original = tf2onnx_graph.Node.update_proto
    model = load_model(None).model
    onnx_export.export_onnx(model, tmp_path / "lean.onnx")
    assert tf2onnx_graph.Node.update_proto is original  # the patch is scoped to the export
    assert "TF2ONNX_CATCH_ERRORS" not in os.environ
    monkeypatch.setattr(onnx_export, "_fresh_node_protos", contextlib.nullcontext)
    onnx_export.export_onnx(model, tmp_path / "stock.onnx")
    assert sha(tmp_path / "lean.onnx") == sha(tmp_path / "stock.onnx")


def test_convert_bench_quick_reports_time_size_and_memory(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    res = run_cli("bench.conversion", "--quick", "--json", str(out))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    (run,) = json.loads(out.read_text())
    assert run["model"] == "default" and run["ok"]
    assert set(run["formats"]) == {
        "savedmodel",
        "tfjs",
        "tfjs-fp16",
        "onnx",
        "onnx-int8",
        "onnx-int8-dynamic",
        "onnx-int8-static",
    }
    for fmt in run["formats"].values():
        assert fmt["seconds"] > 0 and fmt["size_bytes"] > 0 and fmt["peak_rss_bytes"] > 0
    assert run["peak_rss_bytes"] >= max(f["peak_rss_bytes"] for f in run["formats"].values()) * 0.5
    assert any(t.startswith("time ") and t.endswith(("met", "MISSED")) for t in run["targets"])
    assert "process-tree peak RSS" in res.stdout and "target: time" in res.stdout

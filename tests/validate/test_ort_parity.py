"""onnxruntime on both sides: the same version (Python, onnxruntime-node, onnxruntime-web) and the same
session options (Python's validated runner vs js/node/runtimes.mjs, which the runner and the npm client load).

Both sides running the same file with the same kernels and options is what makes "Node.js as fast as
Python on the same file" a property of the code, not of a day's measurement (bench/ort_parity.py times it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

JS = ROOT / "js"
# Python's SessionOptions attribute / config key -> onnxruntime-node's sessionOptions key
PAIRS = {
    "graph_optimization_level": "graphOptimizationLevel",
    "intra_op_num_threads": "intraOpNumThreads",
    "inter_op_num_threads": "interOpNumThreads",
    "execution_mode": "executionMode",
    "enable_cpu_mem_arena": "enableCpuMemArena",
    "enable_mem_pattern": "enableMemPattern",
    "session.intra_op.allow_spinning": "extra.session.intra_op.allow_spinning",
}
GRAPH_LEVELS = {"ORT_DISABLE_ALL": "disabled", "ORT_ENABLE_BASIC": "basic", "ORT_ENABLE_EXTENDED": "extended"}
GRAPH_LEVELS["ORT_ENABLE_ALL"] = "all"
MODES = {"ORT_SEQUENTIAL": "sequential", "ORT_PARALLEL": "parallel"}


def _tiny_model(path: Path) -> None:
    """input_ids, attention_mask (int64 [batch, seq]) -> start_logits, end_logits: enough for both loaders."""
    import onnx
    from onnx import TensorProto, helper

    dims = ["batch", "sequence"]
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["input_ids"], ["start_logits"], to=TensorProto.FLOAT),
            helper.make_node("Cast", ["attention_mask"], ["end_logits"], to=TensorProto.FLOAT),
        ],
        "tiny",
        [helper.make_tensor_value_info(n, TensorProto.INT64, dims) for n in ("input_ids", "attention_mask")],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, dims) for n in ("start_logits", "end_logits")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = min(model.ir_version, 9)
    onnx.save(model, str(path))


def python_options(model: Path, env: dict[str, str]) -> dict[str, Any]:
    """The options of the session Python's validated runner creates, read back from that session."""
    from validate.runners.ort_runner import OnnxRuntimeRunner

    record = {"main_file": model.name, "output_names": {}}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        runner = OnnxRuntimeRunner("onnx", model.parent, record, model.parent / "tokenizer.json")
        runner.activate()
        opts = runner._session.get_session_options()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    intra = opts.intra_op_num_threads or (os.cpu_count() or 1)  # 0 = onnxruntime's default: one per CPU
    try:
        spinning = opts.get_session_config_entry("session.intra_op.allow_spinning")
    except Exception:  # not set: onnxruntime's default, spinning allowed
        spinning = "1"
    runner.deactivate()
    return {
        "graphOptimizationLevel": GRAPH_LEVELS[opts.graph_optimization_level.name],
        "intraOpNumThreads": intra,
        "interOpNumThreads": opts.inter_op_num_threads,
        "executionMode": MODES[opts.execution_mode.name],
        "enableCpuMemArena": opts.enable_cpu_mem_arena,
        "enableMemPattern": opts.enable_mem_pattern,
        "extra.session.intra_op.allow_spinning": spinning,
    }


def node_options(model: Path, env: dict[str, str]) -> dict[str, Any]:
    """The options js/node/runtimes.mjs loads an ONNX file with, as the loaded runtime reports them."""
    script = (
        "import { loadRuntime, plainFiles } from './node/runtimes.mjs';\n"
        f"const rt = await loadRuntime({{ format: 'onnx', files: plainFiles({json.dumps(str(model.parent))}), "
        f"mainFile: {json.dumps(model.name)} }});\n"
        "const out = await rt.infer(new Int32Array([101, 7, 102]), new Int32Array([1, 1, 1]), [1, 3]);\n"
        "console.log(JSON.stringify({ options: rt.extra.sessionOptions, start: Array.from(out.start.data) }));\n"
        "await rt.dispose();\n"
    )
    proc = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["start"] == [101.0, 7.0, 102.0]  # the session ran with these options
    opts = got["options"]
    flat = {k: v for k, v in opts.items() if k != "extra"}
    flat["extra.session.intra_op.allow_spinning"] = (
        opts.get("extra", {}).get("session", {}).get("intra_op", {}).get("allow_spinning")
    )
    return flat


needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not (JS / "node_modules" / "onnxruntime-node").is_dir(),
    reason="needs node and js/node_modules (nox installs them)",
)


@needs_node
@pytest.mark.parametrize("env", [{}, {"QAPORT_ORT_THREADS": "1"}], ids=["default", "QAPORT_ORT_THREADS=1"])
def test_node_session_options_equal_pythons(tmp_path: Path, env: dict[str, str]) -> None:
    model = tmp_path / "model.onnx"
    _tiny_model(model)
    py, js = python_options(model, env), node_options(model, env)
    assert set(js) == set(PAIRS.values())  # every option both sides set is compared
    assert js == py, {k: (py.get(k), js.get(k)) for k in py if py.get(k) != js.get(k)}
    if env:
        assert js["intraOpNumThreads"] == 1


def _installed(package: str) -> str | None:
    manifest = JS / "node_modules" / package / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.is_file() else None


def test_one_onnxruntime_version_on_every_side() -> None:
    """Python onnxruntime, onnxruntime-node and onnxruntime-web: one version (declared and installed)."""
    import onnxruntime

    declared = json.loads((JS / "package.json").read_text())
    deps = {**declared.get("devDependencies", {}), **declared.get("dependencies", {})}
    deps |= declared.get("optionalDependencies", {})
    versions = {"python onnxruntime": onnxruntime.__version__}
    for pkg in ("onnxruntime-node", "onnxruntime-web"):
        assert pkg in deps, f"js/package.json does not declare {pkg}"
        versions[f"js/package.json {pkg}"] = deps[pkg].lstrip("=^~")
        installed = _installed(pkg)
        if installed is not None:
            versions[f"js/node_modules {pkg}"] = installed
    distinct = set(versions.values())
    assert len(distinct) == 1, (
        "onnxruntime differs between the sides, so the same file can run different kernels and options: "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + " (pin one version in requirements.lock and js/package.json)"
    )

"""The operation allowlist before packaging (publish/graph_ops.py), on graphs that really hold such ops.

Set QAPORT_RELIABILITY_DIR to an already converted default-model directory to skip the conversion.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    copy_artifacts,
    error_lines,
    needs_npm,
    passed_report,
    resign,
    run_cli,
)


# =======================================================================================================
# 6. Operation allowlist before packaging (publish/graph_ops.py): graphs that really hold such ops.
# =======================================================================================================
def test_shipped_graphs_pass_the_allowlist(artifacts: Path) -> None:
    """The real graphs pass; the SavedModel's checkpoint functions hold SaveV2/RestoreV2, which no signature reaches."""
    from publish.graph_ops import check_graph_ops, savedmodel_ops
    from qaport.manifest import load_manifest

    check_graph_ops(artifacts, load_manifest(artifacts))
    ops = savedmodel_ops(artifacts / "savedmodel/saved_model.pb")
    assert {"SaveV2", "RestoreV2"} <= {op for op, _, reached in ops if not reached}
    assert not {"SaveV2", "RestoreV2"} & {op for op, _, reached in ops if reached}


def _evil_onnx(src: Path, dst: Path, *, external: bool = False) -> Path:
    import onnx
    from onnx import helper

    model = onnx.load(str(src))
    if external:
        onnx.save_model(model, str(dst), save_as_external_data=True, location="weights.bin", size_threshold=1024)
        return dst
    model.graph.node.append(
        helper.make_node("PyOp", ["input_ids"], ["pyop_out"], name="evil", domain="ai.onnx.contrib")
    )
    model.opset_import.append(helper.make_opsetid("ai.onnx.contrib", 1))
    onnx.save(model, str(dst))
    return dst


def test_onnx_graph_with_python_op_or_external_file_is_refused(artifacts: Path, tmp_path: Path) -> None:
    from publish.graph_ops import GraphOpError, check_onnx

    evil = _evil_onnx(artifacts / "onnx/model.onnx", tmp_path / "evil.onnx")
    with pytest.raises(
        GraphOpError,
        match=r"onnx: onnx/model\.onnx holds op 'ai\.onnx\.contrib\.PyOp' \(main graph, node evil\), a file-system",
    ):
        check_onnx("onnx", "onnx/model.onnx", evil)
    (tmp_path / "ext").mkdir()
    external = _evil_onnx(artifacts / "onnx/model.onnx", tmp_path / "ext" / "model.onnx", external=True)
    with pytest.raises(GraphOpError, match=r"reads tensor .* from the external file 'weights\.bin'"):
        check_onnx("onnx", "onnx/model.onnx", external)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x03" * 80)
    with pytest.raises(GraphOpError, match=r"is not a readable ONNX model"):
        check_onnx("onnx", "onnx/model.onnx", garbage)


def _file_io(op: str, ids: Any, path: str) -> Any:
    import tensorflow as tf

    if op == "ReadFile":
        return tf.strings.length(tf.io.read_file(path))
    with tf.control_dependencies([tf.io.write_file(path, tf.strings.as_string(tf.reduce_sum(ids)))]):
        return tf.constant(0)


@pytest.mark.tf
@pytest.mark.parametrize("op", ["ReadFile", "WriteFile"])
def test_savedmodel_whose_function_does_file_io_is_refused(tmp_path: Path, op: str) -> None:
    import tensorflow as tf

    from publish.graph_ops import GraphOpError, check_format

    target = tmp_path / "victim.txt"
    target.write_text("secret")

    class Evil(tf.Module):
        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None], tf.int32, name="input_ids"),
                tf.TensorSpec([None, None], tf.int32, name="attention_mask"),
            ]
        )
        def serve(self, input_ids: Any, attention_mask: Any) -> dict[str, Any]:
            extra = tf.cast(_file_io(op, input_ids, str(target)), tf.float32)
            logits = tf.cast(input_ids + attention_mask, tf.float32) + extra
            return {"start_logits": logits, "end_logits": logits}

    module = Evil()
    root = tmp_path / "art"
    tf.saved_model.save(module, str(root / "savedmodel"), signatures={"serving_default": module.serve})
    loaded = tf.saved_model.load(str(root / "savedmodel")).signatures["serving_default"]
    loaded(input_ids=tf.ones((1, 2), tf.int32), attention_mask=tf.ones((1, 2), tf.int32))  # it really does I/O
    record = {"main_file": "savedmodel/saved_model.pb", "files": []}
    pattern = rf"savedmodel: savedmodel/saved_model\.pb holds op '{op}' \(function .*serve.*\), a file-system, I/O"
    with pytest.raises(GraphOpError, match=pattern):
        check_format(root, "savedmodel", record)


def test_tfjs_graph_with_read_file_or_escaping_shard_is_refused(artifacts: Path, tmp_path: Path) -> None:
    from publish.graph_ops import GraphOpError, check_format
    from qaport.manifest import load_manifest

    root = copy_artifacts(artifacts, tmp_path / "t")
    record = load_manifest(root)["formats"]["tfjs"]
    doc = json.loads((root / "tfjs/model.json").read_text())
    original = json.dumps(doc)
    doc["modelTopology"]["node"].append({"name": "evil", "op": "ReadFile", "input": ["evil/filename"], "attr": {}})
    (root / "tfjs/model.json").write_text(json.dumps(doc))
    with pytest.raises(GraphOpError, match=r"tfjs: tfjs/model\.json holds op 'ReadFile' \(node evil\), a file-system"):
        check_format(root, "tfjs", record)
    doc = json.loads(original)
    doc["weightsManifest"][0]["paths"] = ["../../../etc/hostname"]
    (root / "tfjs/model.json").write_text(json.dumps(doc))
    with pytest.raises(GraphOpError, match=r"loads weights from '\.\./\.\./\.\./etc/hostname', which is not one of"):
        check_format(root, "tfjs", record)


@pytest.mark.node
@needs_npm
def test_publish_refuses_a_graph_with_a_python_op(artifacts: Path, tmp_path: Path) -> None:
    root = copy_artifacts(artifacts, tmp_path / "p")
    _evil_onnx(artifacts / "onnx/model.onnx", root / "onnx/model.onnx")
    resign(root, "onnx/model.onnx")
    passed_report(root)
    proc = run_cli("publish", str(root), timeout=600)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (line,) = error_lines(proc.stderr)
    assert "onnx: onnx/model.onnx holds op 'ai.onnx.contrib.PyOp'" in line and "refusing to package" in line, line
    assert not (root / "npm").exists()

"""The int8 variants (issue 27, docs/int8.md): the fusions fire, the fused float32 graph keeps the logits,
the static variant's calibration never sees a validation text, no int8 weight can saturate an AVX2 (no
VNNI) u8 x s8 kernel, and each variant stays within the int8 tolerance. Uses the shared default-model
artifacts (conftest's ``artifacts`` fixture): nothing is converted here but the fused float32 graph."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from convert import onnx_int8
from qaport.registry import FORMATS

INT8_FORMATS = [name for name, f in FORMATS.items() if f.kind == "onnx" and f.precision == "int8"]


def _manifest(root: Path) -> dict[str, Any]:
    return dict(json.loads((root / "manifest.json").read_text()))


def _config(root: Path) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(**json.loads((root / "config.json").read_text()))


@pytest.fixture(scope="module")
def fused(artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    work = tmp_path_factory.mktemp("fused")
    return onnx_int8.fused_float32(
        artifacts / "onnx" / "model.onnx", work, _config(artifacts), artifacts / "tokenizer.json"
    )


def test_every_int8_method_is_a_registry_format() -> None:
    assert set(onnx_int8.METHODS) == set(INT8_FORMATS)
    assert FORMATS["onnx-int8"].main_file == "model_quantized.onnx"  # transformers.js' q8 file name
    assert FORMATS["onnx-int8"].client == ("onnx", True)


def test_fusions_fire(artifacts: Path, fused: tuple[Path, dict[str, Any]]) -> None:
    """Every layer's attention, both residual LayerNorms and bias + GELU fuse; nothing spelled out is left."""
    import onnx

    layers = _config(artifacts).n_layers
    before = onnx_int8.op_counts(onnx.load(str(artifacts / "onnx" / "model.onnx")))
    after = onnx_int8.op_counts(onnx.load(str(fused[0])))
    assert before.get("GlobalAveragePool") == 2 * (2 * layers + 1)  # LayerNorm spelled out: 2 per norm
    assert "com.microsoft.Attention" not in before
    assert after.get("com.microsoft.Attention") == layers
    assert after.get("com.microsoft.SkipLayerNormalization") == 2 * layers
    assert after.get("com.microsoft.BiasGelu") == layers
    assert after.get("LayerNormalization") == 1  # the embeddings' (no residual to fuse)
    for spelled_out in ("GlobalAveragePool", "Softmax", "Erf", "Transpose", "Sqrt", "Reciprocal"):
        assert spelled_out not in after, spelled_out
    assert after.get("MatMul") == 3 * layers + 1  # attention output, two feed-forward, the QA head
    # the shipped int8 file: attention quantised as QAttention, the manifest says what fired
    shipped = onnx_int8.op_counts(onnx.load(str(artifacts / "onnx" / "model_quantized.onnx")))
    assert shipped.get("com.microsoft.QAttention") == layers
    assert shipped.get("MatMulInteger") == 3 * layers + 1
    record = _manifest(artifacts)["formats"]["onnx-int8"]["quantization"]
    assert record["fusion"]["rewrites"] == {
        "projections": 6 * layers + 1,
        "LayerNormalization": 2 * layers + 1,
        "Attention": layers,
    }


def test_fused_float32_keeps_the_logits(artifacts: Path, fused: tuple[Path, dict[str, Any]]) -> None:
    """Within float32's bound (1e-4) of the unfused graph, on padded batches of held-out windows too."""
    from tokenizers import Tokenizer

    from qaport.decode import encode
    from validate.inputs import heldout_examples

    tok = Tokenizer.from_file(str(artifacts / "tokenizer.json"))
    feeds = []
    for ex in heldout_examples(limit=6):
        enc = encode(tok, ex.question, ex.context)
        feeds.append(
            {"input_ids": enc.input_ids.astype(np.int64), "attention_mask": enc.attention_mask.astype(np.int64)}
        )
    # two examples padded into one batch: the mask must reach the fused Attention
    a, b = feeds[0], feeds[1]
    width = max(a["input_ids"].shape[1], b["input_ids"].shape[1])
    batch = {k: np.stack([np.pad(f[k][0], (0, width - f[k].shape[1])) for f in (a, b)]).astype(np.int64) for k in a}
    diff = onnx_int8.max_logit_diff(artifacts / "onnx" / "model.onnx", fused[0], [*feeds, batch])
    assert diff <= onnx_int8.FLOAT32_ATOL
    assert fused[1]["fused_float32_max_abs_diff"] <= onnx_int8.FLOAT32_ATOL


def test_calibration_never_sees_the_validation_sets(artifacts: Path) -> None:
    from validate.inputs import SETS, heldout_examples, protocol_examples, super_bowl_example

    calibration = onnx_int8.calibration_examples()
    assert len(calibration) == onnx_int8.CALIBRATION_EXAMPLES
    lengths = [len(c) for _, c in calibration]
    assert max(lengths) > 3 * min(lengths)  # short and long contexts
    validation = [*heldout_examples(), super_bowl_example(), *(ex for make in SETS.values() for ex in make())]
    validation += protocol_examples("short", 6) + protocol_examples("long", 3)
    texts = {ex.context for ex in validation} | {ex.question for ex in validation}
    blob = "\n".join(texts)
    # the generated paragraphs the calibration contexts are made of (1-4 each, in order)
    from itertools import islice

    from qaport.default_model.corpus import paragraphs

    used = sum(1 + i % 4 for i in range(len(calibration)))
    source = list(islice(paragraphs(onnx_int8.CALIBRATION_SPLIT, onnx_int8.CALIBRATION_LABEL), used))
    assert " ".join(text for text, _ in source[:1]) == calibration[0][1]
    for text, _ in source:
        assert text not in blob, text[:200]
    for context in {ex.context for ex in validation}:
        assert all(context not in c for _, c in calibration)
    pairs = {(ex.question, ex.context) for ex in validation}
    assert not pairs & set(calibration)  # template questions ("What was the final score?") recur; pairs must not
    # names: calibration draws on the train pools, validation on the held-out pools (disjoint)
    from qaport.default_model.corpus import make_pools

    train, held = make_pools("train"), make_pools("heldout")
    assert onnx_int8.CALIBRATION_SPLIT == "train"
    assert not set(train.first + train.last + train.places) & set(held.first + held.last + held.places)
    record = _manifest(artifacts)["formats"]["onnx-int8-static"]["quantization"]
    assert record["calibration"] == onnx_int8.calibration_source()


@pytest.mark.parametrize("name", INT8_FORMATS)
def test_int8_weights_cannot_saturate_avx2(artifacts: Path, name: str) -> None:
    """onnxruntime's AVX2 u8 x s8 kernel (VPMADDUBSW) adds two u8*s8 products into an int16: with |weight|
    <= 64 the pair sum is at most 2 * 255 * 64 = 32,640 <= 32,767, so it cannot saturate (|w| = 65 could:
    33,150). reduce_range gives signed weights in [-64, 64]. Every int8 weight any int8 kernel sees
    (MatMulInteger's B, QAttention's weight, a DequantizeLinear feeding a MatMul) must be in that range,
    and every activation uint8 (U8S8, not S8S8)."""
    import onnx
    from onnx import TensorProto, numpy_helper

    proto = onnx.load(str(artifacts / FORMATS[name].directory / FORMATS[name].main_file))
    inits = {i.name: i for i in proto.graph.initializer}
    weights: list[str] = []
    for node in proto.graph.node:
        if node.op_type in {"MatMulInteger", "QAttention"}:
            weights.append(node.input[1])
        elif node.op_type == "DequantizeLinear" and node.input[0] in inits:
            weights.append(node.input[0])
        elif node.op_type in ("QuantizeLinear", "DynamicQuantizeLinear") and len(node.input) > 2:
            zero_point = inits.get(node.input[2])
            assert zero_point is None or zero_point.data_type == TensorProto.UINT8, "activations must be uint8"
    weights = [w for w in weights if w in inits]
    assert len(weights) >= 3 * _config(artifacts).n_layers
    for w in weights:
        assert inits[w].data_type == TensorProto.INT8, w
        values = numpy_helper.to_array(inits[w])
        assert int(np.abs(values.astype(np.int32)).max()) <= 64, (w, values.min(), values.max())
        assert 2 * 255 * int(np.abs(values.astype(np.int32)).max()) <= 32767


@pytest.mark.parametrize("name", INT8_FORMATS)
def test_each_variant_stays_within_the_int8_tolerance(artifacts: Path, name: str) -> None:
    """p99 |logit diff| against the float32 ONNX file within the int8 bound, start and end argmax mostly agree."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from qaport.decode import encode
    from validate.compare import DEFAULT_ATOL
    from validate.inputs import heldout_examples

    tok = Tokenizer.from_file(str(artifacts / "tokenizer.json"))
    sessions = [
        ort.InferenceSession(str(artifacts / "onnx" / f), providers=["CPUExecutionProvider"])
        for f in ("model.onnx", FORMATS[name].main_file)
    ]
    diffs, agree, total = [], 0, 0
    for ex in heldout_examples(limit=40):
        enc = encode(tok, ex.question, ex.context)
        feed = {"input_ids": enc.input_ids.astype(np.int64), "attention_mask": enc.attention_mask.astype(np.int64)}
        ref, got = ({o.name: v for o, v in zip(s.get_outputs(), s.run(None, feed), strict=True)} for s in sessions)
        real = feed["attention_mask"].astype(bool)
        for out in ("start_logits", "end_logits"):
            diffs.append(np.abs(ref[out] - got[out])[real])
            agree += int((ref[out].argmax(-1) == got[out].argmax(-1)).all())
            total += 1
    p99 = float(np.percentile(np.concatenate(diffs), 99))
    assert np.isfinite(p99) and p99 <= DEFAULT_ATOL["int8"], p99
    assert agree >= 0.9 * total, (agree, total)

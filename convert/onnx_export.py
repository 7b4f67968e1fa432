"""Keras model -> ONNX (tf2onnx, int64 inputs) and its unfused dynamic int8 variant, saved reproducibly
(the fused and static int8 variants: convert/onnx_int8.py, docs/int8.md)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from convert.onnx_canonical import canonicalize
from convert.savedmodel_export import serving_function

OPSET = 17
_CATCH_ERRORS_ENV = "TF2ONNX_CATCH_ERRORS"
ONNX_DTYPES = {1: "float32", 6: "int32", 7: "int64", 10: "float16", 3: "int8", 2: "uint8"}


def export_onnx(model: Any, path: Path, *, fixed_length: int | None = None, opset: int = OPSET) -> None:
    """Convert through tf2onnx from the same serving function, with int64 inputs (transformers.js feeds int64)."""
    import onnx
    import tf2onnx

    fn = serving_function(model, fixed_length=fixed_length, dtype="int64")
    with _fresh_node_protos():
        proto, _ = tf2onnx.convert.from_function(fn, input_signature=fn.input_signature, opset=opset)
    proto.producer_name = "qaport (tf2onnx)"
    # tf2onnx writes "converted from b'__inference_serving_974'": a per-process function counter
    proto.graph.doc_string = "converted by tf2onnx from the serving function"
    _name_dynamic_axes(proto, fixed_length)
    onnx.checker.check_model(proto)
    onnx.save(canonicalize(proto), str(path))


@contextlib.contextmanager
def _fresh_node_protos() -> Iterator[None]:
    """Stop tf2onnx from keeping a copy of every weight per optimizer pass.

    tf2onnx's ``Node.update_proto`` clears the node's attributes (``del op.attribute[:]``) and
    re-adds them after every optimizer pass. With protobuf's upb backend a cleared sub-message stays
    in its parent's arena until the parent is freed, so each pass left one more copy of all the
    constants: full-size DistilBERT (260 MB of weights, 36 passes) peaked at 19 GB. Giving each node
    a fresh ``NodeProto`` (same fields, no attributes) before tf2onnx refills it frees the old arena;
    the produced graph is the same.

    It also turns off tf2onnx's ``catch_errors``, which deep-copies the whole graph (weights
    included) before each of those passes so that a failing optimizer can be skipped silently: the
    copies are freed only by Python's cyclic GC, so memory still climbed to 12.8 GB. Without it an
    optimizer error fails the ONNX format loudly instead of giving a differently optimised graph.
    (tf2onnx 1.17 reads the variable as "set means False": any value disables it.)
    Measured on random:distilbert-base-cased: peak 19.4 GB -> 6.3 GB (now the TF freezing step),
    optimizer time 81 s -> 9 s.
    """
    from tf2onnx import graph as tf2onnx_graph

    original = tf2onnx_graph.Node.update_proto

    def update_proto(self: Any, external_tensor_storage: Any = None) -> Any:
        old = self._op
        fresh = type(old)()
        for field, value in old.ListFields():
            if field.name == "attribute":
                continue
            if field.label == field.LABEL_REPEATED:
                getattr(fresh, field.name).extend(value)
            elif field.message_type is not None:
                getattr(fresh, field.name).CopyFrom(value)
            else:
                setattr(fresh, field.name, value)
        self._op = fresh
        return original(self, external_tensor_storage)

    saved_env = os.environ.get(_CATCH_ERRORS_ENV)
    os.environ[_CATCH_ERRORS_ENV] = "FALSE"
    tf2onnx_graph.Node.update_proto = update_proto
    try:
        yield
    finally:
        tf2onnx_graph.Node.update_proto = original
        if saved_env is None:
            os.environ.pop(_CATCH_ERRORS_ENV, None)
        else:
            os.environ[_CATCH_ERRORS_ENV] = saved_env


def _name_dynamic_axes(proto: Any, fixed_length: int | None) -> None:
    """tf2onnx names unknown dims unk__N; name them batch / sequence as consumers expect."""
    for value in [*proto.graph.input, *proto.graph.output]:
        dims = value.type.tensor_type.shape.dim
        for dim, axis in zip(dims, ("batch", "sequence"), strict=False):
            if axis == "sequence" and fixed_length is not None:
                dim.dim_value = fixed_length
            else:
                dim.dim_param = axis


def quantize_int8(src: Path, dst: Path) -> None:
    """Dynamic 8-bit quantisation of the MatMul weights (activations quantised at run time).

    Since issue 27 this is the ``onnx-int8-dynamic`` variant (the unfused tf2onnx graph); the shipped
    ``onnx-int8`` and the calibrated ``onnx-int8-static`` are built by convert/onnx_int8.py from the
    fused graph, with the same weight rule. Measurements and the choice: docs/int8.md.

    - Signed weights with ``reduce_range`` (7-bit, U8S8 ``MatMulInteger``): onnxruntime's x86-64
      kernels without VNNI (AVX2, the machines this runs on) multiply u8 x s8 with VPMADDUBSW, whose
      int16 sums saturate with full-range signed weights (which doubled the logit error on a trained
      model); 7-bit weights cannot saturate it. Measured against unsigned weights (U8U8, the slower
      int16 kernel): full size 1.16x faster at 384 tokens and 1.18x at 198; on the trained default
      model the largest logit change from float32 went 0.92 -> 0.50 and answers agreeing with
      float32 596 -> 597 of 600 (per-channel scales: 0.43, but slower, so not used).
    - The embedding ``Gather`` stays float32: quantised per tensor, the word-embedding table alone
      moved logits by more than the int8 tolerance on a trained model, and a lookup gains no speed.
      The cost is size: the embedding table (22 M float32 values on distilbert-base) is not shrunk.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = dst.with_suffix(".tmp.onnx")
    quantize_dynamic(
        str(src), str(tmp), weight_type=QuantType.QInt8, reduce_range=True, op_types_to_quantize=["MatMul"]
    )
    proto = onnx.load(str(tmp))
    tmp.unlink()
    onnx.save(canonicalize(proto), str(dst))


def _shape(value_info: Any) -> list[int | str]:
    dims: list[int | str] = []
    for d in value_info.type.tensor_type.shape.dim:
        dims.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or -1))
    return dims


def read_signature(path: Path) -> dict[str, Any]:
    import onnx

    proto = onnx.load(str(path), load_external_data=False)

    def side(values: Any) -> dict[str, Any]:
        return {
            v.name: {
                "name": v.name,
                "dtype": ONNX_DTYPES.get(v.type.tensor_type.elem_type, str(v.type.tensor_type.elem_type)),
                "shape": _shape(v),
            }
            for v in values
        }

    return {
        "inputs": side(proto.graph.input),
        "outputs": side(proto.graph.output),
        "opset": max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")),
        "output_order": [v.name for v in proto.graph.output],
        "op_types": sorted({n.op_type for n in proto.graph.node}),
    }

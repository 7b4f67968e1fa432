"""Keras model -> ONNX (tf2onnx, int64 inputs) and its dynamic int8 variant, saved reproducibly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from convert.onnx_canonical import canonicalize
from convert.savedmodel_export import serving_function

OPSET = 17
ONNX_DTYPES = {1: "float32", 6: "int32", 7: "int64", 10: "float16", 3: "int8", 2: "uint8"}


def export_onnx(model: Any, path: Path, *, fixed_length: int | None = None, opset: int = OPSET) -> None:
    """Convert through tf2onnx from the same serving function, with int64 inputs (transformers.js feeds int64)."""
    import onnx
    import tf2onnx

    fn = serving_function(model, fixed_length=fixed_length, dtype="int64")
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=fn.input_signature, opset=opset)
    proto.producer_name = "qaport (tf2onnx)"
    _name_dynamic_axes(proto, fixed_length)
    onnx.checker.check_model(proto)
    onnx.save(canonicalize(proto), str(path))


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

    - Unsigned 8-bit weights (U8U8 ``MatMulInteger``): with signed weights (U8S8) onnxruntime's
      x86-64 kernels without VNNI (AVX2, the machines this runs on) saturate the int16 sums of
      u8 x s8 products, which more than doubled the logit error on a trained model.
    - The embedding ``Gather`` stays float32: quantised per tensor, the word-embedding table alone
      moved logits by more than the int8 tolerance on a trained model, and a lookup gains no speed.
      The cost is size: the embedding table (22 M float32 values on distilbert-base) is not shrunk.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = dst.with_suffix(".tmp.onnx")
    quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QUInt8, op_types_to_quantize=["MatMul"])
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

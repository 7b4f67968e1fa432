"""Keras model -> TF SavedModel with an int32 ``serving_default`` signature (the original post's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qaport.architectures import TOKEN_TYPE_IDS, architecture


def model_inputs(model: Any) -> tuple[str, ...]:
    """The inputs the model's architecture takes (qaport.architectures), in signature order."""
    return architecture(model.config.model_type).inputs


def serving_function(model: Any, *, fixed_length: int | None = None, dtype: str = "int32") -> Any:
    """A tf.function returning ``{"start_logits", "end_logits"}`` by name, for SavedModel and tf2onnx.

    Its inputs are the architecture's: ``input_ids`` and ``attention_mask``, plus ``token_type_ids``
    for the models that use them (BERT, MobileBERT, ALBERT), all of ``dtype``.
    """
    import tensorflow as tf

    tf_dtype = tf.as_dtype(dtype)
    names = model_inputs(model)
    spec = [tf.TensorSpec([None, fixed_length], tf_dtype, name=name) for name in names]

    def run(**feeds: Any) -> dict[str, Any]:
        out = model(**{k: tf.cast(v, tf.int32) for k, v in feeds.items()}, training=False)
        return {"start_logits": out.start_logits, "end_logits": out.end_logits}

    if TOKEN_TYPE_IDS in names:

        @tf.function(input_signature=spec)
        def serving_types(input_ids: Any, attention_mask: Any, token_type_ids: Any) -> dict[str, Any]:
            return run(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)

        return serving_types

    @tf.function(input_signature=spec)
    def serving(input_ids: Any, attention_mask: Any) -> dict[str, Any]:
        return run(input_ids=input_ids, attention_mask=attention_mask)

    return serving


def export_savedmodel(model: Any, out_dir: Path, *, fixed_length: int | None = None) -> None:
    """Save only the variables and the serving function.

    A tf.Module holding the variables (rather than the Keras model itself) keeps Keras' per-layer
    traces and metadata out of the SavedModel: smaller, faster to save, same signature.
    """
    import tensorflow as tf

    serving = serving_function(model, fixed_length=fixed_length)
    module = tf.Module()
    module.model_variables = list(model.variables)
    module.serving = serving
    tf.saved_model.save(module, str(out_dir), signatures={"serving_default": serving})


TF_DTYPES = {1: "float32", 3: "int32", 9: "int64", 19: "float16"}  # tensorflow DataType enum values


def _shape(proto: Any) -> list[int]:
    if proto.unknown_rank:
        return []
    return [int(d.size) for d in proto.dim]


def read_signature(sm_dir: Path, name: str = "serving_default") -> dict[str, Any]:
    """Inputs and outputs of a signature, read from saved_model.pb without loading TensorFlow graphs."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((sm_dir / "saved_model.pb").read_bytes())
    sigs = proto.meta_graphs[0].signature_def
    if name not in sigs:
        msg = f"SavedModel {sm_dir} has no signature {name!r}; available: {', '.join(sigs)}"
        raise KeyError(msg)
    sig = sigs[name]

    def side(tensors: Any) -> dict[str, Any]:
        return {
            key: {
                "name": info.name,
                "dtype": TF_DTYPES.get(info.dtype, str(info.dtype)),
                "shape": _shape(info.tensor_shape),
            }
            for key, info in sorted(tensors.items())
        }

    return {"signature": name, "inputs": side(sig.inputs), "outputs": side(sig.outputs)}

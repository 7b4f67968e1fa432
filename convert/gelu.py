"""Exact GELU in the erf form, so graphs lower to ``Erf`` instead of ``Erfc``.

Keras' exact gelu lowers to ``Erfc``, which tensorflowjs_converter refuses and which tf2onnx
writes as an op onnxruntime rejects. ``0.5 * x * (1 + erf(x / sqrt(2)))`` is the same function.
Which config key names the activation and which layer attributes hold it is per architecture
(qaport.architectures: ``activation_key``, ``activation_attrs``).
"""

from __future__ import annotations

import math
from typing import Any

import tensorflow as tf

from qaport.architectures import architecture


def erf_gelu(x: tf.Tensor) -> tf.Tensor:
    x = tf.convert_to_tensor(x)
    cdf = 0.5 * (1.0 + tf.math.erf(x / tf.cast(math.sqrt(2.0), x.dtype)))
    return x * cdf


def exact_gelus() -> tuple[Any, ...]:
    """The function objects transformers and Keras use for exact ("gelu") GELU."""
    from transformers.activations_tf import get_tf_activation

    found = [get_tf_activation("gelu")]
    try:
        import tf_keras

        found.append(tf_keras.activations.gelu)
    except ImportError:  # pragma: no cover - tf-keras is a dependency
        pass
    return tuple(found)


def use_erf_gelu(model: Any) -> int:
    """Swap every exact-GELU feed-forward activation for :func:`erf_gelu`; return how many were swapped.

    Only exact GELU is replaced (the architecture's activation key, ``activation`` for DistilBERT and
    ``hidden_act`` for the others, equal to ``"gelu"``); tanh-approximate ``gelu_new`` (ALBERT), relu
    (MobileBERT) and the rest already convert and are left alone.
    """
    config = model.config
    arch = architecture(config.model_type)
    if getattr(config, arch.activation_key, "gelu") != "gelu":
        return 0
    exact = exact_gelus()
    swapped = 0
    for layer in model._flatten_layers(include_self=True, recursive=True):
        for attr in arch.activation_attrs:
            fn = layer.__dict__.get(attr)
            if fn is not None and any(fn is g for g in exact):
                setattr(layer, attr, erf_gelu)
                swapped += 1
    return swapped

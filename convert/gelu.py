"""Exact GELU in the erf form, so graphs lower to ``Erf`` instead of ``Erfc``.

Keras' exact gelu lowers to ``Erfc``, which tensorflowjs_converter refuses and which tf2onnx
writes as an op onnxruntime rejects. ``0.5 * x * (1 + erf(x / sqrt(2)))`` is the same function.
"""

from __future__ import annotations

import math
from typing import Any

import tensorflow as tf


def erf_gelu(x: tf.Tensor) -> tf.Tensor:
    x = tf.convert_to_tensor(x)
    cdf = 0.5 * (1.0 + tf.math.erf(x / tf.cast(math.sqrt(2.0), x.dtype)))
    return x * cdf


def use_erf_gelu(model: Any) -> int:
    """Swap every DistilBERT FFN activation for :func:`erf_gelu`; return how many were swapped.

    Only exact-GELU activations are replaced (``config.activation == "gelu"``); other activations
    are left alone because they already convert.
    """
    config = model.config
    if getattr(config, "activation", "gelu") != "gelu":
        return 0
    swapped = 0
    for block in model.distilbert.transformer.layer:
        block.ffn.activation = erf_gelu
        swapped += 1
    return swapped

"""SavedModel in TensorFlow (Python), through its serving signature."""

from __future__ import annotations

from typing import Any

from validate.runners.base import Logits, Runner, logical


class SavedModelRunner(Runner):
    runtime = "tensorflow"

    def _activate(self) -> None:
        import tensorflow as tf

        directory = self.root / self.record["directory"]
        self._model = tf.saved_model.load(str(directory))
        self._fn = self._model.signatures["serving_default"]
        shape = self.record["signature"]["inputs"]["input_ids"]["shape"]
        self.fixed_length = shape[1] if len(shape) == 2 and shape[1] > 0 else None

    def _infer(self, ids: Any, mask: Any, types: Any = None) -> Logits:
        import tensorflow as tf

        feeds = {"input_ids": tf.constant(ids), "attention_mask": tf.constant(mask)}
        if types is not None:
            feeds["token_type_ids"] = tf.constant(types)
        out = self._fn(**feeds)
        return logical({k: v.numpy() for k, v in out.items()}, self.record["output_names"])

    def _deactivate(self) -> None:
        self._fn = None
        self._model = None

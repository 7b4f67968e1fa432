"""The reference: the Keras model, rebuilt from the manifest's source and checked by weights digest."""

from __future__ import annotations

from typing import Any

from validate.runners.base import Logits, Runner, RunnerError


class KerasRunner(Runner):
    runtime = "keras (tf-keras)"

    def _activate(self) -> None:
        from convert.conversion import weights_digest
        from convert.sources import load_model

        source = self.record
        kind = source.get("kind")
        spec = {"default": None, "local": source.get("path"), "hub": source.get("spec"), "random": source.get("spec")}
        if kind not in spec:
            msg = f"manifest source kind {kind!r} is unknown; re-convert with this qaport"
            raise RunnerError(msg)
        self.loaded = load_model(spec[kind], seed=int(source.get("seed") or 0))
        digest = weights_digest(self.loaded.model)
        if digest != source.get("weights_digest"):
            msg = (
                f"the reference model rebuilt from {source.get('spec')!r} has different weights than the ones "
                "converted (weights_digest differs); re-convert or pass the original checkpoint"
            )
            raise RunnerError(msg)
        from convert.savedmodel_export import serving_function

        self._fn = serving_function(self.loaded.model)
        self.inputs = self.loaded.arch.inputs

    def _infer(self, ids: Any, mask: Any, types: Any = None) -> Logits:
        out = self._fn(ids, mask) if types is None else self._fn(ids, mask, types)
        return out["start_logits"].numpy(), out["end_logits"].numpy()

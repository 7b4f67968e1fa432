"""Scoring a default-model checkpoint with the project's own decoding and SQuAD metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from convert.default_model import SUPER_BOWL_CONTEXT, SUPER_BOWL_QUESTION

TOKENIZER_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


def load_infer(checkpoint: Path) -> tuple[Any, Any]:
    """(infer, tokenizer) for ``validate.decode.answer``: the Keras model behind one traced function."""
    import tensorflow as tf
    from tokenizers import Tokenizer
    from transformers import TFDistilBertForQuestionAnswering

    model = TFDistilBertForQuestionAnswering.from_pretrained(str(checkpoint))
    spec = tf.TensorSpec([None, None], tf.int32)

    @tf.function(input_signature=[spec, spec])
    def run(ids: Any, mask: Any) -> Any:
        out = model(input_ids=ids, attention_mask=mask, training=False)
        return out.start_logits, out.end_logits

    def infer(ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        start, end = run(ids, mask)
        return start.numpy(), end.numpy()

    return infer, Tokenizer.from_file(str(checkpoint / "tokenizer.json"))


def evaluate_checkpoint(checkpoint: Path, heldout: Path) -> dict[str, Any]:
    """Held-out EM / F1 (SQuAD v1.1 normalisation) and the Super Bowl answer."""
    from validate.decode import answer
    from validate.squad import evaluate, load_examples

    infer, tokenizer = load_infer(checkpoint)
    examples = load_examples(heldout)
    predictions = {ex.id: answer(infer, tokenizer, ex.question, ex.context).text for ex in examples}
    scores: dict[str, Any] = dict(evaluate(predictions, examples))
    bowl = answer(infer, tokenizer, SUPER_BOWL_QUESTION, SUPER_BOWL_CONTEXT)
    scores["super_bowl"] = bowl.text
    scores["super_bowl_score"] = bowl.score
    scores["predictions"] = predictions
    return scores


def _arrays(path: Path) -> dict[str, np.ndarray]:
    import h5py

    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as fh:
        fh.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def weight_diff(a: Path, b: Path) -> dict[str, Any]:
    """Array-by-array comparison of two checkpoints' ``tf_model.h5`` plus their tokenizer files."""
    wa, wb = _arrays(a / "tf_model.h5"), _arrays(b / "tf_model.h5")
    different = 0
    max_diff = 0.0
    for name in sorted(wa.keys() & wb.keys()):
        x, y = wa[name], wb[name]
        if x.shape != y.shape:
            different += 1
            max_diff = float("inf")
            continue
        if not np.array_equal(x, y):
            different += 1
            max_diff = max(max_diff, float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))))
    same_files = all((a / f).read_bytes() == (b / f).read_bytes() for f in TOKENIZER_FILES if (a / f).exists())
    return {
        "arrays": len(wa),
        "different": different,
        "missing": len(wa.keys() ^ wb.keys()),
        "max_abs_diff": max_diff,
        "tokenizer_same": same_files and all((b / f).exists() for f in TOKENIZER_FILES),
    }

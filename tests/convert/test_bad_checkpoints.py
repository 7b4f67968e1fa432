"""Damaged checkpoints through ``python -m convert``: one ERROR line, exit 2, nothing written.

Set QAPORT_RELIABILITY_DIR to an already converted default-model directory to skip the conversion.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import (
    error_lines,
    run_cli,
)


# =======================================================================================================
# 1. Model side. Covered in test_sources: missing dir, empty dir, no weights, truncated h5, config that
#    does not match the weights, tokenizer vocabulary != vocab_size. Added: weights that are not HDF5 at
#    all, an empty weights file, a damaged safetensors file, a config.json that is not JSON, a file
#    given as the directory.
# =======================================================================================================
@pytest.fixture(scope="module")
def bad_checkpoints(tmp_path_factory: pytest.TempPathFactory, word_tokenizer) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    from tests.convert.test_sources import _save_tiny

    base = tmp_path_factory.mktemp("bad-ckpt")
    vocab = base / "vocab.txt"
    vocab.write_text("\n".join(t for t, _ in sorted(word_tokenizer.get_vocab().items(), key=lambda kv: kv[1])) + "\n")
    good = _save_tiny(base / "good", "TFDistilBertForQuestionAnswering", vocab)
    out: dict[str, Path] = {}

    def variant(name: str) -> Path:
        out[name] = base / name
        shutil.copytree(good, out[name])
        return out[name]

    weights = variant("garbage-h5") / "tf_model.h5"
    weights.write_bytes(np.random.default_rng(0).bytes(weights.stat().st_size))
    (variant("empty-h5") / "tf_model.h5").write_bytes(b"")
    (variant("config-not-json") / "config.json").write_text('{"model_type": "distilbert", ')
    # cut short as a new user found it (2026-12-05): the Rust tokenizer's bare Exception used to escape
    (variant("tokenizer-json-truncated") / "tokenizer.json").write_text('{"version": "1.0", "model": {"type": "WordPie')
    safetensors = variant("truncated-safetensors")
    import tensorflow as tf
    from transformers import TFDistilBertForQuestionAnswering

    tf.keras.utils.set_random_seed(0)
    model = TFDistilBertForQuestionAnswering.from_pretrained(str(good))
    (safetensors / "tf_model.h5").unlink()
    model.save_pretrained(str(safetensors), safe_serialization=True)
    out["intact-safetensors"] = base / "intact-safetensors"
    shutil.copytree(safetensors, out["intact-safetensors"])
    data = (safetensors / "model.safetensors").read_bytes()
    (safetensors / "model.safetensors").write_bytes(data[: len(data) // 2])
    out["a-file"] = base / "a-file.h5"
    out["a-file"].write_bytes(b"\x89HDF\r\n")
    return out


BAD_MODELS = {
    "garbage-h5": r"weights file .*tf_model\.h5 is unreadable \(truncated or corrupt\?\)",
    "empty-h5": r"weights file .*tf_model\.h5 is empty; re-save the checkpoint",
    "config-not-json": r"config\.json is not valid JSON",
    "tokenizer-json-truncated": r"tokenizer\.json is not a tokenizer file `tokenizers` can read \(EOF while parsing",
    "truncated-safetensors": r"model\.safetensors is unreadable \(truncated or corrupt\?\)",
    "a-file": r"is a file; pass the checkpoint directory that holds config\.json",
}


@pytest.mark.tf
@pytest.mark.parametrize("case", sorted(BAD_MODELS))
def test_damaged_checkpoint_is_one_line_exit_2(case: str, bad_checkpoints: dict[str, Path], tmp_path: Path) -> None:
    proc = run_cli("convert", "--model", str(bad_checkpoints[case]), cwd=tmp_path, timeout=300)
    assert proc.returncode == 2, proc.stdout[-1000:] + proc.stderr[-2000:]
    (line,) = error_lines(proc.stderr)
    print(f"\n{case}: {line}")
    assert re.search(BAD_MODELS[case], line), line
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "artifacts").exists()


@pytest.mark.tf
def test_intact_safetensors_checkpoint_still_loads(bad_checkpoints: dict[str, Path]) -> None:
    from convert.sources import load_model

    loaded = load_model(str(bad_checkpoints["intact-safetensors"]))
    assert loaded.source.weights_file == "model.safetensors"

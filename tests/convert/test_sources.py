"""--model sources and their bad inputs: one ERROR line, exit 2, nothing under artifacts/."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from tests.conftest import error_lines, run_cli

pytestmark = pytest.mark.tf


def _save_tiny(path: Path, cls_name: str, vocab_file: Path, *, vocab_size: int | None = None, dim: int = 32) -> Path:
    import tensorflow as tf
    import transformers
    from transformers import DistilBertConfig, DistilBertTokenizerFast

    tok = DistilBertTokenizerFast(vocab_file=str(vocab_file), do_lower_case=False, model_max_length=512)
    cfg = DistilBertConfig(vocab_size=vocab_size or len(tok), dim=dim, n_layers=1, n_heads=2, hidden_dim=64)
    tf.keras.utils.set_random_seed(0)
    model = getattr(transformers, cls_name)(cfg)
    model(model.dummy_inputs)
    model.save_pretrained(str(path))
    tok.save_pretrained(str(path))
    return path


@pytest.fixture(scope="module")
def vocab_file(tmp_path_factory: pytest.TempPathFactory, word_tokenizer) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    vocab = sorted(word_tokenizer.get_vocab().items(), key=lambda kv: kv[1])
    path.write_text("\n".join(t for t, _ in vocab) + "\n")
    return path


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory, vocab_file: Path) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("ckpt")
    qa = _save_tiny(base / "qa", "TFDistilBertForQuestionAnswering", vocab_file)
    bare = _save_tiny(base / "bare", "TFDistilBertModel", vocab_file)
    cls = _save_tiny(base / "cls", "TFDistilBertForSequenceClassification", vocab_file)
    mismatch = _save_tiny(base / "vocab-mismatch", "TFDistilBertForQuestionAnswering", vocab_file, vocab_size=5000)
    noweights = base / "noweights"
    shutil.copytree(qa, noweights)
    (noweights / "tf_model.h5").unlink()
    truncated = base / "truncated"
    shutil.copytree(qa, truncated)
    data = (truncated / "tf_model.h5").read_bytes()
    (truncated / "tf_model.h5").write_bytes(data[: len(data) // 3])
    wrongcfg = base / "wrong-config"
    shutil.copytree(qa, wrongcfg)
    cfg = json.loads((wrongcfg / "config.json").read_text())
    cfg["dim"], cfg["n_heads"] = 64, 4
    (wrongcfg / "config.json").write_text(json.dumps(cfg))
    noarch = base / "bare-noarch"
    shutil.copytree(bare, noarch)
    cfg = json.loads((noarch / "config.json").read_text())
    cfg.pop("architectures", None)
    (noarch / "config.json").write_text(json.dumps(cfg))
    return {
        "qa": qa,
        "bare": bare,
        "cls": cls,
        "mismatch": mismatch,
        "noweights": noweights,
        "truncated": truncated,
        "wrongcfg": wrongcfg,
        "noarch": noarch,
        "empty": _mkdir(base / "empty"),
    }


def _mkdir(p: Path) -> Path:
    p.mkdir()
    return p


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CASES = {
    "missing": (lambda c, t: str(t / "does-not-exist"), r"does not exist"),
    "empty": (lambda c, t: str(c["empty"]), r"has no config.json"),
    "noweights": (lambda c, t: str(c["noweights"]), r"has no weights: expected one of tf_model.h5"),
    "truncated": (lambda c, t: str(c["truncated"]), r"(unreadable|truncated|corrupt)"),
    "bare": (lambda c, t: str(c["bare"]), r"DistilBertModel checkpoint, not a question-answering model"),
    "noarch": (lambda c, t: str(c["noarch"]), r"no question-answering head"),
    "classifier": (lambda c, t: str(c["cls"]), r"SequenceClassification checkpoint, not a question-answering"),
    "vocab": (lambda c, t: str(c["mismatch"]), r"tokenizer .* has \d+ tokens but the model's vocab_size is 5000"),
    "wrong-config": (lambda c, t: str(c["wrongcfg"]), r"do not (load into|match) (the )?config"),
    "hub-offline": (
        lambda c, t: "distilbert-base-cased-distilled-squad",
        r"Hub .* is unreachable; pass a local checkpoint",
    ),
    "random-unknown": (
        lambda c, t: "random:gpt-17",
        r"unknown random architecture 'gpt-17'; available: distilbert-base-cased",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_model_is_one_line_exit_2_and_nothing_written(
    case: str, checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    spec_of, pattern = CASES[case]
    env = {"HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}", "HF_HOME": str(tmp_path / "hf-home")}
    proc = run_cli("convert", "--model", spec_of(checkpoints, tmp_path), cwd=tmp_path, env=env, timeout=300)
    errors = error_lines(proc.stderr)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(errors) == 1, proc.stderr[-2000:]
    import re

    assert re.search(pattern, errors[0]), errors[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "artifacts").exists()


def test_local_checkpoint_loads_with_erf_gelu(checkpoints: dict[str, Path]) -> None:
    from convert.sources import load_model

    loaded = load_model(str(checkpoints["qa"]))
    assert loaded.source.kind == "local" and loaded.source.weights_sha256
    assert loaded.gelu_swapped == 1


def test_random_full_size_architecture() -> None:
    from convert.sources import load_model

    loaded = load_model("random:distilbert-base-cased", seed=0)
    cfg = loaded.model.config
    assert (cfg.n_layers, cfg.dim, cfg.n_heads, cfg.hidden_dim, cfg.vocab_size) == (6, 768, 12, 3072, 28996)
    assert len(loaded.tokenizer) == 28996
    again = load_model("random:distilbert-base-cased", seed=0)
    import numpy as np

    a = loaded.model.distilbert.embeddings.weight.numpy()
    b = again.model.distilbert.embeddings.weight.numpy()
    assert np.array_equal(a, b)


def test_erf_gelu_matches_keras_gelu_within_1e5() -> None:
    """The erf form is the same function: logits of the default model move by 1e-5 or less."""
    import numpy as np
    from transformers import TFDistilBertForQuestionAnswering

    from convert.sources import load_model
    from qaport.default_model import CHECKPOINT_DIR

    original = TFDistilBertForQuestionAnswering.from_pretrained(str(CHECKPOINT_DIR))
    patched = load_model(None).model
    rng = np.random.default_rng(0)
    ids = rng.integers(5, original.config.vocab_size, size=(4, 200)).astype(np.int32)
    mask = np.ones_like(ids)
    a = original(input_ids=ids, attention_mask=mask, training=False)
    b = patched(input_ids=ids, attention_mask=mask, training=False)
    for x, y in ((a.start_logits, b.start_logits), (a.end_logits, b.end_logits)):
        assert float(np.abs(x.numpy() - y.numpy()).max()) <= 1e-5


def test_full_size_erf_gelu_within_1e5() -> None:
    import numpy as np

    from convert.gelu import use_erf_gelu
    from convert.sources import load_model

    loaded = load_model("random:distilbert-base-cased", seed=0)
    import tensorflow as tf

    model = loaded.model
    ids = np.random.default_rng(1).integers(5, 28996, size=(2, 128)).astype(np.int32)
    mask = np.ones_like(ids)
    patched = model(input_ids=ids, attention_mask=mask, training=False)
    for block in model.distilbert.transformer.layer:
        block.ffn.activation = tf.keras.activations.gelu
    original = model(input_ids=ids, attention_mask=mask, training=False)
    use_erf_gelu(model)
    diff = max(
        float(np.abs(patched.start_logits.numpy() - original.start_logits.numpy()).max()),
        float(np.abs(patched.end_logits.numpy() - original.end_logits.numpy()).max()),
    )
    assert diff <= 1e-5

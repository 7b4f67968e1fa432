"""Model sources for ``--model``: the embedded default, a local checkpoint, a Hub id, or ``random:``.

Every source ends as a Keras ``TFDistilBertForQuestionAnswering`` with erf-form GELU and its fast
tokenizer. Problems are reported as one :class:`ModelSourceError` line before anything is written.
"""

from __future__ import annotations

import json
import os
import re
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from qaport.errors import ModelSourceError
from qaport.manifest import sha256_file

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

RANDOM_PREFIX = "random:"
# Full-size DistilBERT architectures reproducible offline with seeded weights.
RANDOM_ARCHITECTURES: dict[str, dict[str, Any]] = {
    "distilbert-base-cased": {
        "vocab_size": 28996,
        "dim": 768,
        "n_layers": 6,
        "n_heads": 12,
        "hidden_dim": 3072,
        "max_position_embeddings": 512,
        "activation": "gelu",
    },
}
WEIGHT_FILES = ("tf_model.h5", "model.safetensors")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


@dataclass(frozen=True)
class ModelSource:
    kind: str  # "default" | "local" | "hub" | "random"
    spec: str
    name: str
    path: str | None = None
    weights_file: str | None = None
    weights_sha256: str | None = None
    seed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class LoadedModel:
    model: Any  # TFDistilBertForQuestionAnswering
    tokenizer: Any  # DistilBertTokenizerFast
    source: ModelSource
    gelu_swapped: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> Any:
        return self.model.config


def load_model(spec: str | None = None, *, seed: int = 0) -> LoadedModel:
    """Resolve ``--model`` and load it; ``None`` means the embedded default."""
    if spec is None or spec == "default":
        from convert.default_model import CHECKPOINT_DIR

        return _load_dir(CHECKPOINT_DIR, kind="default", spec="default", name="default")
    if spec.startswith(RANDOM_PREFIX):
        return _load_random(spec, seed)
    path = Path(spec).expanduser()
    if path.exists() or spec.startswith((".", "/", "~")) or (os.sep in spec and not _HUB_ID.match(spec)):
        return _load_dir(path, kind="local", spec=spec, name=path.resolve().name)
    if _HUB_ID.match(spec):
        return _load_hub(spec)
    msg = f"--model {spec!r} is neither a directory, a Hub id, nor random:<arch>"
    raise ModelSourceError(msg)


def _check_dir(path: Path) -> tuple[dict[str, Any], Path]:
    if not path.exists():
        msg = f"model directory {path} does not exist; pass a save_pretrained() directory or a Hub id"
        raise ModelSourceError(msg)
    if not path.is_dir():
        msg = f"--model {path} is a file; pass the checkpoint directory that holds config.json"
        raise ModelSourceError(msg)
    config_path = path / "config.json"
    if not config_path.is_file():
        msg = f"model directory {path} has no config.json; is it a save_pretrained() directory?"
        raise ModelSourceError(msg)
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"{config_path} is not valid JSON ({exc})"
        raise ModelSourceError(msg) from exc
    model_type = config.get("model_type")
    if model_type != "distilbert":
        msg = f"{path} holds a {model_type!r} model; qaport converts DistilBERT (model_type 'distilbert')"
        raise ModelSourceError(msg)
    archs = config.get("architectures") or []
    if archs and not any(a.endswith("ForQuestionAnswering") for a in archs):
        msg = (
            f"{path} is a {', '.join(archs)} checkpoint, not a question-answering model; "
            "pass a DistilBertForQuestionAnswering checkpoint (fine-tuned on SQuAD or similar)"
        )
        raise ModelSourceError(msg)
    weights = next((path / f for f in WEIGHT_FILES if (path / f).is_file()), None)
    if weights is None:
        found = ", ".join(sorted(p.name for p in path.iterdir())) or "nothing"
        hint = (
            " (PyTorch .bin weights need converting: save_pretrained from TF)"
            if (path / "pytorch_model.bin").exists()
            else ""
        )
        msg = f"model directory {path} has no weights: expected one of {', '.join(WEIGHT_FILES)}; found {found}{hint}"
        raise ModelSourceError(msg)
    if weights.stat().st_size == 0:
        msg = f"weights file {weights} is empty; re-save the checkpoint"
        raise ModelSourceError(msg)
    if weights.suffix == ".h5":
        _check_h5(weights)
    else:
        _check_safetensors(weights)
    return config, weights


def _check_safetensors(weights: Path) -> None:
    """The header must parse and cover the file exactly (a truncated or padded file does not)."""
    from safetensors import safe_open

    try:
        with safe_open(str(weights), framework="np") as f:
            names = list(f.keys())
    except Exception as exc:  # safetensors raises SafetensorError (and OSError) for damaged files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = f"weights file {weights} is unreadable (truncated or corrupt?): {first}; re-save the checkpoint"
        raise ModelSourceError(msg) from exc
    if not any("qa_outputs" in n for n in names):
        msg = (
            f"weights file {weights} has no question-answering head (qa_outputs); "
            "it is a bare or differently-headed DistilBERT: pass a DistilBertForQuestionAnswering checkpoint"
        )
        raise ModelSourceError(msg)


def _check_h5(weights: Path) -> None:
    import h5py  # installed with tensorflow

    try:
        with h5py.File(weights, "r") as h5:
            names = [*h5.attrs.get("layer_names", []), *h5.keys()]
    except OSError as exc:
        msg = f"weights file {weights} is unreadable (truncated or corrupt?): {str(exc).splitlines()[0]}"
        raise ModelSourceError(msg) from exc
    has_qa = any("qa_outputs" in (n.decode() if isinstance(n, bytes) else str(n)) for n in names)
    if not has_qa:
        msg = (
            f"weights file {weights} has no question-answering head (qa_outputs); "
            "it is a bare or differently-headed DistilBERT: pass a DistilBertForQuestionAnswering checkpoint"
        )
        raise ModelSourceError(msg)


def _load_dir(path: Path, *, kind: str, spec: str, name: str) -> LoadedModel:
    config, weights = _check_dir(path)
    from transformers import DistilBertTokenizerFast, TFDistilBertForQuestionAnswering

    try:
        tokenizer = DistilBertTokenizerFast.from_pretrained(str(path))
    except (OSError, ValueError, TypeError) as exc:
        msg = f"cannot load the tokenizer in {path} ({str(exc).splitlines()[0]}); expected tokenizer.json or vocab.txt"
        raise ModelSourceError(msg) from exc
    vocab = len(tokenizer)
    if vocab != config.get("vocab_size"):
        msg = (
            f"tokenizer in {path} has {vocab} tokens but the model's vocab_size is {config.get('vocab_size')}; "
            "the tokenizer does not belong to these weights: save both from the same model"
        )
        raise ModelSourceError(msg)
    try:
        model, info = TFDistilBertForQuestionAnswering.from_pretrained(str(path), output_loading_info=True)
    except Exception as exc:  # h5py/keras raise many types for damaged files; all mean the same here
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = f"weights in {weights} do not load into the config in {path}/config.json: {first[:300]}"
        raise ModelSourceError(msg) from exc
    missing = [k for k in info.get("missing_keys", []) if k and "dropout" not in k]  # dropout has no weights
    mismatched = info.get("mismatched_keys", [])
    if missing or mismatched:
        what = ", ".join(map(str, (missing or mismatched)[:3]))
        msg = f"weights in {weights} do not match config.json (missing or mismatched: {what}); re-save the checkpoint"
        raise ModelSourceError(msg)
    source = ModelSource(
        kind=kind,
        spec=spec,
        name=name,
        path=str(path.resolve()),
        weights_file=weights.name,
        weights_sha256=sha256_file(weights),
    )
    return _finish(model, tokenizer, source)


def _finish(model: Any, tokenizer: Any, source: ModelSource) -> LoadedModel:
    from convert.gelu import use_erf_gelu

    swapped = use_erf_gelu(model)
    return LoadedModel(model=model, tokenizer=tokenizer, source=source, gelu_swapped=swapped)


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def hub_reachable(timeout: float = 3.0) -> bool:
    """One quick TCP connect instead of transformers' minutes of retries."""
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0", "false", "False"):
        return False
    url = urlparse(hub_endpoint())
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def _load_hub(repo_id: str) -> LoadedModel:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    patterns = [
        "config.json",
        "tf_model.h5",
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",
        "special_tokens_map.json",
    ]
    try:
        local = snapshot_download(repo_id, allow_patterns=patterns, local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError):
        local = None
    if local is None:
        if not hub_reachable():
            msg = (
                f"cannot load {repo_id!r}: no local directory by that name, not in the Hugging Face cache, "
                f"and the Hub ({hub_endpoint()}) is unreachable; "
                "pass a local checkpoint directory: --model /path/to/dir"
            )
            raise ModelSourceError(msg)
        try:
            local = snapshot_download(repo_id, allow_patterns=patterns)
        except (HfHubHTTPError, OSError, ValueError) as exc:
            reason = str(exc).splitlines()[0]
            msg = f"cannot download {repo_id!r} from the Hub ({reason}); check the id or pass a local directory"
            raise ModelSourceError(msg) from exc
    loaded = _load_dir(Path(local), kind="hub", spec=repo_id, name=repo_id.replace("/", "--"))
    return loaded


def _load_random(spec: str, seed: int) -> LoadedModel:
    arch = spec[len(RANDOM_PREFIX) :]
    if arch not in RANDOM_ARCHITECTURES:
        msg = f"unknown random architecture {arch!r}; available: {', '.join(RANDOM_ARCHITECTURES)}"
        raise ModelSourceError(msg)
    import tensorflow as tf
    from transformers import DistilBertConfig, TFDistilBertForQuestionAnswering

    params = RANDOM_ARCHITECTURES[arch]
    config = DistilBertConfig(**params, architectures=["DistilBertForQuestionAnswering"])
    tf.keras.utils.set_random_seed(seed)
    model = TFDistilBertForQuestionAnswering(config)
    model(model.dummy_inputs, training=False)
    tokenizer = padded_default_tokenizer(params["vocab_size"])
    source = ModelSource(kind="random", spec=spec, name=f"random-{arch}", seed=seed)
    return _finish(model, tokenizer, source)


def padded_default_tokenizer(vocab_size: int) -> Any:
    """The default model's cased WordPiece, padded with [unused] tokens to ``vocab_size`` entries.

    The real bert-base-cased vocabulary cannot be fetched offline; random weights make answers
    meaningless anyway, and the shape (and so the cost) of the model is what matters.
    """
    from transformers import DistilBertTokenizerFast

    from convert.default_model import CHECKPOINT_DIR

    vocab = (CHECKPOINT_DIR / "vocab.txt").read_text(encoding="utf-8").splitlines()
    if len(vocab) > vocab_size:
        msg = f"default vocabulary ({len(vocab)}) is larger than the requested {vocab_size}"
        raise ModelSourceError(msg)
    vocab += [f"[unused{i}]" for i in range(vocab_size - len(vocab))]
    with tempfile.TemporaryDirectory() as tmp:
        vocab_file = Path(tmp) / "vocab.txt"
        vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
        tokenizer = DistilBertTokenizerFast(vocab_file=str(vocab_file), do_lower_case=False, model_max_length=512)
    return tokenizer

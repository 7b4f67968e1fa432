"""Model sources for ``--model``: the embedded default, a local checkpoint, a Hub id, or ``random:``.

Every source ends as a Keras question-answering model of one of qaport.architectures' classes
(TFDistilBert/TFBert/TFRoberta/TFMobileBert/TFAlbertForQuestionAnswering) with erf-form GELU, and its
fast tokenizer. Problems are reported as one :class:`ModelSourceError` line before anything is written.
"""

from __future__ import annotations

import json
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from qaport.architectures import RANDOM_MODELS, SUPPORTED, SUPPORTED_CLASSES, Architecture, RandomModel
from qaport.architectures import architecture as architecture_of
from qaport.errors import ModelSourceError
from qaport.manifest import sha256_file

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

RANDOM_PREFIX = "random:"
# random:<name> -> the model's config (qaport.architectures.RANDOM_MODELS holds the whole entries)
RANDOM_ARCHITECTURES: dict[str, dict[str, Any]] = {name: m.config for name, m in RANDOM_MODELS.items()}
WEIGHT_FILES = ("tf_model.h5", "model.safetensors")
MAX_JSON_BYTES = 16 << 20  # config.json, tokenizer_config.json, special_tokens_map.json: a few kB in practice
# tokenizer_config.json / special_tokens_map.json fields transformers reads, and the JSON types they take
_TOKEN_FIELDS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
_TOKENIZER_CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "do_lower_case": (bool,),
    "strip_accents": (bool, type(None)),
    "tokenize_chinese_chars": (bool,),
    "clean_up_tokenization_spaces": (bool,),
    "add_prefix_space": (bool,),
    "trim_offsets": (bool,),
    "keep_accents": (bool,),
    "remove_space": (bool,),
    "model_max_length": (int, float),
    "tokenizer_class": (str,),
    "added_tokens_decoder": (dict,),
    "additional_special_tokens": (list,),
}
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
    model: Any  # one of the architectures' TF...ForQuestionAnswering classes
    tokenizer: Any  # its fast tokenizer
    source: ModelSource
    gelu_swapped: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> Any:
        return self.model.config

    @property
    def arch(self) -> Architecture:
        return architecture_of(self.model.config.model_type)


def load_model(spec: str | None = None, *, seed: int = 0) -> LoadedModel:
    """Resolve ``--model`` and load it; ``None`` means the embedded default."""
    if spec is None or spec == "default":
        from qaport.default_model import CHECKPOINT_DIR

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
    config = read_json_object(config_path, "model config")
    model_type = config.get("model_type")
    archs = config.get("architectures") or []
    if not isinstance(archs, list) or not all(isinstance(a, str) for a in archs):
        msg = f"{config_path}: 'architectures' is {archs!r:.80}, not a list of class names; re-save the checkpoint"
        raise ModelSourceError(msg)
    if not isinstance(model_type, str):
        msg = f"{config_path}: 'model_type' is {model_type!r:.80}, not a name like 'distilbert'; re-save the checkpoint"
        raise ModelSourceError(msg)
    try:
        arch = architecture_of(model_type)
    except KeyError:
        listed = ", ".join(archs) or "no architectures listed"
        msg = (
            f"{path} holds a {model_type!r} model ({listed}, {config_path.name}); qaport converts {SUPPORTED_CLASSES} "
            f"checkpoints (model_type {SUPPORTED})"
        )
        raise ModelSourceError(msg) from None
    _check_config_types(config, arch, config_path)
    if archs and not any(a.endswith("ForQuestionAnswering") for a in archs):
        msg = (
            f"{path} is a {', '.join(archs)} checkpoint, not a question-answering model; "
            f"pass a {arch.pytorch_class} checkpoint (fine-tuned on SQuAD or similar)"
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
        _check_h5(weights, arch)
    else:
        _check_safetensors(weights, arch)
    return config, weights


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """A checkpoint's small JSON file, read and checked: one ModelSourceError naming it for any damage."""
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            msg = f"{path} is {size / 1e6:.0f} MB, not a {what} (at most {MAX_JSON_BYTES >> 20} MB); re-save it"
            raise ModelSourceError(msg)
        doc = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        msg = f"{path} is not valid JSON (not UTF-8 text: byte {exc.start}); re-save the checkpoint"
        raise ModelSourceError(msg) from exc
    except json.JSONDecodeError as exc:
        msg = f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}); re-save the checkpoint"
        raise ModelSourceError(msg) from exc
    except OSError as exc:
        msg = f"cannot read {path} ({exc.strerror or exc})"
        raise ModelSourceError(msg) from exc
    if not isinstance(doc, dict):
        msg = f"{path} holds a JSON {type(doc).__name__}, not the object a {what} is; re-save the checkpoint"
        raise ModelSourceError(msg)
    return doc


def _check_config_types(config: dict[str, Any], arch: Architecture, config_path: Path) -> None:
    """Every field the config class has a typed default for must have that type (a string where a size
    belongs would surface as a TensorFlow error deep inside the model, naming no file)."""
    import transformers

    defaults = getattr(transformers, arch.config_class)().to_dict()
    for key, value in config.items():
        default = defaults.get(key)
        if default is None or key in ("architectures", "model_type"):
            continue
        want: tuple[type, ...] = (int, float) if isinstance(default, float) else (type(default),)
        if isinstance(value, bool) != isinstance(default, bool) or not isinstance(value, want):
            kind = "a number" if float in want else f"a JSON {'boolean' if bool in want else want[0].__name__}"
            msg = f"{config_path}: '{key}' is {value!r:.60}, not {kind}; re-save the checkpoint"
            raise ModelSourceError(msg)


def _check_tokenizer_json_files(path: Path) -> dict[str, Any]:
    """tokenizer_config.json and special_tokens_map.json (both optional), read and their fields' types
    checked before transformers reads them; returns tokenizer_config.json's content ({} when absent)."""
    out: dict[str, Any] = {}
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        file = path / name
        if not file.exists() and not file.is_symlink():
            continue
        doc = read_json_object(file, "tokenizer settings file")
        for key, value in doc.items():
            if key in _TOKEN_FIELDS:
                # null too is refused: save_pretrained leaves an unset token out rather than writing null
                ok = isinstance(value, str) or (isinstance(value, dict) and isinstance(value.get("content"), str))
                want = "a token string or {content: ...}"
            elif key in _TOKENIZER_CONFIG_TYPES:
                types = _TOKENIZER_CONFIG_TYPES[key]
                ok = isinstance(value, types) and (bool in types or not isinstance(value, bool))
                want = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            else:
                continue
            if not ok:
                msg = f"{file}: '{key}' is {value!r:.60}, not {want}; re-save the tokenizer (tokenizer.save_pretrained)"
                raise ModelSourceError(msg)
        decoder = doc.get("added_tokens_decoder", {})
        if not all(isinstance(v, dict) and isinstance(v.get("content"), str) for v in decoder.values()):
            msg = f"{file}: 'added_tokens_decoder' has an entry without 'content'; re-save the tokenizer"
            raise ModelSourceError(msg)
        if name == "tokenizer_config.json":
            out = doc
    return out


def _tokenizer_json_casing(path: Path) -> dict[str, Any]:
    """Without tokenizer_config.json transformers assumes do_lower_case=True and rebuilds a cased
    tokenizer.json's normalizer to lowercase: take the casing from tokenizer.json itself instead."""
    try:
        normalizer = json.loads((path / "tokenizer.json").read_text(encoding="utf-8")).get("normalizer")
    except (OSError, ValueError, AttributeError):
        return {}  # a damaged tokenizer.json is reported when it is loaded
    if isinstance(normalizer, dict) and normalizer.get("type") == "BertNormalizer":
        kwargs = {"do_lower_case": normalizer.get("lowercase"), "strip_accents": normalizer.get("strip_accents")}
        return {k: v for k, v in kwargs.items() if isinstance(v, bool)}
    return {}


def _read_text(file: Path, fix: str) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        msg = f"{file} is not UTF-8 text (byte {exc.start}); {fix}"
        raise ModelSourceError(msg) from exc
    except OSError as exc:
        msg = f"cannot read {file} ({exc.strerror or exc}); {fix}"
        raise ModelSourceError(msg) from exc


def _first_difference(a: list[Any], b: list[Any]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _check_vocab_files(path: Path, tokenizer: Any, family: str) -> None:
    """The slow tokenizer's files beside tokenizer.json (WordPiece vocab.txt; byte-level BPE vocab.json and
    merges.txt) must hold the same vocabulary (and merges) as tokenizer.json: when they differ one of them
    is damaged, and which one cannot be known. The fast tokenizer reads only tokenizer.json, so without
    this check a damaged vocab.txt would pass unseen (and be rewritten from tokenizer.json)."""
    if not (path / "tokenizer.json").is_file():
        return
    files = {"wordpiece": ("vocab.txt",), "bpe": ("vocab.json", "merges.txt")}.get(family, ())
    vocab = tokenizer.backend_tokenizer.get_vocab(with_added_tokens=False)
    expected = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    for name in files:
        file = path / name
        if not file.exists() and not file.is_symlink():
            continue
        fix = f"re-save the tokenizer (tokenizer.save_pretrained) or remove {name} to use tokenizer.json"
        text = _read_text(file, fix)
        if name == "vocab.txt":
            got, what = text.splitlines(), "tokens"
        elif name == "vocab.json":
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as exc:
                msg = f"{file} is not valid JSON (line {exc.lineno}: {exc.msg}); {fix}"
                raise ModelSourceError(msg) from exc
            if not isinstance(doc, dict) or not all(isinstance(v, int) for v in doc.values()):
                msg = f"{file} is not an object of token ids; {fix}"
                raise ModelSourceError(msg)
            got, what = [t for t, _ in sorted(doc.items(), key=lambda kv: kv[1])], "tokens"
        else:
            got = [ln for ln in text.splitlines() if ln and not ln.startswith("#version")]
            expected = _merges_of(path / "tokenizer.json")
            what = "merges"
        if got != expected:
            first = _first_difference(got, expected)
            msg = (
                f"{file} does not match tokenizer.json ({len(got)} against {len(expected)} {what}, "
                f"first difference at entry {first + 1}); {fix}"
            )
            raise ModelSourceError(msg)


def _merges_of(tokenizer_json: Path) -> list[str]:
    """tokenizer.json's BPE merges as merges.txt lines ("a b"; newer files store [a, b] pairs)."""
    merges = json.loads(tokenizer_json.read_text(encoding="utf-8")).get("model", {}).get("merges", [])
    return [m if isinstance(m, str) else " ".join(m) for m in merges]


def _no_head(weights: Path, arch: Architecture) -> str:
    name = arch.qa_class.removeprefix("TF").removesuffix("ForQuestionAnswering")
    return (
        f"weights file {weights} has no question-answering head (qa_outputs); "
        f"it is a bare or differently-headed {name}: pass a {arch.pytorch_class} checkpoint"
    )


def _check_safetensors(weights: Path, arch: Architecture) -> None:
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
        raise ModelSourceError(_no_head(weights, arch))


def _check_h5(weights: Path, arch: Architecture) -> None:
    import h5py  # installed with tensorflow

    try:
        with h5py.File(weights, "r") as h5:
            names = [*h5.attrs.get("layer_names", []), *h5.keys()]
    except OSError as exc:
        msg = f"weights file {weights} is unreadable (truncated or corrupt?): {str(exc).splitlines()[0]}"
        raise ModelSourceError(msg) from exc
    has_qa = any("qa_outputs" in (n.decode() if isinstance(n, bytes) else str(n)) for n in names)
    if not has_qa:
        raise ModelSourceError(_no_head(weights, arch))


def _load_dir(path: Path, *, kind: str, spec: str, name: str) -> LoadedModel:
    config, weights = _check_dir(path)
    import transformers

    arch = architecture_of(config.get("model_type"))
    tokenizer_class = getattr(transformers, arch.tokenizer_class)
    model_class = getattr(transformers, arch.qa_class)
    tokenizer_config = _check_tokenizer_json_files(path)
    casing = _tokenizer_json_casing(path) if "do_lower_case" not in tokenizer_config else {}
    try:
        tokenizer = tokenizer_class.from_pretrained(str(path), **casing)
    except Exception as exc:  # the Rust `tokenizers` raises a bare Exception for a damaged tokenizer.json
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        files = {"wordpiece": "vocab.txt", "bpe": "vocab.json and merges.txt", "sentencepiece": "spiece.model"}
        if type(exc) is Exception and (path / "tokenizer.json").is_file():
            msg = (
                f"{path / 'tokenizer.json'} is not a tokenizer file `tokenizers` can read ({first}); "
                "re-save it with the model (tokenizer.save_pretrained) or remove it to use "
                f"{files[arch.tokenizer_family]}"
            )
        else:
            msg = (
                f"cannot load the tokenizer in {path} ({first}); "
                f"expected tokenizer.json or {files[arch.tokenizer_family]}"
            )
        raise ModelSourceError(msg) from exc
    _check_vocab_files(path, tokenizer, arch.tokenizer_family)
    vocab = len(tokenizer)
    if vocab != config.get("vocab_size"):
        msg = (
            f"tokenizer in {path} has {vocab} tokens but the model's vocab_size is {config.get('vocab_size')} "
            "(config.json); the tokenizer does not belong to these weights: save both from the same model"
        )
        raise ModelSourceError(msg)
    try:
        model, info = model_class.from_pretrained(str(path), output_loading_info=True)
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
        "model.safetensors",  # many QA checkpoints (deepset's) ship no TF weights; transformers loads these
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",  # WordPiece
        "vocab.json",  # byte-level BPE
        "merges.txt",
        "spiece.model",  # SentencePiece
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
    if arch not in RANDOM_MODELS:
        msg = f"unknown random architecture {arch!r}; available: {', '.join(RANDOM_MODELS)}"
        raise ModelSourceError(msg)
    import tensorflow as tf
    import transformers

    entry = RANDOM_MODELS[arch]
    config = getattr(transformers, entry.arch.config_class)(**entry.config, architectures=[entry.arch.pytorch_class])
    tf.keras.utils.set_random_seed(seed)
    model = getattr(transformers, entry.arch.qa_class)(config)
    model(model.dummy_inputs, training=False)
    tokenizer = random_tokenizer(entry)
    source = ModelSource(kind="random", spec=spec, name=f"random-{arch}", seed=seed)
    return _finish(model, tokenizer, source)


def random_tokenizer(entry: RandomModel) -> Any:
    """The offline tokenizer of a ``random:`` model: its family, padded to its vocabulary size."""
    from qaport.offline_tokenizers import OfflineTokenizerError, offline_tokenizer

    try:
        return offline_tokenizer(
            entry.arch.tokenizer_family,
            entry.vocab_size,
            lowercase=entry.lowercase,
            tokenizer_class=entry.arch.tokenizer_class,
        )
    except OfflineTokenizerError as exc:
        raise ModelSourceError(str(exc)) from exc


def padded_default_tokenizer(vocab_size: int) -> Any:
    """The default model's cased WordPiece, padded with [unused] tokens to ``vocab_size`` entries.

    The real bert-base-cased vocabulary cannot be fetched offline; random weights make answers
    meaningless anyway, and the shape (and so the cost) of the model is what matters.
    """
    from qaport.offline_tokenizers import OfflineTokenizerError, offline_tokenizer

    try:
        return offline_tokenizer("wordpiece", vocab_size, lowercase=False, tokenizer_class="DistilBertTokenizerFast")
    except OfflineTokenizerError as exc:
        msg = f"default vocabulary is larger than the requested {vocab_size}"
        raise ModelSourceError(msg) from exc

"""Every supported architecture (qaport.architectures) through convert and validate, in every runtime.

Each tiny ``random:`` model is converted once per module (``python -m convert``) and validated once
(``python -m validate``, a few questions); the manifest, the SavedModel signature and the ONNX and
TF.js inputs must be as the spec says, and Node.js and browser (headless Chromium) targets must have run,
not been skipped.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qaport.architectures import ARCHITECTURES, RANDOM_MODELS, TINY, TOKEN_TYPE_IDS
from qaport.registry import RUNTIMES
from tests.conftest import ROOT, error_lines, run_cli

pytestmark = pytest.mark.tf

HAVE_NODE = shutil.which("node") is not None and (ROOT / "js" / "node_modules").is_dir()
# one tiny model per architecture (tiny-bert-uncased adds only a tokenizer variant)
TINY_PER_ARCH = [n for n in TINY if n != "tiny-bert-uncased"]


def test_spec_covers_every_architecture_with_full_size_and_tiny_models() -> None:
    assert set(ARCHITECTURES) == {"distilbert", "bert", "roberta", "mobilebert", "albert"}
    for model_type, arch in ARCHITECTURES.items():
        kinds = {m.tiny for m in RANDOM_MODELS.values() if m.model_type == model_type}
        assert kinds == {True, False}, model_type
        assert arch.inputs[:2] == ("input_ids", "attention_mask")
        assert arch.uses_token_type_ids == (model_type in ("bert", "mobilebert", "albert"))
        assert set(arch.dynamic_axes()) == {*arch.inputs, "start_logits", "end_logits"}
    assert {n: RANDOM_MODELS[n].vocab_size for n in ("bert-base-uncased", "roberta-base", "albert-base-v2")} == {
        "bert-base-uncased": 30522,
        "roberta-base": 50265,
        "albert-base-v2": 30000,
    }


def test_older_manifests_mean_distilberts_two_inputs() -> None:
    from qaport.architectures import DEFAULT_INPUTS
    from qaport.manifest import model_inputs
    from validate.runners.base import record_inputs

    assert model_inputs({"schema_version": 1, "formats": {}}) == DEFAULT_INPUTS == ("input_ids", "attention_mask")
    sig = {"signature": {"inputs": {"attention_mask": {}, "input_ids": {}}}}
    assert record_inputs(sig) == DEFAULT_INPUTS
    sig["signature"]["inputs"][TOKEN_TYPE_IDS] = {}
    assert record_inputs(sig) == ("input_ids", "attention_mask", TOKEN_TYPE_IDS)
    assert model_inputs({"architecture": {"inputs": list(ARCHITECTURES["albert"].inputs)}}) == record_inputs(sig)


@pytest.fixture(scope="module", params=TINY_PER_ARCH)
def converted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    name = request.param
    out = tmp_path_factory.mktemp(name) / "artifacts"
    proc = run_cli("convert", "--model", f"random:{name}", "--out", str(out), timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return name, out


def _manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "manifest.json").read_text())


def test_manifest_and_every_format_take_the_architectures_inputs(converted: tuple[str, Path]) -> None:
    name, out = converted
    entry = RANDOM_MODELS[name]
    doc = _manifest(out)
    arch = doc["architecture"]
    assert arch["model_type"] == entry.model_type
    assert arch["tokenizer_family"] == entry.arch.tokenizer_family
    assert tuple(arch["inputs"]) == entry.arch.inputs
    want = set(entry.arch.inputs)
    for fmt, record in doc["formats"].items():
        inputs = record["signature"]["inputs"]
        assert set(inputs) == want, (fmt, sorted(inputs))
        dtype = "int64" if fmt.startswith("onnx") else "int32"
        assert {i["dtype"] for i in inputs.values()} == {dtype}, fmt
    for fmt in ("onnx", "onnx-int8"):
        sig = doc["formats"][fmt]["signature"]
        assert "Erfc" not in sig["op_types"], fmt
        assert all(i["shape"] == ["batch", "sequence"] for i in sig["inputs"].values())
    if doc["source"]["config"].get(entry.arch.activation_key) == "gelu":
        assert "Erf" in doc["formats"]["onnx"]["signature"]["op_types"]
        assert doc["source"]["gelu"].startswith("erf form")


# DistilBERT is the embedded default model's architecture: tests/validate/test_validate.py validates it in
# every runtime, browser ones included, on 22 questions, so its tiny model here would repeat that (150 s in CI).
# On the software GPU renderer each question costs about 3 s per target (4 such targets per model): 3 questions
# (one of them a long, several-window text) prove the architecture's inputs reach those backends as well as 9.
@pytest.mark.slow
@pytest.mark.parametrize("converted", [n for n in TINY_PER_ARCH if n != "tiny-distilbert"], indirect=True)
def test_validate_passes_in_every_runtime(converted: tuple[str, Path]) -> None:
    _, out = converted
    proc = run_cli(
        "validate",
        str(out),
        "--limit",
        "6",
        "--warmup",
        "0",
        "--runs-short",
        "1",
        "--runs-long",
        "1",
        "--software-gpu-questions",
        "3",
        timeout=1200,
    )
    report = json.loads((out / "report.json").read_text())
    lines = [f"{t['id']}: {t['status']} {t.get('reason', '')}" for t in report["targets"]]
    assert proc.returncode == 0 and report["passed"], "\n".join(lines) + proc.stderr[-2000:]
    statuses = {t["id"]: t["status"] for t in report["targets"]}
    if HAVE_NODE:
        assert set(statuses.values()) == {"passed"}, statuses
        assert any(t.endswith("@onnxruntime-node") for t in statuses)
        assert any(t.endswith("@tfjs-wasm") for t in statuses)
        # every browser target ran in headless Chromium and passed (not skipped): every web runtime
        browser = {r for r, spec in RUNTIMES.items() if spec.host == "browser"}
        assert {t.split("@")[1] for t in statuses} >= browser, statuses
        ran = {t["runtime"] for t in report["targets"] if t["runtime"] in browser and t.get("windows_differ") == 0}
        assert ran == browser, "a browser target's JavaScript windows differ from Python's"


@pytest.mark.parametrize(
    "converted", [n for n in TINY_PER_ARCH if TOKEN_TYPE_IDS in RANDOM_MODELS[n].arch.inputs], indirect=True
)
def test_token_type_ids_reach_the_model(converted: tuple[str, Path]) -> None:
    """Where the model takes token types, they change its logits (so feeding zeros would be caught)."""
    _, out = converted
    import onnxruntime as ort

    session = ort.InferenceSession(str(out / "onnx" / "model.onnx"), providers=["CPUExecutionProvider"])
    ids = np.random.default_rng(0).integers(5, 500, size=(1, 12)).astype(np.int64)
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    types = np.zeros_like(ids)
    types[:, 6:] = 1
    with_types = session.run(["start_logits"], {**feeds, "token_type_ids": types})[0]
    zeros = session.run(["start_logits"], {**feeds, "token_type_ids": np.zeros_like(ids)})[0]
    assert float(np.abs(with_types - zeros).max()) > 1e-4


@pytest.mark.parametrize("name", ["tiny-bert", "tiny-roberta"])
def test_local_save_pretrained_directory_loads(name: str, tmp_path: Path) -> None:
    """A save_pretrained() directory of a BERT and of a RoBERTa QA model loads as that architecture
    (what a Hub download becomes), with the same weights as the model saved."""
    from convert.conversion import weights_digest
    from convert.sources import load_model

    saved = load_model(f"random:{name}")
    saved.model.save_pretrained(str(tmp_path))
    saved.tokenizer.save_pretrained(str(tmp_path))
    loaded = load_model(str(tmp_path))
    entry = RANDOM_MODELS[name]
    assert loaded.source.kind == "local"
    assert type(loaded.model).__name__ == entry.arch.qa_class
    assert type(loaded.tokenizer).__name__ == entry.arch.tokenizer_class
    assert loaded.arch.model_type == entry.model_type
    assert loaded.gelu_swapped == saved.gelu_swapped == 2
    assert weights_digest(loaded.model) == weights_digest(saved.model)
    enc = loaded.tokenizer("Who won?", "The Broncos won.")
    assert enc["input_ids"] == saved.tokenizer("Who won?", "The Broncos won.")["input_ids"]
    assert ("token_type_ids" in enc) == entry.arch.uses_token_type_ids


@pytest.mark.parametrize(
    ("model_type", "archs"),
    [("gpt2", ["GPT2LMHeadModel"]), ("xlnet", ["XLNetForQuestionAnsweringSimple"])],
)
def test_unsupported_model_type_is_one_error_line_naming_the_supported(
    model_type: str, archs: list[str], tmp_path: Path
) -> None:
    ckpt = tmp_path / model_type
    ckpt.mkdir()
    (ckpt / "config.json").write_text(json.dumps({"model_type": model_type, "architectures": archs}))
    proc = run_cli("convert", "--model", str(ckpt), cwd=tmp_path, timeout=300)
    errors = error_lines(proc.stderr)
    assert proc.returncode == 2 and len(errors) == 1, proc.stderr[-2000:]
    assert f"'{model_type}'" in errors[0]
    for arch in ARCHITECTURES.values():
        assert arch.qa_class in errors[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "artifacts").exists()


@pytest.mark.parametrize("name", ["tiny-bert", "tiny-roberta"])
def test_erf_gelu_is_the_same_function(name: str) -> None:
    """The swapped activation moves BERT-style logits by 1e-5 or less (as for DistilBERT)."""
    from convert.gelu import erf_gelu, exact_gelus
    from convert.sources import load_model

    loaded = load_model(f"random:{name}")
    model = loaded.model
    ids = np.random.default_rng(2).integers(5, 1000, size=(2, 64)).astype(np.int32)
    mask = np.ones_like(ids)
    patched = model(input_ids=ids, attention_mask=mask, training=False)
    layers = [lyr for lyr in model._flatten_layers() if lyr.__dict__.get("intermediate_act_fn") is erf_gelu]
    assert len(layers) == loaded.gelu_swapped == 2
    for lyr in layers:
        lyr.intermediate_act_fn = exact_gelus()[0]
    original = model(input_ids=ids, attention_mask=mask, training=False)
    diff = float(np.abs(patched.start_logits.numpy() - original.start_logits.numpy()).max())
    assert diff <= 1e-5

"""The corruption matrix (issue 26) for ``python -m convert --model DIR``: every file of a checkpoint, every damage.

The checkpoint is a copy of the embedded default model's (qaport/default_model/checkpoint: a DistilBERT with
tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.txt, config.json and tf_model.h5). One
file at a time is damaged (tests/corruption.py: missing, empty, truncated, garbage, a symlink to a foreign
file outside, 40 MB, and for text and JSON files UTF-16, invalid JSON, JSON of the wrong shape, wrong-typed
fields) and the real CLI runs on it. Each (file, damage) has one expected outcome, from ``expected()``:

- ``refuse``: one ``ERROR`` line naming the damaged file, exit 2, no traceback, nothing written beside
  ``--out`` and the checkpoint unchanged; it must come before any conversion (checked: no "converting" line).
- ``accept``: the command succeeds (``--formats onnx`` keeps it at about 9 s) and its output is what the
  intact checkpoint gives: the same ONNX bytes and a tokenizer.json that encodes sample questions to the
  same ids and offsets. Only files the checkpoint has a second source for are accepted as missing.

Symlinks are followed on purpose (a Hugging Face cache snapshot is a directory of symlinks into blobs/), so
a symlink leaving the directory is judged by what it points at: here a JSON file that is no checkpoint file.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import error_lines, run_cli, tree
from tests.corruption import ONLY, SEED, announce, apply_damage, byte_damages, json_damages, sample, text_damages

FIELDS: dict[str, list[tuple[Any, ...]]] = {
    "config.json": [
        ("model_type",),
        ("architectures",),
        ("vocab_size",),
        ("dim",),
        ("n_layers",),
        ("n_heads",),
        ("hidden_dim",),
        ("max_position_embeddings",),
        ("activation",),
        ("pad_token_id",),
    ],
    "tokenizer.json": [
        ("model",),
        ("model", "vocab"),
        ("model", "type"),
        ("model", "unk_token"),
        ("normalizer",),
        ("normalizer", "lowercase"),
        ("pre_tokenizer",),
        ("post_processor",),
        ("added_tokens",),
    ],
    "tokenizer_config.json": [
        ("do_lower_case",),
        ("tokenizer_class",),
        ("model_max_length",),
        ("cls_token",),
        ("unk_token",),
        ("strip_accents",),
        ("added_tokens_decoder",),
    ],
    "special_tokens_map.json": [("cls_token",), ("sep_token",), ("pad_token",), ("unk_token",), ("mask_token",)],
}
WEIGHTS = "tf_model.h5"
FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", WEIGHTS]

# (file, damage) -> why it is accepted. Everything else must be refused.
ACCEPTED = {
    ("tokenizer.json", "missing"): "vocab.txt and tokenizer_config.json build the same WordPiece tokenizer",
    ("tokenizer_config.json", "missing"): "tokenizer.json carries the casing and special tokens it would set",
    ("special_tokens_map.json", "missing"): "tokenizer_config.json and tokenizer.json name the special tokens",
    ("vocab.txt", "missing"): "tokenizer.json holds the whole vocabulary; vocab.txt is written from it",
    # symlinks are followed (the Hugging Face cache); the foreign file is a JSON object with no key
    # transformers reads, an empty settings file: the same as a missing one
    ("tokenizer_config.json", "symlink-outside"): "an object with no tokenizer setting: as if missing",
    ("special_tokens_map.json", "symlink-outside"): "an object naming no special token: as if missing",
}
QUESTIONS = [
    ("Who founded Northwind Labs?", "Maria Lindqvist founded Northwind Labs in Rostock in 2003."),
    ("WHERE did THE Tigers play?", "The Tigers beat the Lions 24-10 in Paris; Café Zoë hosted the party."),
]


ROBERTA_FILES = ["vocab.json", "merges.txt"]
ACCEPTED.update(
    {
        ("vocab.json", "missing"): "tokenizer.json holds the whole byte-level BPE vocabulary",
        ("merges.txt", "missing"): "tokenizer.json holds the merges",
    }
)


def expected(rel: str, damage: str) -> str:
    return "accept" if (rel, damage) in ACCEPTED else "refuse"


def cases(checkpoint: Path, files: list[str], label: str) -> list[tuple[str, str, Any]]:
    out = []
    for rel in files:
        rng = random.Random(f"{SEED}:{label}:{rel}")
        data = (checkpoint / rel).read_bytes()
        if rel in FIELDS:
            damages = json_damages(data, FIELDS[rel], rng)
        elif rel == "vocab.json":  # token -> id: two ids replaced by another type
            keys = list(json.loads(data))
            damages = json_damages(data, [(keys[0],), (keys[-1],)], rng)
        elif rel.endswith(".txt"):
            damages = text_damages(data, rng)
        else:
            damages = byte_damages(data, rng)
        out += [(rel, name, how) for name, how in damages]
    return out


def encodings(tokenizer_json: Path) -> list[Any]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    return [(e.ids, e.offsets) for e in tok.encode_batch(QUESTIONS)]


def _casing(out: Path) -> Any:
    """What a reader of the written tokenizer_config.json (transformers.js, transformers) takes for casing."""
    doc = json.loads((out / "tokenizer_config.json").read_text())
    return doc.get("do_lower_case"), doc.get("strip_accents")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.tf
def test_every_damaged_checkpoint_file_is_refused_in_one_line_or_converted_right(tmp_path: Path) -> None:
    from qaport.default_model import CHECKPOINT_DIR

    ckpt = tmp_path / "checkpoint"
    shutil.copytree(CHECKPOINT_DIR, ckpt)
    run_matrix("convert", ckpt, cases(ckpt, FILES, "convert"), tmp_path, default=3)


@pytest.mark.tf
def test_a_roberta_checkpoints_vocab_json_and_merges_txt_damaged(tmp_path: Path) -> None:
    """The byte-level BPE files of a tiny RoBERTa (random:tiny-roberta, saved with save_pretrained)."""
    from convert.sources import load_model

    ckpt = tmp_path / "roberta"
    loaded = load_model("random:tiny-roberta")
    loaded.model.save_pretrained(str(ckpt))
    loaded.tokenizer.save_pretrained(str(ckpt))
    run_matrix("convert (RoBERTa)", ckpt, cases(ckpt, ROBERTA_FILES, "convert-roberta"), tmp_path, default=1)


def run_matrix(command: str, ckpt: Path, every: list[tuple[str, str, Any]], tmp_path: Path, default: int) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text('{"note": "a file outside the checkpoint, of no checkpoint kind"}')
    picked = sample(every, command, default=default)
    accepted = [c for c in every if expected(c[0], c[1]) == "accept"]
    if picked != every and accepted and not any(c in accepted for c in picked) and not ONLY:
        picked[-1] = random.Random(f"{SEED}:{command}:accept").choice(accepted)  # CI's sample converts one too
    reference: dict[str, Any] = {}
    if any(expected(rel, name) == "accept" for rel, name, _ in picked):
        ref = tmp_path / "reference"
        proc = run_cli("convert", "--model", str(ckpt), "--out", str(ref), "--formats", "onnx", cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        reference = {
            "onnx": _sha(ref / "onnx/model.onnx"),
            "enc": encodings(ref / "tokenizer.json"),
            "casing": _casing(ref),
        }
    tried: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    failures = []
    start = time.perf_counter()
    for rel, name, how in picked:
        original = (ckpt / rel).read_bytes()
        apply_damage(ckpt / rel, how, outside)
        before = tree(ckpt)
        runs = tmp_path / "runs"
        runs.mkdir()
        want = expected(rel, name)
        proc = run_cli("convert", "--model", str(ckpt), "--out", str(runs / "out"), "--formats", "onnx", cwd=runs)
        case = f"convert {rel} {name} (expected: {want})"
        tried[rel] += 1
        outcomes[want] += 1
        lines = error_lines(proc.stderr)
        if "Traceback" in proc.stderr:
            failures.append(f"{case}: traceback: {proc.stderr.strip().splitlines()[-1:]}")
        elif want == "refuse":
            if proc.returncode != 2 or len(lines) != 1 or rel not in lines[0]:
                failures.append(f"{case}: exit {proc.returncode}, {lines or proc.stderr.strip().splitlines()[-2:]}")
            elif list(runs.iterdir()):
                failures.append(f"{case}: wrote {sorted(p.name for p in runs.iterdir())}")
            elif "converting to" in proc.stdout:
                failures.append(f"{case}: refused only after starting the conversion")
        elif proc.returncode != 0:
            failures.append(f"{case}: exit {proc.returncode}, {lines or proc.stderr.strip().splitlines()[-2:]}")
        else:
            got = runs / "out"
            if _sha(got / "onnx/model.onnx") != reference["onnx"]:
                failures.append(f"{case}: onnx/model.onnx differs from the intact checkpoint's")
            if encodings(got / "tokenizer.json") != reference["enc"]:
                failures.append(f"{case}: the written tokenizer.json encodes differently from the intact one's")
            if _casing(got) != reference["casing"]:
                failures.append(
                    f"{case}: the written tokenizer_config.json says {_casing(got)}, not {reference['casing']}"
                )
        if tree(ckpt) != before:
            failures.append(f"{case}: the checkpoint directory changed")
        shutil.rmtree(runs)
        (ckpt / rel).unlink(missing_ok=True)
        (ckpt / rel).write_bytes(original)
    announce(
        command, len(picked), len(every), f"({dict(tried)}; {dict(outcomes)}; {time.perf_counter() - start:.0f} s)"
    )
    assert not failures, f"{len(failures)} of {len(picked)} cases failed:\n" + "\n".join(failures)

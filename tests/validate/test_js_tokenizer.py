"""Seeded property test: js/core/tokenizer.mjs (pure JavaScript) encodes exactly as Python ``tokenizers``.

For every tokenizer family qaport supports (qaport.offline_tokenizers: cased and uncased WordPiece, RoBERTa
byte-level BPE, ALBERT-style Unigram) 2,000 generated question/context pairs (and some single sequences) are
encoded by Python ``tokenizers`` (``Tokenizer.from_str(json).encode(q, c)``, no truncation or padding) and by
tests/validate/js/tokenizer_parity.mjs, and ids, type ids, special-token masks, sequence ids, word ids and
offsets (code points) must be equal. The texts come from test_js_python_property's generators (scripts,
combining marks, emoji, zero-width and control characters, whitespace runs, very long words...) with literal
special-token strings mixed in. A few real-world-style variants (the embedded default model's tokenizer,
RoBERTa with add_prefix_space, Metaspace prepend_scheme "first", and a pipeline of the other supported
normalizers and pre-tokenizers) get fewer pairs each. One node process encodes everything.

``cases(family, seed, n)`` builds the tokenizer.json text and pairs, so a browser version of this test can
reuse it. Set QAPORT_TOKENIZER_SEEDS="1,2,3" or QAPORT_TOKENIZER_PAIRS=20000 for longer runs.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qaport.default_model import CHECKPOINT_DIR

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "validate" / "js" / "tokenizer_parity_node.mjs"
IN_BROWSER = ROOT / "tests" / "validate" / "js" / "in_browser.mjs"
HOSTS = ("node", "browser")  # the same JavaScript in Node.js and in headless Chromium
CHECKPOINT = CHECKPOINT_DIR
SEEDS = [int(s) for s in os.environ.get("QAPORT_TOKENIZER_SEEDS", "20240616").split(",")]
N_PAIRS = int(os.environ.get("QAPORT_TOKENIZER_PAIRS", "2000"))
N_VARIANT = max(300, N_PAIRS // 6)
SHOW = 3  # failing pairs shown in the failure message

FAMILIES = ["wordpiece-cased", "wordpiece-uncased", "bpe", "sentencepiece"]
VARIANTS = ["default-model", "roberta-prefix-space", "metaspace-first", "pipeline-mix"]
SPECIAL_STRINGS = [
    "[SEP]",
    "[CLS]",
    "[MASK]",
    "[UNK]",
    "[PAD]",
    "<s>",
    "</s>",
    "<mask>",
    "<unk>",
    "<pad>",
    "[SEP",
    "<s",
]
FIELDS = ("ids", "typeIds", "specialTokensMask", "sequenceIds", "wordIds", "offsets")

if shutil.which("node") is None:  # fail, do not skip: the parity claim needs node
    pytest.fail("node is not on PATH", pytrace=False)


@functools.cache
def _generators() -> Any:
    """test_js_python_property's text generators (its module, loaded by path: tests/ is not a package)."""
    path = ROOT / "tests" / "validate" / "test_js_python_property.py"
    spec = importlib.util.spec_from_file_location("_qaport_property_generators", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@functools.cache
def tokenizer_json(family: str) -> str:  # noqa: PLR0911 (one return per family)
    """The tokenizer.json text of a family or variant (offline, deterministic)."""
    from qaport.offline_tokenizers import offline_tokenizer

    if family == "wordpiece-cased":
        return str(offline_tokenizer("wordpiece", 3000).backend_tokenizer.to_str())
    if family == "wordpiece-uncased":  # BertNormalizer lowercase=True, strip_accents null (follows lowercase)
        return str(offline_tokenizer("wordpiece", 3000, lowercase=True).backend_tokenizer.to_str())
    if family == "bpe":
        return str(offline_tokenizer("bpe", 1200).backend_tokenizer.to_str())
    if family == "sentencepiece":
        return str(offline_tokenizer("sentencepiece", 3200).backend_tokenizer.to_str())
    if family == "default-model":
        return (CHECKPOINT / "tokenizer.json").read_text(encoding="utf-8")
    if family == "roberta-prefix-space":
        doc = json.loads(tokenizer_json("bpe"))
        doc["pre_tokenizer"]["add_prefix_space"] = True
        doc["post_processor"]["add_prefix_space"] = True
        return json.dumps(doc)
    if family == "metaspace-first":  # Metaspace alone (T5/Llama style), prefix only at the start of a sequence
        doc = json.loads(tokenizer_json("sentencepiece"))
        doc["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True}
        doc["normalizer"]["normalizers"].insert(0, {"type": "Strip", "strip_left": False, "strip_right": True})
        return json.dumps(doc)
    if family == "pipeline-mix":  # the other supported components, over the cased WordPiece vocabulary
        doc = json.loads(tokenizer_json("wordpiece-cased"))
        doc["normalizer"] = {
            "type": "Sequence",
            "normalizers": [
                {"type": "NFKC"},
                {"type": "Replace", "pattern": {"Regex": "\\d{3,}"}, "content": "0"},
                {"type": "Replace", "pattern": {"String": "ß"}, "content": "ss"},
                {"type": "Strip", "strip_left": True, "strip_right": True},
                {"type": "NFC"},
                {"type": "Prepend", "prepend": "‹"},
            ],
        }
        doc["pre_tokenizer"] = {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Whitespace"},
                {"type": "Digits", "individual_digits": True},
                {"type": "Punctuation", "behavior": "MergedWithPrevious"},
                {"type": "Split", "pattern": {"String": "-"}, "behavior": "Removed", "invert": False},
            ],
        }
        doc["post_processor"] = {
            "type": "BertProcessing",
            "sep": ["[SEP]", doc["model"]["vocab"]["[SEP]"]],
            "cls": ["[CLS]", doc["model"]["vocab"]["[CLS]"]],
        }
        return json.dumps(doc)
    raise ValueError(family)


def _with_specials(rng: random.Random, text: str) -> str:
    """Literal special-token strings (and near misses) at random places, sometimes glued to words."""
    for _ in range(rng.randint(1, 3)):
        i = rng.randint(0, len(text))
        glue = rng.choice(["", " ", "  ", "\t"])
        text = text[:i] + glue + rng.choice(SPECIAL_STRINGS) + rng.choice(["", " ", glue]) + text[i:]
    return text


def cases(family: str, seed: int, n: int) -> tuple[str, list[tuple[str, str | None]]]:
    """The tokenizer.json text of ``family`` and ``n`` seeded (question, context-or-None) pairs."""
    gen = _generators()
    rng = random.Random(f"{family}:{seed}")
    pairs: list[tuple[str, str | None]] = []
    fixed = [
        "", " ", "\u200b\u200d\ufeff", "\x00", "\t\r\n \u3000", "😀", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "e\u0301", "東京",
        "a" * 500, "ΣΑΣ σας", "İstanbul ISTANBUL istanbul", "ﬁne ﬂow Ａｂｃ１２３", "[SEP]", "<s> </s>", " <mask>",
    ]  # fmt: skip
    for i in range(n):
        question = gen.make_text(rng, rng.choice([rng.randint(1, 4), rng.randint(3, 15)]))[0]
        r = rng.random()
        if i < len(fixed):
            context: str | None = fixed[i]
        elif r < 0.08:
            context = None
        else:
            context = gen.make_text(rng, rng.randint(1, 40) if r < 0.85 else rng.randint(40, 160))[0]
        if rng.random() < 0.2:
            question = _with_specials(rng, question)
        if context is not None and rng.random() < 0.3:
            context = _with_specials(rng, context)
        pairs.append((question, context))
    return tokenizer_json(family), pairs


def python_encode(text: str, pairs: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(text)
    tok.no_truncation()
    tok.no_padding()
    out = []
    inputs = [(q, c) if c is not None else q for q, c in pairs]
    for enc in tok.encode_batch(inputs):  # the same encodings as encode(), in parallel
        out.append(
            {
                "ids": enc.ids,
                "typeIds": enc.type_ids,
                "specialTokensMask": enc.special_tokens_mask,
                "sequenceIds": enc.sequence_ids,
                "wordIds": enc.word_ids,
                "offsets": [list(o) for o in enc.offsets],
            }
        )
    return out


class JsEncode:
    """All jobs in one node process, or in one page of headless Chromium (``host="browser"``: the same
    module, js/core/tokenizer.mjs served raw), started at once so that Python encodes meanwhile."""

    def __init__(self, jobs: list[tuple[str, list[tuple[str, str | None]]]], host: str, tmp: Path) -> None:
        self.host = host
        payload = json.dumps({"jobs": [{"tokenizer": t, "pairs": p} for t, p in jobs]})
        self.job, self.out, self.err = tmp / f"job-{host}.json", tmp / f"out-{host}.json", tmp / f"err-{host}.txt"
        self.job.write_text(payload, encoding="utf-8")
        if host == "browser":
            from validate.browser import browser_unavailable, find_chromium

            problem = browser_unavailable()
            if problem:
                pytest.fail(f"the browser half of this test cannot run: {problem}")
            cmd = [
                "node",
                str(IN_BROWSER),
                "--browser",
                str(find_chromium()),
                "--module",
                "/tests/tokenizer_parity.mjs",
            ]
            cmd += ["--fn", "encodeJobs", "--job", str(self.job), "--out", str(self.out)]
            stdin = subprocess.DEVNULL
        else:
            cmd = ["node", str(DRIVER)]
            stdin = self.job.open("rb")
        with self.err.open("wb") as err, self.out.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd, stdin=stdin, stdout=out if host == "node" else subprocess.DEVNULL, stderr=err, cwd=ROOT
            )

    def results(self) -> list[list[dict[str, Any]]]:
        try:
            code = self.proc.wait(900)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        assert code == 0, f"{self.host}: " + self.err.read_text(errors="replace")[-3000:]
        doc = json.loads(self.out.read_text(encoding="utf-8"))
        results: list[list[dict[str, Any]]] = (doc["value"] if self.host == "browser" else doc)["results"]
        return results


def js_encode(jobs: list[tuple[str, list[tuple[str, str | None]]]], host: str, tmp: Path) -> list[list[dict[str, Any]]]:
    return JsEncode(jobs, host, tmp).results()


def _differences(pairs: list[tuple[str, str | None]], py: list[dict[str, Any]], js: list[dict[str, Any]]) -> list[str]:
    shown = []
    for (question, context), p, j in zip(pairs, py, js, strict=True):
        if p == j:
            continue
        lines = [f"question={question!r}", f"context={context!r}"]
        if "error" in j:
            lines.append(f"  js error: {j['error']}")
        else:
            for field in FIELDS:
                if p[field] != j.get(field):
                    first = next(
                        (i for i, (a, b) in enumerate(zip(p[field], j[field], strict=False)) if a != b),
                        min(len(p[field]), len(j[field])),
                    )
                    lines.append(
                        f"  {field} differs from token {first}: python {p[field][max(0, first - 2) : first + 4]}"
                    )
                    lines.append(
                        f"  {' ' * len(field)}                         js {j[field][max(0, first - 2) : first + 4]}"
                    )
        shown.append("\n".join(lines))
    return shown


@pytest.mark.node
def test_js_tokenizer_equals_python_tokenizers(tmp_path: Path) -> None:
    """Every family and variant, in Node.js and in Chromium, against Python tokenizers."""
    jobs = []
    names = []
    for seed in SEEDS:
        for family in FAMILIES:
            jobs.append(cases(family, seed, N_PAIRS))
            names.append((family, seed))
        for family in VARIANTS:
            jobs.append(cases(family, seed, N_VARIANT))
            names.append((family, seed))
    running = {host: JsEncode(jobs, host, tmp_path) for host in HOSTS}
    python = [python_encode(text, pairs) for text, pairs in jobs]
    report, failures = [], []
    for host, job in running.items():
        results = job.results()
        for (family, seed), (_, pairs), py, js in zip(names, jobs, python, results, strict=True):
            diffs = _differences(pairs, py, js)
            report.append(f"{host}: {family} seed {seed}: {len(pairs) - len(diffs)}/{len(pairs)} equal")
            if diffs:
                failures.append(
                    f"{host}: {family} seed {seed}: {len(diffs)} of {len(pairs)} pairs differ, first:\n"
                    + "\n".join(diffs[:SHOW])
                )
    for (family, _), (_, pairs), py in zip(names, jobs, python, strict=True):
        # the generated pairs must keep exercising what they claim to
        tokens = sum(len(p["ids"]) for p in py)
        assert tokens > 50 * len(pairs), (family, tokens)
    print("\n".join(report))
    assert not failures, "\n\n".join(failures)


def _refusal(doc: dict[str, Any], tmp: Path) -> str:
    result = js_encode([(json.dumps(doc), [("q", "c")])], "node", tmp)[0][0]
    assert "error" in result, result
    return str(result["error"])


@pytest.mark.node
def test_unsupported_components_are_refused_at_load(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    doc = json.loads(tokenizer_json("sentencepiece"))
    # A SentencePiece charsmap: Python loads it (an empty trie), JS refuses it rather than approximate
    doc["normalizer"] = {
        "type": "Sequence",
        "normalizers": [{"type": "Precompiled", "precompiled_charsmap": "AAAAAA=="}],
    }
    Tokenizer.from_str(json.dumps(doc))
    err = _refusal(doc, tmp_path)
    assert err.startswith("TokenizerError: normalizer Precompiled") and "cannot be reproduced exactly" in err, err

    doc = json.loads(tokenizer_json("wordpiece-cased"))
    doc["model"] = {"type": "WordLevel", "vocab": {"[UNK]": 0}, "unk_token": "[UNK]"}
    Tokenizer.from_str(json.dumps(doc))
    err = _refusal(doc, tmp_path)
    assert err.startswith("TokenizerError: model WordLevel") and "cannot be reproduced exactly" in err, err

    doc = json.loads(tokenizer_json("wordpiece-cased"))
    doc["pre_tokenizer"] = {"type": "UnicodeScripts"}
    assert _refusal(doc, tmp_path).startswith("TokenizerError: pre_tokenizer UnicodeScripts")

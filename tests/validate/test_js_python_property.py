"""Seeded property test: qaport/decode.py and the shipped js/core/qa.mjs agree beyond hand-picked cases.

The second test repeats 300 of the pairs with the byte-level BPE (RoBERTa), Unigram SentencePiece (ALBERT)
and uncased WordPiece tokenizers, and also compares the top 3 answers with the null answer
(``handle_impossible_answer``).

2,000 generated question/context pairs (several scripts, combining marks, emoji sequences, control and
zero-width characters, whitespace runs, very long words, vocabulary words, contexts of up to 14 windows) are
tokenised with the default model's tokenizer on both sides and decoded from the same seeded logits. The
padded batch, every window's ids, sequence ids, word ids and offsets, and the answers and candidates (text,
start, end) must be identical; scores equal to 1e-6 relative (both sides compute the softmax in float64
from the same float32 logits, with different ``exp`` and summation orders).

Ties that both sides break by rule are in: equal spans in two windows (the first window wins) and equal
texts merged across spans and windows (by the pipeline's ``str.lower()``, checked on every code point by
the second test). Exact ties between two spans of one window are left out: decode.py, like the pipeline,
keeps numpy's argpartition order, which is neither by index nor the same across numpy builds; qa.mjs
breaks them by flat index.

One node process answers every pair (the pairs and logits go in a JSON file, the results come back in one)
while Python decodes its side.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import shutil
import subprocess
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from qaport import decode
from qaport.default_model import CHECKPOINT_DIR
from validate.node_bridge import NODE_DIR

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINT = CHECKPOINT_DIR
SEED = 20240616
N_PAIRS = 2000
SHOW = 4  # failing cases shown in the assertion message

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs node on PATH")


# -- text generation ---------------------------------------------------------------------------------------
def _chars(*ranges: tuple[int, int]) -> str:
    return "".join(chr(c) for a, b in ranges for c in range(a, b + 1))


LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" + "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßœšžłđğışÀÉÎÕÜŠŽŁİẞ"
GREEK = _chars((0x391, 0x3A1), (0x3A3, 0x3A9), (0x3B1, 0x3C9)) + "άέήίόύώΆΈΉΊΌΎΏϊϋΐ"
CYRILLIC = _chars((0x410, 0x44F)) + "ЁёЇїІіЄєЎўҐґ"
CJK = _chars((0x4E00, 0x4FFF), (0x6C00, 0x6CFF), (0x3041, 0x3096), (0x30A1, 0x30FA), (0xAC00, 0xAD00)) + "東京都大阪"
ARABIC = _chars((0x621, 0x63A), (0x641, 0x64A))
ARABIC_MARKS = _chars((0x64B, 0x652))
HEBREW = _chars((0x5D0, 0x5EA))
HEBREW_MARKS = _chars((0x5B0, 0x5BC))
DEVANAGARI = _chars((0x905, 0x939))
DEVANAGARI_MARKS = _chars((0x93E, 0x94D)) + "\u0901\u0902\u0903"
THAI = _chars((0xE01, 0xE2E))
THAI_MARKS = _chars((0xE31, 0xE3A), (0xE47, 0xE4E)) + "\u0e30\u0e32\u0e33\u0e40\u0e41"
COMBINING = _chars((0x300, 0x36F), (0x1AB0, 0x1ABE), (0x20D0, 0x20DC)) + "\ufe20\ufe21"
EMOJI = [
    "😀", "🎉", "🐯", "🫠", "❤️", "☺", "✈️", "👍🏽", "👋🏿", "🏻", "👩🏿‍🔬", "👨‍👩‍👧‍👦", "🧑🏻‍🤝‍🧑🏾", "🏳️‍🌈",
    "🏴‍☠️", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "🇫🇷", "🇯🇵", "🇺🇳", "🇩", "1️⃣", "#️⃣",
    "𝒳", "𝔘𝔫𝔦", "🀄", "\u200d", "👁️‍🗨️",
]  # fmt: skip
INVISIBLE = [
    "\u200b", "\u200c", "\u200d", "\ufeff", "\x00", "\t", "\r", "\n", "\r\n", "\u3000", "\u00a0", "\u2028",
    "\u2029", "\x85", "\u00ad", "\ufffd", "\x01", "\x1f", "\x7f", "\u202e", "\u2060", "\u180e", "\u2003",
    "\x0b", "\x0c", "\ufe0f", "\U000e0001",
]  # fmt: skip
SPACES = " \t\n\r\u3000\u00a0\u2003\u2009\u200b\x0c"
# Case pairs newer than Python 3.11's Unicode 14.0 (ICU of Unicode 16+ lowercases the capitals; str.lower does not)
NEWER_CASE_PAIRS = [("\u1c89", "\u1c8a"), ("\ua7da", "\ua7db"), ("\U00010d50", "\U00010d70"), ("\ua7cb", "\u0264")]
PUNCT = [*".,;:!?-–—()[]{}\"'“”‘’«»…/\\@#$%^&*+=<>|~`¡¿·•§¶", "...", "1,234.5", "—", "(c)", "3½", "Ⅻ", "²"]


def _vocab() -> tuple[list[str], list[str]]:
    lines = (CHECKPOINT / "vocab.txt").read_text(encoding="utf-8").splitlines()
    words = [t for t in lines if not t.startswith(("[", "##"))]
    pieces = [t[2:] for t in lines if t.startswith("##")]
    return words, pieces


VOCAB_WORDS, VOCAB_PIECES = _vocab()


def _word(rng: random.Random, letters: str, marks: str = "", lo: int = 1, hi: int = 9) -> str:
    chars = rng.choices(letters, k=rng.randint(lo, hi))
    if not marks:
        return "".join(chars)
    return "".join(c + rng.choice(marks) if rng.random() < 0.35 else c for c in chars)


def _random_code_point(rng: random.Random) -> str:
    while True:
        c = rng.choice([rng.randrange(0x20, 0x2FF), rng.randrange(0x300, 0xFFFF), rng.randrange(0x10000, 0x10FFFF)])
        if not 0xD800 <= c <= 0xDFFF:
            return chr(c)


def _long_word(rng: random.Random) -> str:
    """Hundreds of letters without a space: [UNK] past 100 characters, many ## pieces below."""
    n = rng.choice([rng.randint(20, 99), rng.randint(100, 900)])
    kind = rng.randrange(4)
    if kind == 0:  # glued vocabulary pieces
        text = rng.choice(VOCAB_WORDS)
        while len(text) < n:
            text += rng.choice(VOCAB_PIECES)
        return text
    letters = [LATIN, CYRILLIC + COMBINING[:20], GREEK, DEVANAGARI + DEVANAGARI_MARKS][kind]
    return "".join(rng.choices(letters, k=n))


SEGMENTS: list[tuple[float, Callable[[random.Random], str]]] = [
    (30, lambda r: r.choice(VOCAB_WORDS)),
    (20, lambda r: " ".join(r.choices(VOCAB_WORDS, k=r.randint(2, 12)))),
    (6, lambda r: r.choice(VOCAB_WORDS) + "".join(r.choice(VOCAB_PIECES) for _ in range(r.randint(1, 4)))),
    (5, lambda r: r.choice(VOCAB_WORDS).upper() if r.random() < 0.5 else r.choice(VOCAB_WORDS).lower()),
    (5, lambda r: _word(r, LATIN, COMBINING if r.random() < 0.3 else "")),
    (4, lambda r: unicodedata.normalize(r.choice(["NFD", "NFKD", "NFC"]), _word(r, LATIN))),
    (4, lambda r: _word(r, GREEK) + r.choice(["", "ς", "Σ"])),
    (4, lambda r: _word(r, CYRILLIC)),
    (4, lambda r: _word(r, CJK, lo=1, hi=12)),
    (3, lambda r: _word(r, ARABIC, ARABIC_MARKS)),
    (3, lambda r: _word(r, HEBREW, HEBREW_MARKS)),
    (3, lambda r: _word(r, DEVANAGARI, DEVANAGARI_MARKS)),
    (3, lambda r: _word(r, THAI, THAI_MARKS, lo=3, hi=20)),
    (4, lambda r: "".join(r.choice(EMOJI) for _ in range(r.randint(1, 3)))),
    (3, lambda r: r.choice(VOCAB_WORDS) + r.choice(INVISIBLE) + r.choice(VOCAB_WORDS)),
    (3, lambda r: r.choice(INVISIBLE)),
    (2, lambda r: "".join(r.choice(SPACES) for _ in range(r.randint(2, 40)))),
    (4, lambda r: r.choice(PUNCT)),
    (3, lambda r: str(r.randint(0, 10 ** r.randint(1, 12)))),
    (1, _long_word),
    (2, lambda r: "".join(_random_code_point(r) for _ in range(r.randint(1, 4)))),
    (2, lambda r: r.choice("aeiouxyzAEIOUΣσ") + "".join(r.choice(COMBINING) for _ in range(r.randint(1, 5)))),
]
_CUM_WEIGHTS = list(itertools.accumulate(w for w, _ in SEGMENTS))
_MAKERS = [m for _, m in SEGMENTS]


@dataclass
class _Builder:
    rng: random.Random
    parts: list[str] = field(default_factory=list)
    length: int = 0
    targets: list[tuple[int, int]] = field(default_factory=list)  # code point spans worth a logit spike

    def add(self, text: str, *, target: bool = False) -> None:
        if target and text:
            self.targets.append((self.length, self.length + len(text)))
        self.parts.append(text)
        self.length += len(text)

    def sep(self) -> None:
        r = self.rng.random()
        if r < 0.8:
            self.add(" ")
        elif r < 0.9:
            self.add("".join(self.rng.choice(SPACES) for _ in range(self.rng.randint(1, 6))))
        elif r < 0.95:
            self.add(self.rng.choice(INVISIBLE))
        # else: glued to the next segment

    def text(self) -> str:
        return "".join(self.parts)


def _segment(rng: random.Random) -> str:
    return rng.choices(_MAKERS, cum_weights=_CUM_WEIGHTS)[0](rng)


def _phrase_variants(phrase: str) -> list[str]:
    """Case variants that merge (or, for ß/İ/Σ and newer letters, may not) as equal texts when lowercased."""
    variants = [phrase, phrase.upper(), phrase.lower(), phrase.title(), phrase.swapcase()]
    for capital, small in NEWER_CASE_PAIRS:
        if capital in phrase:
            variants.append(phrase.replace(capital, small))
    return variants


def make_text(rng: random.Random, n_segments: int, *, phrase_share: float = 0.0) -> tuple[str, list[tuple[int, int]]]:
    b = _Builder(rng)
    phrase = ""
    if phrase_share:
        words = [rng.choice([rng.choice(VOCAB_WORDS), _word(rng, GREEK), _word(rng, LATIN), _word(rng, CYRILLIC)])]
        words += [rng.choice(VOCAB_WORDS) for _ in range(rng.randint(0, 2))]
        if rng.random() < 0.3:
            words[0] = rng.choice(NEWER_CASE_PAIRS)[0] + words[0]
        phrase = " ".join(words)
        variants = _phrase_variants(phrase)
    for i in range(n_segments):
        if i:
            b.sep()
        if phrase and rng.random() < phrase_share:
            b.add(rng.choice(variants), target=True)
        else:
            seg = _segment(rng)
            b.add(seg, target=rng.random() < 0.02)
    return b.text(), b.targets


def make_pair(rng: random.Random, i: int) -> tuple[str, str, list[tuple[int, int]]]:
    """A question and a context; contexts of several windows in about half the pairs."""
    special = [
        "", " ", "\u200b\u200d\ufeff", "\x00", "\t\r\n \u3000", "😀", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "e\u0301", "東京",
        "a" * 500, "Paris", "ΣΑΣ σας", "İstanbul ISTANBUL istanbul",
    ]  # fmt: skip
    q_segments = rng.choice([rng.randint(1, 4), rng.randint(3, 15), rng.randint(3, 30)])
    long_question = i % 97 == 5  # near the limit: too long for any context, or leaving few tokens per window
    if long_question:
        q_segments = rng.randint(100, 160)
    question = make_text(rng, q_segments)[0]
    if i < len(special):
        return question, special[i], []
    r = rng.random()
    if long_question:
        n = rng.randint(1, 100)
    elif r < 0.5:
        n = rng.randint(1, 40)
    elif r < 0.6:
        n = rng.randint(40, 160)  # about one window: either side of the limit
    elif r < 0.93:
        n = rng.randint(150, 420)  # two to four windows
    else:
        n = rng.randint(420, 1000)  # up to about ten
    context, targets = make_text(rng, n, phrase_share=0.05 if rng.random() < 0.25 else 0.0)
    return question, context, targets


# -- logits ------------------------------------------------------------------------------------------------
def make_logits(
    rng: np.random.Generator, enc: decode.Encoded, targets: list[tuple[int, int]], kind: str
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Noise; for "spike" and "tie", high start/end logits on target texts and on one span anywhere."""
    shape = (int(enc.input_ids.shape[0]), int(enc.input_ids.shape[1]))
    scale = float(rng.choice([0.5, 1.0, 3.0, 8.0]))
    start: npt.NDArray[np.float64] = rng.standard_normal(size=shape) * scale
    end: npt.NDArray[np.float64] = rng.standard_normal(size=shape) * scale
    pad = enc.attention_mask == 0
    start[pad] = end[pad] = 50.0  # padding must be ignored by both sides
    if kind in ("spike", "tie"):
        for w, window in enumerate(enc.windows):
            ctx = np.flatnonzero(np.array(window.sequence_ids) == 1)
            if not ctx.size:
                continue
            offsets = np.array(window.offsets)[ctx]
            lo, hi = offsets[0, 0], offsets[-1, 1]
            inside = [(a, b) for a, b in targets if lo <= a and b <= hi]  # in overlaps, in two windows
            spans = []
            for a, b in inside[:5]:
                tokens = ctx[(offsets[:, 0] >= a) & (offsets[:, 1] <= b)]
                if tokens.size:
                    spans.append((tokens[0], tokens[min(tokens.size, decode.MAX_ANSWER_LEN) - 1]))
            s0 = int(rng.integers(ctx[0], ctx[-1] + 1))  # often inside a word of several pieces
            spans.append((s0, min(s0 + int(rng.integers(0, decode.MAX_ANSWER_LEN)), int(ctx[-1]))))
            for s, e in spans:
                height = float(rng.uniform(8, 30))
                start[w, s] += height
                end[w, e] += height + float(rng.uniform(-2, 2))
        if rng.random() < 0.2:
            start[:, 0] += 25  # [CLS] takes the mass; it is zeroed afterwards
    if kind == "tie":  # the same logits in two full windows: equal scores, the first window wins
        full = np.flatnonzero(enc.attention_mask.all(axis=1))
        if full.size >= 2:
            a, b = sorted(rng.choice(full, size=2, replace=False))
            start[b], end[b] = start[a], end[a]
    return start.astype(np.float32), end.astype(np.float32)


# -- the two sides -----------------------------------------------------------------------------------------
# The JavaScript side is one browser-safe module, tests/validate/js/qa_parity.mjs (js/core's qa.mjs and
# tokenizer.mjs), run in Node.js and in a page of headless Chromium: both must equal Python.
JS_TESTS = ROOT / "tests" / "validate" / "js"
HOSTS = ("node", "browser")


class JsJob:
    """qa_parity.runJob over every pair in one node process, or in one Chromium page (``host="browser"``),
    started at once so that Python decodes meanwhile."""

    def __init__(self, job: dict[str, Any], tmp: Path, host: str = "node") -> None:
        tmp = tmp / host
        tmp.mkdir(exist_ok=True)
        job_path, self.out_path, self.err_path = tmp / "job.json", tmp / "out.json", tmp / "js.stderr"
        job_path.write_text(json.dumps(job), encoding="utf-8")
        self.host = host
        if host == "browser":
            from validate.browser import browser_unavailable, find_chromium

            problem = browser_unavailable()
            if problem:
                pytest.fail(f"the browser half of this property test cannot run: {problem}")
            cmd = ["node", str(JS_TESTS / "in_browser.mjs"), "--browser", str(find_chromium())]
            cmd += [
                "--module",
                "/tests/qa_parity.mjs",
                "--fn",
                "runJob",
                "--job",
                str(job_path),
                "--out",
                str(self.out_path),
            ]
        else:
            cmd = ["node", str(JS_TESTS / "qa_parity_node.mjs"), str(job_path), str(self.out_path)]
        with self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(
                cmd, cwd=NODE_DIR, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
            )

    def result(self, timeout: float = 600) -> dict[str, Any]:
        try:
            code = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        assert code == 0, self.err_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        doc: dict[str, Any] = json.loads(self.out_path.read_text(encoding="utf-8"))
        if self.host == "browser":  # in_browser.mjs wraps the function's value
            doc = {**doc["value"], "cpu": float("nan"), "user_agent": doc["userAgent"]}
        return doc


def _b64(a: npt.NDArray[Any]) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes()).decode()


def _int32s(s: str) -> list[int]:
    return np.frombuffer(base64.b64decode(s), dtype="<i4").tolist()


def _utf16(text: str, code_points: int) -> int:
    return len(text[:code_points].encode("utf-16-le")) // 2


def _context_range(seq: list[int | None]) -> tuple[int, int] | None:
    ctx = [t for t, s in enumerate(seq) if s == 1]
    return (ctx[0], ctx[-1] + 1) if ctx else None


@dataclass
class Case:
    index: int
    kind: str
    question: str
    context: str
    encoded: decode.Encoded | None = None
    error: str = ""
    start: npt.NDArray[np.float32] | None = None
    end: npt.NDArray[np.float32] | None = None
    top: bool = (
        False  # also decode_answers(top_k=3, handle_impossible_answer=True) and decode(handle_impossible_answer=True)
    )

    def python(self) -> dict[str, Any]:
        """decode.py's results, in the shapes the node script writes."""
        if self.encoded is None or self.start is None or self.end is None:
            return {"error": self.error}
        enc = self.encoded
        out: dict[str, Any] = {
            "shape": list(enc.input_ids.shape),
            "input_ids": enc.input_ids.ravel().tolist(),
            "attention_mask": enc.attention_mask.ravel().tolist(),
            "token_type_ids": enc.token_type_ids.ravel().tolist(),
            "cls_id": enc.cls_id,
            "windows": [[w.input_ids, w.sequence_ids, w.word_ids, [list(o) for o in w.offsets]] for w in enc.windows],
        }
        best = decode.decode(enc, self.start, self.end, self.context)
        out["answer"] = best.as_dict()
        out["candidates"] = [c.as_dict() for c in decode.decode_candidates(enc, self.start, self.end, self.context)]
        out["candidates"] = [c for c in out["candidates"] if c["score"] > 0]
        if self.top:
            top = decode.decode_answers(enc, self.start, self.end, self.context, top_k=3, handle_impossible_answer=True)
            out["top"] = [a.as_dict() for a in top]
            out["null_answer"] = decode.decode(
                enc, self.start, self.end, self.context, handle_impossible_answer=True
            ).as_dict()
        return out


def _first_difference(py: list[Any], js: list[Any]) -> str:
    for i, (a, b) in enumerate(zip(py, js, strict=False)):
        if a != b:
            return f"first at [{i}]: python {a!r} / js {b!r}"
    return f"lengths {len(py)} / {len(js)}"


def compare(case: Case, py: dict[str, Any], js: dict[str, Any]) -> list[str]:
    """What differs between the two sides' results (empty when they agree)."""
    if "error" in py or "error" in js:
        if ("error" in py) != ("error" in js):
            return [f"error: python {py.get('error')!r} / js {js.get('error')!r}"]
        return []
    problems = []
    if py["shape"] != js["shape"]:
        problems.append(f"shape: python {py['shape']} / js {js['shape']}")
    if py["cls_id"] != js["cls_id"]:
        problems.append(f"cls id: python {py['cls_id']} / js {js['cls_id']}")
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        got = _int32s(js[name])
        if got != py[name]:
            problems.append(f"{name}: {_first_difference(py[name], got)}")
    if len(py["windows"]) != len(js["windows"]):
        problems.append(f"windows: python {len(py['windows'])} / js {len(js['windows'])}")
    for w, (pw, jw) in enumerate(zip(py["windows"], js["windows"], strict=False)):
        for name, a, b in zip(("input_ids", "sequence_ids", "word_ids", "offsets"), pw, jw, strict=True):
            if a != b:
                problems.append(f"window {w} {name}: {_first_difference(a, b)}")
        if _context_range(pw[1]) != _context_range(jw[1]):
            problems.append(f"window {w} context tokens: python {_context_range(pw[1])} / js {_context_range(jw[1])}")
    if problems:
        return problems
    if "decode_error" in js:
        return [f"js decode error: {js['decode_error']}"]
    pa, ja = py["answer"], js["answer"]
    if (pa["text"], pa["start"], pa["end"]) != (ja["text"], ja["start"], ja["end"]):
        problems.append(f"answer: python {pa} / js {ja}")
    elif pa["score"] != pytest.approx(ja["score"], rel=1e-6, abs=1e-300):
        problems.append(f"answer score: python {pa['score']!r} / js {ja['score']!r}")
    if case.context[pa["start"] : pa["end"]] != pa["text"]:
        problems.append(f"python answer {pa} is not context[start:end]")
    utf16 = (_utf16(case.context, pa["start"]), _utf16(case.context, pa["end"]))
    if (ja.get("startUtf16"), ja.get("endUtf16")) != utf16 and not problems:
        problems.append(f"js UTF-16 offsets {ja.get('startUtf16')}, {ja.get('endUtf16')} / expected {utf16}")
    for name in ("top", "null_answer"):
        if name not in py:
            continue
        # zero-score answers (fewer positive spans than asked) are in numpy's arbitrary order among zeros
        pt = [a for a in (py[name] if name == "top" else [py[name]]) if a["score"] > 0]
        jt = [a for a in (js[name] if name == "top" else [js[name]]) if a["score"] > 0]
        if [(a["text"], a["start"], a["end"]) for a in pt] != [(a["text"], a["start"], a["end"]) for a in jt]:
            problems.append(f"{name}: python {pt} / js {jt}")
        elif [a["score"] for a in pt] != pytest.approx([a["score"] for a in jt], rel=1e-6, abs=1e-300):
            problems.append(f"{name} scores: python {pt} / js {jt}")
    pc = [(c["text"], c["start"], c["end"]) for c in py["candidates"]]
    jc = [(c["text"], c["start"], c["end"]) for c in js["candidates"]]
    if pc != jc:
        problems.append(f"candidates: {_first_difference(pc, jc)}")
    else:
        ps = [c["score"] for c in py["candidates"]]
        js_scores = [c["score"] for c in js["candidates"]]
        if ps != pytest.approx(js_scores, rel=1e-6, abs=1e-300):
            problems.append(f"candidate scores: {_first_difference(ps, js_scores)}")
    return problems


def _show(case: Case, py: dict[str, Any], js: dict[str, Any], problems: list[str]) -> str:
    ctx, question = (t if len(t) <= 400 else t[:300] + " ... " + t[-100:] for t in (case.context, case.question))
    brief = {k: v for k, v in py.items() if k in ("shape", "answer", "error")}
    js_brief = {k: v for k, v in js.items() if k in ("shape", "answer", "error", "decode_error")}
    return (
        f"case {case.index} ({case.kind}, {len(case.context)} code points): question {question!r}\n"
        f"  context {ctx!r}\n  python {brief}\n  js     {js_brief}\n  " + "\n  ".join(problems[:6])
    )


# -- the test ------------------------------------------------------------------------------------------------
def build_cases(
    tokenizer_path: Path = CHECKPOINT / "tokenizer.json", n: int = N_PAIRS, top: bool = False
) -> list[Case]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_path))
    rng = random.Random(SEED)
    cases = []
    for i in range(n):
        question, context, targets = make_pair(rng, i)
        kind = ["noise", "spike", "tie", "tie"][i % 4]
        case = Case(i, kind, question, context, top=top)
        try:
            case.encoded = decode.encode(tok, question, context)
        except decode.DecodeError as exc:
            case.error = str(exc)
        else:
            case.start, case.end = make_logits(np.random.default_rng([SEED, i]), case.encoded, targets, kind)
        cases.append(case)
    return cases


def _job(cases: list[Case], tokenizer_path: Path = CHECKPOINT / "tokenizer.json") -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for c in cases:
        item: dict[str, Any] = {"question": c.question, "context": c.context}
        if c.start is not None and c.end is not None:
            item.update(shape=list(c.start.shape), start=_b64(c.start), end=_b64(c.end))
        items.append(item)
    return {
        "tokenizer_json": tokenizer_path.read_text(encoding="utf-8"),
        "cases": items,
        "top": any(c.top for c in cases),
    }


def _stats(cases: list[Case], python: list[dict[str, Any]], unk_id: int = 1) -> dict[str, int]:
    """What the generated pairs exercised, so that a generator change cannot hollow the test out."""
    encoded = [(c, py) for c, py in zip(cases, python, strict=True) if c.encoded is not None]
    windows = [len(c.encoded.windows) for c, _ in encoded if c.encoded is not None]
    texts = [py["answer"]["text"] for _, py in encoded]
    ids = np.concatenate([c.encoded.input_ids[c.encoded.attention_mask == 1] for c, _ in encoded if c.encoded])
    return {
        "pairs": len(cases),
        "multi_window": sum(n > 1 for n in windows),
        "max_windows": max(windows),
        "windows": sum(windows),
        "too_long": len(cases) - len(encoded),
        "answers_non_ascii": sum(any(ord(ch) > 127 for ch in t) for t in texts),
        "answers_non_bmp": sum(any(ord(ch) > 0xFFFF for ch in t) for t in texts),
        "answers_multi_word": sum(len(t.split()) > 1 for t in texts),
        "tied_answers": sum(
            sum(c["score"] == py["answer"]["score"] for c in py["candidates"]) > 1 for _, py in encoded
        ),
        "unk_per_mille": int(1000 * np.mean(ids == unk_id)),
    }


def _agree(cases: list[Case], tmp_path: Path, tokenizer_path: Path, unk_id: int = 1) -> dict[str, int]:
    """Both sides over ``cases``, the JavaScript one in Node.js and in Chromium: fails with the differing
    pairs (per host), else returns what the pairs exercised."""
    t0, c0 = time.perf_counter(), time.process_time()
    job = _job(cases, tokenizer_path)
    js = {host: JsJob(job, tmp_path, host) for host in HOSTS}
    t1, c1 = time.perf_counter(), time.process_time()
    python = [case.python() for case in cases]
    t2, c2 = time.perf_counter(), time.process_time()
    docs = {host: j.result() for host, j in js.items()}
    t3 = time.perf_counter()
    stats = _stats(cases, python, unk_id)
    timing = "; ".join(f"{h}: {d['ms'] / 1000:.1f} s" for h, d in docs.items())
    summary = (
        f"{stats}; python: {t1 - t0:.1f} s (CPU {c1 - c0:.1f} s) to start node and Chromium, {t2 - t1:.1f} s "
        f"(CPU {c2 - c1:.1f} s) to decode; {timing}; waited {t3 - t2:.1f} s more"
    )
    print(summary)
    for host, doc in docs.items():
        results = doc["results"]
        assert len(results) == len(cases), host
        failures, dump = [], []
        for case, py, got in zip(cases, python, results, strict=True):
            problems = compare(case, py, got)
            if problems:
                failures.append(_show(case, py, got, problems))
                dump.append(
                    {"index": case.index, "question": case.question, "context": case.context, "problems": problems}
                )
        if failures:
            (tmp_path / f"failures-{host}.json").write_text(json.dumps(dump, indent=1), encoding="utf-8")
            pytest.fail(
                f"{host}: {len(failures)} of {len(cases)} pairs differ ({summary}); all in "
                f"{tmp_path / f'failures-{host}.json'}:\n\n" + "\n\n".join(failures[:SHOW])
            )
    return stats


@pytest.mark.node
@needs_node
def test_python_and_js_agree_on_generated_pairs(tmp_path: Path) -> None:
    stats = _agree(build_cases(), tmp_path, CHECKPOINT / "tokenizer.json")
    # the generator must keep exercising what it claims to
    assert stats["pairs"] >= 2000
    assert stats["multi_window"] >= stats["pairs"] // 3
    assert stats["max_windows"] >= 8
    assert 0 < stats["too_long"] < stats["pairs"] // 50
    assert stats["answers_non_ascii"] >= 200
    assert stats["answers_non_bmp"] >= 20
    assert stats["answers_multi_word"] >= 500
    assert stats["tied_answers"] >= 20
    assert stats["unk_per_mille"] < 300


FAMILY_PAIRS = 300
# (offline_tokenizer family, lowercase): byte-level BPE (RoBERTa), Unigram SentencePiece (ALBERT), uncased WordPiece
FAMILIES = {"bpe": ("bpe", False), "sentencepiece": ("sentencepiece", True), "wordpiece-uncased": ("wordpiece", True)}


@pytest.mark.node
@needs_node
@pytest.mark.parametrize("family", list(FAMILIES))
def test_python_and_js_agree_on_every_tokenizer_family(family: str, tmp_path: Path) -> None:
    """The same generated pairs through the other tokenizer families' tokenizer.json (qaport.offline_tokenizers,
    saved as a conversion ships it), read by js/core/tokenizer.mjs on the JS side (Node.js and Chromium):
    windows, token type ids, cls token, answers and candidates, and also the top 3 answers with the null
    answer (handle_impossible_answer) and the best answer with it."""
    from qaport.offline_tokenizers import offline_tokenizer

    name, lowercase = FAMILIES[family]
    hf = offline_tokenizer(name, 3000 if name != "bpe" else 1200, lowercase=lowercase)
    hf.save_pretrained(str(tmp_path / "tok"))
    path = tmp_path / "tok" / "tokenizer.json"
    # at most 20 windows a pair: byte-level BPE with a 1,200-token vocabulary turns the longest random-script
    # contexts into thousands of windows, minutes of decoding that exercise nothing more
    cases = [c for c in build_cases(path, FAMILY_PAIRS, top=True) if c.encoded is None or len(c.encoded.windows) <= 20]
    stats = _agree(cases, tmp_path, path, unk_id=int(hf.unk_token_id))
    assert stats["pairs"] >= FAMILY_PAIRS * 0.7  # BPE: 231 of the 300 pairs have at most 20 windows
    assert stats["multi_window"] >= stats["pairs"] // 3
    assert stats["max_windows"] >= 4
    assert stats["answers_non_ascii"] >= 20
    assert stats["answers_multi_word"] >= 50


SIGMA_PROBES = ("{}", "Α{}Σ", "{}Σ", "1{}Σ", "ΑΣ{}", "ΑΣ{}Α")  # mapping; cased or case-ignorable before/after Σ


@pytest.mark.node
@needs_node
@pytest.mark.parametrize("host", HOSTS)
def test_merge_keys_lower_like_python(host: str, tmp_path: Path) -> None:
    """Equal answers merge by the pipeline's ``str.lower()``; qa.mjs must lower alike whatever the ICU of
    Node.js or of Chromium.

    Every code point of planes 0, 1 and 14 (2 and 3 hold caseless ideographs, 4-13 nothing, 15-16 private
    use) alone and around a capital sigma (final or not depends on cased and case-ignorable neighbours), then
    random sigma contexts.
    """
    code_points = [c for c in (*range(0x20000), *range(0xE0000, 0xE1000)) if not 0xD800 <= c <= 0xDFFF and c != 10]
    rng = random.Random(SEED)
    pool = [*"ΣσςΑαΩ1. '", "\u0301", "\u0345", "\u00ad", "\u200d", "İ", "ẞ", "ǅ", "ᾼ", "𐐀", "\u0295", "\U0001171e"]
    pool += [c for pair in NEWER_CASE_PAIRS for c in pair]
    texts = ["\n".join(probe.format(chr(c)) for c in code_points) for probe in SIGMA_PROBES]
    texts += ["".join(rng.choices(pool, k=rng.randint(1, 8))) for _ in range(20000)]
    got = JsJob({"lower": texts}, tmp_path, host).result()["lower"]
    wrong = []
    for probe, text, lowered in zip(SIGMA_PROBES, texts, got, strict=False):
        pairs = zip(code_points, text.lower().split("\n"), lowered.split("\n"), strict=True)
        wrong += [(hex(c), probe, py, js) for c, py, js in pairs if py != js]
    assert not wrong, f"{len(wrong)} code points lowered differently, (code point, probe, python, js): {wrong[:20]}"
    mixed = [(t, t.lower(), js) for t, js in zip(texts, got, strict=True) if js != t.lower()]
    assert not mixed, f"{len(mixed)} texts lowered differently, (text, python, js): {mixed[:10]}"


# -- the npm client (js/client/index.js) -----------------------------------------------------------------
CLIENT_SCRIPT = r"""
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import * as qa from './core/qa.mjs';
import { QAClient } from './client/index.js';
import { Tokenizer } from './core/tokenizer.mjs';
const [jobPath, outPath] = process.argv.slice(-2);
const job = JSON.parse(readFileSync(jobPath, 'utf8'));
const tokenizer = Tokenizer.fromJSON(readFileSync(job.tokenizer, 'utf8'));
let calls = 0;
// A deterministic stand-in for the model: logits from each token's id, position and type id (the same
// function as fake_logits in Python); [CLS] raised by 0 to 4 clsBoost (by the window's length) so that the
// null answer wins now and then.
const infer = async (ids, mask, [n, w], t) => {
  calls += 1;
  if (job.tokenTypes !== (t !== null && t !== undefined)) throw new Error(`token types given: ${t !== null}`);
  const lengths = Array.from({ length: n }, (_, r) => mask.subarray(r * w, (r + 1) * w).reduce((a, b) => a + b, 0));
  const make = (salt) => {
    const out = new Float32Array(n * w);
    for (let i = 0; i < n * w; i++) {
      const j = i % w;
      const boost = (lengths[Math.floor(i / w)] % 5) * job.clsBoost;
      const x = (ids[i] * 1000003 + j * 998244353 + (t ? t[i] : 0) * 1234577 + salt) % 2147483647;
      out[i] = (x / 2147483647) * 10 - 5 + (j === 0 ? boost : 0);
    }
    return { data: out, shape: [n, w] };
  };
  return { start: make(0), end: make(7) };
};
const settings = { maxBatchWindows: 16, maxAnswerLen: 15, maxLength: 384, stride: 128 };
const runtime = { infer, dispose: () => {}, fixed: null, tokenTypes: job.tokenTypes };
const client = new QAClient({ runtime, tokenizer, info: { format: 'onnx' }, settings });
const out = { one: [], none: [], top: [], errors: [] };
for (const c of job.cases) {
  out.one.push(await client.predict(c.question, c.context));
  out.none.push(await client.predict(c.question, c.context, { handleImpossibleAnswer: true }));
  out.top.push(await client.predict(c.question, c.context, { topK: 3, handleImpossibleAnswer: true }));
}
out.batch = await client.predictBatch(job.cases, { topK: 3, handleImpossibleAnswer: true });
for (const bad of [{ topK: 0 }, { topK: 1.5 }, { handleImpossibleAnswer: 'yes' }, { top_k: 3 }]) {
  try {
    await client.predict('q', 'c', bad);
    out.errors.push(null);
  } catch (err) {
    out.errors.push(err.message);
  }
}
out.calls = calls;
writeFileSync(outPath, JSON.stringify(out));
"""


def fake_logits(
    ids: npt.NDArray[np.int32],
    mask: npt.NDArray[np.int32],
    types: npt.NDArray[np.int32] | None,
    salt: int,
    boost: float,
) -> npt.NDArray[np.float32]:
    """CLIENT_SCRIPT's stand-in model, in numpy (float64 arithmetic rounded to float32, as Math.fround)."""
    pos = np.broadcast_to(np.arange(ids.shape[1]), ids.shape).astype(np.int64)
    t = np.zeros(ids.shape, np.int64) if types is None else types.astype(np.int64)
    x = (ids.astype(np.int64) * 1000003 + pos * 998244353 + t * 1234577 + salt) % 2147483647
    cls_boost = (mask.astype(np.int64).sum(axis=1, keepdims=True) % 5) * boost
    out = (x / 2147483647) * 10 - 5 + np.where(pos == 0, cls_boost, 0.0)
    return out.astype(np.float32)


@pytest.mark.node
@needs_node
@pytest.mark.parametrize(("family", "token_types"), [("wordpiece", True), ("bpe", False), ("sentencepiece", True)])
def test_npm_client_predict_options_answer_like_python(family: str, token_types: bool, tmp_path: Path) -> None:
    """QAClient.predict(question, context, { topK, handleImpossibleAnswer }) and predictBatch with the same
    options equal decode.answers on the same (stand-in) model; the client feeds token type ids exactly when
    the model takes them (BERT-style), and refuses bad options with a message."""
    from tokenizers import Tokenizer

    from qaport.offline_tokenizers import offline_tokenizer

    hf = offline_tokenizer(family, 3000 if family != "bpe" else 1200)
    hf.save_pretrained(str(tmp_path / "tok"))
    tok_path = tmp_path / "tok" / "tokenizer.json"
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    from publish.contents import SHIPPED_JS

    for name in SHIPPED_JS:  # as the package ships them
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(NODE_DIR / name, pkg / name)
    (pkg / "node_modules").symlink_to(NODE_DIR / "node_modules", target_is_directory=True)
    (pkg / "package.json").write_text('{"type": "module"}')
    (pkg / "run.mjs").write_text(CLIENT_SCRIPT)
    tok = Tokenizer.from_file(str(tok_path))
    rng = random.Random(SEED + 1)
    cases = []
    for i in range(60):
        question, context, _ = make_pair(rng, i + 40)  # past the special contexts
        try:
            decode.encode(tok, question, context)
        except decode.DecodeError:
            continue  # a question too long to window (both sides refuse it alike: the first test)
        cases.append({"question": question, "context": context})
    boost = 3.5
    job = {"tokenizer": str(tok_path), "cases": cases, "tokenTypes": token_types, "clsBoost": boost}
    (tmp_path / "job.json").write_text(json.dumps(job))
    proc = subprocess.run(
        ["node", "run.mjs", str(tmp_path / "job.json"), str(tmp_path / "out.json")],
        cwd=pkg,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    js = json.loads((tmp_path / "out.json").read_text())

    def infer(ids: Any, mask: Any, types: Any = None) -> tuple[Any, Any]:
        return fake_logits(ids, mask, types, 0, boost), fake_logits(ids, mask, types, 7, boost)

    problems = []
    no_answers = 0
    for i, c in enumerate(cases):
        top = decode.answers(
            infer, tok, c["question"], c["context"], top_k=3, handle_impossible_answer=True, token_types=token_types
        )
        one = decode.answer(infer, tok, c["question"], c["context"], token_types=token_types)
        none = decode.answer(
            infer, tok, c["question"], c["context"], token_types=token_types, handle_impossible_answer=True
        )
        no_answers += none.text == ""
        for name, py, got in (
            ("one", [one], [js["one"][i]]),
            ("none", [none], [js["none"][i]]),
            ("top", top, js["top"][i]),
            ("batch", top, js["batch"][i]),
        ):
            # zero-score answers (a window with fewer positive spans than asked) come in numpy's arbitrary
            # order among equal zeros, as in the pipeline: left out, as in the first test
            pa = [a for a in py if a.score > 0]
            ja = [a for a in got if a["score"] > 0]
            if [(a.text, a.start, a.end) for a in pa] != [(a["text"], a["start"], a["end"]) for a in ja]:
                problems.append(f"case {i} {name}: python {[a.as_dict() for a in pa]} / js {ja}")
            elif [a.score for a in pa] != pytest.approx([a["score"] for a in ja], rel=1e-5):
                problems.append(
                    f"case {i} {name} scores: python {[a.score for a in pa]} / js {[a['score'] for a in ja]}"
                )
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:6])
    assert 3 <= no_answers <= len(cases) - 3, no_answers  # both verdicts exercised
    assert all(isinstance(js["top"][i], list) for i in range(len(cases)))
    assert all(isinstance(js["one"][i], dict) for i in range(len(cases)))
    errors = js["errors"]
    assert errors[0] and "topK must be an integer >= 1" in errors[0] and "topK" in errors[1]
    assert "handleImpossibleAnswer must be true or false" in errors[2] and "unknown predict option top_k" in errors[3]

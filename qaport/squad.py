"""Examples (SQuAD v1.1 JSON or JSON lines) and SQuAD v1.1's official EM / F1."""

from __future__ import annotations

import collections
import json
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from qaport.errors import QaportError


class ExamplesError(QaportError, ValueError):
    """An examples file that cannot be read; the message names the file and the entry."""

    exit_code = 2


@dataclass(frozen=True)
class Example:
    id: str
    question: str
    context: str
    answers: list[str] = field(default_factory=list)
    answer_starts: list[int] = field(default_factory=list)


def _require(entry: Mapping[str, object], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str):
        msg = f"{where}: field '{key}' is missing or not a string"
        raise ExamplesError(msg)
    return value


def _answer_start(ans: Mapping[str, object], where: str) -> int:
    start = ans.get("answer_start", -1)
    if isinstance(start, int) or (isinstance(start, str) and start.strip().lstrip("-").isdigit()):
        return int(start)
    msg = f"{where}: answer_start {start!r} is not an integer"
    raise ExamplesError(msg)


def _from_squad(doc: Mapping[str, object], path: Path) -> list[Example]:
    """Every level's type is checked as it is read, so a mis-shaped entry is named, never a traceback."""
    data = doc.get("data")
    if not isinstance(data, list):
        msg = f"{path}: SQuAD JSON needs a top-level 'data' list"
        raise ExamplesError(msg)
    out: list[Example] = []
    for a, article in enumerate(data):
        paragraphs = article.get("paragraphs", []) if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            msg = f"{path}: data[{a}] must be an object with a 'paragraphs' list"
            raise ExamplesError(msg)
        for p, para in enumerate(paragraphs):
            where = f"{path}: data[{a}].paragraphs[{p}]"
            qas = para.get("qas", []) if isinstance(para, dict) else None
            if not isinstance(qas, list):
                msg = f"{where} must be an object with 'context' and a 'qas' list"
                raise ExamplesError(msg)
            context = _require(para, "context", where)
            for q, qa in enumerate(qas):
                qwhere = f"{where}.qas[{q}]"
                answers = qa.get("answers", []) if isinstance(qa, dict) else None
                if not isinstance(answers, list) or not all(isinstance(x, dict) for x in answers):
                    msg = f"{qwhere} must be an object whose 'answers' is a list of {{text, answer_start}}"
                    raise ExamplesError(msg)
                out.append(
                    Example(
                        id=str(qa.get("id", f"{a}-{p}-{q}")),
                        question=_require(qa, "question", qwhere),
                        context=context,
                        answers=[_require(ans, "text", f"{qwhere}.answers") for ans in answers],
                        answer_starts=[_answer_start(ans, f"{qwhere}.answers") for ans in answers],
                    )
                )
    return out


def _from_jsonl(text: str, path: Path) -> list[Example]:
    out: list[Example] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}: line {n}"
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            msg = f"{where}: not valid JSON ({exc.msg})"
            raise ExamplesError(msg) from exc
        if not isinstance(entry, dict):
            msg = f"{where}: expected an object with 'question' and 'context'"
            raise ExamplesError(msg)
        answers = entry.get("answers", [])
        if isinstance(answers, str):
            answers = [answers]
        if not isinstance(answers, list):
            msg = f"{where}: 'answers' must be a list of strings"
            raise ExamplesError(msg)
        texts = [a if isinstance(a, str) else _require(a, "text", where) for a in answers]
        out.append(
            Example(
                id=str(entry.get("id", n)),
                question=_require(entry, "question", where),
                context=_require(entry, "context", where),
                answers=texts,
            )
        )
    return out


def load_examples(path: str | Path) -> list[Example]:
    """Read SQuAD v1.1 JSON (``{"data": [...]}``) or JSON lines of ``{question, context, answers?}``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        msg = f"{path}: line {line} is not UTF-8 text (byte {raw[exc.start]:#04x}); save the file as UTF-8"
        raise ExamplesError(msg) from exc
    except OSError as exc:
        msg = f"cannot read examples file {path}: {exc.strerror}"
        raise ExamplesError(msg) from exc
    stripped = text.lstrip()
    if stripped.startswith("{") and '"data"' in stripped[:2000]:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            msg = f"{path}: not valid JSON at line {exc.lineno} ({exc.msg})"
            raise ExamplesError(msg) from exc
        examples = _from_squad(doc, path)
    else:
        examples = _from_jsonl(text, path)
    if not examples:
        msg = f"{path}: no questions found (expected SQuAD v1.1 JSON or JSON lines)"
        raise ExamplesError(msg)
    return examples


# --- SQuAD v1.1 official evaluation (normalisation and scoring as in evaluate-v1.1.py) ---


def normalize_answer(s: str) -> str:
    """Lower text and remove punctuation, articles and extra whitespace."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def _f1_one(prediction: str, gold: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_tokens)
    recall = num_same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, golds: Iterable[str]) -> float:
    return max((float(normalize_answer(prediction) == normalize_answer(g)) for g in golds), default=0.0)


def f1(prediction: str, golds: Iterable[str]) -> float:
    return max((_f1_one(prediction, g) for g in golds), default=0.0)


def evaluate(predictions: Mapping[str, str], examples: Iterable[Example]) -> dict[str, float]:
    """EM and F1 in percent over the examples that have gold answers."""
    em_total = f1_total = 0.0
    count = 0
    for ex in examples:
        if not ex.answers:
            continue
        pred = predictions.get(ex.id, "")
        em_total += exact_match(pred, ex.answers)
        f1_total += f1(pred, ex.answers)
        count += 1
    if count == 0:
        return {"exact_match": 0.0, "f1": 0.0, "count": 0}
    return {"exact_match": 100.0 * em_total / count, "f1": 100.0 * f1_total / count, "count": count}

"""Examples (SQuAD v1.1 / v2.0 JSON or JSON lines) and the official SQuAD EM / F1.

SQuAD 2.0 adds unanswerable questions: ``is_impossible`` with empty ``answers`` in its JSON (a file whose
``version`` starts with ``v2``, or any question carrying ``is_impossible``), and in JSON lines an entry
with ``"is_impossible": true`` or an explicit empty ``"answers": []`` (a missing ``answers`` still means
"no gold answer": the question is answered but not scored). They are scored as evaluate-v2.0.py scores
them: the no-answer prediction is the empty text, and an unanswerable question scores EM = F1 = 1 exactly
when the prediction is empty (after normalisation). ``evaluate`` then also splits HasAns / NoAns.
"""

from __future__ import annotations

import collections
import json
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    is_impossible: bool = False  # SQuAD 2.0: unanswerable, the right prediction is the empty text

    @property
    def has_gold(self) -> bool:
        """Scored in EM/F1: it has gold answers, or is unanswerable (gold: no answer)."""
        return bool(self.answers) or self.is_impossible


def has_unanswerable(examples: Iterable[Example]) -> bool:
    """Whether these are SQuAD 2.0 examples (some unanswerable): decode them with handle_impossible_answer."""
    return any(ex.is_impossible for ex in examples)


def _impossible(flag: object, answers: list[str], squad2: bool, where: str) -> bool:
    """SQuAD 2.0's verdict for one question: unanswerable when flagged, or (v2 files) without answers."""
    if flag is not None and not isinstance(flag, bool):
        msg = f"{where}: is_impossible must be true or false, got {flag!r}"
        raise ExamplesError(msg)
    if flag and any(normalize_answer(a) for a in answers):
        msg = f"{where}: is_impossible is true but answers lists {answers[:3]!r}; an unanswerable question has none"
        raise ExamplesError(msg)
    return bool(flag) or (squad2 and not any(normalize_answer(a) for a in answers))


def _require(entry: Mapping[str, object], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str):
        msg = f"{where}: field '{key}' is missing or not a string"
        raise ExamplesError(msg)
    return value


def _id(entry: Mapping[str, object], default: object, where: str) -> str:
    """An entry's id: a string or an integer (a list, object, float, boolean or null is refused)."""
    value = entry.get("id", default)
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    msg = f"{where}: id {value!r} must be a string or an integer"
    raise ExamplesError(msg)


def _answer_text(ans: object, where: str) -> str:
    if isinstance(ans, str):
        return ans
    if isinstance(ans, dict):
        return _require(ans, "text", where)
    msg = f"{where}: an answer must be a string or an object with 'text', got {ans!r:.60}"
    raise ExamplesError(msg)


def _answer_start(ans: Mapping[str, object], where: str) -> int:
    start = ans.get("answer_start", -1)
    if isinstance(start, bool):
        msg = f"{where}: answer_start {start!r} is not an integer"
        raise ExamplesError(msg)
    if isinstance(start, int) or (isinstance(start, str) and start.strip().lstrip("-").isdigit()):
        return int(start)
    msg = f"{where}: answer_start {start!r} is not an integer"
    raise ExamplesError(msg)


def _flags_impossible(data: list[object]) -> bool:
    """Whether any question of a SQuAD JSON ``data`` list carries ``is_impossible`` (a v2.0 file)."""
    for article in data:
        for para in (article.get("paragraphs") or []) if isinstance(article, dict) else []:
            for qa in (para.get("qas") or []) if isinstance(para, dict) else []:
                if isinstance(qa, dict) and "is_impossible" in qa:
                    return True
    return False


def _from_squad(doc: Mapping[str, object], path: Path) -> list[Example]:
    """Every level's type is checked as it is read, so a mis-shaped entry is named, never a traceback."""
    data = doc.get("data")
    if not isinstance(data, list):
        msg = f"{path}: SQuAD JSON needs a top-level 'data' list"
        raise ExamplesError(msg)
    version = doc.get("version", "")
    if not isinstance(version, str):
        msg = f'{path}: \'version\' must be a string such as "1.1" or "v2.0", got {version!r:.60}'
        raise ExamplesError(msg)
    squad2 = version.lstrip("v").startswith("2") or _flags_impossible(data)
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
                texts = [_require(ans, "text", f"{qwhere}.answers") for ans in answers]
                out.append(
                    Example(
                        id=_id(qa, f"{a}-{p}-{q}", qwhere),
                        question=_require(qa, "question", qwhere),
                        context=context,
                        answers=texts,
                        answer_starts=[_answer_start(ans, f"{qwhere}.answers") for ans in answers],
                        is_impossible=_impossible(qa.get("is_impossible"), texts, squad2, qwhere),
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
        given = "answers" in entry  # given and empty: SQuAD 2.0's unanswerable; missing: no gold
        answers = entry.get("answers", [])
        if isinstance(answers, str):
            answers = [answers]
        if not isinstance(answers, list):
            msg = f"{where}: 'answers' must be a list of strings"
            raise ExamplesError(msg)
        texts = [_answer_text(a, where) for a in answers]
        impossible = _impossible(entry.get("is_impossible"), texts, given, where)
        out.append(
            Example(
                id=_id(entry, n, where),
                question=_require(entry, "question", where),
                context=_require(entry, "context", where),
                answers=[] if impossible else texts,
                is_impossible=impossible,
            )
        )
    return out


def load_examples(path: str | Path) -> list[Example]:
    """Read SQuAD v1.1 / v2.0 JSON (``{"data": [...]}``) or JSON lines of ``{question, context, answers?,
    is_impossible?}``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            msg = f"{path} is UTF-16 text (it starts with a UTF-16 byte-order mark); save the file as UTF-8"
            raise ExamplesError(msg) from exc
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
        msg = f"{path}: no questions found (expected SQuAD v1.1 / v2.0 JSON or JSON lines)"
        raise ExamplesError(msg)
    return examples


# --- SQuAD official evaluation (normalisation and scoring as in evaluate-v1.1.py and evaluate-v2.0.py) ---


def normalize_answer(s: str) -> str:
    """Lower text and remove punctuation, articles and extra whitespace."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def _f1_one(prediction: str, gold: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:  # evaluate-v2.0.py: no answer scores 1 against no answer
        return float(pred_tokens == gold_tokens)
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


def _golds(ex: Example) -> list[str]:
    """evaluate-v2.0.py's gold answers: the non-empty ones, or [""] (no answer) when there are none."""
    if ex.is_impossible:
        return [""]
    return [g for g in ex.answers if normalize_answer(g)] or [""]


def _percent(em_total: float, f1_total: float, count: int) -> dict[str, float]:
    if count == 0:
        return {"exact_match": 0.0, "f1": 0.0, "count": 0}
    return {"exact_match": 100.0 * em_total / count, "f1": 100.0 * f1_total / count, "count": count}


def evaluate(predictions: Mapping[str, str], examples: Iterable[Example]) -> dict[str, Any]:
    """EM and F1 in percent over the examples with gold answers or unanswerable (``has_gold``); a missing
    prediction is the empty text (no answer). With unanswerable questions, ``has_answer`` and
    ``no_answer`` give the split (evaluate-v2.0.py's HasAns / NoAns), each ``{exact_match, f1, count}``."""
    totals = {True: [0.0, 0.0, 0], False: [0.0, 0.0, 0]}  # has answer -> EM, F1, count
    for ex in examples:
        if not ex.has_gold:
            continue
        pred = predictions.get(ex.id, "")
        golds = _golds(ex)
        t = totals[not ex.is_impossible]
        t[0] += exact_match(pred, golds)
        t[1] += f1(pred, golds)
        t[2] += 1
    em_total = totals[True][0] + totals[False][0]
    f1_total = totals[True][1] + totals[False][1]
    out: dict[str, Any] = _percent(em_total, f1_total, int(totals[True][2] + totals[False][2]))
    if totals[False][2]:
        out["has_answer"] = _percent(totals[True][0], totals[True][1], int(totals[True][2]))
        out["no_answer"] = _percent(totals[False][0], totals[False][1], int(totals[False][2]))
    return out

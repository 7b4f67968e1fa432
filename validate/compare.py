"""Comparison of a format against the reference: logits per output, answers, EM/F1 (statistics, no verdict).

With ``handle_impossible_answer`` (SQuAD 2.0 models and examples), the answers include the null answer
(text ""), and the "no answer" verdict is compared on its own: a format that answers where the reference
says no answer, or the reverse, disagrees (never a tie, whatever the scores), and the tally counts the
reference's and the format's no-answer verdicts and the flips between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from qaport.decode import Answer, Encoded, decode_candidates, is_no_answer, null_score
from qaport.squad import Example, evaluate

# Defaults per precision, per output: the bound on the precision's judged logit statistic
# (validate.judge.ERROR_STAT: max for float32, p99 for float16 and int8). Measured: docs/tolerances.md.
DEFAULT_ATOL = {"float32": 1e-4, "float16": 2e-2, "int8": 0.5}
# Minimum share of answers that must agree (or tie) with the reference, per precision.
DEFAULT_AGREEMENT = {"float32": 1.0, "float16": 0.98, "int8": 0.90}
TIE_TOLERANCE = 1e-3
STATS = ("max", "p99", "mean")  # the logit statistics a verdict can be judged on (Polygraphy's check-error-stat)


@dataclass
class LogitStats:
    """|got - ref| over every real token (attention mask 1) of every window, kept to give percentiles."""

    max_abs: float = 0.0
    max_rel: float = 0.0
    sum_abs: float = 0.0
    count: int = 0
    non_finite: int = 0  # logits that are NaN or infinite: never a rounding difference
    _diffs: list[npt.NDArray[np.float32]] = field(default_factory=list, repr=False)

    def add(self, ref: npt.NDArray[np.float32], got: npt.NDArray[np.float32], mask: npt.NDArray[np.int32]) -> None:
        sel = mask.astype(bool)
        g = got[sel].astype(np.float64)
        diff = np.abs(g - ref[sel].astype(np.float64))
        if diff.size == 0:
            return
        self.non_finite += int((~np.isfinite(g)).sum())
        diff = np.where(np.isnan(diff), np.inf, diff)  # NaN logits must fail, not vanish inside max()
        rel = diff / np.maximum(np.abs(ref[sel].astype(np.float64)), 1e-6)
        self.max_abs = max(self.max_abs, float(diff.max()))
        self.max_rel = max(self.max_rel, float(rel.max()))
        self.sum_abs += float(diff.sum())
        self.count += int(diff.size)
        self._diffs.append(diff.astype(np.float32))

    def percentile(self, q: float) -> float:
        if not self._diffs:
            return 0.0
        return float(np.percentile(np.concatenate(self._diffs), q, method="higher"))  # no inf - inf

    @property
    def mean_abs(self) -> float:
        return self.sum_abs / self.count if self.count else 0.0

    def stat(self, name: str) -> float:
        """One of STATS by name."""
        if name == "max":
            return self.max_abs
        if name == "mean":
            return self.mean_abs
        if name == "p99":
            return self.percentile(99.0)
        msg = f"logit statistic {name!r}; available: {', '.join(STATS)}"
        raise ValueError(msg)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "max_abs_diff": self.max_abs,
            "p99_abs_diff": self.percentile(99.0),
            "p999_abs_diff": self.percentile(99.9),
            "median_abs_diff": self.percentile(50.0),
            "mean_abs_diff": self.mean_abs,
            "max_rel_diff": self.max_rel,
            "tokens": self.count,
            "non_finite": self.non_finite,
        }


@dataclass
class AnswerTally:
    agree: int = 0
    tie: int = 0
    disagree: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)
    # handle_impossible_answer only: how often the reference / the target said "no answer", and how
    # often exactly one of them did (each flip is also a disagreement)
    no_answer: dict[str, int] | None = None

    def count_no_answer(self, ref: Answer, got: Answer) -> None:
        tally = self.no_answer if self.no_answer is not None else {"reference": 0, "target": 0, "flipped": 0}
        tally["reference"] += is_no_answer(ref)
        tally["target"] += is_no_answer(got)
        tally["flipped"] += is_no_answer(ref) != is_no_answer(got)
        self.no_answer = tally

    @property
    def total(self) -> int:
        return self.agree + self.tie + self.disagree

    @property
    def agreement(self) -> float:
        return (self.agree + self.tie) / self.total if self.total else 1.0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "agree": self.agree,
            "tie": self.tie,
            "disagree": self.disagree,
            "agreement": self.agreement,
            "disagreements": self.examples[:10],
        }
        if self.no_answer is not None:
            out["no_answer"] = dict(self.no_answer)
        return out


def reference_score(
    encoded: Encoded,
    start: Any,
    end: Any,
    context: str,
    text: str,
    max_answer_len: int,
    *,
    handle_impossible_answer: bool = False,
) -> float:
    """The reference model's (merged) score for an answer text; 0 when it is not among its candidates.
    With ``handle_impossible_answer``, the null answer's score for ``""``."""
    if handle_impossible_answer and text == "":
        return null_score(encoded, start, end)
    for cand in decode_candidates(encoded, start, end, context, max_answer_len=max_answer_len):
        if cand.text.lower() == text.lower():
            return cand.score
    return 0.0


def classify(
    ref: Answer,
    got: Answer,
    encoded: Encoded,
    ref_start: Any,
    ref_end: Any,
    context: str,
    *,
    max_answer_len: int,
    tie_tolerance: float = TIE_TOLERANCE,
    handle_impossible_answer: bool = False,
) -> str:
    """``agree`` (same text and offsets), ``tie`` (the reference scores both within tolerance) or ``disagree``.
    With ``handle_impossible_answer``, a different "no answer" verdict is always ``disagree``."""
    if (got.text, got.start, got.end) == (ref.text, ref.start, ref.end):
        return "agree"
    if handle_impossible_answer and is_no_answer(got) != is_no_answer(ref):
        return "disagree"
    alt = reference_score(encoded, ref_start, ref_end, context, got.text, max_answer_len)
    if got.text.lower() == ref.text.lower() or abs(ref.score - alt) <= tie_tolerance:
        return "tie"
    return "disagree"


def gold_scores(predictions: dict[str, str], examples: list[Example]) -> dict[str, float] | None:
    """EM/F1 over the examples with gold answers (SQuAD 2.0: or unanswerable); None when there are none."""
    gold = [ex for ex in examples if ex.has_gold]
    return evaluate(predictions, gold) if gold else None


def compare_outputs(
    examples: list[Example],
    encoded: list[Encoded],
    ref_logits: list[tuple[Any, Any]],
    ref_answers: list[Answer],
    logits: list[tuple[Any, Any]],
    answers: list[Answer],
    *,
    scored: list[Example],
    ref_gold: dict[str, float] | None,
    max_answer_len: int,
    tie_tolerance: float = TIE_TOLERANCE,
    handle_impossible_answer: bool = False,
) -> dict[str, Any]:
    """The statistics of one target against the reference: logits per output, answers, EM/F1 and
    their change. ``scored`` are the examples whose gold answers count (not the latency texts).
    ``handle_impossible_answer``: the answers were decoded with it (the no-answer verdict is compared)."""
    stats = {"start_logits": LogitStats(), "end_logits": LogitStats()}
    tally = AnswerTally()
    for i, (ex, enc) in enumerate(zip(examples, encoded, strict=True)):
        ref_start, ref_end = ref_logits[i]
        start, end = logits[i]
        stats["start_logits"].add(ref_start, start, enc.attention_mask)
        stats["end_logits"].add(ref_end, end, enc.attention_mask)
        kind = classify(
            ref_answers[i],
            answers[i],
            enc,
            ref_start,
            ref_end,
            ex.context,
            max_answer_len=max_answer_len,
            tie_tolerance=tie_tolerance,
            handle_impossible_answer=handle_impossible_answer,
        )
        setattr(tally, kind, getattr(tally, kind) + 1)
        if handle_impossible_answer:
            tally.count_no_answer(ref_answers[i], answers[i])
        if kind == "disagree":
            tally.examples.append({"id": ex.id, "reference": ref_answers[i].as_dict(), "got": answers[i].as_dict()})
    gold = gold_scores({ex.id: a.text for ex, a in zip(examples, answers, strict=True)}, scored)
    delta = None
    if gold and ref_gold:
        delta = {k: gold[k] - ref_gold[k] for k in ("exact_match", "f1")}
    return {
        "logits": {k: v.as_dict() for k, v in stats.items()},
        "answers": tally.as_dict(),
        "gold": gold,
        "gold_delta": delta,
    }

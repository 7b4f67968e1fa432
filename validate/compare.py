"""Comparison of a format against the reference: logits per output, answers, EM/F1."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from validate.decode import Answer, Encoded, decode_candidates

# Defaults per precision, per output. float16 and int8 come from measurement (README, "Tolerances").
DEFAULT_ATOL = {"float32": 1e-4, "float16": 5e-2, "int8": 1.0}
# Minimum share of answers that must agree (or tie) with the reference, per precision.
DEFAULT_AGREEMENT = {"float32": 1.0, "float16": 0.98, "int8": 0.90}
TIE_TOLERANCE = 1e-3


@dataclass
class LogitStats:
    max_abs: float = 0.0
    max_rel: float = 0.0
    sum_abs: float = 0.0
    count: int = 0

    def add(self, ref: npt.NDArray[np.float32], got: npt.NDArray[np.float32], mask: npt.NDArray[np.int32]) -> None:
        sel = mask.astype(bool)
        diff = np.abs(got[sel].astype(np.float64) - ref[sel].astype(np.float64))
        if diff.size == 0:
            return
        diff = np.where(np.isnan(diff), np.inf, diff)  # NaN logits must fail, not vanish inside max()
        rel = diff / np.maximum(np.abs(ref[sel].astype(np.float64)), 1e-6)
        self.max_abs = max(self.max_abs, float(diff.max()))
        self.max_rel = max(self.max_rel, float(rel.max()))
        self.sum_abs += float(diff.sum())
        self.count += int(diff.size)

    def as_dict(self) -> dict[str, float]:
        return {
            "max_abs_diff": self.max_abs,
            "max_rel_diff": self.max_rel,
            "mean_abs_diff": self.sum_abs / self.count if self.count else 0.0,
        }


@dataclass
class AnswerTally:
    agree: int = 0
    tie: int = 0
    disagree: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.agree + self.tie + self.disagree

    @property
    def agreement(self) -> float:
        return (self.agree + self.tie) / self.total if self.total else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "agree": self.agree,
            "tie": self.tie,
            "disagree": self.disagree,
            "agreement": self.agreement,
            "disagreements": self.examples[:10],
        }


def reference_score(encoded: Encoded, start: Any, end: Any, context: str, text: str, max_answer_len: int) -> float:
    """The reference model's (merged) score for an answer text; 0 when it is not among its candidates."""
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
) -> str:
    """``agree`` (same text and offsets), ``tie`` (the reference scores both within tolerance) or ``disagree``."""
    if (got.text, got.start, got.end) == (ref.text, ref.start, ref.end):
        return "agree"
    alt = reference_score(encoded, ref_start, ref_end, context, got.text, max_answer_len)
    if got.text.lower() == ref.text.lower() or abs(ref.score - alt) <= tie_tolerance:
        return "tie"
    return "disagree"

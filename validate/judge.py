"""The one place where statistics become a verdict: ``judge(stats, criteria)``.

Used by ``python -m validate`` (every target), ``python -m validate.soak`` (answers under load) and the
benchmark's answer check, so a tolerance means the same thing everywhere. Statistics are the plain
records the comparison writes into report.json; a criterion whose statistic was not measured (no
logits in a load test, no gold answers in the examples) is not judged, and the verdict says so.

float32 formats are judged on the strict maximum |diff|: any larger change is a conversion bug.
float16 and int8 formats are judged on what their consumers see (answer agreement with the float32
reference, EM/F1 change when gold answers exist) and on a logit statistic that one outlier window
cannot swing (p99 of |diff|, as Polygraphy's ``--check-error-stat``); their maximum is reported, not
judged. Non-finite logits fail every precision. The measurements behind the defaults:
docs/tolerances.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from qaport.errors import QaportError
from validate.compare import DEFAULT_AGREEMENT, DEFAULT_ATOL, STATS

OUTPUTS = ("start_logits", "end_logits")
# The logit statistic each precision is judged on.
ERROR_STAT = {"float32": "max", "float16": "p99", "int8": "p99"}
# Largest allowed drop of EM and of F1 (points) against the float32 reference, when gold answers exist.
# None: not judged (float32 must agree on every answer but ties, which already bounds EM/F1).
DEFAULT_MAX_EM_DROP: dict[str, float | None] = {"float32": None, "float16": 1.0, "int8": 2.0}
DEFAULT_MAX_F1_DROP: dict[str, float | None] = {"float32": None, "float16": 1.0, "int8": 2.0}
# The agreement criterion fails when the answers show the rate is below the bound (Wilson score upper
# bound, z = 1.96): a handful of answers (one long context, --limit) cannot fail a format by chance,
# and the logit statistic, over every token, still judges those runs.
AGREEMENT_Z = 1.96
STAT_WORDS = {"max": "max abs diff", "p99": "p99 abs diff", "mean": "mean abs diff"}
_STAT_KEYS = {"max": "max_abs_diff", "p99": "p99_abs_diff", "mean": "mean_abs_diff"}


class CriteriaError(QaportError, ValueError):
    """A tolerance option that names no statistic or precision this validation knows."""

    exit_code = 2


@dataclass(frozen=True)
class Criteria:
    """What one target must meet; written into its report entry as ``criteria``."""

    precision: str
    stat: str
    atol: dict[str, float]
    agreement: float
    max_em_drop: float | None
    max_f1_drop: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "logit_stat": self.stat,
            "atol": dict(self.atol),
            "agreement": self.agreement,
            "max_em_drop": self.max_em_drop,
            "max_f1_drop": self.max_f1_drop,
        }


@dataclass
class Verdict:
    passed: bool
    reasons: list[str] = field(default_factory=list)
    not_judged: list[str] = field(default_factory=list)  # criteria whose statistic was not measured

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


@dataclass(frozen=True)
class Policy:
    """Defaults per precision, overridden per "<target|format|runtime|precision>[:output]" key."""

    atol: dict[str, float] = field(default_factory=dict)
    agreement: dict[str, float] = field(default_factory=dict)
    error_stat: dict[str, str] = field(default_factory=dict)
    max_em_drop: dict[str, float] = field(default_factory=dict)
    max_f1_drop: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = {k: v for k, v in self.error_stat.items() if v not in STATS}
        if bad:
            k, v = next(iter(bad.items()))
            msg = f"--error-stat {k}={v}: unknown statistic; available: {', '.join(STATS)}"
            raise CriteriaError(msg)

    def criteria(self, target_id: str, fmt: str, runtime: str, precision: str) -> Criteria:
        """The criteria of one target; an unknown precision gets float32's (strict) defaults."""
        base = precision if precision in DEFAULT_ATOL else "float32"
        keys = (target_id, fmt, runtime, precision)
        return Criteria(
            precision=precision,
            stat=_lookup(self.error_stat, keys, ERROR_STAT[base]),
            atol={o: _lookup(self.atol, keys, DEFAULT_ATOL[base], o) for o in OUTPUTS},
            agreement=_lookup(self.agreement, keys, DEFAULT_AGREEMENT[base]),
            max_em_drop=_lookup(self.max_em_drop, keys, DEFAULT_MAX_EM_DROP[base]),
            max_f1_drop=_lookup(self.max_f1_drop, keys, DEFAULT_MAX_F1_DROP[base]),
        )

    def overrides(self) -> dict[str, dict[str, Any]]:
        """The user's overrides, as given (for the report)."""
        return {
            "atol": dict(self.atol),
            "agreement": dict(self.agreement),
            "error_stat": dict(self.error_stat),
            "max_em_drop": dict(self.max_em_drop),
            "max_f1_drop": dict(self.max_f1_drop),
        }


def _lookup(table: dict[str, Any], keys: tuple[str, ...], default: Any, output: str = "") -> Any:
    """Most specific key first: target, format, runtime, precision; ``key:output`` before ``key``."""
    for key in keys:
        if output and f"{key}:{output}" in table:
            return table[f"{key}:{output}"]
        if key in table:
            return table[key]
    return default


def defaults() -> dict[str, dict[str, Any]]:
    """Every precision's default criteria (for the report and the docs)."""
    return {p: Policy().criteria(p, p, p, p).as_dict() for p in DEFAULT_ATOL}


def agreement_upper_bound(agreed: int, total: int, z: float = AGREEMENT_Z) -> float:
    """Wilson score upper bound of the agreement rate. A format fails the agreement criterion when even
    this bound is below the required rate: 2 disagreements in 13 answers (84.6%) do not show a rate
    below 90%, 5 in 22 (77.3%, upper bound 89.9%) do. Any disagreement fails a required 100%."""
    if total <= 0:
        return 1.0
    if agreed >= total:
        return 1.0
    p = agreed / total
    denom = 1 + z * z / total
    centre = p + z * z / (2 * total)
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return min(1.0, (centre + margin) / denom)


def judge(stats: dict[str, Any], criteria: Criteria) -> Verdict:
    """Passed or failed, with every reason. ``stats`` holds any of ``logits`` (per output, as
    compare.LogitStats.as_dict), ``answers`` (compare.AnswerTally.as_dict) and ``gold_delta``
    (EM/F1 of the target minus the reference's, in points)."""
    reasons: list[str] = []
    not_judged: list[str] = []
    logits = stats.get("logits")
    if logits:
        for output in OUTPUTS:
            st = logits.get(output)
            if st is None:
                reasons.append(f"{output} missing")
                continue
            if st.get("non_finite"):
                reasons.append(f"{output}: {st['non_finite']} of {st.get('tokens', '?')} logits are NaN or infinite")
            value = float(st[_STAT_KEYS[criteria.stat]])
            limit = criteria.atol[output]
            if not value <= limit:  # NaN fails too
                reasons.append(f"{output} {STAT_WORDS[criteria.stat]} {value:.3g} > atol {limit:g}")
    else:
        not_judged.append("logits (not measured)")
    answers = stats.get("answers")
    total = (answers or {}).get("agree", 0) + (answers or {}).get("tie", 0) + (answers or {}).get("disagree", 0)
    if answers and total:
        rate = float(answers["agreement"])
        upper = agreement_upper_bound(total - answers["disagree"], total)
        if upper < criteria.agreement:
            flipped = (answers.get("no_answer") or {}).get("flipped", 0)
            flips = f", {flipped} of them a different no-answer verdict" if flipped else ""
            reasons.append(
                f"answers agree {rate:.1%} (disagree {answers['disagree']} of {total}{flips}; 95% upper bound "
                f"{upper:.1%}) < required {criteria.agreement:.0%}"
            )
    else:
        not_judged.append("answers (none compared)")
    delta = stats.get("gold_delta")
    if delta:
        drops: tuple[tuple[str, float | None, str], ...] = (
            ("exact_match", criteria.max_em_drop, "EM"),
            ("f1", criteria.max_f1_drop, "F1"),
        )
        for metric, allowed, word in drops:
            if allowed is None:
                continue
            change = float(delta[metric])
            if not -change <= allowed + 1e-9:
                reasons.append(f"{word} {change:+.2f} points against the float32 reference (allowed -{allowed:g})")
    else:
        not_judged.append("EM/F1 change (no gold answers)")
    return Verdict(not reasons, reasons, not_judged)

"""The one judge, the statistics it reads, the report cells and the measurement sets (no TensorFlow)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from validate import compare, judge, report
from validate.inputs import fresh_examples, long_context_examples, unicode_examples


def _logits(stat: str = "max", value: float = 0.0, **extra: Any) -> dict[str, Any]:
    one = {"max_abs_diff": 0.0, "p99_abs_diff": 0.0, "mean_abs_diff": 0.0, "tokens": 100, "non_finite": 0}
    one[{"max": "max_abs_diff", "p99": "p99_abs_diff", "mean": "mean_abs_diff"}[stat]] = value
    one.update(extra)
    return {"start_logits": dict(one), "end_logits": dict(one)}


def _answers(agree: int, tie: int = 0, disagree: int = 0) -> dict[str, Any]:
    return compare.AnswerTally(agree, tie, disagree).as_dict()


def _criteria(precision: str, **overrides: Any) -> judge.Criteria:
    return judge.Policy(**overrides).criteria(f"x@{precision}", "x", "rt", precision)


def test_float32_is_judged_on_the_strict_maximum() -> None:
    c = _criteria("float32")
    assert c.stat == "max" and c.atol["start_logits"] == 1e-4 and c.agreement == 1.0
    assert judge.judge({"logits": _logits("max", 5e-5), "answers": _answers(10)}, c).passed
    v = judge.judge({"logits": _logits("max", 2e-4), "answers": _answers(10)}, c)
    assert not v.passed and "start_logits max abs diff 0.0002 > atol 0.0001" in v.reason
    v = judge.judge({"logits": _logits("max", 0.0), "answers": _answers(609, 0, 1)}, c)
    assert not v.passed and "answers agree 99.8% (disagree 1 of 610; 95% upper bound" in v.reason
    assert "< required 100%" in v.reason


@pytest.mark.parametrize("precision", ["int8", "float16"])
def test_quantised_formats_ignore_one_outlier_but_not_a_broad_change(precision: str) -> None:
    c = _criteria(precision)
    assert c.stat == "p99"
    outlier = _logits("p99", c.atol["start_logits"] / 2, max_abs_diff=50.0)
    assert judge.judge({"logits": outlier, "answers": _answers(100)}, c).passed
    broad = _logits("p99", c.atol["start_logits"] * 2)
    v = judge.judge({"logits": broad, "answers": _answers(100)}, c)
    assert not v.passed and "start_logits p99 abs diff" in v.reason and "end_logits p99 abs diff" in v.reason


def test_nan_or_infinite_logits_fail_every_precision() -> None:
    for precision in ("float32", "float16", "int8"):
        stats = {"logits": _logits("p99", 0.0, non_finite=3), "answers": _answers(10)}
        v = judge.judge(stats, _criteria(precision))
        assert not v.passed and "3 of 100 logits are NaN or infinite" in v.reason


def test_em_f1_drop_is_judged_only_when_measured() -> None:
    c = _criteria("int8")
    base = {"logits": _logits("p99", 0.0), "answers": _answers(100)}
    v = judge.judge(base, c)
    assert v.passed and "EM/F1 change (no gold answers)" in v.not_judged
    ok = judge.judge({**base, "gold_delta": {"exact_match": -1.0, "f1": -c.max_f1_drop}}, c)
    assert ok.passed and not ok.not_judged
    bad = judge.judge({**base, "gold_delta": {"exact_match": -5.0, "f1": -0.5}}, c)
    assert not bad.passed and "EM -5.00 points against the float32 reference" in bad.reason
    # float32 formats are held to 100% agreement (ties apart) instead
    assert judge.judge({**base, "gold_delta": {"exact_match": -5.0, "f1": -5.0}}, _criteria("float32")).passed


@pytest.mark.parametrize(
    ("agree", "disagree", "passes"),
    [(11, 2, True), (607, 3, True), (17, 5, False), (4, 18, False), (530, 80, False)],
)
def test_agreement_fails_when_the_answers_show_a_lower_rate(agree: int, disagree: int, passes: bool) -> None:
    """11 of 13 (one long context) cannot show a rate below 90%; 17 of 22 or 530 of 610 (86.9%) do."""
    c = _criteria("int8")
    assert judge.judge({"answers": _answers(agree, 0, disagree)}, c).passed is passes
    assert judge.agreement_upper_bound(10, 10) == 1.0 and judge.agreement_upper_bound(0, 0) == 1.0


def test_load_and_bench_records_without_logits_are_judged_on_answers() -> None:
    v = judge.judge({"answers": _answers(95, 0, 5)}, _criteria("int8"))
    assert v.passed and v.not_judged[0] == "logits (not measured)"
    v = judge.judge({"answers": _answers(95, 0, 5)}, _criteria("int8", agreement={"int8": 0.99}))
    assert not v.passed and "< required 99%" in v.reason


def test_overrides_most_specific_first() -> None:
    policy = judge.Policy(
        atol={"int8": 0.7, "onnx-int8@onnxruntime:end_logits": 0.2, "onnx-int8": 0.5},
        error_stat={"onnx-int8@onnxruntime": "max"},
        agreement={"onnxruntime-node": 0.95},
    )
    c = policy.criteria("onnx-int8@onnxruntime", "onnx-int8", "onnxruntime", "int8")
    assert c.atol == {"start_logits": 0.5, "end_logits": 0.2} and c.stat == "max"
    n = policy.criteria("onnx-int8@onnxruntime-node", "onnx-int8", "onnxruntime-node", "int8")
    assert n.agreement == 0.95 and n.stat == "p99" and n.atol["start_logits"] == 0.5
    # an unknown precision is judged as strictly as float32
    assert judge.Policy().criteria("a@b", "a", "b", "bfloat16").stat == "max"
    with pytest.raises(judge.CriteriaError, match="--error-stat int8=p95: unknown statistic; available: max, p99"):
        judge.Policy(error_stat={"int8": "p95"})


def test_logit_percentile_is_not_swung_by_one_window() -> None:
    rng = np.random.default_rng(0)
    st = compare.LogitStats()
    mask = np.ones((1, 384), np.int32)
    for _ in range(200):
        ref = rng.normal(size=(1, 384)).astype(np.float32)
        st.add(ref, ref + rng.normal(scale=0.01, size=ref.shape).astype(np.float32), mask)
    ref = np.zeros((1, 384), np.float32)
    st.add(ref, ref + 3.0, mask)  # one bad window
    d = st.as_dict()
    assert d["max_abs_diff"] == pytest.approx(3.0) and d["p99_abs_diff"] < 0.05
    assert d["tokens"] == 201 * 384 and d["non_finite"] == 0
    nan = np.full((1, 384), np.nan, np.float32)
    st.add(ref, nan, mask)
    assert st.as_dict()["non_finite"] == 384 and st.max_abs == float("inf")


def _report(**target: Any) -> dict[str, Any]:
    entry = {
        "id": "onnx-int8@onnxruntime",
        "format": "onnx-int8",
        "runtime": "onnxruntime",
        "status": "passed",
        "size_bytes": 1,
        "criteria": _criteria("int8").as_dict(),
        **target,
    }
    return {
        "artifact_dir": "d",
        "model": "m",
        "passed": True,
        "examples": {"count": 1, "sources": {"f.jsonl": 1}},
        "options": {"examples": "f.jsonl", "limit": None, "only": ["onnx-int8"], "atol": ["int8=0.5"]},
        "tolerances": {"tie_tolerance": 1e-3},
        "scored_examples": 0,
        "targets": [entry],
    }


def test_report_shows_dash_where_nothing_was_measured() -> None:
    md = report.markdown(
        _report(
            logits=_logits("p99", 0.1),
            answers=_answers(1),
            gold=None,
            latency={"short": {"model_call": {"runs": 3, "p50_ms": 1.0, "p95_ms": 2.0}}},
        )
    )
    row = next(line for line in md.splitlines() if line.startswith("| onnx-int8 "))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[5] == "-"  # EM / F1 without gold answers, never 0.0 / 0.0
    assert cells[6] == "1.0 / 2.0" and cells[7] == "-" and cells[8] == "-"  # only the short model call ran
    assert "no gold answers" in md
    assert "`--examples f.jsonl`, `--only onnx-int8`, `--atol int8=0.5`" in md
    assert "p99 |diff| <=" in md and "answers agree or tie >= " in md


def test_report_gold_cell_carries_the_change_against_float32() -> None:
    md = report.markdown(
        _report(gold={"exact_match": 90.0, "f1": 94.0, "count": 10}, gold_delta={"exact_match": -1.0, "f1": 0.5})
    )
    assert "| 90.0 / 94.0 (-1.0 / +0.5) |" in md


def test_measurement_sets_are_reproducible_and_what_they_claim() -> None:
    fresh = fresh_examples(50)
    assert fresh == fresh_examples(50) and len({ex.id for ex in fresh}) == 50
    assert all(ex.context[ex.answer_starts[0] :].startswith(ex.answers[0]) for ex in fresh)
    long = long_context_examples()
    assert len(long) == 4 and 99_000 <= len(long[0].context) <= 100_000
    assert all(ex.context.count(ex.answers[0]) == 1 for ex in long)
    uni = unicode_examples(60)
    assert all(ex.context.count(ex.answers[0]) == 1 for ex in uni)
    assert sum(not ex.answers[0].isascii() for ex in uni) >= 10
    assert all(not ex.context.isascii() for ex in uni)

"""From raw worker results to the table's numbers: latency, ratio, answers, efficiency, targets.

Ratios are speed-ups over the pipeline (pipeline p50 / system p50, so 5x means five times faster).
Efficiency is the model's matmul FLOPs for the tokens each system actually ran (its padding and
windows included) per second of its measured end-to-end p50, over the matmul peak of its precision
measured in the same run (float32 systems: the float32 peak; int8 systems: the int8 kernel's peak):
an upper bound on what a faster runtime could gain on the same work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bench import flops
from bench.systems import BASELINE, PLANNED, SYSTEMS, TRUNCATE_AT, TRUNCATED
from qaport import decode
from validate import compare, judge
from validate.latency import summarize

CLASSES = ("short", "long")
TARGET_VALIDATED = {"short": 5.0, "long": 3.5}
TARGET_NODE_SHORT = 4.0
TARGET_ONNX_PEAK = 0.85  # of the peak of its precision, float32 and int8 alike
TARGET_VS_TRANSFORMERS_JS = 1.5
TARGET_TF_NODE = 2.5  # the best TF-family Node.js path (SavedModel or graph model on tfjs-node)
TARGET_POST = 2.0  # the original post's claim for its system (savedmodel-node)
TARGET_VS_USUAL_Q8 = 1.3  # qaport's fastest Node.js path vs transformers.js on the usual q8 file, short texts


@dataclass(frozen=True)
class Question:
    id: str
    cls: str
    question: str
    context: str
    encoded: decode.Encoded
    pair_tokens: int  # the whole pair, untruncated (what a truncating pipeline cuts to its limit)

    @property
    def window_lengths(self) -> list[int]:
        return [len(w.input_ids) for w in self.encoded.windows]

    def job(self) -> dict[str, str]:
        return {"id": self.id, "class": self.cls, "question": self.question, "context": self.context}


def work(system_id: str, q: Question, arch: flops.Architecture, fixed_length: int | None) -> tuple[int, int]:
    """(tokens run, matmul FLOPs) of one answer by this system."""
    lengths = q.window_lengths
    calls = SYSTEMS[system_id].calls
    if calls == TRUNCATED:  # one input of at most TRUNCATE_AT tokens, whatever the context's length
        n = min(q.pair_tokens, TRUNCATE_AT)
        return n, flops.sequence_flops(arch, n)
    if system_id == BASELINE:
        return sum(lengths), flops.windows_flops(arch, lengths)
    if calls == PLANNED and fixed_length is None:
        plan = decode.call_plan(lengths)
        return sum(r * w for _, r, w in plan), sum(flops.batch_flops(arch, r, w) for _, r, w in plan)
    rows, width = q.encoded.input_ids.shape
    width = fixed_length or width
    return rows * width, flops.batch_flops(arch, rows, width)


def answers_vs_pipeline(
    entry: dict[str, Any], baseline: dict[str, Any], reference: dict[str, Any] | None, questions: list[Question]
) -> dict[str, Any]:
    """agree = same text and offsets; tie = the reference model scores both within the tie tolerance."""
    tally = compare.AnswerTally()
    for q in questions:
        mine, theirs = entry["answers"].get(q.id), baseline["answers"].get(q.id)
        if mine is None or theirs is None:
            continue
        got, ref = decode.Answer(**mine), decode.Answer(**theirs)
        logits = (reference or {}).get("logits", {}).get(q.id)
        if logits is None:
            kind = "agree" if (got.text, got.start, got.end) == (ref.text, ref.start, ref.end) else "disagree"
        else:
            start, end = np.asarray(logits["start"], np.float32), np.asarray(logits["end"], np.float32)
            kind = compare.classify(ref, got, q.encoded, start, end, q.context, max_answer_len=decode.MAX_ANSWER_LEN)
        setattr(tally, kind, getattr(tally, kind) + 1)
        if kind == "disagree":
            tally.examples.append({"id": q.id, "pipeline": ref.text, "got": got.text})
    precision = SYSTEMS[entry["id"]].precision
    criteria = judge.Policy().criteria(entry["id"], entry["id"], entry["id"], precision)  # validation's judge
    passes = judge.judge({"answers": tally.as_dict()}, criteria).passed
    return {**tally.as_dict(), "total": tally.total, "required": criteria.agreement, "passes": passes}


def answers_by_text(entry: dict[str, Any], baseline: dict[str, Any], questions: list[Question]) -> dict[str, Any]:
    """For a system that returns no offsets (transformers.js): same text, case and spaces aside.

    Only its comparable questions count (a truncating pipeline never saw most of a long text). Its
    rules differ from the pipeline's, so it is held to no agreement share; ``rules`` (run.py) says
    where the rules agree and whether the answers are equal there.
    """
    from bench.transformers_js import squash

    tally = compare.AnswerTally()
    for q in questions:
        mine, theirs = entry["answers"].get(q.id), baseline["answers"].get(q.id)
        if mine is None or theirs is None or q.cls in entry.get("not_comparable", {}):
            continue
        if squash(mine["text"]) == squash(theirs["text"]):
            tally.agree += 1
        else:
            tally.disagree += 1
            tally.examples.append({"id": q.id, "pipeline": theirs["text"], "got": mine["text"]})
    return {**tally.as_dict(), "total": tally.total, "required": None, "passes": True, "by": "text"}


def peak_of(system_id: str, peaks: dict[str, float]) -> float:
    """The peak a system's efficiency is judged against: its precision's (float32 when int8 is unknown)."""
    precision = SYSTEMS[system_id].precision
    return peaks.get(precision) or peaks.get("float32") or 0.0


def summarise(
    entries: list[dict[str, Any]],
    questions: list[Question],
    arch: flops.Architecture,
    peaks: dict[str, float],
    fixed_length: int | None,
) -> None:
    """Add ``latency``, ``ratio``, ``efficiency`` and ``answers`` to every entry that ran (in place).

    ``peaks``: GFLOP/s (GOP/s for int8) measured in this run, by precision ("float32", "int8").
    """
    by_id = {e["id"]: e for e in entries}
    base = by_id.get(BASELINE, {})
    reference = by_id.get("keras") if by_id.get("keras", {}).get("status") == "ok" else None
    for e in entries:
        if e.get("status") != "ok":
            continue
        e["latency"], e["efficiency"] = {}, {}
        if SYSTEMS[e["id"]].calls == TRUNCATED:
            e["not_comparable"] = {"long": f"truncates every pair to one {TRUNCATE_AT}-token input (no windows)"}
        peak_gflops = peak_of(e["id"], peaks)
        fp32 = peaks.get("float32") or 0.0
        for cls in CLASSES:
            qs = [q for q in questions if q.cls == cls and q.id in e["times_ms"]]
            if not qs:
                continue
            pooled = [t for q in qs for t in e["times_ms"][q.id]]
            medians = [float(np.median(e["times_ms"][q.id])) for q in qs]
            done = [work(e["id"], q, arch, fixed_length) for q in qs]
            rate = sum(f for _, f in done) / (sum(medians) / 1000.0) / 1e9
            e["latency"][cls] = {**summarize(pooled), "questions": len(qs), **e.get("runs", {}).get(cls, {})}
            e["efficiency"][cls] = {
                "tokens_per_answer": float(np.mean([t for t, _ in done])),
                "gflop_per_answer": float(np.mean([f for _, f in done])) / 1e9,
                "gflops": rate,
                "peak": "int8" if SYSTEMS[e["id"]].precision == "int8" and peaks.get("int8") else "float32",
                "of_peak": rate / peak_gflops if peak_gflops else None,
                "of_fp32_peak": rate / fp32 if fp32 else None,
                "ms_at_peak": sum(f for _, f in done) / len(qs) / (peak_gflops * 1e9) * 1000.0 if peak_gflops else None,
            }
    for e in entries:
        if e.get("status") == "ok" and base.get("status") == "ok":
            e["ratio"] = {
                cls: base["latency"][cls]["p50_ms"] / e["latency"][cls]["p50_ms"]
                for cls in CLASSES
                if cls in e["latency"] and cls in base.get("latency", {}) and cls not in e.get("not_comparable", {})
            }
            if SYSTEMS[e["id"]].calls == TRUNCATED:
                e["answers_vs_pipeline"] = answers_by_text(e, base, questions)
            else:
                e["answers_vs_pipeline"] = answers_vs_pipeline(e, base, reference, questions)

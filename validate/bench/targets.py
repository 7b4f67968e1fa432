"""The issue's targets, judged from one run; a miss says by how much and why, from the run's own numbers."""

from __future__ import annotations

from typing import Any

from validate.bench.analysis import CLASSES, TARGET_NODE_SHORT, TARGET_ONNX_PEAK, TARGET_VALIDATED
from validate.bench.systems import BASELINE, SYSTEMS


def _passing(entries: list[dict[str, Any]], cls: str, language: str | None = None) -> list[dict[str, Any]]:
    return [
        e
        for e in entries
        if e.get("status") == "ok"
        and e["id"] != BASELINE
        and cls in e.get("ratio", {})
        and e.get("answers_vs_pipeline", {}).get("passes")
        and (language is None or SYSTEMS[e["id"]].language == language)
    ]


def _why_ratio(e: dict[str, Any], base: dict[str, Any], cls: str, need: float, levers: dict[str, Any]) -> str:
    lat, eff = e["latency"][cls], e["efficiency"][cls]
    base_p50 = base["latency"][cls]["p50_ms"]
    ratio = e["ratio"][cls]
    parts = [
        f"{e['id']} answers in {lat['p50_ms']:.0f} ms, {ratio:.2f}x the pipeline's {base_p50:.0f} ms; "
        f"{need:g}x needs <= {base_p50 / need:.0f} ms, so it misses by {need / ratio:.2f}x"
    ]
    at_peak = eff.get("ms_at_peak")
    if at_peak:
        cap = base_p50 / at_peak
        parts.append(
            f"its {eff['gflop_per_answer']:.1f} GFLOP per answer ({eff['tokens_per_answer']:.0f} tokens run; the "
            f"pipeline runs {base['efficiency'][cls]['tokens_per_answer']:.0f}) take {at_peak:.0f} ms even at 100% "
            f"of the measured float32 matmul peak, so any float32 path caps at {cap:.1f}x here"
            + (" (compute-bound: out of reach for float32 on this machine)" if cap < need else "")
        )
        if SYSTEMS[e["id"]].precision == "int8":
            parts.append(
                f"int8 (MatMulInteger, AVX2 without VNNI) ran at {eff['of_peak']:.0%} of the float32 peak's rate; "
                f"{need:g}x needs {eff['of_peak'] * need / ratio:.0%}"
            )
        else:
            parts.append(f"it ran at {eff['of_peak']:.0%} of peak")
    caching = levers.get("caching", {})
    if cls == "short" and "decode_ms" in caching:
        overhead = caching["tokenise_ms"] + caching["decode_ms"]
        parts.append(f"tokenising and decoding add {overhead:.1f} ms per answer (Python, measured)")
    if cls == "long" and levers.get("batching"):
        b = levers["batching"]
        parts.append(
            f"a long text is {b['windows']} overlapping windows ({'+'.join(map(str, b['window_tokens']))} tokens): "
            f"batched {b['batched_ms']:.0f} ms vs one call per window {b['per_window_ms']:.0f} ms"
        )
    return "; ".join(parts)


def _ratio_target(
    name: str, candidates: list[dict[str, Any]], base: dict[str, Any], cls: str, need: float, levers: dict[str, Any]
) -> dict[str, Any]:
    entry: dict[str, Any] = {"target": name, "needed": f">= {need:g}x", "class": cls}
    if not candidates:
        return {**entry, "met": False, "achieved": None, "why": "no system ran with answers that pass (see the table)"}
    best = max(candidates, key=lambda e: e["ratio"][cls])
    ratio = best["ratio"][cls]
    entry.update(system=best["id"], achieved=f"{ratio:.2f}x", value=ratio, met=ratio >= need)
    if not entry["met"]:
        entry["why"] = _why_ratio(best, base, cls, need, levers)
    return entry


def _onnx_peak_target(levers: dict[str, Any], peak: float) -> dict[str, Any]:
    entry: dict[str, Any] = {"target": "ONNX fp32 at 384 tokens", "needed": f">= {TARGET_ONNX_PEAK:.0%} of peak"}
    at = levers.get("at_384")
    if not at or not peak:
        return {**entry, "met": False, "achieved": None, "why": "the ONNX levers did not run (see levers)"}
    rate = at["gflop"] / (at["fp32_ms"] / 1000.0)
    share = rate / peak
    entry.update(
        system="onnx", achieved=f"{share:.0%} ({rate:.0f} GFLOP/s)", value=share, met=share >= TARGET_ONNX_PEAK
    )
    if not entry["met"]:
        prof = levers.get("profile_384", {})
        why = [
            f"{at['gflop']:.1f} GFLOP in {at['fp32_ms']:.1f} ms = {rate:.0f} GFLOP/s of a measured {peak:.0f}; "
            f"80% needs <= {at['gflop'] / (TARGET_ONNX_PEAK * peak) * 1000:.1f} ms, so it misses by "
            f"{(TARGET_ONNX_PEAK - share) * 100:.0f} points"
        ]
        if prof.get("matmul_gflops"):
            others = ", ".join(f"{k} {v:.0%}" for k, v in prof["op_time_share"].items() if k != "MatMul")
            why.append(
                f"MatMul takes {prof['matmul_share']:.0%} of the call and runs at {prof['matmul_gflops']:.0f} GFLOP/s "
                f"({prof['matmul_gflops'] / peak:.0%} of peak); the rest is work without counted FLOPs ({others})"
            )
        fus = levers.get("fusions", {})
        if fus:
            why.append(
                f"BERT fusions on the tf2onnx graph as written: {fus['as_written'] or 'none'}; after rewriting "
                f"{fus['global_average_pools_rewritten']} GlobalAveragePool to ReduceMean: "
                f"{fus['after_reduce_mean_rewrite'] or 'none'} ({fus['fused_384_ms']:.1f} vs "
                f"{fus['unfused_384_ms']:.1f} ms at 384)"
            )
        entry["why"] = "; ".join(why)
    return entry


def judge(entries: list[dict[str, Any]], levers: dict[str, Any], peak: float) -> list[dict[str, Any]]:
    base = next((e for e in entries if e["id"] == BASELINE and e.get("status") == "ok"), None)
    if base is None:
        return [
            {"target": "all ratio targets", "met": False, "why": "the transformers pipeline (baseline) did not run"}
        ]
    out = [
        _ratio_target(
            f"fastest validated path, {cls} texts", _passing(entries, cls), base, cls, TARGET_VALIDATED, levers
        )
        for cls in CLASSES
        if cls in base.get("latency", {})
    ]
    if "short" in base.get("latency", {}):
        out.append(
            _ratio_target(
                "fastest Node.js path, short texts",
                _passing(entries, "short", "node"),
                base,
                "short",
                TARGET_NODE_SHORT,
                levers,
            )
        )
    out.append(_onnx_peak_target(levers, peak))
    return out

"""The printed report: one row per system (ultralytics' benchmark table), then targets and levers."""

from __future__ import annotations

from typing import Any

from bench.analysis import CLASSES
from bench.browser import lever_lines as browser_lever_lines
from bench.browser import notes as browser_notes
from bench.run import BUSY_SHARE
from bench.systems import SYSTEMS

COLUMNS = (
    ("system", 18),
    ("runtime", 26),
    ("short p50/p95 ms", 17),
    ("x pipe", 7),
    ("long p50/p95 ms", 17),
    ("x pipe", 7),
    ("peak MB", 8),
    ("answers = pipeline", 19),
    ("%peak s/l", 11),
    ("load s", 7),
)


def _lat(e: dict[str, Any], cls: str) -> str:
    lat = e.get("latency", {}).get(cls)
    mark = "*" if cls in e.get("not_comparable", {}) else ""
    return f"{lat['p50_ms']:.1f} / {lat['p95_ms']:.1f}{mark}" if lat else "-"


def _ratio(e: dict[str, Any], cls: str) -> str:
    if cls in e.get("not_comparable", {}):
        return "n/c"
    return f"{e['ratio'][cls]:.2f}x" if cls in e.get("ratio", {}) else "-"


def _answers(e: dict[str, Any]) -> str:
    if e["id"] == "pipeline":
        return "(baseline)"
    a = e.get("answers_vs_pipeline")
    if not a:
        return "-"
    text = f"{a['agree']}/{a['total']}" + (f" +{a['tie']} tie" if a["tie"] else "")
    if a.get("by") == "text":
        return text + " text"
    return text + ("" if a["passes"] else " FAIL")


def row(e: dict[str, Any]) -> str:
    system = SYSTEMS[e["id"]]
    head = [e["id"], system.runtime]
    if e.get("status") != "ok":
        word = "not available" if e.get("status") == "unavailable" else "FAILED"
        cells = [f"{w:<{n}}" for w, (_, n) in zip(head, COLUMNS, strict=False)]
        return " ".join(cells) + f" {word}: {e.get('reason', '')}"
    eff = e.get("efficiency", {})
    values = [
        *head,
        _lat(e, "short"),
        _ratio(e, "short"),
        _lat(e, "long"),
        _ratio(e, "long"),
        f"{e.get('peak_rss_bytes', 0) / 1e6:.0f}",
        _answers(e),
        "/".join(f"{eff[c]['of_peak']:.0%}" if eff.get(c, {}).get("of_peak") is not None else "-" for c in CLASSES),
        f"{e.get('load_seconds', 0):.1f}",
    ]
    busy = e.get("other_cpu_share", 0.0)
    flag = f"  [contended: other processes used {busy:.0%} of the CPU]" if busy > BUSY_SHARE else ""
    return " ".join(f"{v:<{n}}" for v, (_, n) in zip(values, COLUMNS, strict=True)).rstrip() + flag


def _levers(lev: dict[str, Any]) -> list[str]:
    if lev.get("status") != "ok":
        return [f"  levers not measured: {lev.get('reason', 'not run')}"]
    out = []
    p = lev["padding"]
    out.append(
        f"  no padding to 384: short question ({p['tokens']} tokens) {p['dynamic_ms']:.1f} ms vs padded to 384 "
        f"{p['padded_384_ms']:.1f} ms ({p['padded_384_ms'] / p['dynamic_ms']:.2f}x slower padded)"
    )
    b = lev["batching"]
    q8 = lev.get("batching_int8")
    out.append(
        f"  windows of a long text ({b['windows']}: {'+'.join(map(str, b['window_tokens']))} tokens): one batched call "
        f"{b['batched_ms']:.0f} ms vs one call per window {b['per_window_ms']:.0f} ms"
        + (f" (int8: {q8['batched_ms']:.0f} vs {q8['per_window_ms']:.0f} ms)" if q8 else "")
        + "; the runtimes run full-length windows one per call (decode.call_plan, qa.mjs callPlan)"
    )
    threads = ", ".join(f"{n} thread{'s' if n != '1' else ''} {ms:.1f} ms" for n, ms in lev["threads"].items())
    out.append(f"  onnxruntime threads at 384 tokens: {threads} (physical cores: {lev['threads_default']})")
    levels = ", ".join(f"{k.removeprefix('ORT_').lower()} {v:.1f}" for k, v in lev["opt_level"].items())
    out.append(f"  onnxruntime optimisation level at 384 tokens (ms): {levels}")
    if "int8" in lev:
        q = lev["int8"]
        out.append(
            f"  int8 dynamic quantisation: 384 tokens {q['int8_384_ms']:.1f} vs fp32 {q['fp32_384_ms']:.1f} ms; "
            f"short {q['int8_short_ms']:.1f} vs {q['fp32_short_ms']:.1f} ms"
        )
    f = lev["fusions"]
    out.append(
        f"  BERT fusions (onnxruntime.transformers) on the tf2onnx graph: {_fused(f['as_written'])}; after "
        f"GlobalAveragePool->ReduceMean ({f['global_average_pools_rewritten']} nodes): "
        f"{_fused(f['after_reduce_mean_rewrite'])}"
        f" -> 384 tokens {f['fused_384_ms']:.1f} vs {f['unfused_384_ms']:.1f} ms, short {f['fused_short_ms']:.1f} vs "
        f"{f['unfused_short_ms']:.1f} ms, max logit diff {f['max_abs_logit_diff_384']:.1e}"
    )
    pr = lev["profile_384"]
    shares = ", ".join(f"{k} {v:.0%}" for k, v in pr["op_time_share"].items())
    out.append(f"  where a 384-token fp32 call goes: {shares}")
    c = lev["caching"]
    out.append(
        f"  caching: session creation {c['session_create_ms']:.0f} ms and tokenizer load "
        f"{c['tokenizer_load_ms']:.0f} ms, "
        f"paid once instead of per question; per short answer, tokenising {c['tokenise_ms']:.1f} ms and decoding "
        f"{c['decode_ms']:.1f} ms (Python)"
    )
    return out


def _node_levers(node: dict[str, Any]) -> list[str]:
    if node.get("status") != "ok":
        return [f"  Node.js phases not measured: {node.get('reason', 'not run')}"]
    out = []
    for sid, rec in node["systems"].items():
        if rec.get("error"):
            out.append(f"  {sid}: {rec['error']}")
            continue
        for cls in CLASSES:
            got = rec.get(cls)
            if got:
                parts = ", ".join(
                    f"{k} {got[k]:.1f}" for k in ("tokenise", "tensors", "run", "copy", "release", "decode")
                )
                out.append(f"  {sid} {cls} ({got['total']:.0f} ms): {parts}")
        win = rec.get("windows")
        extra = ""
        if win:
            extra = (
                f"; long text, one call per window {win['per_window_ms']:.0f} ms vs batched {win['batched_ms']:.0f} ms"
                f" (its rule: {win.get('rule')})"
            )
        out.append(f"  {sid}: one 8-token call {rec.get('call_8_tokens_ms', 0):.1f} ms{extra}")
    return out


def _parity(parity: dict[str, Any]) -> list[str]:
    if parity.get("status") != "ok":
        return [f"  {parity.get('status', 'not run')}: {parity.get('reason', '-')}"]
    out = []
    for fmt, rec in parity.get("formats", {}).items():
        if "error" in rec:
            out.append(f"  {fmt}: {rec['error']}")
            continue
        for tokens, w in rec["widths"].items():
            out.append(
                f"  {fmt} ({rec['file']}), {tokens} tokens: Python {w['python_ms']:.1f}, Node.js {w['node_ms']:.1f} "
                f"({w['node_over_python']:.2f}x), Node.js on onnxruntime-node's own defaults "
                f"{w['node_binding_defaults_ms']:.1f} ({w['calls']} calls each)"
            )
    opts = next((r.get("node_session_options") for r in parity.get("formats", {}).values() if "error" not in r), None)
    if opts:
        out.append(f"  Node.js session options (js/node/runtimes.mjs, equal to Python's): {opts}")
    return out


def _fused(stats: dict[str, int]) -> str:
    return ", ".join(f"{k} x{v}" for k, v in stats.items()) or "none"


def render(report: dict[str, Any]) -> str:
    peak = report["peak"]
    lines = [
        f"qaport benchmark: {report['model']} ({_arch(report['architecture'])}) from {report['artifact_dir']}",
        f"machine: {report['machine']['cpu']}, {report['machine']['cores']} cores; measured matmul peaks: float32 "
        f"{peak.get('peak_gflops', 0):.0f} GFLOP/s ({peak.get('peak_source', '?')}), int8 "
        f"{peak.get('int8_peak_gops', 0):.0f} GOP/s ({peak.get('int8_peak_source', '?')}); CPU int8 features: "
        f"{(peak.get('cpu_int8_features') or {}).get('summary', 'not measured')}; mode: {report['mode']}",
        f"protocol: {report['protocol']['short_questions']} short questions (500-1,000 chars), "
        f"{report['protocol']['long_questions']} long (4,000-5,000 chars); x pipe = speed-up over the pipeline",
    ]
    if report["machine"].get("busy"):
        lines.append(f"WARNING: {report['machine']['busy']}")
    if report["machine"].get("contended"):
        which = ", ".join(f"{k} {v:.0%}" for k, v in report["machine"]["contended"].items())
        lines.append(f"WARNING: other processes used the CPU during: {which}; those numbers are not reliable")
    lines += ["", " ".join(f"{name:<{n}}" for name, n in COLUMNS).rstrip()]
    lines += [row(e) for e in report["systems"]]
    lines.append(
        "%peak: matmul FLOPs of the tokens each system ran / its p50 / the measured peak of its precision "
        "(int8 systems: the int8 kernel's peak)"
    )
    if any(e.get("not_comparable") for e in report["systems"]):
        lines.append(
            "*: not comparable (transformers.js truncates every pair to one 512-token input: it answers from the "
            "first ~500 tokens of a long text); 'text': answers compared by text, case and spaces aside (no offsets)"
        )
    web = browser_notes(report["systems"], {sid for sid, s in SYSTEMS.items() if s.language == "browser"})
    if web:
        lines += [
            "",
            "browser rows (headless Chromium on this machine, one fresh browser per row; timed in the page):",
            *web,
            *browser_lever_lines(report.get("browser_levers", {})),
        ]
    caveat = " (from contended measurements: not reliable)" if report["machine"].get("contended") else ""
    lines += ["", f"targets:{caveat}"]
    for t in report["targets"]:
        mark = "N/A   " if t.get("applies") is False else "MET   " if t.get("met") else "MISSED"
        who = f" ({t['system']})" if t.get("system") else ""
        lines.append(f"  {mark} {t['target']}: {t.get('achieved') or '-'}{who}, needed {t.get('needed', '-')}")
        if t.get("why"):
            lines.append(f"         why: {t['why']}")
        if t.get("note"):
            lines.append(f"         note: {t['note']}")
    lines += ["", "levers (onnxruntime, model call alone, median ms):", *_levers(report["levers"])]
    lines += ["", "Node.js phases (median ms per answer):", *_node_levers(report.get("node_levers", {}))]
    lines += ["", "same ONNX file, model call, Python vs Node.js (interleaved, median ms):"]
    lines += _parity(report.get("ort_parity", {}))
    return "\n".join(lines)


def _arch(a: dict[str, int]) -> str:
    return f"{a['layers']} layers, dim {a['dim']}, hidden {a['hidden']}, {a['heads']} heads"

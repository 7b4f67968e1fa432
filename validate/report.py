"""report.json and report.md, written atomically into the artifact directory.

A cell shows only what was measured: "-" for EM/F1 when no scored example has gold answers, for a
latency class that was not run, for logits a target never produced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qaport.manifest import write_json_atomic

SCHEMA_VERSION = 1
STATUS_WORDS = {"passed": "passed", "failed": "failed", "not_run": "exported but not validated"}


def _fmt(x: Any, spec: str = ".2e") -> str:
    return "-" if x is None else format(x, spec)


def _lat(entry: dict[str, Any], cls: str, kind: str) -> str:
    lat = (entry.get("latency") or {}).get(cls, {}).get(kind, {})
    if not lat.get("runs"):
        return "-"
    return f"{lat['p50_ms']:.1f} / {lat['p95_ms']:.1f}"


def _logits(entry: dict[str, Any]) -> str:
    logits = entry.get("logits")
    if not logits:
        return "-"
    cells = []
    for key in ("max_abs_diff", "p99_abs_diff", "mean_abs_diff"):
        a, b = logits.get("start_logits", {}).get(key), logits.get("end_logits", {}).get(key)
        cells.append(f"{_fmt(a, '.2g')} / {_fmt(b, '.2g')}")
    return " · ".join(cells)


def _gold(entry: dict[str, Any]) -> str:
    gold = entry.get("gold")
    if not gold or not gold.get("count"):
        return "-"
    text = f"{gold['exact_match']:.1f} / {gold['f1']:.1f}"
    delta = entry.get("gold_delta")
    if delta:
        text += f" ({delta['exact_match']:+.1f} / {delta['f1']:+.1f})"
    if gold.get("no_answer"):  # SQuAD 2.0's HasAns / NoAns split
        has, no = gold["has_answer"], gold["no_answer"]
        text += f"; HasAns {has['exact_match']:.1f} / {has['f1']:.1f}, NoAns {no['exact_match']:.1f}"
    return text


def _answers(entry: dict[str, Any]) -> str:
    ans = entry.get("answers")
    if not ans:
        return "-"
    text = f"{ans['agree']} / {ans['tie']} / {ans['disagree']}"
    none = ans.get("no_answer")
    if none:  # SQuAD 2.0: the no-answer verdicts (reference / this format, flips among the disagreements)
        text += f" (no answer {none['reference']} / {none['target']}, {none['flipped']} flipped)"
    return text


def criteria_text(c: dict[str, Any]) -> str:
    """One target's criteria in words, e.g. ``p99 |diff| <= 0.5 / 0.5, answers >= 90%, EM/F1 drop <= 2 / 2``."""
    atol = c["atol"]
    text = f"{c['logit_stat']} |diff| <= {atol['start_logits']:g} / {atol['end_logits']:g} (start / end)"
    text += f", answers agree or tie >= {c['agreement']:.0%}"
    if c.get("max_em_drop") is not None or c.get("max_f1_drop") is not None:
        em, f1 = c.get("max_em_drop"), c.get("max_f1_drop")
        text += f", EM / F1 drop vs float32 <= {'-' if em is None else f'{em:g}'} / {'-' if f1 is None else f'{f1:g}'}"
    return text


def _options(report: dict[str, Any]) -> str:
    opts = report.get("options") or {}
    given = []
    for key, value in opts.items():
        if value in (None, [], (), {}):
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, list):
            given += [f"`{flag} {v}`" for v in value]
        else:
            given.append(f"`{flag} {value}`")
    return ", ".join(given) if given else "none (every default)"


def _refused(report: dict[str, Any]) -> list[str]:
    """Questions that could not be windowed: how many, and each id with why (not validated, not scored)."""
    refused = report.get("refused") or []
    if not refused:
        return []
    lines = [f"{len(refused)} of {report['examples'].get('asked', '?')} questions refused (cannot be windowed):"]
    lines += [f"- `{r['id']}`: {r['reason']}" for r in refused[:20]]
    if len(refused) > 20:
        lines.append(f"- ... and {len(refused) - 20} more (report.json `refused`)")
    return [*lines, ""]


def markdown(report: dict[str, Any]) -> str:
    sources = ", ".join(f"{k}: {v}" for k, v in report["examples"]["sources"].items())
    scored = report.get("scored_examples")
    lines = [
        f"# qaport validation: {report['artifact_dir']}",
        "",
        f"Result: **{'PASSED' if report['passed'] else 'FAILED'}** - model `{report['model']}`, "
        f"{report['examples']['count']} questions ({sources}).",
        "",
        *_refused(report),
        f"Options that change the verdict: {_options(report)}.",
        "",
        "| format | runtime | status | logits start / end: max · p99 · mean abs diff | "
        "answers agree / tie / disagree | EM / F1 (change vs float32) | "
        "model call short p50/p95 ms | model call long p50/p95 ms | end to end short p50/p95 ms | "
        "end to end long p50/p95 ms | load s | size MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in report["targets"]:
        lines.append(
            "| "
            + " | ".join(
                [
                    e["format"],
                    e["runtime"],
                    STATUS_WORDS.get(e["status"], e["status"]),
                    _logits(e),
                    _answers(e),
                    _gold(e),
                    _lat(e, "short", "model_call"),
                    _lat(e, "long", "model_call"),
                    _lat(e, "short", "end_to_end"),
                    _lat(e, "long", "end_to_end"),
                    _fmt(e.get("load_seconds"), ".2f"),
                    _fmt((e.get("size_bytes") or 0) / 1e6, ".1f"),
                ]
            )
            + " |"
        )
    failed = [e for e in report["targets"] if e["status"] != "passed"]
    if failed:
        lines += ["", "## Not passed", ""]
        lines += [f"- `{e['id']}` ({e['status']}): {e.get('reason', '')}" for e in failed]
    budgeted = [e for e in report["targets"] if e.get("budget")]
    if budgeted:
        lines += ["", "## Software-rendered browser backends", ""]
        lines += [
            f"- `{e['id']}`: {e['budget']['renderer']}: {e['budget']['questions']} of {e['budget']['of']} questions "
            "(spread over the set), timed on two short texts only; its latencies say nothing about a GPU "
            "(`--software-gpu-questions all` runs every question)"
            for e in budgeted
        ]
    groups: dict[str, list[str]] = {}
    for e in report["targets"]:
        if e.get("criteria") and not e.get("excluded"):
            groups.setdefault(criteria_text(e["criteria"]), []).append(f"`{e['id']}`")
    lines += ["", "## Criteria", ""]
    lines += [f"- {', '.join(ids)}: {text}" for text, ids in groups.items()]
    tol = report["tolerances"]
    lines += [
        f"- ties: an answer the reference scores within {tol['tie_tolerance']:g} of its own counts as a tie",
        "- EM / F1: "
        + (
            f"over the {scored} given questions with gold answers (the protocol latency texts are not scored)"
            if scored
            else "- (no gold answers among the given questions; the protocol latency texts are not scored)"
        ),
        "",
    ]
    return "\n".join(lines)


def write_report(root: Path, report: dict[str, Any]) -> tuple[Path, Path]:
    json_path = root / "report.json"
    md_path = root / "report.md"
    write_json_atomic(json_path, report)
    tmp = md_path.with_name(f".{md_path.name}.tmp")
    tmp.write_text(markdown(report), encoding="utf-8")
    tmp.replace(md_path)
    return json_path, md_path

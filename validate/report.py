"""report.json and report.md, written atomically into the artifact directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from convert.manifest import write_json_atomic

SCHEMA_VERSION = 1
STATUS_WORDS = {"passed": "passed", "failed": "failed", "not_run": "exported but not validated"}


def _fmt(x: Any, spec: str = ".2e") -> str:
    return "-" if x is None else format(x, spec)


def _lat(entry: dict[str, Any], cls: str, kind: str) -> str:
    lat = entry.get("latency", {}).get(cls, {}).get(kind, {})
    if not lat.get("runs"):
        return "-"
    return f"{lat['p50_ms']:.1f} / {lat['p95_ms']:.1f}"


def markdown(report: dict[str, Any]) -> str:
    sources = ", ".join(f"{k}: {v}" for k, v in report["examples"]["sources"].items())
    lines = [
        f"# qaport validation: {report['artifact_dir']}",
        "",
        f"Result: **{'PASSED' if report['passed'] else 'FAILED'}** - model `{report['model']}`, "
        f"{report['examples']['count']} questions ({sources}).",
        "",
        "| format | runtime | status | max abs diff start / end | answers agree / tie / disagree | EM / F1 | "
        "model call short p50/p95 ms | model call long p50/p95 ms | end to end short p50/p95 ms | "
        "end to end long p50/p95 ms | load s | size MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in report["targets"]:
        diffs = e.get("logits", {})
        ans = e.get("answers", {})
        gold = e.get("gold")
        lines.append(
            "| "
            + " | ".join(
                [
                    e["format"],
                    e["runtime"],
                    STATUS_WORDS.get(e["status"], e["status"]),
                    f"{_fmt(diffs.get('start_logits', {}).get('max_abs_diff'))} / "
                    f"{_fmt(diffs.get('end_logits', {}).get('max_abs_diff'))}",
                    f"{ans.get('agree', '-')} / {ans.get('tie', '-')} / {ans.get('disagree', '-')}",
                    f"{gold['exact_match']:.1f} / {gold['f1']:.1f}" if gold else "-",
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
    lines += [
        "",
        "Tolerances: "
        + ", ".join(f"{k}: atol {v}" for k, v in report["tolerances"]["atol"].items())
        + "; answer agreement: "
        + ", ".join(f"{k} >= {v}" for k, v in report["tolerances"]["agreement"].items()),
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

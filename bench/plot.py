"""PNG of end-to-end latency per system, short and long texts side by side (log scale: they span 100x)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.analysis import CLASSES, TARGET_VALIDATED
from bench.systems import BASELINE, SYSTEMS


def plot(report: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    ran = [e for e in report["systems"] if e.get("status") == "ok"]
    names = [f"{e['id']}\n{SYSTEMS[e['id']].runtime}" for e in ran]
    fig, axes = plt.subplots(1, 2, figsize=(13, 0.55 * len(ran) + 2.0), sharey=True)
    ys = list(range(len(ran)))
    base = next((e for e in ran if e["id"] == BASELINE), None)
    for ax, cls in zip(axes, CLASSES, strict=True):
        p50 = [e.get("latency", {}).get(cls, {}).get("p50_ms", 0.0) for e in ran]
        p95 = [e.get("latency", {}).get(cls, {}).get("p95_ms", 0.0) for e in ran]
        ax.barh(ys, p50, color=[_color(e) for e in ran])
        ax.hlines(ys, p50, p95, color="black", linewidth=1)
        for y, e, v, top in zip(ys, ran, p50, p95, strict=True):
            ratio = e.get("ratio", {}).get(cls)
            if v:
                label = f" {v:.0f} ms" + (f" ({ratio:.1f}x)" if ratio and e["id"] != BASELINE else "")
                ax.text(max(v, top), y, label, va="center", fontsize=8)
        if base and cls in base.get("latency", {}):
            target = base["latency"][cls]["p50_ms"] / TARGET_VALIDATED[cls]
            ax.axvline(target, color="#c0392b", linestyle="--", linewidth=1)
            ax.text(target, -0.7, f" {TARGET_VALIDATED[cls]:g}x target", color="#c0392b", fontsize=8)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xlim(right=ax.get_xlim()[1] * 3)
        ax.set_title(f"{cls} texts ({'500-1,000' if cls == 'short' else '4,000-5,000'} chars): p50, line to p95")
        ax.set_xlabel("end-to-end ms per question (log)")
    axes[0].invert_yaxis()  # shared y: once, so the pipeline stays on top
    axes[0].set_yticks(list(range(len(ran))), names, fontsize=8)
    fig.suptitle(
        f"{report['model']} on {report['machine']['cpu']} ({report['machine']['cores']} cores); "
        "grey: transformers pipeline, blue: Python, orange: Node.js",
        fontsize=9,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _color(e: dict[str, Any]) -> str:
    if e["id"] == BASELINE:
        return "#888888"
    return "#2b7bba" if SYSTEMS[e["id"]].language == "python" else "#e08a1e"

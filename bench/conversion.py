"""``python -m bench.conversion``: conversion time and peak memory against issue #3's targets.

Each model is converted by ``python -m convert`` in a fresh process (so one model's memory cannot
hide in another's), into a temporary directory that is removed afterwards. The peak resident memory
of that process tree is sampled from outside; per-format times, sizes and peaks come from the
manifest it writes. A benchmark, not a test: it prints what it measured and says which targets were
met; the exit code is non-zero only if a conversion failed (a missed target is reported, not hidden).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from convert.memory import tree_rss

DEFAULT_MODEL = "default"
FULL_SIZE = "random:distilbert-base-cased"
# issue #3: the embedded default in 90 s or less; full size in 6 minutes or less, peak RSS 8 GB or less
TARGETS: dict[str, dict[str, float]] = {
    DEFAULT_MODEL: {"seconds": 90.0},
    FULL_SIZE: {"seconds": 360.0, "peak_gb": 8.0},
}


@dataclass
class Run:
    model: str
    ok: bool
    seconds: float
    peak_bytes: int
    formats: dict[str, dict[str, Any]]
    error: str = ""

    def verdicts(self) -> list[str]:
        target = TARGETS.get(self.model, {})
        out = []
        if "seconds" in target:
            met = self.seconds <= target["seconds"]
            out.append(f"time {self.seconds:.0f} s vs <= {target['seconds']:.0f} s: {'met' if met else 'MISSED'}")
        if "peak_gb" in target:
            gb = self.peak_bytes / 1e9
            met = gb <= target["peak_gb"]
            out.append(f"peak RSS {gb:.2f} GB vs <= {target['peak_gb']:.0f} GB: {'met' if met else 'MISSED'}")
        return out


def convert_once(model: str, workdir: Path, *, interval: float = 0.05) -> Run:
    out = workdir / "out"
    cmd = [sys.executable, "-m", "convert", "--out", str(out)]
    if model != DEFAULT_MODEL:
        cmd += ["--model", model]
    log = workdir / "convert.log"
    start = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        ps = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            try:
                peak = max(peak, tree_rss(ps))
            except psutil.NoSuchProcess:
                break
            time.sleep(interval)
    seconds = time.perf_counter() - start
    lines = log.read_text(errors="replace").splitlines()
    if proc.returncode != 0:
        reason = next((x for x in reversed(lines) if x.startswith("ERROR")), lines[-1] if lines else "no output")
        return Run(model, False, seconds, peak, {}, error=f"exit {proc.returncode}: {reason}")
    manifest = json.loads((out / "manifest.json").read_text())
    formats = {
        name: {
            "seconds": rec["conversion_seconds"],
            "size_bytes": sum(f["size"] for f in rec["files"]),
            "peak_rss_bytes": rec["peak_rss_bytes"],
        }
        for name, rec in manifest["formats"].items()
    }
    return Run(model, True, seconds, peak, formats)


def render(runs: list[Run]) -> str:
    lines = []
    for run in runs:
        lines.append(f"== {run.model}: {'converted' if run.ok else 'FAILED'} in {run.seconds:.1f} s (whole CLI)")
        if not run.ok:
            lines.append(f"   {run.error}")
            continue
        lines.append(f"   {'format':<11} {'time s':>7} {'size MB':>8} {'peak GB':>8}")
        for name, f in run.formats.items():
            lines.append(
                f"   {name:<11} {f['seconds']:>7.1f} {f['size_bytes'] / 1e6:>8.1f} {f['peak_rss_bytes'] / 1e9:>8.2f}"
            )
        lines.append(f"   process-tree peak RSS {run.peak_bytes / 1e9:.2f} GB")
        lines.extend(f"   target: {v}" for v in run.verdicts())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.conversion", description=__doc__.splitlines()[0])
    p.add_argument(
        "--model",
        action="append",
        help=f"model to convert (repeatable; default: {DEFAULT_MODEL} and {FULL_SIZE})",
    )
    p.add_argument("--quick", action="store_true", help=f"only the embedded default ({DEFAULT_MODEL})")
    p.add_argument("--json", type=Path, help="also write the measurements here")
    args = p.parse_args(argv)
    models = args.model or ([DEFAULT_MODEL] if args.quick else [DEFAULT_MODEL, FULL_SIZE])
    runs = []
    for model in models:
        print(f"converting {model} (python -m convert, fresh process) ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="qaport-convert-bench-") as tmp:
            run = convert_once(model, Path(tmp))
        runs.append(run)
        print(render([run]), flush=True)
    if args.json:
        doc = [
            {
                "model": r.model,
                "ok": r.ok,
                "seconds": round(r.seconds, 2),
                "peak_rss_bytes": r.peak_bytes,
                "formats": r.formats,
                "targets": r.verdicts(),
                "error": r.error,
            }
            for r in runs
        ]
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
    print("\nsummary")
    print(render(runs))
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())

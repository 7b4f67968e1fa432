"""``python -m bench``: every runtime side by side with transformers' pipeline, in one run.

Exit code 0 when every available system ran (missed targets are reported, not failed), 1 when a
system or measurement failed, 2 for bad options.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qaport.boundary import entry_point
from qaport.errors import QaportError, UsageError

DESCRIPTION = "Every runtime side by side with transformers' QA pipeline, in one run: table, bench.json, plot."
FULL_MODEL = "random:distilbert-base-cased"
QUICK_MODEL = "default"
ARTIFACTS = Path("artifacts")
SCHEMA_VERSION = 1
BUSY_PERCENT = 25.0


@dataclass(frozen=True)
class Protocol:
    short_questions: int
    long_questions: int
    warmup: int
    runs: int  # per question, at most
    min_runs: int  # per question, at least, however slow the system
    budget_s: float  # per system and text class: slower systems get fewer runs
    lever_runs: int
    browser_rounds: int  # browser rows: every system once per round (fresh Chromium each), times pooled


FULL = Protocol(
    short_questions=6, long_questions=3, warmup=2, runs=10, min_runs=3, budget_s=35.0, lever_runs=10, browser_rounds=3
)
QUICK = Protocol(
    short_questions=2, long_questions=1, warmup=1, runs=3, min_runs=2, budget_s=8.0, lever_runs=3, browser_rounds=2
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=DESCRIPTION)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--dir", type=Path, help="artifact directory written by python -m convert")
    where.add_argument(
        "--model",
        help=f"model to convert (if needed) into artifacts/<name> and benchmark (default: {FULL_MODEL}; "
        f"with --quick: the embedded default)",
    )
    p.add_argument(
        "--quick", action="store_true", help="2 short + 1 long question, 3 runs each (< 3 min on the default)"
    )
    p.add_argument("--out", type=Path, help="bench.json path (default: artifacts/bench/<dir name>.json)")
    p.add_argument("--plot", type=Path, help="PNG path (default: next to --out, .png)")
    p.add_argument("--systems", help="comma-separated subset of system ids (default: all)")
    p.add_argument(
        "--browser",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the browser rows: qaport's browser client and transformers.js in headless Chromium (default: on)",
    )
    p.add_argument(
        "--browser-levers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with the browser rows, the model call alone per onnxruntime-web build, file and threads (about 30 s)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="seconds before one system's worker, or a browser driver silent that long, is killed",
    )
    p.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="S",
        help="on a shared machine: before each measurement wait up to S seconds for an idle CPU, and redo a "
        "measurement that other processes contended once (default 0: measure at once, flag contention)",
    )
    return p


def dir_name(spec: str) -> str:
    """The directory python -m convert would choose for this --model."""
    if spec.startswith("random:"):
        return "random-" + spec.removeprefix("random:")
    if Path(spec).expanduser().exists():
        return Path(spec).expanduser().resolve().name
    return spec.replace("/", "--")


def resolve_dir(args: argparse.Namespace, progress: Any) -> Path:
    """--dir as given, or the model's artifacts/<name>, converted once if it is not there yet."""
    if args.dir is not None:
        if not (args.dir / "manifest.json").is_file():
            msg = f"{args.dir} has no manifest.json; convert first: python -m convert --out {args.dir}"
            raise UsageError(msg)
        return Path(args.dir)
    spec = args.model or (QUICK_MODEL if args.quick else FULL_MODEL)
    root = ARTIFACTS / dir_name(spec)
    if (root / "manifest.json").is_file():
        from qaport.manifest import load_manifest

        have = load_manifest(root)["source"].get("spec")
        if have != spec:
            msg = f"{root} holds {have!r}, not {spec!r}; pass --dir {root} to use it, or remove it to reconvert"
            raise UsageError(msg)
        return root
    progress(f"{root} is missing: converting {spec} (full size takes 3-5 minutes) ...")
    cmd = [sys.executable, "-m", "convert", "--out", str(root)] + ([] if spec == "default" else ["--model", spec])
    from bench.worker import ROOT

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if subprocess.run(cmd, check=False, env=env).returncode != 0:
        msg = f"conversion of {spec} failed (see above); the benchmark needs its artifacts in {root}"
        raise QaportError(msg)
    return root


def machine(progress: Any) -> dict[str, Any]:
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    procs = list(psutil.process_iter(["pid", "name"]))
    for proc in procs:
        _cpu_percent(proc)  # the first call only starts the count
    busy = psutil.cpu_percent(interval=1.0)
    info = {
        "cpu": cpu,
        "cores": psutil.cpu_count(logical=False) or psutil.cpu_count(),
        "logical_cpus": psutil.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_busy_percent_at_start": busy,
        "busy": None,
    }
    if busy > BUSY_PERCENT:
        top = sorted(((_cpu_percent(p), p) for p in procs), key=lambda t: -t[0])[:2]
        names = ", ".join(f"{p.info['name']} (pid {p.info['pid']}, {pct:.0f}%)" for pct, p in top)
        info["busy"] = f"the CPU was {busy:.0f}% busy before the run ({names}): latencies are not reliable"
        progress(f"WARNING: {info['busy']}")
    return info


def _cpu_percent(proc: Any) -> float:
    import psutil

    try:
        return float(proc.cpu_percent(None))
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0


@entry_point("bench")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # SIGTERM as an exception, so subprocess.run kills the running worker instead of orphaning it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def progress(text: str) -> None:
        print(text, flush=True)

    from bench.run import run_benchmark

    systems = _systems(args.systems)
    root = resolve_dir(args, progress)
    protocol = QUICK if args.quick else FULL
    out = args.out or ARTIFACTS / "bench" / f"{root.resolve().name}{'-quick' if args.quick else ''}.json"
    png = args.plot or out.with_suffix(".png")
    started = time.perf_counter()
    report = run_benchmark(
        root,
        protocol=asdict(protocol),
        mode="quick" if args.quick else "full",
        systems=systems,
        timeout=args.timeout,
        machine=machine(progress),
        progress=progress,
        idle_wait=args.wait_idle,
        browser=args.browser,
        browser_levers=args.browser_levers,
    )
    report["seconds"] = time.perf_counter() - started
    from bench.plot import plot
    from bench.table import render
    from qaport.manifest import write_json_atomic

    out.parent.mkdir(parents=True, exist_ok=True)
    report["plot"] = str(plot(report, png))
    write_json_atomic(out, report)
    print()
    print(render(report))
    print(f"\nwrote {out} and {png} ({report['seconds']:.0f} s)")
    failed = [e["id"] for e in report["systems"] if e.get("status") == "failed"]
    failed += [k for k in ("peak", "levers") if report[k].get("status") == "failed"]
    if failed:
        print(f"ERROR: {', '.join(failed)} failed (reasons in the table and {out})", file=sys.stderr)
        return 1
    return 0


def _systems(text: str | None) -> list[str] | None:
    if not text:
        return None
    from bench.systems import SYSTEMS

    wanted = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [w for w in wanted if w not in SYSTEMS]
    if unknown:
        msg = f"unknown system {', '.join(unknown)}; available: {', '.join(SYSTEMS)}"
        raise UsageError(msg)
    return wanted

"""One measurement in a fresh process: ``python -m bench.worker`` reads a job (JSON) on stdin.

Why a process per system: peak memory is then the runtime's own (VmHWM of a process that loaded
only it), and TensorFlow's thread pools cannot linger while onnxruntime is timed. The reply is one
``BENCH-RESULT {json}`` line on stdout; libraries may print anything else around it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from importlib import metadata
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MARKER = "BENCH-RESULT "
ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ("tensorflow", "tf-keras", "transformers", "onnxruntime", "tokenizers", "numpy")


def peak_rss_bytes() -> int:
    """VmHWM: this process's own peak (getrusage's maxrss can carry a parent's peak across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _runs(first_ms: float, questions: int, proto: dict[str, Any]) -> tuple[int, int]:
    """(warm-up, runs) per question: slow systems get fewer runs, never fewer than ``min_runs``.

    A system so slow that one call per question already exceeds the budget (TF.js wasm on long texts
    at full size: 20 s a call) gets 2 runs per question: with 3 questions that is still 6 timed calls
    for the median, and it keeps the full-size run within its 20 minutes.
    """
    per_call = max(first_ms, 1e-3) / 1000.0
    warmup = int(proto["warmup"]) if per_call < 1.0 else 1
    fit = int(float(proto["budget_s"]) / (questions * per_call)) - warmup
    floor = int(proto["min_runs"])
    if questions * per_call > float(proto["budget_s"]):
        floor = min(2, floor)
    return warmup, max(floor, min(int(proto["runs"]), fit))


def run_system(job: dict[str, Any]) -> dict[str, Any]:
    from bench.systems import SYSTEMS, load
    from qaport.manifest import load_manifest

    system = SYSTEMS[job["system"]]
    root = Path(job["dir"])
    manifest = load_manifest(root)
    answerer = load(system, root, manifest)
    result: dict[str, Any] = {"load_seconds": answerer.load_seconds, "answers": {}, "times_ms": {}, "runs": {}}
    try:
        for cls in ("short", "long"):
            questions = [q for q in job["questions"] if q["class"] == cls]
            if not questions:
                continue
            q0 = questions[0]
            _, gauge = answerer.answer(q0["question"], q0["context"], 1, 1)  # first call traces/compiles
            warmup, runs = _runs(gauge[0], len(questions), job["protocol"])
            result["runs"][cls] = {"warmup": warmup, "runs": runs, "gauge_ms": gauge[0]}
            for q in questions:
                ans, times = answerer.answer(q["question"], q["context"], warmup, runs)
                result["answers"][q["id"]] = ans.as_dict()
                result["times_ms"][q["id"]] = times
        if job.get("logits"):
            result["logits"] = _logits(answerer, root, [q for q in job["questions"] if q["class"] in job["logits"]])
        node_peak = answerer.peak_rss_bytes() if system.language == "node" else 0
        result["peak_rss_bytes"] = node_peak or peak_rss_bytes()
        result["rss_scope"] = "node process" if node_peak else "worker process"
        result["driver_peak_rss_bytes"] = peak_rss_bytes()
        result["details"] = getattr(getattr(answerer, "_node", None), "ready", None) or {}
    finally:
        answerer.deactivate()
    return result


def _logits(answerer: Any, root: Path, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """The reference logits, so the parent can tell a near-tie from a real disagreement."""
    from tokenizers import Tokenizer

    from qaport import decode

    tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
    out = {}
    for q in questions:
        enc = decode.encode(tokenizer, q["question"], q["context"])
        types = enc.token_type_ids if getattr(answerer, "uses_token_types", False) else None
        start, end = answerer.infer(enc.input_ids, enc.attention_mask, types)
        out[q["id"]] = {"start": start.tolist(), "end": end.tolist()}
    return out


def handle(job: dict[str, Any]) -> dict[str, Any]:
    kind = job["kind"]
    if kind == "system":
        result = run_system(job)
    elif kind == "peak":
        from bench import peak

        result = peak.measure(quick=bool(job.get("quick")))
    elif kind == "levers":
        from bench import levers

        result = levers.measure(job)
    elif kind == "ort-parity":
        from bench import ort_parity

        result = ort_parity.measure(job)
    elif kind == "node-levers":
        from bench import node_levers

        result = node_levers.measure(job)
    else:
        msg = f"unknown job kind {kind!r}"
        raise ValueError(msg)
    result["versions"] = {name: _version(name) for name in VERSIONS if name.replace("-", "_") in sys.modules}
    return result


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def main() -> int:
    job = json.loads(sys.stdin.read())
    from validate.runners.base import RuntimeUnavailable

    try:
        result = {"status": "ok", **handle(job)}
    except RuntimeUnavailable as exc:  # e.g. no node on PATH: nothing failed, the system cannot run here
        result = {"status": "unavailable", "reason": str(exc).splitlines()[0]}
    except Exception as exc:  # reported to the parent as this system's failure, with the traceback in stderr
        traceback.print_exc()
        text = str(exc).strip().splitlines()
        result = {"status": "failed", "reason": f"{type(exc).__name__}: {text[0][:500] if text else ''}".rstrip(": ")}
    result["worker_peak_rss_bytes"] = peak_rss_bytes()
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


def run(job: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one job in a fresh ``python -m bench.worker``; a crash or timeout becomes a failed result."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "bench.worker"],
                input=json.dumps(job),
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                timeout=timeout,
                check=False,
                cwd=ROOT,
                env=env,
            )
        except subprocess.TimeoutExpired:
            return {"status": "failed", "reason": f"no result within {timeout:g} s (worker killed)", **_tail(err)}
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)]
        if not lines:
            return {
                "status": "failed",
                "reason": f"worker exited with code {proc.returncode} and no result",
                **_tail(err),
            }
        result: dict[str, Any] = json.loads(lines[-1][len(MARKER) :])
        if result.get("status") != "ok":
            result.update(_tail(err))
    result["wall_seconds"] = time.perf_counter() - started
    return result


def _tail(err: Any, lines: int = 15) -> dict[str, Any]:
    err.seek(0)
    return {"stderr_tail": err.read().splitlines()[-lines:]}


if __name__ == "__main__":
    sys.exit(main())

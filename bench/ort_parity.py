"""The same ONNX file's model call in Python onnxruntime and in onnxruntime-node, timed interleaved.

Python: the validated runner (validate/runners/ort_runner.py) and its ``infer``; Node.js: the shared
runtime layer (js/node/runtimes.mjs, as the runner and the npm client load it) and its ``rt.infer``
(js/bench/ort_call.mjs). Both sides take the same synthetic window ([CLS] ids [SEP], batch 1) and do
the same work per call: input tensors, ``session.run``, the logits back. A third side is the same file
on onnxruntime-node's own defaults (``InferenceSession.create(bytes, {})``, what qaport's Node.js
loader passed before its options were set to Python's), so the run shows what the options are worth.
Both processes stay loaded and take turns, round by round (the order reversed every other round), so a
machine whose load changes weighs on both alike; the first round of each width is a warm-up. The ratio
Node.js / Python is the measurement behind the "Node.js as fast as Python on the same file" target.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from qaport.javascript import JS_DIR
from qaport.registry import FORMATS

SCRIPT = JS_DIR / "bench" / "ort_call.mjs"
TARGET_NODE_VS_PYTHON = 1.1  # Node.js' model call at most this many times Python's, same file


def onnx_formats(manifest: dict[str, Any]) -> list[str]:
    """Every ONNX format of the registry validated in both Python and Node.js onnxruntime, in this directory."""
    return [
        f.name
        for f in FORMATS.values()
        if f.kind == "onnx"
        and f.name in manifest["formats"]
        and {"onnxruntime", "onnxruntime-node"} <= set(f.validated_in)
    ]


def window(tokens: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same synthetic window as js/bench/ort_call.mjs builds."""
    ids = 110 + (np.arange(tokens, dtype=np.int64) * 7) % 890  # inside any vocabulary
    ids[0], ids[-1] = 101, 102
    return ids[None, :], np.ones((1, tokens), np.int64), np.zeros((1, tokens), np.int64)


class _Node:
    def __init__(self, model: Path, output_map: dict[str, str]) -> None:
        node = shutil.which("node")
        if node is None:
            msg = "node is not on PATH"
            raise RuntimeError(msg)
        cmd = [node, str(SCRIPT), "--model", str(model), "--defaults"]
        if output_map:
            cmd += ["--output-map", ",".join(f"{k}={v}" for k, v in sorted(output_map.items()))]
        self._err = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed in close)
        self._proc: Any = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err, text=True, cwd=JS_DIR
        )
        self.ready = self._read()
        if self.ready.get("event") != "ready":
            msg = f"ort_call.mjs did not start: {self.ready.get('error')}"
            raise RuntimeError(msg)

    def _read(self) -> dict[str, Any]:
        line = self._proc.stdout.readline()
        if not line:
            self._err.seek(0)
            msg = f"ort_call.mjs exited: {' | '.join(self._err.read().strip().splitlines()[-3:])}"
            raise RuntimeError(msg)
        reply: dict[str, Any] = json.loads(line)
        return reply

    def time(self, tokens: int, runs: int, session: str = "qaport") -> list[float]:
        req = {"op": "time", "tokens": tokens, "runs": runs, "session": session}
        self._proc.stdin.write(json.dumps(req) + "\n")
        self._proc.stdin.flush()
        reply = self._read()
        if not reply.get("ok"):
            raise RuntimeError(str(reply.get("error")))
        return [float(t) for t in reply["times_ms"]]

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.write(json.dumps({"op": "shutdown"}) + "\n")
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._err.close()


def _python_times(runner: Any, tokens: int, runs: int) -> list[float]:
    import time

    ids, mask, types = window(tokens)
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        runner.infer(ids, mask, types)
        out.append((time.perf_counter() - start) * 1000.0)
    return out


def compare(
    root: Path, manifest: dict[str, Any], fmt: str, widths: list[int], rounds: int, runs: int
) -> dict[str, Any]:
    """Interleaved rounds of Python and Node.js model calls on one format's file, per width."""
    from validate.validation import Settings, Target, make_runner

    record = manifest["formats"][fmt]
    runner = make_runner(Target(fmt, "onnxruntime"), root, record, Settings())
    runner.activate()
    node = _Node(root / record["main_file"], record.get("output_names") or {})
    try:
        out: dict[str, Any] = {
            "file": record["main_file"],
            "precision": FORMATS[fmt].precision,
            "node_session_options": node.ready.get("sessionOptions"),
            "widths": {},
        }
        for width in widths:
            times: dict[str, list[float]] = {"python": [], "qaport": [], "defaults": []}
            for r in range(rounds + 1):  # round 0 warms every side up
                sides = list(times) if r % 2 else list(times)[::-1]
                for side in sides:
                    got = _python_times(runner, width, runs) if side == "python" else node.time(width, runs, side)
                    if r:
                        times[side].extend(got)
            p, n, d = (float(np.median(times[k])) for k in ("python", "qaport", "defaults"))
            out["widths"][str(width)] = {
                "python_ms": p,
                "node_ms": n,
                "node_over_python": n / p,
                "node_binding_defaults_ms": d,
                "calls": len(times["python"]),
            }
        return out
    finally:
        node.close()
        runner.deactivate()


def measure(job: dict[str, Any]) -> dict[str, Any]:
    """Per ONNX format (of the registry, in both onnxruntimes), Node.js / Python at 384 tokens and short."""
    from qaport.manifest import load_manifest

    root = Path(job["dir"]).resolve()
    manifest = load_manifest(root)
    widths = sorted({int(w) for w in job["widths"]}, reverse=True)
    out: dict[str, Any] = {}
    for fmt in job.get("formats") or onnx_formats(manifest):
        try:
            out[fmt] = compare(root, manifest, fmt, widths, int(job.get("rounds", 4)), int(job.get("runs", 5)))
        except Exception as exc:  # one format's failure is reported, the others still measured
            out[fmt] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
    return {"formats": out, "target": TARGET_NODE_VS_PYTHON}

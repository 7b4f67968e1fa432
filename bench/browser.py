"""The browser rows: qaport's browser client and transformers.js in headless Chromium, on this machine.

One Node.js process (``js/browser/bench.mjs``) serves the artifact directory, a bundled page
(``js/browser/bench_page.mjs``) and the runtimes' wasm files on 127.0.0.1 (cross-origin isolated, so
wasm gets threads), and runs every browser system in turn, each in a fresh Chromium: TF.js has one
engine per page and onnxruntime-web's thread count is global to a page, so nothing leaks from one
system into the next. Every answer is timed in the page with ``performance.now()`` around one call,
end to end (tokenise, model, decode), after warm-up, on the same questions as every other system.

transformers.js loads the same directory as a local model (``onnx/model.onnx`` for dtype fp32,
``onnx/model_quantized.onnx`` for q8) with remote models off and its own onnxruntime-web's wasm files
served here; its thread count is left at onnxruntime-web's default, the one its users get, and the row
records the count chosen.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.transformers_js import LAYOUT, MODEL_FILE, PACKAGE
from qaport.javascript import JS_DIR

SCRIPT = JS_DIR / "browser" / "bench.mjs"
CLIENT = JS_DIR / "client" / "browser.js"

# How each browser system is loaded in the page (the ids are bench/systems.py's).
SPECS: dict[str, dict[str, Any]] = {
    "web-onnx-int8-t1": {"kind": "qaport", "runtime": "onnx", "quantized": True, "backend": "wasm", "threads": 1},
    "web-onnx-int8-t2": {"kind": "qaport", "runtime": "onnx", "quantized": True, "backend": "wasm", "threads": 2},
    "web-onnx-t1": {"kind": "qaport", "runtime": "onnx", "quantized": False, "backend": "wasm", "threads": 1},
    "web-onnx-t2": {"kind": "qaport", "runtime": "onnx", "quantized": False, "backend": "wasm", "threads": 2},
    "web-tfjs-wasm": {"kind": "qaport", "runtime": "tfjs", "quantized": False, "backend": "wasm"},
    "web-tjs": {"kind": "transformers-js", "dtype": "fp32"},
    "web-tjs-q8": {"kind": "transformers-js", "dtype": "q8"},
}


def unavailable(system_id: str, root: Path) -> str | None:
    """Why a browser system cannot run here, or None."""
    from validate.browser import browser_unavailable

    if shutil.which("node") is None:
        return "node is not on PATH"
    reason = browser_unavailable()
    if reason:
        return reason
    for package in ("puppeteer-core", "esbuild", "onnxruntime-web", "@tensorflow/tfjs-backend-wasm"):
        if not (JS_DIR / "node_modules" / package / "package.json").is_file():
            return f"{package} is not installed in {JS_DIR} (npm ci)"
    spec = SPECS[system_id]
    if spec["kind"] == "qaport":
        return None if CLIENT.is_file() else f"{CLIENT} does not exist"
    if not (JS_DIR / "node_modules" / PACKAGE / "package.json").is_file():
        return f"{PACKAGE} is not installed in {JS_DIR} (nox -s bench installs it: npm ci --ignore-scripts)"
    files = (*LAYOUT, MODEL_FILE["int8" if spec["dtype"] == "q8" else "fp32"])
    missing = [f for f in files if not (root / f).is_file()]
    return f"the artifact directory lacks {', '.join(missing)} (transformers.js layout)" if missing else None


def run(
    system_ids: list[str],
    root: Path,
    questions: list[dict[str, Any]],
    protocol: dict[str, Any],
    timeout: float,
    progress: Any,
    levers: bool = True,
    accounting: dict[str, float] | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Run the browser systems in one driver process: a result per id (status ok or failed), and the levers.

    The levers (``js/browser/bench_levers_page.mjs``): the model call alone on the short question's token
    count, per onnxruntime-web build and version (qaport's and transformers.js' own), file, graph
    optimisation level and thread count, the variants interleaved round by round in one page.

    ``accounting`` gets ``unreaped_cpu_seconds``: CPU time of the driver's processes that no wait() handed
    back to this process (Chromium's renderers, orphaned when their zygote exits first), so that the caller's
    CpuWatch does not count the benchmark's own browser as another process.
    """
    from validate.browser import find_chromium

    node = shutil.which("node")
    chromium = find_chromium()
    if node is None or chromium is None:
        reason = "node is not on PATH" if node is None else "no Chromium"
        return {sid: {"status": "failed", "reason": reason} for sid in system_ids}, {
            "status": "failed",
            "reason": reason,
        }
    job = {
        "dir": str(root.resolve()),
        "browser": str(chromium),
        "systems": [{"id": sid, **SPECS[sid]} for sid in system_ids],
        "questions": questions,
        "protocol": protocol,
        "rounds": int(protocol.get("browser_rounds", 1)),
    }
    files = [MODEL_FILE[p] for p in ("int8", "fp32") if (root / MODEL_FILE[p]).is_file()]
    if levers and files and (JS_DIR / "node_modules" / PACKAGE / "package.json").is_file():
        short = [q for q in questions if q["class"] == "short"]
        tokens = _tokens(root, short[0]) if short else 200
        job["levers"] = {"files": files, "tokens": tokens, "rounds": 15, "threads": [1, 2]}
    why_not = "not asked for (--no-browser-levers)" if not levers else "not run (no ONNX file or no transformers.js)"
    lever_result: dict[str, Any] = {"status": "unavailable", "reason": why_not}
    results: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    reaped_before = _children_cpu()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        proc = subprocess.Popen(
            [node, str(SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=JS_DIR,
            start_new_session=True,  # its own process group: a kill takes its Chromium with it
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(job))
        proc.stdin.close()
        # A hung page ends the driver and its Chromium: ``timeout`` is the silence allowed between two of the
        # driver's messages (one per system and round), not the whole run, which at full size takes 9 minutes
        # a round (docs/benchmarks.md, 2026-12-05 17:40 UTC: a 1800 s limit on the whole run lost every row).
        killer = _Watchdog(timeout, proc)
        session = _SessionCpu(proc.pid)  # start_new_session: the driver's pid is its session's id
        try:
            for line in proc.stdout:
                killer.rearm()
                try:
                    msg = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if msg.get("event") == "system":
                    sid = msg.pop("id")
                    msg.pop("event")
                    results[sid] = msg
                    progress(f"    {sid}: {_brief(msg)}")
                elif msg.get("event") == "progress":
                    progress(f"    {msg['id']}: round {msg['round']}/{msg['rounds']} {msg['status']}")
                elif msg.get("event") == "levers":
                    msg.pop("event")
                    lever_result = msg
                    progress(f"    levers: {msg.get('status')} {msg.get('reason', '')}")
                elif msg.get("event") == "error":
                    progress(f"    browser driver failed: {msg.get('error')}")
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.wait()
        finally:
            killer.cancel()
            session.stop()
            _kill_group(proc)  # whatever the driver left behind (a Chromium of a driver that died) goes with it
        if accounting is not None:
            accounting["unreaped_cpu_seconds"] = max(0.0, session.seconds() - (_children_cpu() - reaped_before))
        err.seek(0)
        tail = " | ".join(line for line in err.read().strip().splitlines()[-4:] if "Chromium Chrome/" not in line)
    why = f"the browser driver gave no result; stderr: {tail}"
    if killer.fired:
        why = (
            f"the browser driver was killed after {timeout:.0f} s without a message (a hung page), "
            f"{time.monotonic() - started:.0f} s into the run; raise --timeout if a round takes longer"
        )
        progress(f"    {why}")
    for sid in system_ids:
        results.setdefault(sid, {"status": "failed", "reason": why})
    if "levers" in job and lever_result.get("status") == "unavailable":
        lever_result = {"status": "failed", "reason": f"the browser driver gave no levers; stderr: {tail}"}
    return results, lever_result


def _tokens(root: Path, question: dict[str, Any]) -> int:
    """The short question's token count (its one window), so the levers run what the rows ran."""
    from tokenizers import Tokenizer

    from qaport import decode

    enc = decode.encode(Tokenizer.from_file(str(root / "tokenizer.json")), question["question"], question["context"])
    return len(enc.windows[0].input_ids)


def lever_lines(levers: dict[str, Any]) -> list[str]:
    """The printed browser levers: model call alone, median ms, per build, file, level and threads."""
    if levers.get("status") != "ok":
        return [f"  browser levers not measured: {levers.get('reason', 'not run')}"]
    out = []
    for run_ in levers["runs"]:
        by: dict[tuple[str, str], list[str]] = {}
        for v in run_["variants"]:
            key = (f"{v['build']} {v['version']}", v["file"].removeprefix("onnx/"))
            by.setdefault(key, []).append(f"{v['graph_optimization']} {v['median_ms']:.1f}")
        out.append(
            f"  model call alone, {run_['tokens']} tokens, {run_['threads']} thread(s), {run_['rounds']} rounds "
            "interleaved in one page (median ms, graph optimisation all / disabled):"
        )
        out += [f"    {build}, {file}: {', '.join(cells)}" for (build, file), cells in by.items()]
    return out


def lever_summary(levers: dict[str, Any], precision: str) -> str | None:
    """One sentence for a missed target: the same file's model call, qaport's onnxruntime-web vs transformers.js'."""
    if levers.get("status") != "ok":
        return None
    file = MODEL_FILE["int8" if precision == "int8" else "fp32"]
    parts = []
    for run_ in levers["runs"]:
        cell = {v["build"]: v for v in run_["variants"] if v["file"] == file and v["graph_optimization"] == "all"}
        ours = cell.get("qaport ort-web (default build)")
        theirs = cell.get("transformers.js' ort-web (webgpu build)")
        if ours and theirs:
            parts.append(
                f"{run_['threads']} thread(s): qaport's onnxruntime-web {ours['version']} {ours['median_ms']:.1f} ms "
                f"vs transformers.js' {theirs['version']} {theirs['median_ms']:.1f} ms"
            )
    if not parts:
        return None
    return (
        f"the model call alone on {file} ({levers['runs'][0]['tokens']} tokens, interleaved in one page, graph "
        f"optimisation all): " + "; ".join(parts)
    )


def _children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


class _SessionCpu:
    """CPU time of every process in one session, sampled twice a second (the last half second of a process
    that exits between samples is missed)."""

    def __init__(self, sid: int, interval: float = 0.5) -> None:
        self.sid, self.interval = sid, interval
        self._seen: dict[tuple[int, float], float] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        for p in psutil.process_iter():
            try:
                if os.getsid(p.pid) != self.sid:
                    continue
                t = p.cpu_times()
                key = (p.pid, p.create_time())
            except (OSError, psutil.Error):
                continue
            self._seen[key] = max(self._seen.get(key, 0.0), t.user + t.system)

    def _loop(self) -> None:
        while not self._done.wait(self.interval):
            self._sample()

    def stop(self) -> None:
        self._sample()
        self._done.set()
        self._thread.join()

    def seconds(self) -> float:
        return sum(self._seen.values())


class _Watchdog:
    """Kills ``proc``'s process group after ``seconds`` without a ``rearm()``."""

    def __init__(self, seconds: float, proc: subprocess.Popen[str]) -> None:
        self.seconds, self.proc, self.fired = seconds, proc, False
        self._timer: threading.Timer | None = None
        self.rearm()

    def _fire(self) -> None:
        self.fired = True
        _kill_group(self.proc)

    def rearm(self) -> None:
        self.cancel()
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _brief(result: dict[str, Any]) -> str:
    if result.get("status") != "ok":
        return f"{result.get('status')}: {result.get('reason')}"
    ts = sorted(t for qid, v in result.get("times_ms", {}).items() if qid.startswith("short") for t in v)
    threads = result.get("details", {}).get("threads")
    median = f"short median {ts[len(ts) // 2]:.1f} ms" if ts else "no short question"
    return f"{median}, {threads} thread(s) ({result.get('wall_seconds', 0):.0f} s)"


def notes(entries: list[dict[str, Any]], browser_ids: set[str]) -> list[str]:
    """The printed lines under the table: threads chosen, versions, renderer, per browser row."""
    out = []
    for e in entries:
        if e["id"] not in browser_ids or e.get("status") != "ok":
            continue
        d = e.get("details", {})
        versions = ", ".join(f"{k} {v}" for k, v in d.get("versions", {}).items() if v)
        threads = d.get("threads") if d.get("threads") is not None else "- (TF.js wasm: no thread setting)"
        line = (
            f"  {e['id']}: {threads} thread(s), {d.get('threads_source')}; "
            f"cross-origin isolated {d.get('cross_origin_isolated')}; {versions}"
        )
        ph = e.get("phases_ms") or {}
        if "total" in ph:
            line += (
                f"; one short answer's {ph['total']:.1f} ms (median, instrumented): tokenise {ph['tokenise']:.1f}, "
                f"model {ph['model']:.1f}, rest {ph['rest']:.1f}"
            )
        if e.get("rounds"):
            line += f"; {e['rounds']} rounds (fresh Chromium each), times pooled"
        if e.get("answers_changed"):
            line += f"; WARNING: answers changed between rounds: {e['answers_changed']}"
        if d.get("software_renderer"):
            line += f"; software renderer ({d.get('gpu_renderer')}): not representative of a GPU"
        out.append(line)
    return out

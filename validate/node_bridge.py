"""Drive the Node.js runtimes (TF.js, onnxruntime-node) of ``js/node/runner.mjs`` from Python.

One ``node`` process per runtime loads the model once and answers JSON-lines requests (tf2onnx's Node
bridge pattern): arrays travel as shape + dtype + base64 of little-endian bytes, so logits come back
bit for bit. Every request has a timeout and both pipes are read by threads, so a crashed or hung
process becomes a :class:`NodeRuntimeError` carrying its stderr tail instead of a stuck validation.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import json
import math
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from qaport.errors import QaportError
from qaport.javascript import BROWSER_RUNNER, BUILD_TFJS_NODE, INSTALL_HINT, JS_DIR, NODE_RUNNER

NODE_DIR = JS_DIR  # the npm project: node runs here, so require() finds js/node_modules
RUNNER = str(NODE_RUNNER)
DEFAULT_TIMEOUT = 120.0
STDERR_TAIL = 20
WIRE_DTYPES: dict[str, np.dtype[Any]] = {"int32": np.dtype("<i4"), "int64": np.dtype("<i8"), "float32": np.dtype("<f4")}
# Format kinds of runner.mjs (runtimes.mjs loads them) and the packages each needs.
RUNTIME_PACKAGES = {
    "tfjs": ("@tensorflow/tfjs-core", "@tensorflow/tfjs-converter"),
    "onnx": ("onnxruntime-node",),
    "savedmodel": ("@tensorflow/tfjs-core", "@tensorflow/tfjs-node"),  # tf.node.loadSavedModel on libtensorflow
}
BACKEND_PACKAGES = {
    "wasm": "@tensorflow/tfjs-backend-wasm",
    "cpu": "@tensorflow/tfjs-backend-cpu",
    "tensorflow": "@tensorflow/tfjs-node",  # libtensorflow; its addon is built by node/build_tfjs_node.py
}
TFJS_NODE_ADDON = Path("@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node")  # under node_modules


def missing_browser_packages(node_dir: Path, runtime: str, backend: str) -> str | None:
    """What a browser target lacks (npm packages, or Chromium itself), with the command that adds it; or None."""
    from validate.browser import BROWSER_PACKAGES, WEB_BACKEND_PACKAGES, WEB_PACKAGES, browser_unavailable

    modules = node_dir / "node_modules"
    packages = [
        *BROWSER_PACKAGES,
        *WEB_PACKAGES[runtime],
        *([WEB_BACKEND_PACKAGES[backend]] if runtime == "tfjs" else []),
    ]
    missing = [p for p in packages if not (modules / p / "package.json").is_file()]
    if missing:
        return f"{modules} lacks {', '.join(missing)}: {INSTALL_HINT}"
    return browser_unavailable()


def missing_packages(node_dir: Path, runtime: str, backend: str | None, *, tokenizer: bool) -> str | None:
    """What a runtime/backend lacks in ``node_dir/node_modules`` (with the command that installs it), or None."""
    modules = node_dir / "node_modules"
    packages = [
        *RUNTIME_PACKAGES[runtime],
        *([BACKEND_PACKAGES[backend or "wasm"]] if runtime == "tfjs" else []),
    ]
    del tokenizer  # the tokenizer is qaport's own js/core/tokenizer.mjs: no package to install
    missing = [p for p in packages if not (modules / p / "package.json").is_file()]
    if missing:
        fix = INSTALL_HINT
        return f"{modules} lacks {', '.join(missing)}: {fix}"
    if (backend == "tensorflow" or runtime == "savedmodel") and not (modules / TFJS_NODE_ADDON).is_file():
        return (
            f"{modules / TFJS_NODE_ADDON} is not built: run: python {BUILD_TFJS_NODE.relative_to(JS_DIR.parent)} "
            "(nox -s tests does it)"
        )
    return None


class NodeRuntimeError(QaportError, RuntimeError):
    """The node process failed to load, crashed, hung or broke the protocol (the message says which)."""


class NodeRequestError(NodeRuntimeError):
    """One request failed inside node (``ok: false``); the process is still alive and serving."""


class NodeUnavailableError(QaportError, RuntimeError):
    """Node.js or the npm packages are not installed here: the runtime cannot run, nothing failed."""


def encode_array(array: npt.ArrayLike) -> dict[str, Any]:
    """An array as the runner expects it; byte order is fixed (little-endian) whatever the host's."""
    arr = np.asarray(array)
    name = arr.dtype.name
    if name not in WIRE_DTYPES:
        msg = f"dtype {arr.dtype} cannot be sent to node; supported: {', '.join(WIRE_DTYPES)}"
        raise ValueError(msg)
    data = np.ascontiguousarray(arr, dtype=WIRE_DTYPES[name]).tobytes()
    return {"shape": [int(d) for d in arr.shape], "dtype": name, "data": base64.b64encode(data).decode("ascii")}


def decode_array(obj: Mapping[str, Any]) -> npt.NDArray[Any]:
    """A writable native-order array from the wire form; a size that does not match the shape is an error."""
    dtype = WIRE_DTYPES.get(str(obj.get("dtype")))
    if dtype is None:
        msg = f"array dtype {obj.get('dtype')!r} is not one of {', '.join(WIRE_DTYPES)}"
        raise ValueError(msg)
    shape = tuple(int(d) for d in obj["shape"])
    raw = base64.b64decode(obj["data"], validate=True)
    if len(raw) != math.prod(shape) * dtype.itemsize:
        msg = f"{len(raw)} bytes do not hold shape {list(shape)} of {obj['dtype']}"
        raise ValueError(msg)
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _int32(name: str, array: npt.ArrayLike) -> npt.NDArray[np.int32]:
    arr = np.asarray(array)
    if not np.issubdtype(arr.dtype, np.integer):
        msg = f"{name} must be an integer array, got {arr.dtype}"
        raise ValueError(msg)
    if arr.size and (arr.min() < np.iinfo(np.int32).min or arr.max() > np.iinfo(np.int32).max):
        msg = f"{name} has values outside int32"
        raise ValueError(msg)
    return arr.astype(np.int32)


def _kill(proc: subprocess.Popen[str]) -> None:
    """Kill the runner and everything it started (a browser runner's Chromium): it leads its own process group."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
    else:  # the runner is gone; its Chromium may not be
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


class NodeRuntime:
    """A ``node runner.mjs`` process serving one model; use as a context manager (or start/close).

    ``host="browser"`` starts ``js/browser/runner.mjs`` instead: the same protocol, the model running in a
    page of headless Chromium (``backend``: the TF.js backend or onnxruntime-web execution provider)."""

    def __init__(
        self,
        runtime: str,
        model: str | os.PathLike[str],
        *,
        backend: str | None = None,
        tokenizer: str | os.PathLike[str] | None = None,
        output_map: str | Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        load_timeout: float | None = None,
        node: str = "node",
        node_dir: str | os.PathLike[str] = NODE_DIR,
        host: str = "node",
        input_dtypes: Mapping[str, str] | None = None,
        manifest: str | os.PathLike[str] | None = None,
    ) -> None:
        if host not in ("node", "browser"):
            msg = f"host {host!r} is not node or browser"
            raise ValueError(msg)
        if host == "browser":
            from validate.browser import WEB_BACKEND_PACKAGES

            web = {"onnx": ("wasm", "webgpu"), "tfjs": tuple(WEB_BACKEND_PACKAGES)}
            if runtime not in web or backend not in web[runtime]:
                msg = f"browser runtime {runtime}/{backend} is not one of " + ", ".join(
                    f"{k}/{b}" for k, v in web.items() for b in v
                )
                raise ValueError(msg)
        elif runtime not in RUNTIME_PACKAGES:
            msg = f"runtime {runtime!r} is not one of {', '.join(RUNTIME_PACKAGES)}"
            raise ValueError(msg)
        elif backend is not None and (runtime != "tfjs" or backend not in BACKEND_PACKAGES):
            msg = f"backend {backend!r} needs runtime tfjs and one of {', '.join(BACKEND_PACKAGES)}"
            raise ValueError(msg)
        self.host = host
        self.input_dtypes = dict(input_dtypes or {})
        self.manifest = Path(manifest).resolve() if manifest is not None else None  # browser: files checked in page
        self.runtime = runtime
        self.model = Path(model).resolve()
        self.backend = backend
        self.tokenizer = Path(tokenizer).resolve() if tokenizer is not None else None
        if isinstance(output_map, Mapping):
            output_map = ",".join(f"{k}={v}" for k, v in sorted(output_map.items()))
        self.output_map = output_map
        self.timeout = timeout
        self.load_timeout = load_timeout if load_timeout is not None else max(timeout, DEFAULT_TIMEOUT)
        self.node = node
        self.node_dir = Path(node_dir)
        self.ready: dict[str, Any] = {}
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=200)
        self._threads: list[threading.Thread] = []
        self._next_id = 0
        self._failure: str | None = None
        self._lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------------
    def command(self) -> list[str]:
        node = shutil.which(self.node)
        if node is None:
            msg = f"{self.node!r} (Node.js) not found on PATH: install Node.js 20"
            raise NodeUnavailableError(msg)
        if self.host == "browser":
            from validate.browser import find_chromium

            problem = missing_browser_packages(self.node_dir, self.runtime, str(self.backend))
            if problem is not None:
                raise NodeUnavailableError(problem)
            cmd = [node, str(BROWSER_RUNNER), "--runtime", self.runtime, "--model", str(self.model)]
            cmd += ["--browser", str(find_chromium())]
            if self.manifest is not None:
                cmd += ["--manifest", str(self.manifest)]
            if self.input_dtypes:
                cmd += ["--input-dtypes", ",".join(f"{k}={v}" for k, v in sorted(self.input_dtypes.items()))]
        else:
            problem = missing_packages(self.node_dir, self.runtime, self.backend, tokenizer=self.tokenizer is not None)
            if problem is not None:
                raise NodeUnavailableError(problem)
            cmd = [node, RUNNER, "--runtime", self.runtime, "--model", str(self.model)]
        if self.backend is not None:
            cmd += ["--backend", self.backend]
        if self.tokenizer is not None:
            cmd += ["--tokenizer", str(self.tokenizer)]
        if self.output_map:
            cmd += ["--output-map", self.output_map]
        return cmd

    def start(self) -> dict[str, Any]:
        """Start node and wait for its ready line (the model is loaded once, here)."""
        if self._proc is not None:
            return self.ready
        cmd = self.command()
        self._lines = queue.Queue()
        self._failure = None
        if not self.model.exists():
            msg = f"model not found: {self.model}"
            raise NodeRuntimeError(msg)
        self._proc = subprocess.Popen(
            cmd,
            cwd=self.node_dir,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
            start_new_session=True,  # its own process group: a kill takes a browser runner's Chromium too
        )
        weakref.finalize(self, _kill, self._proc)
        self._threads = [
            threading.Thread(target=self._read_stdout, args=(self._proc.stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(self._proc.stderr,), daemon=True),
        ]
        for t in self._threads:
            t.start()
        what = f"loading {self.model.name} in node ({self.describe()})"
        reply = self._wait(lambda r: "event" in r, self.load_timeout, what)
        if reply["event"] != "ready":
            self._fail(f"{what}: {reply.get('error', reply)}", kill=True)
        self.ready = reply
        return reply

    def describe(self) -> str:
        where = "Chromium " if self.host == "browser" else ""
        return where + self.runtime + (f"/{self.backend}" if self.backend else "")

    def close(self, timeout: float = 10.0) -> None:
        """Ask node to shut down; kill it if it does not within ``timeout`` seconds."""
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.poll() is None:
                self.request("shutdown", timeout=timeout)
                proc.wait(timeout)
        except (NodeRuntimeError, subprocess.TimeoutExpired):
            pass  # it is killed below either way; a failed goodbye is no error
        finally:
            self._reap(kill=True)

    def __enter__(self) -> NodeRuntime:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- requests ------------------------------------------------------------------------------
    def request(self, op: str, *, timeout: float | None = None, **fields: Any) -> dict[str, Any]:
        """Send one request and wait for its reply; ``ok: false`` raises :class:`NodeRequestError`."""
        with self._lock:
            proc = self._proc
            if proc is None:
                why = (
                    f" (it failed: {self._failure})"
                    if self._failure
                    else ": call start() or use it as a context manager"
                )
                msg = f"node ({self.describe()}) is not running{why}"
                raise NodeRuntimeError(msg)
            self._next_id += 1
            rid = self._next_id
            what = f"request {op!r} (id {rid}) to node ({self.describe()})"
            try:
                if proc.stdin is None:
                    raise BrokenPipeError
                proc.stdin.write(json.dumps({"id": rid, "op": op, **fields}) + "\n")
                proc.stdin.flush()
            except OSError:  # BrokenPipeError: node died between requests
                self._fail(f"{what}: node is gone (exit code {proc.poll()})")
            reply = self._wait(lambda r: r.get("id") == rid, self.timeout if timeout is None else timeout, what)
        if not reply.get("ok"):
            msg = f"{op} failed in node ({self.describe()}): {reply.get('error', 'no error message')}"
            raise NodeRequestError(msg)
        return {k: v for k, v in reply.items() if k not in ("id", "ok")}

    def infer(
        self,
        input_ids: npt.ArrayLike,
        attention_mask: npt.ArrayLike,
        warmup: int = 0,
        runs: int = 1,
        *,
        token_type_ids: npt.ArrayLike | None = None,
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], list[float]]:
        """(start_logits, end_logits, per-run milliseconds of the model call, measured inside node).

        ``token_type_ids`` is sent when given (the runner requires it for a model that takes it)."""
        ids = _int32("input_ids", input_ids)
        mask = _int32("attention_mask", attention_mask)
        if ids.ndim != 2 or ids.shape != mask.shape:
            msg = f"input_ids {ids.shape} and attention_mask {mask.shape} must be equal 2-D shapes"
            raise ValueError(msg)
        inputs = {"input_ids": encode_array(ids), "attention_mask": encode_array(mask)}
        if token_type_ids is not None:
            types = _int32("token_type_ids", token_type_ids)
            if types.shape != ids.shape:
                msg = f"token_type_ids {types.shape} must have the shape of input_ids {ids.shape}"
                raise ValueError(msg)
            inputs["token_type_ids"] = encode_array(types)
        reply = self.request("infer", inputs=inputs, warmup=warmup, runs=runs)
        outputs = reply["outputs"]
        start = decode_array(outputs["start_logits"]).astype(np.float32, copy=False)
        end = decode_array(outputs["end_logits"]).astype(np.float32, copy=False)
        return start, end, [float(t) for t in reply["times_ms"]]

    def answer(
        self,
        question: str,
        context: str,
        warmup: int = 0,
        runs: int = 1,
        max_answer_len: int = 15,
        handle_impossible_answer: bool = False,
    ) -> tuple[dict[str, Any], list[float]]:
        """Answer tokenised, inferred and decoded in JavaScript; offsets count code points like Python's.
        ``handle_impossible_answer``: the null answer ("") when it outscores every span (SQuAD 2.0)."""
        reply = self.request(
            "answer",
            question=question,
            context=context,
            warmup=warmup,
            runs=runs,
            max_answer_len=max_answer_len,
            handle_impossible_answer=handle_impossible_answer,
        )
        return dict(reply["answer"]), [float(t) for t in reply["times_ms"]]

    def answer_with_logits(
        self, question: str, context: str, handle_impossible_answer: bool = False
    ) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
        """One end-to-end run, plus what it fed the model and got back: ``{"input_ids", "attention_mask",
        ["token_type_ids"], "start_logits", "end_logits"}`` (windows x width; positions past a window's own
        tokens are 0 in the logits). Validation compares those logits when the batch equals the reference's."""
        reply = self.request(
            "answer",
            question=question,
            context=context,
            handle_impossible_answer=handle_impossible_answer,
            with_logits=True,
        )
        arrays = {k: decode_array(v) for k, v in {**reply.get("batch", {}), **reply.get("logits", {})}.items()}
        return dict(reply["answer"]), arrays

    def stats(self) -> dict[str, Any]:
        """rss_bytes and peak_rss_bytes of the node process alone (VmHWM on Linux: getrusage's maxRSS would
        include this Python process's peak, inherited across exec), num_tensors (TF.js only, else None)."""
        return self.request("stats")

    # -- pipes ---------------------------------------------------------------------------------
    def _read_stdout(self, stream: Any) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def _read_stderr(self, stream: Any) -> None:
        for line in stream:
            self._stderr.append(line.rstrip("\n"))

    def stderr_tail(self, lines: int = STDERR_TAIL) -> list[str]:
        return list(self._stderr)[-lines:]

    def _wait(self, match: Any, timeout: float, what: str) -> dict[str, Any]:
        """The next stdout record that ``match``es; stray output is kept with stderr for the error tail."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(remaining, 0.0))
            except queue.Empty:
                self._fail(f"{what}: no reply within {timeout:g} s; node killed", kill=True)
            if line is None:
                code = self._reap(kill=False)
                self._fail(f"{what}: node exited with code {code} before replying")
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if isinstance(record, dict) and match(record):
                return record
            self._stderr.append(f"[stdout] {line.rstrip()}")

    def _reap(self, *, kill: bool) -> int | None:
        """Wait for (or kill) our process, drain its pipes and forget it; returns its exit code."""
        proc = self._proc
        if proc is None:
            return None
        if kill:
            _kill(proc)
        try:
            code = proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            _kill(proc)
            code = proc.wait()
        _kill(proc)  # whatever the runner left in its process group (a browser runner's Chromium)
        for t in self._threads:
            t.join(timeout=2.0)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):  # closing stdin of a dead process may hit a broken pipe
                    stream.close()
        self._proc = None
        return code

    def _fail(self, reason: str, *, kill: bool = False) -> NoReturn:
        self._reap(kill=kill)
        self._failure = reason
        tail = self.stderr_tail()
        body = "\n".join(tail) if tail else "(empty)"
        msg = f"{reason}\n--- node stderr, last {len(tail)} lines ---\n{body}"
        raise NodeRuntimeError(msg)

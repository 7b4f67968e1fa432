"""The one table of benchmarked systems, and how each is loaded inside its worker process.

A system is a validation target (format@runtime, its precision and language read from
qaport/registry.py), the transformers pipeline or Keras baseline, or the transformers.js peer.

Every system answers the same questions end to end (tokenise, infer, decode) and is timed in its own
runtime's process. Each runs in a fresh worker process so that its peak memory is its own and one
runtime's threads or caches cannot slow the next.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from qaport import decode
from qaport.javascript import JS_DIR
from qaport.registry import FORMATS, NODE_KIND, RUNTIMES

NODE_DIR = JS_DIR


@dataclass(frozen=True)
class System:
    id: str
    label: str
    runtime: str
    format: str | None  # manifest format; None for the pipeline and the Keras model
    precision: str
    language: str  # python | node
    calls: str  # how the windows of a long text reach the model

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


PLANNED = "windows as decode.call_plan runs them: full-length ones one per call, unpadded"
TRUNCATED = "one input truncated to 512 tokens (no windows: long texts are not comparable)"
TRUNCATE_AT = 512  # transformers.js: the tokenizer's model_max_length, no stride
TJS_RUNTIME = "transformers.js (ort-node)"
WEB_TJS_RUNTIME = "transformers.js (ort-web)"


def _target(sid: str, label: str, fmt: str, runtime: str) -> System:
    """A system that is a validated target: its precision and language come from the registry."""
    if runtime not in FORMATS[fmt].validated_in:  # a benchmarked path must be one validation proves
        msg = f"bench system {sid}: {fmt}@{runtime} is not a validation target ({', '.join(FORMATS[fmt].targets)})"
        raise ValueError(msg)
    return System(sid, label, runtime, fmt, FORMATS[fmt].precision, RUNTIMES[runtime].language, PLANNED)


def _peer(sid: str, label: str, fmt: str) -> System:
    """transformers.js on the same ONNX files (its own pipeline and tokenizer code)."""
    return System(sid, label, TJS_RUNTIME, fmt, FORMATS[fmt].precision, "node", TRUNCATED)


def _web_peer(sid: str, label: str, fmt: str) -> System:
    """transformers.js in headless Chromium (its web build, its own onnxruntime-web) on the same ONNX files."""
    return System(sid, label, WEB_TJS_RUNTIME, fmt, FORMATS[fmt].precision, "browser", TRUNCATED)


USUAL_Q8 = "tjs-q8-usual"  # transformers.js on the q8 file of its usual conversion recipe


def int8_systems() -> list[System]:
    """A Python and a Node.js system per int8 ONNX format of the registry, ids ``<format>`` and
    ``<format>-node`` (so onnx-int8 keeps its ids), for the runtimes the format is validated in."""
    out = []
    for f in FORMATS.values():
        if f.kind != "onnx" or f.precision != "int8":
            continue
        variant = f.name.removeprefix("onnx-int8").strip("-")
        label = f"ONNX int8{f' ({variant})' if variant else ''}"
        if "onnxruntime" in f.validated_in:
            out.append(_target(f.name, label, f.name, "onnxruntime"))
        if "onnxruntime-node" in f.validated_in:
            out.append(_target(f"{f.name}-node", label, f.name, "onnxruntime-node"))
    return out


SYSTEMS: dict[str, System] = {
    s.id: s
    for s in (
        System(
            "pipeline",
            "transformers QA pipeline (TF)",
            "tensorflow (eager)",
            None,
            "float32",
            "python",
            "one call per window, unpadded",
        ),
        System("keras", "Keras model (tf.function)", "tf-keras", None, "float32", "python", PLANNED),
        _target("savedmodel", "SavedModel", "savedmodel", "tensorflow"),
        _target("onnx", "ONNX fp32", "onnx", "onnxruntime"),
        _target("onnx-node", "ONNX fp32", "onnx", "onnxruntime-node"),
        # every int8 ONNX variant of the registry, in Python and Node.js (onnx-int8 -> onnx-int8, onnx-int8-node)
        *int8_systems(),
        _target("tfjs-wasm", "TF.js", "tfjs", "tfjs-wasm"),
        _target("tfjs-node", "TF.js", "tfjs", "tfjs-node"),
        # The original post's system: the SavedModel on tfjs-node (tf.node.loadSavedModel, serving_default).
        _target("savedmodel-node", "SavedModel", "savedmodel", "tfjs-node"),
        # The peer a Node.js user would install instead: transformers.js on the same ONNX files.
        _peer("transformers-js", "transformers.js", "onnx"),
        _peer("transformers-js-q8", "transformers.js q8", "onnx-int8"),
        # ... and on the q8 file its users get: the usual recipe applied to the same float32 ONNX (bench/usual_q8.py)
        System(USUAL_Q8, "transformers.js q8, usual recipe", TJS_RUNTIME, "onnx", "int8", "node", TRUNCATED),
        # In headless Chromium on this machine (bench/browser.py): qaport's browser client
        # (js/client/browser.js) with 1 and 2 onnxruntime-web threads, TF.js wasm, and transformers.js.
        _target("web-onnx-int8-t1", "ONNX int8, browser, 1 thread", "onnx-int8", "onnxruntime-web"),
        _target("web-onnx-int8-t2", "ONNX int8, browser, 2 threads", "onnx-int8", "onnxruntime-web"),
        _target("web-onnx-t1", "ONNX fp32, browser, 1 thread", "onnx", "onnxruntime-web"),
        _target("web-onnx-t2", "ONNX fp32, browser, 2 threads", "onnx", "onnxruntime-web"),
        _target("web-tfjs-wasm", "TF.js wasm, browser", "tfjs", "tfjs-wasm-web"),
        _web_peer("web-tjs", "transformers.js, browser", "onnx"),
        _web_peer("web-tjs-q8", "transformers.js q8, browser", "onnx-int8"),
    )
}
BASELINE = "pipeline"


def unavailable_reason(system: System, manifest: dict[str, Any], root: Path) -> str | None:
    """Why a system cannot run here (checked before starting a worker), or None."""
    if system.format is not None and system.format not in manifest["formats"]:
        return f"format {system.format!r} is not in this artifact directory (formats: {', '.join(manifest['formats'])})"
    if system.language == "browser":
        from bench import browser

        return browser.unavailable(system.id, root)
    if system.runtime == TJS_RUNTIME:
        from bench.transformers_js import unavailable

        # the usual q8 file is built from the float32 ONNX file (bench/usual_q8.py)
        return unavailable(NODE_DIR, root, "float32" if system.id == USUAL_Q8 else system.precision)
    if system.runtime == "tfjs-node":  # the addon is built offline (its install script would download libtensorflow)
        from validate.node_bridge import missing_packages

        return missing_packages(NODE_DIR, NODE_KIND[system.format or "tfjs"], "tensorflow", tokenizer=True)
    return None


class Answerer(Protocol):
    load_seconds: float

    def answer(self, question: str, context: str, warmup: int, runs: int) -> tuple[decode.Answer, list[float]]: ...

    def peak_rss_bytes(self) -> int: ...

    def deactivate(self) -> None: ...


class PipelineAnswerer:
    """transformers' QuestionAnsweringPipeline on the Keras model the artifacts were converted from."""

    def __init__(self, source: dict[str, Any]) -> None:
        start = time.perf_counter()
        from transformers import pipeline

        from convert.sources import load_model

        spec = {"default": None, "local": source.get("path"), "hub": source.get("spec"), "random": source.get("spec")}
        loaded = load_model(spec[source["kind"]], seed=int(source.get("seed") or 0))
        # dtype=None: without it the TF pipeline touches torch (NameError when torch is not installed)
        self._qa: Any = pipeline(
            "question-answering", model=loaded.model, tokenizer=loaded.tokenizer, framework="tf", dtype=None
        )
        self.load_seconds = time.perf_counter() - start

    def answer(self, question: str, context: str, warmup: int, runs: int) -> tuple[decode.Answer, list[float]]:
        times = []
        out: dict[str, Any] = {}
        for i in range(warmup + runs):
            start = time.perf_counter()
            out = self._qa(question=question, context=context)
            if i >= warmup:
                times.append((time.perf_counter() - start) * 1000.0)
        return decode.Answer(out["answer"], float(out["score"]), int(out["start"]), int(out["end"])), times

    def peak_rss_bytes(self) -> int:
        return 0  # the worker reports its own process's peak

    def deactivate(self) -> None:
        self._qa = None


def load(system: System, root: Path, manifest: dict[str, Any]) -> Answerer:
    """Build and activate the system in this (worker) process."""
    if system.id == "pipeline":
        return PipelineAnswerer(manifest["source"])
    if system.runtime == TJS_RUNTIME:
        from bench.transformers_js import TransformersJsAnswerer

        if system.id == USUAL_Q8:
            from bench import usual_q8

            model_dir, record = usual_q8.prepare(root, manifest["formats"]["onnx"]["main_file"])
            usual = TransformersJsAnswerer(model_dir, NODE_DIR, "q8")
            usual.ready["usual_q8"] = record
            return usual
        return TransformersJsAnswerer(root, NODE_DIR, "q8" if system.precision == "int8" else "fp32")
    from validate.runners.base import Runner

    tokenizer = root / "tokenizer.json"
    runner: Runner
    if system.id == "keras":
        from validate.runners.keras_runner import KerasRunner

        runner = KerasRunner("keras", root, manifest["source"], tokenizer)
    else:
        from validate.validation import Settings, Target, make_runner

        assert system.format is not None
        target = Target(system.format, system.runtime)  # the runtime vocabulary of validation
        runner = make_runner(target, root, manifest["formats"][system.format], Settings())
    runner.activate()
    return runner

"""Run every requested format into a staging directory, write the manifest, publish atomically."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convert import onnx_export, onnx_int8, savedmodel_export, tfjs_export
from convert.formats import FORMATS, LOGICAL_OUTPUTS, with_requirements
from convert.memory import PeakMemory
from convert.sources import LoadedModel
from convert.staging import staged, swap_into_place
from qaport.errors import ConversionError
from qaport.manifest import MANIFEST, SCHEMA_VERSION, file_entries, tool_versions, write_json_atomic
from qaport.registry import client_formats

Progress = Callable[[str], None]
WORK_DIR = ".work"


@dataclass
class FormatResult:
    name: str
    ok: bool
    seconds: float = 0.0
    peak_rss_bytes: int = 0
    error: str | None = None
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def size_bytes(self) -> int:
        return sum(f["size"] for f in self.record.get("files", []))


@dataclass
class Conversion:
    out: Path
    results: list[FormatResult]
    published: bool
    manifest: dict[str, Any] | None = None

    @property
    def failures(self) -> list[FormatResult]:
        return [r for r in self.results if not r.ok]


def weights_digest(model: Any) -> str:
    """sha256 over every variable's name and bytes: identifies the weights whatever the source.

    Names are taken without their first component, Keras' per-process model instance name
    (``tf_distil_bert_for_question_answering_1/...`` when another model was built first).
    """
    digest = hashlib.sha256()
    named = sorted((var.name.split("/", 1)[-1], var) for var in model.variables)
    for name, var in named:
        digest.update(name.encode())
        digest.update(var.numpy().tobytes())
    return digest.hexdigest()


class _Heartbeat:
    """Prints what is running every ``every`` seconds, so long conversions visibly progress."""

    def __init__(self, progress: Progress, label: str, every: float = 15.0) -> None:
        self.progress, self.label, self.every = progress, label, every
        self.start = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.progress(f"    ... {self.label} still running ({time.perf_counter() - self.start:.0f} s)")

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


FAULT_ENV = "QAPORT_FAIL_FORMAT"  # comma-separated format names made to fail (tests of failure handling)


def _convert_one(
    name: str, loaded: LoadedModel, stage: Path, dirs: dict[str, Path], fixed_length: int | None
) -> dict[str, Any]:
    if name in os.environ.get(FAULT_ENV, "").split(","):
        msg = f"failure injected by {FAULT_ENV}"
        raise RuntimeError(msg)
    fmt = FORMATS[name]
    target = dirs[name]
    target.mkdir(parents=True, exist_ok=True)
    main = target / fmt.main_file
    record: dict[str, Any] = {}
    if name == "savedmodel":
        savedmodel_export.export_savedmodel(loaded.model, target, fixed_length=fixed_length)
        sig = savedmodel_export.read_signature(target)
        record["output_names"] = {k: k for k in sig["outputs"]}
    elif name in ("tfjs", "tfjs-fp16"):
        sm_dir = dirs["savedmodel"]
        tfjs_export.export_tfjs(sm_dir, target, float16=name == "tfjs-fp16", log=stage / WORK_DIR / f"{name}.log")
        sig = tfjs_export.read_signature(target)
        record["output_names"] = tfjs_export.output_map(sm_dir)
    elif name == "onnx":
        onnx_export.export_onnx(loaded.model, main, fixed_length=fixed_length)
        sig = onnx_export.read_signature(main)
        record["output_names"] = {k: k for k in sig["outputs"]}
    elif name in onnx_int8.METHODS:  # the int8 variants (docs/int8.md)
        record["quantization"] = onnx_int8.build_int8(
            name,
            dirs["onnx"] / FORMATS["onnx"].main_file,
            main,
            work=stage / WORK_DIR,
            config=loaded.model.config,
            tokenizer_file=stage / "tokenizer.json",
        )
        sig = onnx_export.read_signature(main)
        record["output_names"] = {k: k for k in sig["outputs"]}
    else:  # pragma: no cover - the table and this function change together
        msg = f"no converter for {name}"
        raise NotImplementedError(msg)
    logical = sorted(record["output_names"].values())
    if logical != sorted(LOGICAL_OUTPUTS):
        msg = f"{name} outputs map to {logical}, expected {sorted(LOGICAL_OUTPUTS)}"
        raise ValueError(msg)
    record["signature"] = sig
    return record


def _files_of(name: str, stage: Path, dirs: dict[str, Path]) -> list[Path]:
    fmt = FORMATS[name]
    if fmt.kind == "onnx":  # onnx and its int8 variants share a directory: each lists only its own file
        return [dirs[name] / fmt.main_file]
    return sorted(p for p in dirs[name].rglob("*") if p.is_file())


def run_conversion(
    loaded: LoadedModel,
    out: Path,
    formats: list[str],
    *,
    fixed_length: int | None = None,
    progress: Progress = print,
) -> Conversion:
    """Convert ``loaded`` to ``formats`` into ``out``; ``out`` changes only if every format succeeded."""
    build = with_requirements(formats)
    results: list[FormatResult] = []
    with staged(out) as stage:
        (stage / WORK_DIR).mkdir()
        dirs = {n: (stage / FORMATS[n].directory if n in formats else stage / WORK_DIR / n) for n in build}
        loaded.tokenizer.save_pretrained(str(stage))
        loaded.model.config.save_pretrained(str(stage))
        for i, name in enumerate(build, start=1):
            req = FORMATS[name].requires
            if req and not next(r for r in results if r.name == req).ok:
                results.append(
                    FormatResult(name, ok=False, error=f"not converted: it is made from {req}, which failed")
                )
                progress(f"[{i}/{len(build)}] {name}: skipped ({req} failed)")
                continue
            progress(f"[{i}/{len(build)}] {name}: converting ...")
            start = time.perf_counter()
            try:
                with PeakMemory() as peak, _Heartbeat(progress, name):
                    record = _convert_one(name, loaded, stage, dirs, fixed_length)
                seconds = time.perf_counter() - start
                record.update(
                    {
                        "directory": FORMATS[name].directory,
                        "main_file": f"{FORMATS[name].directory}/{FORMATS[name].main_file}",
                        "precision": FORMATS[name].precision,
                        "description": FORMATS[name].description,
                        "reproducible": FORMATS[name].reproducible,
                        "reproducible_note": FORMATS[name].reproducible_note,
                        "conversion_seconds": round(seconds, 3),
                        "peak_rss_bytes": peak.bytes,
                        "files": file_entries(stage, _files_of(name, stage, dirs)),
                    }
                )
                result = FormatResult(name, True, seconds, peak.bytes, record=record)
                progress(
                    f"[{i}/{len(build)}] {name}: done in {seconds:.1f} s, "
                    f"{result.size_bytes / 1e6:.1f} MB, peak RSS {peak.bytes / 1e9:.2f} GB"
                )
            except (Exception, MemoryError) as exc:  # one format failing must not hide the others
                seconds = time.perf_counter() - start
                reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
                (stage / WORK_DIR / f"{name}.traceback").write_text(traceback.format_exc())
                result = FormatResult(name, False, seconds, error=reason[:400])
                progress(f"[{i}/{len(build)}] {name}: FAILED after {seconds:.1f} s: {reason[:200]}")
            results.append(result)
        failures = [r for r in results if not r.ok]
        if failures:
            return Conversion(out, results, published=False)
        shutil.rmtree(stage / WORK_DIR)
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "created_by": "qaport",
            "source": {
                **loaded.source.as_dict(),
                "weights_digest": weights_digest(loaded.model),
                "config": loaded.model.config.to_dict(),
                "gelu": gelu_note(loaded),
            },
            # what every consumer feeds: the model's inputs, its tokenizer family and special tokens
            "architecture": loaded.arch.as_manifest(),
            "tools": tool_versions(),
            "fixed_length": fixed_length,
            "files": file_entries(stage, [p for p in stage.iterdir() if p.is_file()]),
            "formats": {r.name: r.record for r in results if r.name in formats},
            # the npm client's options -> format (QAClient.fromOptions reads it; qaport.registry derives it)
            "client_formats": client_formats([r.name for r in results if r.name in formats]),
        }
        write_json_atomic(stage / MANIFEST, manifest)
        swap_into_place(stage, out)
    return Conversion(out, results, published=True, manifest=manifest)


def gelu_note(loaded: LoadedModel) -> str:
    """How the feed-forward activation was exported (the erf-GELU fix, or why it was not needed)."""
    if loaded.gelu_swapped:
        return f"erf form (swapped in {loaded.gelu_swapped} FFN layers)"
    act = getattr(loaded.config, loaded.arch.activation_key, None)
    return f"not swapped: the activation is {act!r}, which converts as it is"


def raise_for_failures(conv: Conversion) -> None:
    if conv.failures:
        lines = "; ".join(f"{r.name}: {r.error}" for r in conv.failures)
        msg = f"{len(conv.failures)} format(s) failed, {conv.out} left unchanged: {lines}"
        raise ConversionError(msg)

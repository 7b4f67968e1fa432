"""The one table of formats: every stage (convert, manifest, validate, report) reads it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from convert.errors import UsageError


@dataclass(frozen=True)
class Format:
    name: str
    directory: str  # relative to the artifact directory
    main_file: str  # relative to ``directory``
    precision: str  # float32 | float16 | int8
    requires: str | None  # a format whose output this one is converted from
    input_dtype: str
    reproducible: bool
    reproducible_note: str
    description: str


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "savedmodel",
            "savedmodel",
            "saved_model.pb",
            "float32",
            None,
            "int32",
            False,
            "saved_model.pb and variables/ are byte-identical between runs; fingerprint.pb differs by design "
            "(TensorFlow writes a fresh fingerprint per save), so the format as a whole is not",
            "TensorFlow SavedModel, signature serving_default",
        ),
        Format(
            "tfjs",
            "tfjs",
            "model.json",
            "float32",
            "savedmodel",
            "int32",
            True,
            "model.json is rewritten as canonical JSON (sorted keys) because protobuf map order varies",
            "TF.js graph model",
        ),
        Format(
            "tfjs-fp16",
            "tfjs-fp16",
            "model.json",
            "float16",
            "savedmodel",
            "int32",
            True,
            "as tfjs",
            "TF.js graph model, float16 weights",
        ),
        Format(
            "onnx",
            "onnx",
            "model.onnx",
            "float32",
            None,
            "int64",
            True,
            "graph nodes are saved in a canonical topological order because tf2onnx's order varies",
            "ONNX (tf2onnx), int64 inputs as transformers.js feeds them",
        ),
        Format(
            "onnx-int8",
            "onnx",
            "model_quantized.onnx",
            "int8",
            "onnx",
            "int64",
            True,
            "as onnx",
            "ONNX with dynamic 8-bit quantisation of the MatMul weights (int8, 7-bit range; transformers.js 'q8')",
        ),
    )
}

LOGICAL_OUTPUTS = ("start_logits", "end_logits")
INPUT_NAMES = ("input_ids", "attention_mask")


def parse_formats(text: str | None) -> list[str]:
    """``savedmodel,onnx`` -> names in table order; unknown names get a did-you-mean."""
    if not text:
        return list(FORMATS)
    wanted = [t.strip() for t in text.split(",") if t.strip()]
    for name in wanted:
        if name not in FORMATS:
            close = difflib.get_close_matches(name, FORMATS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            msg = f"unknown format {name!r}; {hint}available: {', '.join(FORMATS)}"
            raise UsageError(msg)
    return [n for n in FORMATS if n in wanted]


def with_requirements(names: list[str]) -> list[str]:
    """Formats to build, including those only needed as inputs (built but not published)."""
    needed = set(names)
    for name in names:
        req = FORMATS[name].requires
        while req:
            needed.add(req)
            req = FORMATS[req].requires
    return [n for n in FORMATS if n in needed]

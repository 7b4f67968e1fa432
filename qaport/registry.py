"""The one registry of formats and runtimes (after Optimum's per-model configs and Polygraphy's
loader/runner split). Every stage reads it: conversion (what to build and from what), the manifest,
validation (which runtimes prove each format), packaging (what ships, which targets must have passed)
and the npm client (``client_formats`` in the manifest maps its options to formats). The tables the
stages used to keep (TARGETS, SHIPPABLE, CLIENT_FORMATS, the loader kinds) are derived here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Runtime:
    """Where a format runs: one id, used by reports, benchmarks, CLI flags and the npm client."""

    id: str
    language: str  # python | node | browser (headless Chromium, driven by js/browser/runner.mjs)
    tfjs_backend: str | None  # the TF.js backend js/node/runtimes.mjs selects, for the tfjs kind
    description: str
    web_backend: str | None = None  # browser: the TF.js backend or onnxruntime-web execution provider

    @property
    def host(self) -> str:
        """Where the runtime's code runs: python, node or browser (the same as ``language``)."""
        return self.language


RUNTIMES: dict[str, Runtime] = {
    r.id: r
    for r in (
        Runtime("tensorflow", "python", None, "TensorFlow (Python), the SavedModel's serving signature"),
        Runtime("onnxruntime", "python", None, "onnxruntime (Python)"),
        Runtime("onnxruntime-node", "node", None, "onnxruntime-node"),
        Runtime("tfjs-wasm", "node", "wasm", "TF.js, wasm backend"),
        Runtime("tfjs-cpu", "node", "cpu", "TF.js, pure-JavaScript cpu backend (--tfjs-backend cpu)"),
        Runtime("tfjs-node", "node", "tensorflow", "TF.js on libtensorflow through @tensorflow/tfjs-node"),
        # In headless Chromium (js/browser/): the web runtimes a page uses, served from 127.0.0.1.
        Runtime("tfjs-wasm-web", "browser", None, "TF.js, wasm backend, in Chromium", "wasm"),
        Runtime("tfjs-webgl", "browser", None, "TF.js, WebGL backend, in Chromium", "webgl"),
        Runtime("tfjs-webgpu", "browser", None, "TF.js, WebGPU backend, in Chromium", "webgpu"),
        Runtime("onnxruntime-web", "browser", None, "onnxruntime-web, wasm execution provider, in Chromium", "wasm"),
        Runtime(
            "onnxruntime-web-webgpu",
            "browser",
            None,
            "onnxruntime-web, WebGPU execution provider, in Chromium",
            "webgpu",
        ),
    )
}


# The browser runtimes each web-deployable format is validated in.
WEB_TFJS = ("tfjs-wasm-web", "tfjs-webgl", "tfjs-webgpu")
WEB_ONNX = ("onnxruntime-web", "onnxruntime-web-webgpu")


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
    kind: str  # what js/node/runtimes.mjs loads: savedmodel | tfjs | onnx
    validated_in: tuple[str, ...]  # runtimes that must prove it: the ones its consumers use
    client: tuple[str, bool] | None  # QAClient.fromOptions({runtime, quantized}) that loads it, if it ships

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(f"{self.name}@{r}" for r in self.validated_in)

    @property
    def node_targets(self) -> tuple[str, ...]:
        """The targets that must have passed before the npm package ships this format."""
        return tuple(f"{self.name}@{r}" for r in self.validated_in if RUNTIMES[r].language == "node")


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
            kind="savedmodel",
            # tfjs-node: tf.node.loadSavedModel, the original DistilBERT + TF.js post's system
            validated_in=("tensorflow", "tfjs-node"),
            client=("savedmodel", False),
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
            kind="tfjs",
            validated_in=("tfjs-wasm", "tfjs-node", *WEB_TFJS),
            client=("tfjs", False),
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
            kind="tfjs",
            validated_in=("tfjs-wasm", "tfjs-node", *WEB_TFJS),
            client=("tfjs", True),
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
            kind="onnx",
            validated_in=("onnxruntime", "onnxruntime-node", *WEB_ONNX),
            client=("onnx", False),
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
            "ONNX int8, the shipped variant (docs/int8.md): onnxruntime's transformer fusions "
            "(Attention -> QAttention, SkipLayerNormalization, Gelu) with dynamic 8-bit weights "
            "(int8, 7-bit range; transformers.js 'q8')",
            kind="onnx",
            validated_in=("onnxruntime", "onnxruntime-node", *WEB_ONNX),
            client=("onnx", True),
        ),
        # The other int8 variants (convert/onnx_int8.py METHODS): validated in Python onnxruntime, where the
        # choice between them is measured; not shipped in the npm package.
        Format(
            "onnx-int8-dynamic",
            "onnx",
            "model_int8_dynamic.onnx",
            "int8",
            "onnx",
            "int64",
            True,
            "as onnx",
            "ONNX with dynamic 8-bit quantisation of the MatMul weights of the unfused tf2onnx graph "
            "(int8, 7-bit range; qaport's onnx-int8 until issue 27)",
            kind="onnx",
            validated_in=("onnxruntime",),
            client=None,
        ),
        Format(
            "onnx-int8-static",
            "onnx",
            "model_int8_static.onnx",
            "int8",
            "onnx",
            "int64",
            True,
            "as onnx",
            "ONNX with static (calibrated) QDQ int8 MatMuls of the fused graph: uint8 activations, "
            "per-channel int8 weights in a 7-bit range; calibrated on the corpus generator's training-style text",
            kind="onnx",
            validated_in=("onnxruntime",),
            client=None,
        ),
    )
}

# Derived tables: format -> runtimes it is validated in; format -> runtimes.mjs loader kind.
TARGETS: dict[str, tuple[str, ...]] = {f.name: f.validated_in for f in FORMATS.values()}
NODE_KIND: dict[str, str] = {f.name: f.kind for f in FORMATS.values()}
# format -> the Node.js targets that must have passed for the npm package to ship it
SHIPPABLE: dict[str, tuple[str, ...]] = {f.name: f.node_targets for f in FORMATS.values() if f.client}


def client_formats(formats: list[str] | tuple[str, ...]) -> dict[str, dict[str, str]]:
    """The npm client's map runtime -> {"false"|"true" (quantized): format}, for the given formats."""
    out: dict[str, dict[str, str]] = {}
    for name in formats:
        client = FORMATS[name].client
        if client is not None:
            runtime, quantized = client
            out.setdefault(runtime, {})[str(quantized).lower()] = name
    return out

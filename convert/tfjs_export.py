"""SavedModel -> TF.js graph model (float32 or float16 weights) with tensorflowjs_converter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SHARD_BYTES = 4 * 1024 * 1024


class ConverterFailed(RuntimeError):
    pass


def export_tfjs(sm_dir: Path, out_dir: Path, *, float16: bool = False, log: Path | None = None) -> None:
    """Run the official converter in a child process (its peak memory and crashes stay separate)."""
    cmd = [
        sys.executable,
        "-m",
        "tensorflowjs.converters.converter",
        "--input_format=tf_saved_model",
        "--output_format=tfjs_graph_model",
        "--signature_name=serving_default",
        "--saved_model_tags=serve",
        f"--weight_shard_size_bytes={SHARD_BYTES}",
    ]
    if float16:
        cmd.append("--quantize_float16=*")
    cmd += [str(sm_dir), str(out_dir)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if log is not None:
        log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not (out_dir / "model.json").is_file():
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        reason = next((ln for ln in reversed(lines) if "Error" in ln or "error" in ln), lines[-1] if lines else "")
        msg = f"tensorflowjs_converter exited {proc.returncode}: {reason.strip()[:300]}"
        raise ConverterFailed(msg)
    canonicalize_model_json(out_dir / "model.json")


def canonicalize_model_json(path: Path) -> None:
    """Sorted keys: protobuf map order inside node ``attr`` varies between runs; TF.js ignores order."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")), encoding="utf-8")


def output_map(sm_dir: Path) -> dict[str, str]:
    """TF.js output node name -> logical output name.

    The converter freezes the signature's concrete function and keeps the names of its output
    tensors (Identity, Identity_1, ...); we read which logical output each name carries from the
    function itself instead of assuming an order. Validation in TF.js then proves the mapping.
    """
    import tensorflow as tf

    fn = tf.saved_model.load(str(sm_dir)).signatures["serving_default"]
    names = [t.name.split(":")[0] for t in fn.outputs]
    packed = tf.nest.pack_sequence_as(fn.structured_outputs, list(range(len(names))))
    return {names[i]: key for key, i in sorted(packed.items())}


def read_signature(tfjs_dir: Path) -> dict[str, Any]:
    """Inputs/outputs as declared in model.json, plus weight dtypes (float16 shows here)."""
    doc = json.loads((tfjs_dir / "model.json").read_text(encoding="utf-8"))
    sig = doc.get("signature", {})

    def side(tensors: dict[str, Any]) -> dict[str, Any]:
        return {
            key.split(":")[0]: {
                "name": info["name"],
                "dtype": {"DT_INT32": "int32", "DT_FLOAT": "float32", "DT_INT64": "int64"}.get(
                    info["dtype"], info["dtype"]
                ),
                "shape": [int(d.get("size", -1)) for d in info.get("tensorShape", {}).get("dim", [])],
            }
            for key, info in sorted(tensors.items())
        }

    weight_dtypes = sorted(
        {w.get("quantization", {}).get("dtype", w["dtype"]) for g in doc["weightsManifest"] for w in g["weights"]}
    )
    return {
        "inputs": side(sig.get("inputs", {})),
        "outputs": side(sig.get("outputs", {})),
        "weight_dtypes": weight_dtypes,
        "format": doc.get("format"),
        "converted_by": doc.get("convertedBy"),
    }

"""SavedModel -> TF.js graph model (float32 or float16 weights) with tensorflowjs_converter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

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
    # oneDNN off in the converter whatever the caller's setting: with it, grappler fuses layer norms into
    # _MklLayerNorm, an op TF.js does not have, and the conversion fails
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0"}
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if log is not None:
        log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not (out_dir / "model.json").is_file():
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        reason = next((ln for ln in reversed(lines) if "Error" in ln or "error" in ln), lines[-1] if lines else "")
        msg = f"tensorflowjs_converter exited {proc.returncode}: {reason.strip()[:300]}"
        raise ConverterFailed(msg)
    canonicalize_model_json(out_dir / "model.json")
    if float16:
        clamp_float16_overflow(out_dir)


FLOAT16_MAX = np.float16(65504.0)


def clamp_float16_overflow(tfjs_dir: Path) -> list[str]:
    """float16 weights that overflowed to +-inf -> +-65504.

    DistilBERT masks attention with ``scores - 1e30 * (1 - mask)``; 1e30 is inf in float16 and
    inf * 0 is NaN for every unmasked position. 65504 still masks (exp(-65504) == 0).
    """
    doc = json.loads((tfjs_dir / "model.json").read_text(encoding="utf-8"))
    clamped: list[str] = []
    for group in doc["weightsManifest"]:
        paths = [tfjs_dir / p for p in group["paths"]]
        data = bytearray(b"".join(p.read_bytes() for p in paths))
        offset, changed = 0, False
        for w in group["weights"]:
            count = int(np.prod(w["shape"], dtype=np.int64))
            q = w.get("quantization")
            fp16 = bool(q) and q.get("dtype") == "float16"
            nbytes = count * (2 if fp16 else 1 if q else 4)
            if fp16:
                arr = np.frombuffer(data, dtype="<f2", count=count, offset=offset).copy()
                bad = np.isinf(arr)
                if bad.any():
                    arr[bad] = np.copysign(FLOAT16_MAX, arr[bad])
                    data[offset : offset + nbytes] = arr.astype("<f2").tobytes()
                    clamped.append(w["name"])
                    changed = True
            offset += nbytes
        if changed:
            start = 0
            for p in paths:
                size = p.stat().st_size
                p.write_bytes(bytes(data[start : start + size]))
                start += size
    return clamped


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

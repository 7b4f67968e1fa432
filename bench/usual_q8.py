"""The q8 file transformers.js users actually load: the usual conversion recipe, applied to qaport's float32 ONNX.

Models on the Hub for transformers.js are converted by its ``scripts/convert.py --quantize``, which calls
``scripts/quantize.py`` (read in huggingface/transformers.js, scripts/quantize.py and scripts/convert.py):
- ``per_channel`` and ``reduce_range`` default to True for every model type outside
  ``NO_PER_CHANNEL_REDUCE_RANGE_MODELS`` (decoder-only and a few speech/vision models; DistilBERT, BERT,
  RoBERTa, MobileBERT and ALBERT are not in it);
- mode q8 (file ``model_quantized.onnx``): ``ONNXQuantizer(model, per_channel, reduce_range,
  mode=QuantizationMode.IntegerOps, static=False, weight_qType=QInt8 (QUInt8 only when the graph has a
  Conv, GroupQueryAttention or MultiHeadAttention op), activation_qType=QUInt8, op_types_to_quantize=
  IntegerOpsRegistry's keys (MatMul and the embedding Gather among them), extra_options={EnableSubgraph:
  True, MatMulConstBOnly: True})``, dynamic quantisation.
Not reproduced: its Optimum export and onnxslim pass (this file is made from qaport's own float32 ONNX,
so the two int8 files differ only by the quantisation recipe).

The file is built once per float32 model and cached beside the artifact directory, as a transformers.js
local model directory ``<artifacts>/<name>.tjs-q8-usual/`` (config and tokenizer files copied,
``onnx/model_quantized.onnx``) with ``usual_q8.json`` recording the recipe, the onnxruntime version and
both files' sha256; it is rebuilt when the source's sha256 changes, and written atomically (built in a
temporary directory beside it, then renamed into place).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from qaport.manifest import sha256_file

SUFFIX = ".tjs-q8-usual"
RECORD = "usual_q8.json"
MODEL = "onnx/model_quantized.onnx"
COPIED = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
QUINT8_OPS = ("Conv", "GroupQueryAttention", "MultiHeadAttention")  # transformers.js' QUINT8_OPS
RECIPE = {
    "source": "huggingface/transformers.js scripts/convert.py --quantize + scripts/quantize.py, mode q8",
    "mode": "IntegerOps (dynamic)",
    "per_channel": True,
    "reduce_range": True,
    "activation_type": "QUInt8",
    "weight_type": "QInt8 unless the graph has Conv, GroupQueryAttention or MultiHeadAttention (then QUInt8)",
    "op_types_to_quantize": "onnxruntime.quantization.registry.IntegerOpsRegistry keys",
    "extra_options": {"EnableSubgraph": True, "MatMulConstBOnly": True},
    "not_reproduced": "Optimum's export and onnxslim: built from qaport's own float32 ONNX",
}


def directory(root: Path) -> Path:
    return root.parent / f"{root.name}{SUFFIX}"


def _operators(graph: Any) -> set[str]:
    import onnx

    ops = set()
    for node in graph.node:
        ops.add(node.op_type)
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                ops |= _operators(attr.g)
    return ops


def quantize(src: Path, dst: Path) -> dict[str, Any]:
    """transformers.js' q8 recipe on ``src`` (float32 ONNX) into ``dst``; returns what was chosen."""
    import onnx
    from onnxruntime.quantization import QuantizationMode, QuantType
    from onnxruntime.quantization.onnx_quantizer import ONNXQuantizer
    from onnxruntime.quantization.registry import IntegerOpsRegistry

    model = onnx.load_model(str(src))
    weight = QuantType.QUInt8 if _operators(model.graph) & set(QUINT8_OPS) else QuantType.QInt8
    quantizer = ONNXQuantizer(
        model,
        True,  # per_channel
        True,  # reduce_range
        QuantizationMode.IntegerOps,
        False,  # static
        weight,
        QuantType.QUInt8,
        None,
        [],
        [],
        list(IntegerOpsRegistry.keys()),
        {"EnableSubgraph": True, "MatMulConstBOnly": True},
    )
    quantizer.quantize_model()
    onnx.save_model(quantizer.model.model, str(dst))
    return {"weight_type": weight.name, "op_types": sorted(IntegerOpsRegistry.keys())}


def _valid(record: dict[str, Any], src_sha: str, model: Path) -> bool:
    return record.get("source_sha256") == src_sha and model.is_file() and record.get("sha256") == sha256_file(model)


def prepare(root: Path, src_rel: str = "onnx/model.onnx") -> tuple[Path, dict[str, Any]]:
    """The usual q8 model directory for the artifacts in ``root`` (built if missing or stale) and its record."""
    import onnxruntime

    src = root / src_rel
    src_sha = sha256_file(src)
    target = directory(root)
    try:
        record: dict[str, Any] = json.loads((target / RECORD).read_text())
        if _valid(record, src_sha, target / MODEL):
            return target, {**record, "cached": True}
    except (OSError, ValueError):
        pass
    start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name in COPIED:
            if (root / name).is_file():
                shutil.copy2(root / name, tmp / name)
        (tmp / "onnx").mkdir()
        chosen = quantize(src, tmp / MODEL)
        record = {
            "recipe": RECIPE,
            "chosen": chosen,
            "onnxruntime": onnxruntime.__version__,
            "source": str(src),
            "source_sha256": src_sha,
            "file": MODEL,
            "sha256": sha256_file(tmp / MODEL),
            "bytes": (tmp / MODEL).stat().st_size,
            "build_seconds": round(time.perf_counter() - start, 1),
        }
        (tmp / RECORD).write_text(json.dumps(record, indent=1) + "\n")
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old.{os.getpid()}")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target, {**record, "cached": False}


def logits(model_dir: Path, encoded: dict[str, Any], output_names: dict[str, str]) -> dict[str, Any]:
    """Start/end logits of the usual q8 file on onnxruntime (Python), per question.

    ``encoded``: {id: (input_ids, attention_mask, token_type_ids or None)}, batch-shaped;
    ``output_names``: the manifest's map of the float32 ONNX file's output names to logical names.
    """
    import numpy as np
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = os.cpu_count() or 1
    session = ort.InferenceSession(str(model_dir / MODEL), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    logical = {n: output_names.get(n, n) for n in names}
    inputs = {i.name for i in session.get_inputs()}
    out = {}
    for qid, (ids, mask, types) in encoded.items():
        given = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        feeds = {k: np.asarray(given[k], np.int64) for k in inputs}
        got = {logical[n]: v for n, v in zip(names, session.run(names, feeds), strict=True)}
        out[qid] = {"start": got["start_logits"].tolist(), "end": got["end_logits"].tolist()}
    return out

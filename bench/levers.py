"""The levers of the issue, each measured on the model call in onnxruntime (one worker process).

Each lever is timed against its own baseline in the same process and minute: padding to 384, one
batched call for all windows, session threads and optimisation level, int8, BERT fusions, where the
time of a 384-token call goes (profile by op type), and what caching the session and tokenizer saves.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from bench import flops

LEVELS = ("ORT_DISABLE_ALL", "ORT_ENABLE_BASIC", "ORT_ENABLE_EXTENDED", "ORT_ENABLE_ALL")


def physical_cores() -> int:
    return psutil.cpu_count(logical=False) or psutil.cpu_count() or 1


def session(path: Path, threads: int | None = None, level: str = "ORT_ENABLE_ALL", profile: str | None = None) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or physical_cores()
    opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    if profile:
        opts.enable_profiling = True
        opts.profile_file_prefix = profile
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _feeds(sess: Any, ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    types = {i.name: np.int32 if i.type == "tensor(int32)" else np.int64 for i in sess.get_inputs()}
    return {"input_ids": ids.astype(types["input_ids"]), "attention_mask": mask.astype(types["attention_mask"])}


def call_ms(sess: Any, ids: np.ndarray, mask: np.ndarray, warmup: int, runs: int) -> float:
    """Median milliseconds of one model call after ``warmup`` calls."""
    feeds = _feeds(sess, ids, mask)
    for _ in range(warmup):
        sess.run(None, feeds)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(times))


def pad(ids: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pad a batch to ``width`` with a mask on the real tokens (the post's fixed 384 inputs)."""
    rows, have = ids.shape
    out = np.zeros((rows, width), np.int32)
    out[:, :have] = ids
    mask = np.zeros((rows, width), np.int32)
    mask[:, :have] = ids != 0
    return out, mask


def reduce_mean_rewrite(src: Path, dst: Path) -> int:
    """tf2onnx writes LayerNorm's mean over the last axis of a 3-D tensor as GlobalAveragePool; the
    fusers look for ReduceMean. Same function, so swapping the op lets LayerNorm fusions match."""
    import onnx
    from onnx import helper

    model = onnx.load(str(src))
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)
    count = 0
    for i, node in enumerate(list(model.graph.node)):
        if node.op_type != "GlobalAveragePool":
            continue
        if opset >= 18:
            axes = helper.make_tensor(f"{node.name}/axes", onnx.TensorProto.INT64, [1], [-1])
            model.graph.initializer.append(axes)
            new = helper.make_node("ReduceMean", [node.input[0], axes.name], list(node.output), name=node.name)
        else:
            new = helper.make_node("ReduceMean", [node.input[0]], list(node.output), name=node.name, axes=[-1])
        new.attribute.append(helper.make_attribute("keepdims", 1))
        model.graph.node.remove(node)
        model.graph.node.insert(i, new)
        count += 1
    onnx.save(model, str(dst))
    return count


def bert_fusions(src: Path, dst: Path, arch: flops.Architecture) -> dict[str, int]:
    """onnxruntime.transformers' BERT fusions (opt_level 0: higher levels import torch)."""
    from onnxruntime.transformers.optimizer import optimize_model

    model = optimize_model(str(src), model_type="bert", num_heads=arch.heads, hidden_size=arch.dim, opt_level=0)
    model.save_model_to_file(str(dst))
    return {k: int(v) for k, v in model.get_fused_operator_statistics().items() if v}


def sequence(length: int, vocab: int) -> tuple[np.ndarray, np.ndarray]:
    """One full window of ``length`` ordinary token ids (above the special tokens, below the vocab)."""
    ids = np.arange(length, dtype=np.int32)[None, :] % max(1, min(vocab - 200, 1000)) + 200
    return ids, np.ones_like(ids)


def profile_384(
    path: Path, arch: flops.Architecture, at384: tuple[np.ndarray, np.ndarray], tmp: Path, runs: int
) -> dict[str, Any]:
    """Share of a 384-token call per op type, and the rate the MatMuls alone reach."""
    sess = session(path, profile=str(tmp / "ort_profile"))
    call_ms(sess, *at384, 2, runs)
    events = json.loads(Path(sess.end_profiling()).read_text())
    by_op: dict[str, float] = defaultdict(float)
    for ev in events:
        if ev.get("cat") == "Node" and str(ev.get("name", "")).endswith("_kernel_time"):
            by_op[ev.get("args", {}).get("op_name", "?")] += float(ev.get("dur", 0))
    total = sum(by_op.values()) or 1.0
    shares = {k: v / total for k, v in sorted(by_op.items(), key=lambda kv: -kv[1])}
    matmul_ms = by_op.get("MatMul", 0.0) / 1000.0 / (runs + 2)
    return {
        "op_time_share": {k: round(v, 4) for k, v in list(shares.items())[:8]},
        "matmul_share": shares.get("MatMul", 0.0),
        "matmul_ms_per_call": matmul_ms,
        "matmul_gflops": flops.sequence_flops(arch, 384) / (matmul_ms / 1000.0) / 1e9 if matmul_ms else None,
    }


def measure(job: dict[str, Any]) -> dict[str, Any]:
    from tokenizers import Tokenizer

    from qaport import decode
    from qaport.manifest import load_manifest

    root = Path(job["dir"])
    manifest = load_manifest(root)
    arch = flops.Architecture.from_config(manifest["source"]["config"])
    runs = int(job["runs"])
    fp32 = root / manifest["formats"]["onnx"]["main_file"]
    int8 = root / manifest["formats"]["onnx-int8"]["main_file"] if "onnx-int8" in manifest["formats"] else None
    short, long = job["short"], job["long"]

    t0 = time.perf_counter()
    tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
    tokenizer_ms = (time.perf_counter() - t0) * 1000.0
    enc_short = decode.encode(tokenizer, short["question"], short["context"])
    enc_long = decode.encode(tokenizer, long["question"], long["context"])
    t0 = time.perf_counter()
    base = session(fp32)
    session_ms = (time.perf_counter() - t0) * 1000.0
    at384 = sequence(384, int(manifest["source"]["config"]["vocab_size"]))
    out: dict[str, Any] = {"architecture": arch.as_dict(), "threads_default": physical_cores()}

    s_ids, s_mask = enc_short.input_ids, enc_short.attention_mask
    padded = pad(s_ids, 384)
    out["padding"] = {
        "tokens": int(s_ids.shape[1]),
        "dynamic_ms": call_ms(base, s_ids, s_mask, 2, runs),
        "padded_384_ms": call_ms(base, padded[0], padded[1], 2, runs),
    }
    rows = [np.asarray(w.input_ids, np.int32)[None, :] for w in enc_long.windows]
    out["batching"] = {
        "windows": len(rows),
        "window_tokens": [int(r.shape[1]) for r in rows],
        "batched_ms": call_ms(base, enc_long.input_ids, enc_long.attention_mask, 1, max(2, runs // 2)),
        "per_window_ms": sum(call_ms(base, r, np.ones_like(r), 1, max(2, runs // 2)) for r in rows),
    }
    out["threads"] = {
        str(n): call_ms(session(fp32, threads=n), *at384, 2, runs)
        for n in sorted({1, physical_cores(), psutil.cpu_count() or 1})
    }
    out["opt_level"] = {lvl: call_ms(session(fp32, level=lvl), *at384, 2, runs) for lvl in LEVELS}
    out["at_384"] = {
        "fp32_ms": out["opt_level"]["ORT_ENABLE_ALL"],
        "gflop": flops.sequence_flops(arch, 384) / 1e9,
        "architecture": arch.as_dict(),
    }
    if int8 is not None:
        q = session(int8)
        out["int8"] = {
            "fp32_384_ms": out["at_384"]["fp32_ms"],
            "int8_384_ms": call_ms(q, *at384, 2, runs),
            "fp32_short_ms": out["padding"]["dynamic_ms"],
            "int8_short_ms": call_ms(q, s_ids, s_mask, 2, runs),
        }
        out["batching_int8"] = {
            "batched_ms": call_ms(q, enc_long.input_ids, enc_long.attention_mask, 1, max(2, runs // 2)),
            "per_window_ms": sum(call_ms(q, r, np.ones_like(r), 1, max(2, runs // 2)) for r in rows),
        }
    with tempfile.TemporaryDirectory(prefix="qaport-bench-") as tmp_name:
        tmp = Path(tmp_name)
        out["profile_384"] = profile_384(fp32, arch, at384, tmp, runs)
        out["fusions"] = _fusions(fp32, arch, tmp, base, at384, (s_ids, s_mask), runs)
    out["caching"] = {
        "session_create_ms": session_ms,
        "tokenizer_load_ms": tokenizer_ms,
        **_overhead(tokenizer, base, short, runs),
    }
    return out


def _overhead(tokenizer: Any, sess: Any, short: dict[str, str], runs: int) -> dict[str, float]:
    """What an answer costs besides the model call: tokenising and decoding (Python), medians."""
    from qaport import decode

    enc = decode.encode(tokenizer, short["question"], short["context"])
    start, end = _logits(sess, enc.input_ids, enc.attention_mask)

    def median_ms(fn: Any) -> float:
        times = []
        for _ in range(max(runs, 5)):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000.0)
        return float(np.median(times))

    return {
        "tokenise_ms": median_ms(lambda: decode.encode(tokenizer, short["question"], short["context"])),
        "decode_ms": median_ms(lambda: decode.decode(enc, start, end, short["context"])),
    }


def _logits(sess: Any, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    names = [o.name for o in sess.get_outputs()]
    values = dict(zip(names, sess.run(names, _feeds(sess, ids, mask)), strict=True))
    return values["start_logits"], values["end_logits"]


def _fusions(
    fp32: Path,
    arch: flops.Architecture,
    tmp: Path,
    base: Any,
    at384: tuple[np.ndarray, np.ndarray],
    short: tuple[np.ndarray, np.ndarray],
    runs: int,
) -> dict[str, Any]:
    """Do BERT fusions apply to the tf2onnx graph as written, and after the ReduceMean rewrite?"""
    as_written = bert_fusions(fp32, tmp / "fused.onnx", arch)
    rewritten = tmp / "reduce_mean.onnx"
    swapped = reduce_mean_rewrite(fp32, rewritten)
    after = bert_fusions(rewritten, tmp / "reduce_mean_fused.onnx", arch)
    fused = session(tmp / "reduce_mean_fused.onnx")
    ref = _logits(base, *at384)
    got = _logits(fused, *at384)
    return {
        "as_written": as_written,
        "global_average_pools_rewritten": swapped,
        "after_reduce_mean_rewrite": after,
        "max_abs_logit_diff_384": float(max(np.abs(r - g).max() for r, g in zip(ref, got, strict=True))),
        "fused_384_ms": call_ms(fused, *at384, 2, runs),
        "fused_short_ms": call_ms(fused, *short, 2, runs),
        "unfused_384_ms": call_ms(base, *at384, 2, runs),
        "unfused_short_ms": call_ms(base, *short, 2, runs),
    }

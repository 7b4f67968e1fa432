"""The machine's float32 and int8 matmul peaks, measured in the same run as the latencies (never assumed).

float32: two engines on all cores, numpy's BLAS (OpenBLAS here) and onnxruntime's MLAS MatMul, on
square products large enough to amortise packing, plus the model's own FFN shape (384 x 768 x 3072)
for scale. The peak is the best median over the square products: what a perfectly efficient runtime
could reach on this machine in this minute.

int8: the kernel the int8 model runs. A one-MatMul float graph with a constant weight goes through the
project's own ``convert.onnx_export.quantize_int8`` (signed 7-bit weights, dynamic u8 activations:
DynamicQuantizeLinear -> MatMulInteger -> scale, which onnxruntime fuses as it does in the model), so
signedness, range and fusion are the int8 model's. Counted like float32: 2 ops per multiply-add.

Beside the peaks, the CPU's int8 features (``cpu_int8_features``, from /proc/cpuinfo's flags): which
instructions MLAS can use for the int8 kernel on this machine (AVX2's 16-bit products saturate on u8 x s8
with 8-bit weights, hence the 7-bit weights; AVX-512 VNNI / AVX-VNNI multiply-accumulate without
saturating; AMX's tiles are faster still where a runtime uses them). The CPU under a run changes between
days, so a peak is read with the features it was measured on.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

# (label, /proc/cpuinfo flags that must all be present)
INT8_FEATURES = (
    ("AVX2", ("avx2",)),
    ("AVX-512 (F/BW/VL)", ("avx512f", "avx512bw", "avx512vl")),
    ("AVX512-VNNI", ("avx512_vnni",)),
    ("AVX-VNNI", ("avx_vnni",)),
    ("AMX-INT8", ("amx_tile", "amx_int8")),
)


def cpu_int8_features(cpuinfo: str | None = None) -> dict[str, Any]:
    """The int8-relevant instruction sets of this CPU, from /proc/cpuinfo's ``flags`` (first processor).

    ``features``: label -> present; ``summary``: the present ones, comma-separated ("none" or "unknown").
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return {"features": {}, "summary": "unknown (no /proc/cpuinfo)", "model": None}
    flags: set[str] = set()
    model = None
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("flags", "Features") and not flags:
            flags = set(value.split())
        elif key == "model name" and model is None:
            model = value.strip()
    if not flags:
        return {"features": {}, "summary": "unknown (no flags in /proc/cpuinfo)", "model": model}
    features = {label: all(f in flags for f in need) for label, need in INT8_FEATURES}
    summary = ", ".join(label for label, have in features.items() if have) or "none"
    return {"features": features, "summary": summary, "model": model}


def _median_gflops(fn: Any, flop: float, warmup: int, runs: int) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return flop / float(np.median(times)) / 1e9


def _ort_matmul(m: int, k: int, n: int) -> Any:
    import onnxruntime as ort
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])],
        "matmul",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [m, k]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [k, n]),
        ],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [m, n])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = min(model.ir_version, 9)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = os.cpu_count() or 1
    session = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {"a": rng.random((m, k), dtype=np.float32), "b": rng.random((k, n), dtype=np.float32)}
    return lambda: session.run(None, feeds)


def _ort_int8_matmul(m: int, k: int, n: int, tmp: Path) -> Any:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from convert.onnx_export import quantize_int8

    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array((rng.standard_normal((k, n)) * 0.05).astype(np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])],
        "matmul",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [m, n])],
        initializer=[weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = min(model.ir_version, 9)
    src, dst = tmp / f"fp32_{m}x{k}x{n}.onnx", tmp / f"int8_{m}x{k}x{n}.onnx"
    onnx.save(model, str(src))
    quantize_int8(src, dst)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = os.cpu_count() or 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(dst), opts, providers=["CPUExecutionProvider"])
    feeds = {"a": rng.standard_normal((m, k)).astype(np.float32)}
    return lambda: session.run(None, feeds)


def measure_int8(runs: int) -> dict[str, Any]:
    """Ops/s of the int8 model's own matmul kernel (dynamic quantisation included), all cores."""
    with tempfile.TemporaryDirectory(prefix="qaport-peak-") as name:
        tmp = Path(name)
        square = {
            f"onnxruntime int8 {n}^3": _median_gflops(_ort_int8_matmul(n, n, n, tmp), 2.0 * n**3, 2, runs)
            for n in (1024, 2048)
        }
        shape = _median_gflops(_ort_int8_matmul(384, 768, 3072, tmp), 2.0 * 384 * 768 * 3072, 3, runs * 2)
    best = max(square, key=lambda k: square[k])
    return {
        "int8_peak_gops": square[best],
        "int8_peak_source": best,
        "int8_square": square,
        "int8_model_shape": {"onnxruntime int8 384x768x3072": shape},
        "int8_kernel": "DynamicQuantizeLinear + MatMulInteger (u8 activations x s8 7-bit weights), fused",
    }


def measure(quick: bool = False) -> dict[str, Any]:
    """GFLOP/s of float32 matmuls (``peak_gflops``: the best square one) and the int8 kernel's (``int8_peak_gops``)."""
    runs = 5 if quick else 15
    rng = np.random.default_rng(0)
    results: dict[str, float] = {}
    for n in (1024, 2048):
        a = rng.random((n, n), dtype=np.float32)
        b = rng.random((n, n), dtype=np.float32)
        results[f"numpy {n}^3"] = _median_gflops(lambda a=a, b=b: a @ b, 2.0 * n**3, 2, runs)
        results[f"onnxruntime {n}^3"] = _median_gflops(_ort_matmul(n, n, n), 2.0 * n**3, 2, runs)
    a = rng.random((384, 768), dtype=np.float32)
    b = rng.random((768, 3072), dtype=np.float32)
    model_shape = {
        "numpy 384x768x3072": _median_gflops(lambda: a @ b, 2.0 * 384 * 768 * 3072, 3, runs * 2),
        "onnxruntime 384x768x3072": _median_gflops(_ort_matmul(384, 768, 3072), 2.0 * 384 * 768 * 3072, 3, runs * 2),
    }
    best = max(results, key=lambda k: results[k])
    return {
        "peak_gflops": results[best],
        "peak_source": best,
        "square": results,
        "model_shape": model_shape,
        "threads": os.cpu_count(),
        "numpy_blas": _blas_name(),
        "cpu_int8_features": cpu_int8_features(),
        **measure_int8(runs),
    }


def _blas_name() -> str:
    show: Any = np.show_config
    try:
        blas = show(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except (TypeError, KeyError):
        return "unknown"

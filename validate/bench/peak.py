"""The machine's float32 matmul peak, measured in the same run as the latencies (never assumed).

Two engines on all cores: numpy's BLAS (OpenBLAS here) and onnxruntime's MLAS MatMul, on square
products large enough to amortise packing, plus the model's own FFN shape (384 x 768 x 3072) for
scale. The peak is the best median over the square products: what a perfectly efficient runtime
could reach on this machine in this minute.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np


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


def measure(quick: bool = False) -> dict[str, Any]:
    """GFLOP/s of float32 matmuls; ``peak_gflops`` is the best of the square ones."""
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
    }


def _blas_name() -> str:
    show: Any = np.show_config
    try:
        blas = show(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except (TypeError, KeyError):
        return "unknown"

"""Latency summaries: medians and percentiles over repeated runs, never one run."""

from __future__ import annotations

import numpy as np


def summarize(times_ms: list[float]) -> dict[str, float | int]:
    if not times_ms:
        return {"runs": 0}
    arr = np.asarray(times_ms, dtype=np.float64)
    return {
        "runs": int(arr.size),
        "p50_ms": float(np.percentile(arr, 50)),
        "p95_ms": float(np.percentile(arr, 95)),
        "min_ms": float(arr.min()),
        "mean_ms": float(arr.mean()),
    }

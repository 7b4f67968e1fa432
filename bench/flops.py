"""Model FLOPs of a DistilBERT forward pass as a function of its shape and the tokens it runs.

Why count them: efficiency (FLOPs run / measured time / measured matmul peak) separates "slow because
of the work done" (padding, overlapping windows) from "slow because of how it is done" (op overhead,
unfused kernels, one thread). Convention: 2 FLOPs per multiply-add, matrix products only, which is
what a matmul peak can be compared with. Softmax, LayerNorm, GELU and residual adds are counted apart
(``elementwise_flops``): they are O(seq * dim), a few percent of the total, and bound by memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Architecture:
    layers: int
    dim: int
    hidden: int
    heads: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Architecture:
        """From a DistilBertConfig dict (manifest ``source.config``)."""
        return cls(int(config["n_layers"]), int(config["dim"]), int(config["hidden_dim"]), int(config["n_heads"]))

    def as_dict(self) -> dict[str, int]:
        return {"layers": self.layers, "dim": self.dim, "hidden": self.hidden, "heads": self.heads}


def layer_breakdown(dim: int, hidden: int, heads: int, seq_len: int) -> dict[str, int]:
    """Matmul FLOPs of one transformer block on one sequence of ``seq_len`` tokens, by part."""
    if min(dim, hidden, heads, seq_len) < 1 or dim % heads:
        msg = f"bad shape: dim={dim} hidden={hidden} heads={heads} seq_len={seq_len} (dim must divide by heads)"
        raise ValueError(msg)
    s = seq_len
    return {
        "qkv_out_projections": 2 * s * dim * dim * 4,
        # per head (s x d/h) @ (d/h x s), then (s x s) @ (s x d/h); summed over heads the head size cancels
        "attention_scores": 2 * s * s * dim,
        "attention_context": 2 * s * s * dim,
        "ffn": 2 * s * dim * hidden * 2,
    }


def flops(layers: int, dim: int, hidden: int, heads: int, seq_len: int) -> int:
    """Matmul FLOPs of the whole QA model on one sequence: ``layers`` blocks plus the 2-logit QA head."""
    per_layer = sum(layer_breakdown(dim, hidden, heads, seq_len).values())
    return layers * per_layer + 2 * seq_len * dim * 2


def elementwise_flops(layers: int, dim: int, hidden: int, heads: int, seq_len: int) -> int:
    """Rough non-matmul work (softmax ~5/score, LayerNorm ~8/element x2, GELU ~8/element, 2 residual adds)."""
    s = seq_len
    per_layer = 5 * heads * s * s + 2 * 8 * s * dim + 8 * s * hidden + 2 * s * dim
    return layers * per_layer + 8 * s * dim  # + embedding LayerNorm


def sequence_flops(arch: Architecture, seq_len: int) -> int:
    return flops(arch.layers, arch.dim, arch.hidden, arch.heads, seq_len)


def batch_flops(arch: Architecture, rows: int, width: int) -> int:
    """One batched call: every row runs the full padded width (masked positions cost the same)."""
    return rows * sequence_flops(arch, width)


def windows_flops(arch: Architecture, lengths: Iterable[int]) -> int:
    """One call per window at its own length, as transformers' pipeline runs them (no padding)."""
    return sum(sequence_flops(arch, n) for n in lengths)

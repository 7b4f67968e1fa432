"""Fused and calibrated int8 ONNX variants (issue 27; measurements and the decision: docs/int8.md).

tf2onnx writes DistilBERT's graph in a form onnxruntime's transformer fusions do not recognise: every
projection is ``Reshape(x, [-1, D]) -> MatMul -> Reshape(back to [B, S, K]) -> Add(bias)``, every
LayerNorm is spelled out with ``GlobalAveragePool`` (mean over the last axis of a 3-D tensor), Sqrt and
Reciprocal, and attention is Reshape/Transpose/MatMul/Softmax with a float additive mask. At run time
onnxruntime fuses only Gelu there. ``fuse_transformer`` rewrites those patterns (checked node by node,
constants by value) into what onnxruntime's BERT fusions and kernels expect:

1. the 2-D reshapes around each projection go (MatMul takes the 3-D activation directly);
2. each spelled-out LayerNorm becomes one ``LayerNormalization`` (ONNX opset 17);
3. each self-attention block becomes one ``com.microsoft.Attention`` (packed QKV weight and bias, the
   attention mask as an int32 ``mask_index``), which dynamic quantisation turns into ``QAttention``;

then onnxruntime's own BERT optimizer (``onnxruntime.transformers``, opt_level 0: above 0 it imports
torch) fuses residual Add + LayerNormalization into ``SkipLayerNormalization`` and bias + Gelu into
``BiasGelu``. A pattern that does not match exactly is left as it is (the graph stays correct, only
less fused); ``fusion_counts`` reports what fired.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MS_DOMAIN = "com.microsoft"


class _Graph:
    """Producer / consumer maps over an ONNX graph, rebuilt after each rewrite."""

    def __init__(self, model: Any) -> None:
        from onnx import numpy_helper

        self.model = model
        self.graph = model.graph
        self.inits = {i.name: i for i in self.graph.initializer}
        self._np = numpy_helper
        self.refresh()

    def refresh(self) -> None:
        self.producer = {o: n for n in self.graph.node for o in n.output if o}
        self.consumers: dict[str, list[Any]] = collections.defaultdict(list)
        for n in self.graph.node:
            for x in dict.fromkeys(n.input):  # a node reading a tensor twice (x * x) is one consumer
                self.consumers[x].append(n)

    def const(self, name: str) -> np.ndarray | None:
        init = self.inits.get(name)
        return None if init is None else self._np.to_array(init)

    def scalar(self, name: str) -> float | None:
        value = self.const(name)
        return float(value.reshape(-1)[0]) if value is not None and value.size == 1 else None

    def only_consumer(self, name: str, op_type: str) -> Any | None:
        users = self.consumers.get(name, [])
        return users[0] if len(users) == 1 and users[0].op_type == op_type else None

    def consumer(self, name: str, op_type: str) -> Any | None:
        users = [u for u in self.consumers.get(name, []) if u.op_type == op_type]
        return users[0] if len(users) == 1 else None

    def source(self, name: str, op_type: str) -> Any | None:
        node = self.producer.get(name)
        return node if node is not None and node.op_type == op_type else None

    def add_init(self, name: str, value: np.ndarray) -> str:
        tensor = self._np.from_array(value, name)
        self.graph.initializer.append(tensor)
        self.inits[name] = tensor
        return name

    def other(self, node: Any, name: str) -> str:
        """The input of a binary node that is not ``name``."""
        return node.input[1] if node.input[0] == name else node.input[0]

    def prune(self) -> None:
        """Drop nodes and initializers nothing reaches from the graph outputs."""
        needed = {o.name for o in self.graph.output}
        keep: list[Any] = []
        for node in reversed(list(self.graph.node)):
            if any(o in needed for o in node.output):
                keep.append(node)
                needed.update(x for x in node.input if x)
        keep.reverse()
        del self.graph.node[:]
        self.graph.node.extend(keep)
        inits = [i for i in self.graph.initializer if i.name in needed]
        del self.graph.initializer[:]
        self.graph.initializer.extend(inits)
        self.inits = {i.name: i for i in inits}
        infos = [v for v in self.graph.value_info if v.name in needed]
        del self.graph.value_info[:]
        self.graph.value_info.extend(infos)
        self.refresh()


def _collapse_projection_reshapes(g: _Graph) -> int:
    """``Reshape(x, [-1, D]) -> MatMul(W) -> Reshape(to x's [B, S] + [K])`` -> ``MatMul(x, W)``."""
    count = 0
    for r1 in [n for n in g.graph.node if n.op_type == "Reshape"]:
        shape = g.const(r1.input[1])
        if shape is None or shape.tolist()[:1] != [-1] or shape.size != 2:
            continue
        x = r1.input[0]
        users = g.consumers.get(r1.output[0], [])
        if not users or any(u.op_type != "MatMul" or u.input[0] != r1.output[0] for u in users):
            continue
        plans = []
        for mm in users:
            w = g.const(mm.input[1])
            r2 = g.only_consumer(mm.output[0], "Reshape")
            if w is None or w.ndim != 2 or w.shape[0] != shape[1] or r2 is None:
                break
            if not _is_leading_dims_of(g, r2.input[1], x, int(w.shape[1])):
                break
            plans.append((mm, r2))
        else:
            for mm, r2 in plans:
                mm.input[0] = x
                for user in g.consumers.get(r2.output[0], []):
                    for k, name in enumerate(user.input):
                        if name == r2.output[0]:
                            user.input[k] = mm.output[0]
                count += 1
            g.refresh()
    return count


def _is_leading_dims_of(g: _Graph, shape_name: str, x: str, last: int) -> bool:
    """``shape_name`` is ``Cast(Concat(Gather(Cast(Shape(x)), [0, 1]), [last]))`` (tf2onnx's spelling)."""
    node = g.producer.get(shape_name)
    while node is not None and node.op_type == "Cast":
        node = g.producer.get(node.input[0])
    if node is None or node.op_type != "Concat" or len(node.input) != 2:
        return False
    tail = g.const(node.input[1])
    gather = g.producer.get(node.input[0])
    if tail is None or tail.tolist() != [last] or gather is None or gather.op_type != "Gather":
        return False
    index = g.const(gather.input[1])
    if index is None or index.tolist() != [0, 1]:
        return False
    src = g.producer.get(gather.input[0])
    while src is not None and src.op_type == "Cast":
        src = g.producer.get(src.input[0])
    return src is not None and src.op_type == "Shape" and src.input[0] == x


def _fuse_layer_norms(g: _Graph) -> int:
    """tf2onnx's LayerNorm (mean and variance by GlobalAveragePool) -> ``LayerNormalization``.

    x -> mean = GAP(x); d = x - mean; var = GAP(d * d); r = 1 / sqrt(var + eps); s = r * gamma;
    out = x * s + (beta - mean * s).
    """
    from onnx import helper

    count = 0
    for gap in [n for n in g.graph.node if n.op_type == "GlobalAveragePool"]:
        x, mean = gap.input[0], gap.output[0]
        sub = next((u for u in g.consumers.get(mean, []) if u.op_type == "Sub" and u.input == [x, mean]), None)
        sq = g.only_consumer(sub.output[0], "Mul") if sub is not None else None
        if sub is None or sq is None or list(sq.input) != [sub.output[0], sub.output[0]]:
            continue
        gap2 = g.only_consumer(sq.output[0], "GlobalAveragePool")
        add_eps = g.only_consumer(gap2.output[0], "Add") if gap2 is not None else None
        eps = g.scalar(g.other(add_eps, gap2.output[0])) if add_eps is not None and gap2 is not None else None
        sqrt = g.only_consumer(add_eps.output[0], "Sqrt") if add_eps is not None else None
        rec = g.only_consumer(sqrt.output[0], "Reciprocal") if sqrt is not None else None
        scale = g.only_consumer(rec.output[0], "Mul") if rec is not None else None
        if eps is None or scale is None or rec is None:
            continue
        gamma = g.other(scale, rec.output[0])
        users = g.consumers.get(scale.output[0], [])
        mul_x = next((u for u in users if u.op_type == "Mul" and x in u.input), None)
        mul_mean = next((u for u in users if u.op_type == "Mul" and mean in u.input), None)
        if g.const(gamma) is None or mul_x is None or mul_mean is None or len(users) != 2:
            continue
        shift = g.only_consumer(mul_mean.output[0], "Sub")
        if shift is None or shift.input[1] != mul_mean.output[0] or g.const(shift.input[0]) is None:
            continue
        out = g.only_consumer(mul_x.output[0], "Add")
        if out is None or set(out.input) != {mul_x.output[0], shift.output[0]}:
            continue
        if len(g.consumers.get(mean, [])) != 2:  # the Sub and the Mul: nothing else reads the mean
            continue
        ln = helper.make_node("LayerNormalization", [x, gamma, shift.input[0]], [out.output[0]], axis=-1, epsilon=eps)
        index = list(g.graph.node).index(out)
        g.graph.node.insert(index, ln)
        g.graph.node.remove(out)
        g.refresh()
        count += 1
    return count


@dataclass
class _AttentionMatch:
    x: str  # the block's input [B, S, D]
    q: tuple[str, str | None]  # (weight, bias) initializer names; no bias: zeros
    k: tuple[str, str | None]
    v: tuple[str, str | None]
    scale: float
    mask: str  # the float attention mask [B, S] (1 = attend)
    output_node: Any  # the Reshape that gives [B, S, D]: its output becomes Attention's


def _projection(g: _Graph, reshape_heads: Any) -> tuple[str, str, str | None] | None:
    """``Reshape(Add(MatMul(x, W), b), [B, S, H, d])`` -> (x, W, b); b is None where tf2onnx dropped a
    zero bias (``random:`` models), and x may still be behind tf2onnx's ``Reshape(x, [-1, D])``."""
    add = g.source(reshape_heads.input[0], "Add")
    found: tuple[Any, str | None] | None = None
    if add is not None:
        for i in (0, 1):
            mm = g.source(add.input[i], "MatMul")
            if mm is not None and g.const(add.input[1 - i]) is not None:
                found = (mm, add.input[1 - i])
    else:
        mm = g.source(reshape_heads.input[0], "MatMul")
        found = (mm, None) if mm is not None else None
    if found is None or g.const(found[0].input[1]) is None:
        return None
    mm, bias = found
    x = mm.input[0]
    flat = g.source(x, "Reshape")
    shape = g.const(flat.input[1]) if flat is not None else None
    if flat is not None and shape is not None and shape.size == 2 and shape.tolist()[0] == -1:
        x = flat.input[0]
    return x, mm.input[1], bias


def _match_attention(g: _Graph, softmax: Any, num_heads: int) -> _AttentionMatch | None:  # noqa: PLR0911 (one return per mismatch)
    """Softmax(Q K^T * s + mask) V, as tf2onnx writes DistilBERT's attention (checked step by step)."""
    add_mask = g.source(softmax.input[0], "Add")
    if add_mask is None:
        return None
    qk = g.source(add_mask.input[0], "MatMul")
    mask_add = add_mask.input[1]
    if qk is None:
        return None
    t_q = g.source(qk.input[0], "Transpose")
    t_k = g.source(qk.input[1], "Transpose")
    if t_q is None or t_k is None:
        return None
    if [list(a.ints) for a in t_q.attribute] != [[0, 2, 1, 3]] or [list(a.ints) for a in t_k.attribute] != [
        [0, 2, 3, 1]
    ]:
        return None
    mul_q = g.source(t_q.input[0], "Mul")
    scale = g.scalar(g.other(mul_q, mul_q.input[0])) if mul_q is not None else None
    if mul_q is None or scale is None:
        return None
    r_q = g.source(mul_q.input[0], "Reshape") or g.source(mul_q.input[1], "Reshape")
    r_k = g.source(t_k.input[0], "Reshape")
    pv = g.only_consumer(softmax.output[0], "MatMul")
    t_v = g.source(pv.input[1], "Transpose") if pv is not None else None
    r_v = g.source(t_v.input[0], "Reshape") if t_v is not None else None
    t_out = g.only_consumer(pv.output[0], "Transpose") if pv is not None else None
    r_out = g.only_consumer(t_out.output[0], "Reshape") if t_out is not None else None
    if None in (r_q, r_k, r_v, t_v, t_out, r_out) or pv is None:
        return None
    assert t_v is not None and t_out is not None and r_q is not None and r_k is not None and r_v is not None
    if [list(a.ints) for a in t_v.attribute] != [[0, 2, 1, 3]] or [list(a.ints) for a in t_out.attribute] != [
        [0, 2, 1, 3]
    ]:
        return None
    projections = [_projection(g, r) for r in (r_q, r_k, r_v)]
    if any(p is None for p in projections) or len({p[0] for p in projections if p}) != 1:
        return None
    q, k, v = (p for p in projections if p)
    mask = _float_mask(g, mask_add)
    if mask is None:
        return None
    hidden = g.const(q[1])
    assert hidden is not None
    if hidden.shape[1] % num_heads or not np.isclose(scale, 1 / np.sqrt(hidden.shape[1] // num_heads), rtol=1e-6):
        return None
    return _AttentionMatch(q[0], (q[1], q[2]), (k[1], k[2]), (v[1], v[2]), scale, mask, r_out)


def _float_mask(g: _Graph, name: str) -> str | None:
    """``eps - 1e30 * (1 - Reshape(float_mask, [B, 1, 1, S]))`` -> the float mask [B, S] (1 = attend)."""
    outer = g.source(name, "Sub")
    mul = g.source(outer.input[1], "Mul") if outer is not None else None
    eps = g.scalar(outer.input[0]) if outer is not None else None
    if mul is None or eps is None or abs(eps) > 1e-6:  # a constant added to every score: softmax ignores it
        return None
    big = g.scalar(mul.input[0]) if g.const(mul.input[0]) is not None else g.scalar(mul.input[1])
    inner = g.source(g.other(mul, mul.input[0] if g.const(mul.input[0]) is not None else mul.input[1]), "Sub")
    if big is None or big < 1e4 or inner is None or g.scalar(inner.input[0]) != 1.0:
        return None
    reshape = g.source(inner.input[1], "Reshape")
    if reshape is None:
        return None
    source = reshape.input[0]  # must be the graph's attention_mask (through Casts): mask_index replaces it
    while (cast := g.source(source, "Cast")) is not None:
        source = cast.input[0]
    return reshape.input[0] if source == "attention_mask" else None


def _fuse_attention(g: _Graph, num_heads: int, mask_index: str) -> int:
    from onnx import helper

    count = 0
    for softmax in [n for n in g.graph.node if n.op_type == "Softmax"]:
        match = _match_attention(g, softmax, num_heads)
        if match is None:
            continue
        weights = [g.const(w) for w, _ in (match.q, match.k, match.v)]
        assert all(w is not None for w in weights)
        biases = [
            g.const(b) if b is not None else np.zeros(w.shape[1], np.float32)  # type: ignore[union-attr]
            for (_, b), w in zip((match.q, match.k, match.v), weights, strict=True)
        ]
        tag = f"attention_{count}"
        w = g.add_init(f"{tag}_qkv_weight", np.concatenate(weights, axis=1).astype(np.float32))  # type: ignore[arg-type]
        b = g.add_init(f"{tag}_qkv_bias", np.concatenate(biases).astype(np.float32))  # type: ignore[arg-type]
        node = helper.make_node(
            "Attention",
            [match.x, w, b, mask_index],
            [match.output_node.output[0]],
            domain=MS_DOMAIN,
            num_heads=num_heads,
        )
        index = list(g.graph.node).index(match.output_node)
        g.graph.node.insert(index, node)
        g.graph.node.remove(match.output_node)
        g.refresh()
        count += 1
    return count


def _mask_index(g: _Graph) -> str:
    """An int32 [B, S] copy of the graph's ``attention_mask`` input, Attention's ``mask_index``."""
    from onnx import TensorProto, helper

    name = "attention_mask_int32"
    if name not in g.producer:
        g.graph.node.insert(0, helper.make_node("Cast", ["attention_mask"], [name], to=TensorProto.INT32))
        g.refresh()
    return name


def fuse_transformer(model: Any, *, num_heads: int, hidden_size: int) -> tuple[Any, dict[str, int]]:
    """The fused float32 graph and how many of each rewrite fired (see the module docstring)."""
    from onnx import helper

    g = _Graph(model)
    counts = {"projections": _collapse_projection_reshapes(g)}
    g.prune()
    counts["LayerNormalization"] = _fuse_layer_norms(g)
    g.prune()
    if "attention_mask" in {i.name for i in g.graph.input}:
        mask = _mask_index(g)
        counts["Attention"] = _fuse_attention(g, num_heads, mask)
    g.prune()
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    model = _ort_bert_fusions(model, num_heads=num_heads, hidden_size=hidden_size)
    return _with_types(model), counts


def _with_types(model: Any) -> Any:
    """Every tensor's type and shape (onnxruntime's symbolic inference knows the com.microsoft ops; the
    quantiser skips the activations whose type onnx's own inference cannot give)."""
    from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

    del model.graph.value_info[:]
    return SymbolicShapeInference.infer_shapes(model, auto_merge=True)


def _ort_bert_fusions(model: Any, *, num_heads: int, hidden_size: int) -> Any:
    """onnxruntime's BERT optimizer at opt_level 0 (pure graph fusions, no torch, no session)."""
    import logging

    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_by_fusion

    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
    options = FusionOptions("bert")
    options.enable_embed_layer_norm = False  # position ids come from Range here; the embeddings stay as they are
    # attention is fused above, from the weights' own shapes (hidden_size is no guide for MobileBERT)
    options.enable_attention = False
    optimized = optimize_by_fusion(
        model, model_type="bert", num_heads=num_heads, hidden_size=hidden_size, optimization_options=options
    )
    return optimized.model


def op_counts(model: Any) -> dict[str, int]:
    """Node count per op type (``com.microsoft`` ops prefixed with their domain)."""
    return dict(collections.Counter(f"{n.domain}.{n.op_type}" if n.domain else n.op_type for n in model.graph.node))


# -- calibration ---------------------------------------------------------------------------------------
# The static variant's calibration inputs: training-style paragraphs of the embedded model's own corpus
# generator, from the *train* name pools under a label of their own. Validation draws from the held-out
# pools only (validate/inputs.py: the held-out set, fresh/long/unicode sets) or from its own protocol
# texts, so no calibration paragraph or name is in any validation set (tests/convert/test_int8.py checks).
CALIBRATION_SPLIT = "train"
CALIBRATION_LABEL = "int8-calibration"
CALIBRATION_EXAMPLES = 96
CALIBRATION_MAX_LENGTH = 384


def calibration_examples(count: int = CALIBRATION_EXAMPLES) -> list[tuple[str, str]]:
    """(question, context) pairs: 1 to 4 consecutive generated paragraphs per context, so the windows
    cover short and full 384-token lengths (late positions' embeddings included in the ranges)."""
    from qaport.default_model.corpus import paragraphs

    source = paragraphs(CALIBRATION_SPLIT, CALIBRATION_LABEL)
    out: list[tuple[str, str]] = []
    while len(out) < count:
        group = [next(source) for _ in range(1 + len(out) % 4)]
        context = " ".join(text for text, _ in group)
        question = group[-1][1][0][0]
        out.append((question, context))
    return out


def calibration_source() -> dict[str, Any]:
    """What the manifest records about the calibration set."""
    return {
        "generator": "qaport.default_model.corpus.paragraphs",
        "split": CALIBRATION_SPLIT,
        "label": CALIBRATION_LABEL,
        "examples": CALIBRATION_EXAMPLES,
        "max_length": CALIBRATION_MAX_LENGTH,
        "note": "training-style paragraphs (train name pools, a label of their own), 1-4 per context; "
        "never the validation sets (held-out pools, protocol texts)",
    }


def calibration_feeds(tokenizer_file: Path, input_names: list[str]) -> list[dict[str, np.ndarray]]:
    """One feed per window of each calibration example, as the runtimes feed the model (int64)."""
    from tokenizers import Tokenizer

    from qaport.decode import encode

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    feeds: list[dict[str, np.ndarray]] = []
    for question, context in calibration_examples():
        enc = encode(tokenizer, question, context, max_length=CALIBRATION_MAX_LENGTH)
        arrays = {
            "input_ids": enc.input_ids,
            "attention_mask": enc.attention_mask,
            "token_type_ids": enc.token_type_ids,
        }
        for row in range(enc.input_ids.shape[0]):
            feeds.append({n: arrays[n][row : row + 1].astype(np.int64) for n in input_names})
    return feeds


# -- quantisation ----------------------------------------------------------------------------------------


def quantize_dynamic_fused(src: Path, dst: Path) -> None:
    """Dynamic int8 of the fused graph: MatMul -> MatMulInteger, Attention -> QAttention (7-bit weights)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QInt8,
        reduce_range=True,
        op_types_to_quantize=["MatMul", "Attention"],
        # onnx shape inference stops at com.microsoft ops; every tensor quantised here is float32
        extra_options={"DefaultTensorType": 1},
    )


def quantize_static_qdq(src: Path, dst: Path, feeds: list[dict[str, np.ndarray]], *, per_channel: bool = True) -> None:
    """Static int8 (QDQ): u8 activations with calibrated ranges, s8 7-bit weights, MatMul only."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter(feeds)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.it, None)

    quantize_static(
        str(src),
        str(dst),
        Reader(),
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=["MatMul"],
        per_channel=per_channel,
        reduce_range=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
        extra_options={"MatMulConstBOnly": True, "DefaultTensorType": 1},
    )


# -- the variants ------------------------------------------------------------------------------------------
# format name -> how it is built. "dynamic": the MatMul-only dynamic int8 of the tf2onnx graph (qaport's
# int8 until issue 27); "fused-dynamic": dynamic int8 of the fused graph (QAttention); "fused-static":
# calibrated static QDQ int8 of the fused graph. Which one ships as onnx-int8 and why: docs/int8.md.
METHODS = {
    "onnx-int8": "fused-dynamic",
    "onnx-int8-dynamic": "dynamic",
    "onnx-int8-static": "fused-static",
}
FUSED_FILE = "model_fused.onnx"  # the fused float32 graph, an intermediate (not a format of its own)
FLOAT32_ATOL = 1e-4  # the fused float32 graph must give the unfused graph's logits within float32's bound


def attention_shape(config: Any) -> tuple[int, int]:
    """(num_heads, hidden_size) from a transformers config (DistilBERT's n_heads/dim or BERT's names)."""
    heads = getattr(config, "n_heads", None) or getattr(config, "num_attention_heads", None)
    hidden = getattr(config, "dim", None) or getattr(config, "hidden_size", None)
    if not heads or not hidden:
        msg = "the config names no attention heads / hidden size (n_heads/dim or num_attention_heads/hidden_size)"
        raise ValueError(msg)
    return int(heads), int(hidden)


def input_names(path: Path) -> list[str]:
    import onnx

    return [v.name for v in onnx.load(str(path), load_external_data=False).graph.input]


def fused_float32(src: Path, work: Path, config: Any, tokenizer_file: Path) -> tuple[Path, dict[str, Any]]:
    """The fused float32 graph (built once per conversion, in ``work``) and what fired.

    Checked before use: its logits on calibration windows (short and 384 tokens) equal the unfused
    graph's within the float32 bound, else the conversion fails naming the difference.
    """
    import onnx

    dst = work / FUSED_FILE
    info_file = work / "model_fused.json"
    if dst.is_file() and info_file.is_file():
        import json

        return dst, dict(json.loads(info_file.read_text()))
    num_heads, hidden = attention_shape(config)
    model = onnx.load(str(src))
    before = op_counts(model)
    fused, rewrites = fuse_transformer(model, num_heads=num_heads, hidden_size=hidden)
    onnx.save(fused, str(dst))
    names = input_names(src)
    feeds = calibration_feeds(tokenizer_file, names)
    checked = [feeds[0], max(feeds, key=lambda f: f["input_ids"].shape[1])]
    diff = max_logit_diff(src, dst, checked)
    if not diff <= FLOAT32_ATOL:
        msg = f"the fused float32 graph changes the logits by {diff:.3g} (> {FLOAT32_ATOL}); a fusion is wrong"
        raise ValueError(msg)
    info = {
        "rewrites": rewrites,
        "op_types_before": before,
        "op_types_fused": op_counts(fused),
        "fused_float32_max_abs_diff": float(diff),
    }
    import json

    info_file.write_text(json.dumps(info))
    return dst, info


def max_logit_diff(a: Path, b: Path, feeds: list[dict[str, np.ndarray]]) -> float:
    """The largest |logit difference| between two ONNX files over real tokens, every output."""
    import onnxruntime as ort

    sessions = [ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for p in (a, b)]
    worst = 0.0
    for feed in feeds:
        outs = [dict(zip([o.name for o in s.get_outputs()], s.run(None, feed), strict=True)) for s in sessions]
        real = feed["attention_mask"].astype(bool)
        for name, value in outs[0].items():
            worst = max(worst, float(np.abs(value - outs[1][name])[real].max()))
    return worst


def build_int8(name: str, src: Path, dst: Path, *, work: Path, config: Any, tokenizer_file: Path) -> dict[str, Any]:
    """Build int8 format ``name`` from the float32 ONNX file ``src``; returns its manifest record."""
    import onnx

    from convert.onnx_canonical import canonicalize

    method = METHODS[name]
    record: dict[str, Any] = {"method": method, "doc": "docs/int8.md"}
    tmp = dst.with_suffix(".tmp.onnx")
    if method == "dynamic":
        from convert.onnx_export import quantize_int8

        quantize_int8(src, dst)
        record["weights"] = "int8 in [-64, 63] (reduce_range), per tensor; activations quantised at run time"
        return record
    fused, info = fused_float32(src, work, config, tokenizer_file)
    record["fusion"] = info
    if method == "fused-dynamic":
        quantize_dynamic_fused(fused, tmp)
        record["weights"] = "int8 in [-64, 63] (reduce_range), per tensor; activations quantised at run time"
    elif method == "fused-static":
        quantize_static_qdq(fused, tmp, calibration_feeds(tokenizer_file, input_names(src)))
        record["weights"] = "int8 in [-64, 63] (reduce_range), per output channel; activations uint8, calibrated"
        record["calibration"] = calibration_source()
    else:  # pragma: no cover - METHODS and this function change together
        msg = f"no int8 method {method!r}"
        raise NotImplementedError(msg)
    proto = onnx.load(str(tmp))
    tmp.unlink()
    record["op_types"] = op_counts(proto)
    onnx.save(canonicalize(proto), str(dst))
    return record

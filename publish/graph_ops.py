"""Operation allowlist: no format is packaged whose graph can touch files, run Python or do other I/O.

A SavedModel, TF.js or ONNX file is a program as much as a set of weights: TensorFlow graphs can hold
``ReadFile``/``WriteFile``/``PyFunc`` nodes, ONNX graphs custom-domain ops (``PyOp`` of
onnxruntime-extensions) or initializers read from external files. Before packaging, every node of every
format's graph (functions and subgraphs included) must be one of the pure tensor operations listed
here; anything else is refused with the op, the format and the file named.

SavedModels carry their checkpoint functions (``SaveV2``, ``RestoreV2``, ...): those ops are accepted
only outside what the signatures reach, i.e. never in the code a consumer runs for an answer.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from qaport.errors import QaportError
from qaport.manifest import safe_relative


def _ops(names: str) -> frozenset[str]:
    return frozenset(names.split())


# TensorFlow ops (SavedModel and TF.js graphs): arithmetic, shapes, NN layers, control of values.
TF_OPS = _ops(
    """
    Abs Acos Acosh Add AddN AddV2 All Any ArgMax ArgMin Asin Asinh Assert Atan Atan2 Atanh AvgPool
    BatchMatMul BatchMatMulV2 BatchMatMulV3 BiasAdd BroadcastArgs BroadcastTo Cast Ceil CheckNumerics
    ClipByValue Concat ConcatV2 Const Conv2D Cos Cosh Cumprod Cumsum DepthwiseConv2dNative
    DisableCopyOnRead Div DivNoNan Einsum Elu Enter Equal Erf Erfc Exit Exp ExpandDims Expm1 Fill Floor
    FloorDiv FloorMod FusedBatchNorm FusedBatchNormV3 Gather GatherNd GatherV2 Greater GreaterEqual
    Identity IdentityN If IsFinite IsInf IsNan L2Loss LeakyRelu Less LessEqual Log Log1p LogSoftmax
    LogicalAnd LogicalNot LogicalOr LoopCond MatMul Max MaxPool Maximum Mean Merge Min Minimum Mod Mul
    Neg NextIteration NoOp NotEqual OneHot OnesLike Pack Pad PadV2 PartitionedCall Placeholder
    PlaceholderWithDefault Pow Prod Range Rank ReadVariableOp RealDiv Reciprocal Relu Relu6
    Reshape ResourceGather ReverseV2 Round Rsqrt Select SelectV2 Selu Shape ShapeN Sigmoid Sign Sin Sinh
    Size Slice Snapshot Softmax Softplus Softsign Split SplitV Sqrt Square SquaredDifference Squeeze
    StatefulPartitionedCall StatelessIf StatelessWhile StopGradient StridedSlice Sub Sum Switch Tan Tanh
    TensorScatterUpdate Tile TopKV2 Transpose Unpack VarHandleOp Where While ZerosLike
    _FusedBatchMatMul _FusedConv2D _FusedMatMul
    """
)
# The checkpoint functions every SavedModel has; allowed only where no signature reaches.
TF_CHECKPOINT_OPS = _ops(
    """
    AssignVariableOp MergeV2Checkpoints RestoreV2 SaveV2 ShardedFilename StaticRegexFullMatch StringJoin
    """
)
# ONNX standard-domain ops and the onnxruntime contrib ops quantisation and fusion produce.
ONNX_OPS = _ops(
    """
    Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization Cast
    CastLike Ceil Celu Clip Concat Constant ConstantOfShape Conv Cos Cosh CumSum DequantizeLinear Div
    DynamicQuantizeLinear Einsum Elu Equal Erf Exp Expand Flatten Floor Gather GatherElements GatherND
    Gelu Gemm GlobalAveragePool GlobalMaxPool Greater GreaterOrEqual HardSigmoid HardSwish Identity If
    IsInf IsNaN LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax MatMul MatMulInteger Max
    MaxPool Mean Min Mod Mul Neg Not OneHot Or Pad Pow PRelu QuantizeLinear Range Reciprocal ReduceL2
    ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape Round Shape Sigmoid
    Sign Sin Sinh Size Slice Softmax Softplus Softsign Split Sqrt Squeeze Sub Sum Tan Tanh Tile TopK
    Transpose Trilu Unsqueeze Where Xor
    """
)
ONNX_CONTRIB_OPS = _ops(
    """
    Attention BiasGelu DynamicQuantizeMatMul EmbedLayerNormalization FastGelu FusedMatMul Gelu
    MatMulIntegerToFloat QAttention QuickGelu SkipLayerNormalization
    """
)
ONNX_DOMAINS = {"": ONNX_OPS, "ai.onnx": ONNX_OPS, "com.microsoft": ONNX_CONTRIB_OPS}
# Named in the refusal so that a reader sees at once why (not an exhaustive list: the allowlist decides).
KNOWN_UNSAFE = _ops(
    """
    ReadFile WriteFile MatchingFiles PyFunc PyFuncStateless EagerPyFunc ImmutableConst PrintV2 Print
    DebugIdentity Save SaveV2 SaveSlices Restore RestoreV2 RestoreSlice MergeV2Checkpoints
    TextLineDataset TFRecordDataset FixedLengthRecordDataset WholeFileReader WholeFileReaderV2
    PyOp ExecuteProcess
    """
)


class GraphOpError(QaportError, ValueError):
    """A graph holds an op outside the allowlist, or cannot be read to find out."""

    exit_code = 2


def _refuse(fmt: str, rel: str, op: str, where: str) -> GraphOpError:
    unsafe = op.rsplit(".", 1)[-1] in KNOWN_UNSAFE
    kind = "a file-system, I/O or Python op" if unsafe else "not on the allowlist of tensor ops"
    return GraphOpError(
        f"{fmt}: {rel} holds op {op!r} ({where}), {kind}; refusing to package it: "
        "convert from a plain Keras model (python -m convert) and validate again"
    )


# -- TensorFlow ---------------------------------------------------------------------------------------
def _node_name(ref: str) -> str:
    return ref.lstrip("^").split(":")[0]


def _func_names(node: Any) -> Iterator[str]:
    for value in node.attr.values():
        if value.HasField("func"):
            yield value.func.name
        for f in value.list.func:
            yield f.name


def savedmodel_ops(path: Path) -> list[tuple[str, str, bool]]:
    """(op, where, reached by a signature) for every node of saved_model.pb, functions included."""
    from tensorflow.core.protobuf import saved_model_pb2

    doc = saved_model_pb2.SavedModel()
    doc.ParseFromString(path.read_bytes())
    out: list[tuple[str, str, bool]] = []
    for mg in doc.meta_graphs:
        nodes = {n.name: n for n in mg.graph_def.node}
        functions = {f.signature.name: f for f in mg.graph_def.library.function}
        # what the signatures reach: nodes backwards from their tensors, then every function they call
        todo = [_node_name(t.name) for sig in mg.signature_def.values() for t in sig.outputs.values()]
        todo += [_node_name(t.name) for sig in mg.signature_def.values() for t in sig.inputs.values()]
        seen_nodes: set[str] = set()
        reached_fns: set[str] = set()
        fn_todo: list[str] = []
        while todo:
            name = todo.pop()
            if name in seen_nodes or name not in nodes:
                continue
            seen_nodes.add(name)
            todo += [_node_name(i) for i in nodes[name].input]
            fn_todo += list(_func_names(nodes[name]))
        while fn_todo:
            fname = fn_todo.pop()
            if fname in reached_fns or fname not in functions:
                continue
            reached_fns.add(fname)
            for nd in functions[fname].node_def:
                fn_todo += list(_func_names(nd))
        out += [(n.op, f"node {n.name}", n.name in seen_nodes) for n in mg.graph_def.node]
        for fname, fn in functions.items():
            out += [(nd.op, f"function {fname}", fname in reached_fns) for nd in fn.node_def]
    return out


def tfjs_ops(path: Path) -> list[tuple[str, str]]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    topology = doc.get("modelTopology") or {}
    out = [(n.get("op", "?"), f"node {n.get('name')}") for n in topology.get("node", [])]
    for fn in (topology.get("library") or {}).get("function", []):
        fname = (fn.get("signature") or {}).get("name", "?")
        out += [(n.get("op", "?"), f"function {fname}") for n in fn.get("nodeDef", [])]
    return out


# -- ONNX ---------------------------------------------------------------------------------------------
def _onnx_nodes(graph: Any, where: str) -> Iterator[tuple[Any, str]]:
    for node in graph.node:
        yield node, where
        for attr in node.attribute:
            subgraphs = [attr.g] if attr.HasField("g") else []
            for sub in [*subgraphs, *attr.graphs]:
                yield from _onnx_nodes(sub, f"{where} > {node.op_type} {node.name} subgraph")


def _onnx_initializers(graph: Any) -> Iterator[Any]:
    yield from graph.initializer
    for node in graph.node:
        if node.op_type == "Constant":
            yield from (a.t for a in node.attribute if a.HasField("t"))
        for attr in node.attribute:
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                yield from _onnx_initializers(sub)


def check_onnx(fmt: str, rel: str, path: Path) -> None:
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises DecodeError and others for a file that is not ONNX
        msg = f"{fmt}: {rel} is not a readable ONNX model ({type(exc).__name__}), so its ops cannot be checked"
        raise GraphOpError(msg) from exc
    for tensor in _onnx_initializers(model.graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            location = next((e.value for e in tensor.external_data if e.key == "location"), "?")
            msg = (
                f"{fmt}: {rel} reads tensor {tensor.name!r} from the external file {location!r}; "
                "refusing to package a graph that reads files: save the model with its weights inside"
            )
            raise GraphOpError(msg)
    local = {(f.domain, f.name) for f in model.functions}
    bad = [
        (f"{node.domain}.{node.op_type}" if node.domain else node.op_type, f"{where}, node {node.name or '(unnamed)'}")
        for node, where in _onnx_nodes(model.graph, "main graph")
        if (node.domain, node.op_type) in local or node.op_type not in ONNX_DOMAINS.get(node.domain, frozenset())
    ]
    if bad:
        raise _refuse(fmt, rel, *next((b for b in bad if b[0].rsplit(".", 1)[-1] in KNOWN_UNSAFE), bad[0]))


# -- every format -------------------------------------------------------------------------------------
def _first_bad(ops: Iterable[tuple[str, str]], allowed: frozenset[str]) -> tuple[str, str] | None:
    """The first op outside ``allowed``, a known file-system/I/O/Python op first (the likeliest reason)."""
    bad = [(op, where) for op, where in ops if op not in allowed]
    return next((b for b in bad if b[0] in KNOWN_UNSAFE), bad[0] if bad else None)


def check_format(root: Path, fmt: str, record: dict[str, Any]) -> None:
    rel = record["main_file"]
    path = safe_relative(root, rel)
    if rel.endswith(".onnx"):
        check_onnx(fmt, rel, path)
        return
    if rel.endswith("model.json"):
        try:
            bad = _first_bad(tfjs_ops(path), TF_OPS)
            shards = [
                p for g in json.loads(path.read_text(encoding="utf-8")).get("weightsManifest", []) for p in g["paths"]
            ]
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, TypeError, KeyError) as exc:
            msg = f"{fmt}: {rel} is not a readable TF.js model.json ({exc}), so its ops cannot be checked"
            raise GraphOpError(msg) from exc
        listed = {e["path"] for e in record.get("files", [])}
        for shard in shards:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), shard))
            if target not in listed:
                msg = f"{fmt}: {rel} loads weights from {shard!r}, which is not one of this format's listed files"
                raise GraphOpError(msg)
    elif rel.endswith(".pb"):
        from google.protobuf.message import DecodeError

        try:
            ops = savedmodel_ops(path)
        except DecodeError as exc:
            msg = f"{fmt}: {rel} is not a readable SavedModel ({exc}), so its ops cannot be checked"
            raise GraphOpError(msg) from exc
        bad = _first_bad(((op, where) for op, where, reached in ops if reached or op not in TF_CHECKPOINT_OPS), TF_OPS)
        if bad is None and not any(reached for *_, reached in ops):
            msg = f"{fmt}: {rel} has no signature reaching any node, so its ops cannot be checked"
            raise GraphOpError(msg)
    else:
        msg = f"{fmt}: no op check for {rel} (expected .onnx, model.json or saved_model.pb); refusing to package it"
        raise GraphOpError(msg)
    if bad is not None:
        raise _refuse(fmt, rel, *bad)


def check_graph_ops(root: Path, manifest: dict[str, Any]) -> None:
    """Every format's graph holds allowlisted ops only; raises :class:`GraphOpError` naming the first other."""
    for fmt, record in manifest["formats"].items():
        check_format(root, fmt, record)

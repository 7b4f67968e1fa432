"""Make tf2onnx output byte-identical across runs.

tf2onnx numbers the names it generates (``const_ends__184``) from a global counter, merges duplicate
constants and nodes keeping whichever it met first, and emits nodes in a varying order: the same
model gives different bytes each run. Here the graph is rewritten from its structure alone:
constants are named by a hash of their content (duplicates collapse), nodes are put in a topological
order whose ties are broken by structure (op type, canonical inputs, attributes), and every
intermediate tensor and node is named by its position in that order. Graph inputs and outputs keep
their names.
"""

from __future__ import annotations

import hashlib
import heapq
from typing import Any


def _content_hash(tensor: Any) -> str:
    clone = type(tensor)()
    clone.CopyFrom(tensor)
    clone.name = ""
    return hashlib.sha256(clone.SerializeToString(deterministic=True)).hexdigest()[:16]


def canonicalize(model: Any) -> Any:
    graph = model.graph
    keep = {v.name for v in graph.input} | {v.name for v in graph.output}
    rename: dict[str, str] = {}

    unique: dict[str, Any] = {}
    for init in graph.initializer:
        if init.name in keep:
            unique[init.name] = init
            continue
        new = f"const_{_content_hash(init)}"
        rename[init.name] = new
        init.name = new
        unique.setdefault(new, init)
    del graph.initializer[:]
    graph.initializer.extend(sorted(unique.values(), key=lambda t: t.name))

    nodes = list(graph.node)
    producer = {out: i for i, n in enumerate(nodes) for out in n.output if out}
    deps = [{producer[x] for x in n.input if x in producer} for n in nodes]
    users: list[list[int]] = [[] for _ in nodes]
    for i, ds in enumerate(deps):
        for d in ds:
            users[d].append(i)
    pending = [len(ds) for ds in deps]

    def key(i: int) -> tuple[str, ...]:
        n = nodes[i]
        attrs = b"".join(a.SerializeToString(deterministic=True) for a in sorted(n.attribute, key=lambda a: a.name))
        return (n.op_type, n.domain, "|".join(rename.get(x, x) for x in n.input), hashlib.sha256(attrs).hexdigest())

    ready = [(key(i), i) for i in range(len(nodes)) if pending[i] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, i = heapq.heappop(ready)
        node = nodes[i]
        index = len(order)
        order.append(i)
        node.name = f"{node.op_type}_{index}"
        for j, out in enumerate(node.output):
            if out and out not in keep:
                rename[out] = f"{node.op_type}_{index}:{j}"
        for u in users[i]:
            pending[u] -= 1
            if pending[u] == 0:
                heapq.heappush(ready, (key(u), u))
    if len(order) != len(nodes):
        msg = "ONNX graph has a cycle; cannot order it"
        raise ValueError(msg)

    ordered = [nodes[i] for i in order]
    for node in ordered:
        for k, x in enumerate(node.input):
            node.input[k] = rename.get(x, x)
        for k, x in enumerate(node.output):
            node.output[k] = rename.get(x, x)
    del graph.node[:]
    graph.node.extend(ordered)

    infos = [v for v in graph.value_info if v.name in rename or v.name in keep]
    for v in infos:
        v.name = rename.get(v.name, v.name)
    infos.sort(key=lambda v: v.name)
    del graph.value_info[:]
    graph.value_info.extend(infos)
    return model

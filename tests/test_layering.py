"""The packages' layering: qaport at the bottom, then convert, then validate, then bench and publish.

Nothing imports a package above its own (the embedded default model lives in ``qaport/default_model``
so that tokenizers and inputs need not reach into ``convert``), and no two modules import each other,
even lazily inside a function (issue 27: ``bench.systems`` and ``bench.transformers_js`` did).
"""

from __future__ import annotations

import ast

from tests.conftest import ROOT

LAYER = {"qaport": 0, "convert": 1, "validate": 2, "bench": 3, "publish": 3}


def _graph() -> dict[str, set[str]]:
    files = {}
    for top in LAYER:
        for p in (ROOT / top).rglob("*.py"):
            name = ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            files[name] = p
    graph = {}
    for name, path in files.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                deps.add(node.module)
                deps.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[name] = {d for d in deps if d in files and d != name}
    return graph


def test_no_package_imports_one_above_it() -> None:
    upward = [
        f"{m} imports {d}"
        for m, deps in _graph().items()
        for d in deps
        if LAYER[d.split(".")[0]] > LAYER[m.split(".")[0]]
    ]
    assert not upward, upward


def test_no_import_circle_between_modules() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph[m]):
            # a package's __init__ and its own submodules are one unit, not a circle
            if state.get(d) == 1 and not (d.startswith(m + ".") or m.startswith(d + ".")):
                circles.append([*path[path.index(d) :], m, d] if d in path else [m, d])
            elif d not in state:
                visit(d, [*path, m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert not circles, circles

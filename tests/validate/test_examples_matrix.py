"""The corruption matrix (issue 26) for ``python -m validate DIR --examples FILE``, in each accepted format.

qaport.squad.load_examples reads SQuAD v1.1 JSON, SQuAD v2.0 JSON (``is_impossible``) and JSON lines of
``{id?, question, context, answers?, is_impossible?}``. A file of each is damaged every way (tests/corruption.py:
missing, empty, truncated inside an entry, invalid JSON, JSON of the wrong shape, each field an entry has
replaced by a value of another type, garbage, UTF-16, a line of binary, a symlink to a foreign file outside,
40 MB) and passed to the real CLI. Every case must be refused: one ``ERROR`` line naming the file (and, when
the damage is one entry, that entry: ``line N`` or ``data[a].paragraphs[p].qas[q]``), exit 2, no traceback,
the artifact directory unchanged. A file cut on a line boundary is a shorter valid file, so truncation points
are moved inside an entry.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.conftest import copy_artifacts, error_lines, run_cli, tree
from tests.corruption import SEED, announce, apply_damage, json_damages, sample, text_damages, wrong_type

CONTEXT = "The Tigers beat the Lions 24-10 in Paris in 1999. Maria Lindqvist founded Northwind Labs in 2003."
QAS = [
    ("q1", "Who beat the Lions?", "The Tigers", 0),
    ("q2", "Who founded Northwind Labs?", "Maria Lindqvist", 50),
]
P = ("data", 0, "paragraphs", 0)
Q = (*P, "qas", 0)
SQUAD_FIELDS: list[tuple[Any, ...]] = [
    ("version",),
    ("data",),
    ("data", 0),
    ("data", 0, "paragraphs"),
    P,
    (*P, "context"),
    (*P, "qas"),
    Q,
    (*Q, "id"),
    (*Q, "question"),
    (*Q, "answers"),
    (*Q, "answers", 0),
    (*Q, "answers", 0, "text"),
    (*Q, "answers", 0, "answer_start"),
]
SQUAD2_FIELDS = [*SQUAD_FIELDS, (*P, "qas", 1, "is_impossible")]
JSONL_FIELDS = ["id", "question", "context", "answers", "answers.0", "is_impossible"]


def squad(version: str) -> bytes:
    qas: list[dict[str, Any]] = [
        {"id": i, "question": q, "answers": [{"text": a, "answer_start": s}]} for i, q, a, s in QAS
    ]
    if version.startswith("v2"):
        qas[1] = {"id": "q2", "question": "Who sold the Lions?", "answers": [], "is_impossible": True}
    doc = {"version": version, "data": [{"title": "t", "paragraphs": [{"context": CONTEXT, "qas": qas}]}]}
    return json.dumps(doc, indent=1).encode()


def jsonl() -> bytes:
    rows = [{"id": i, "question": q, "context": CONTEXT, "answers": [a], "is_impossible": False} for i, q, a, _ in QAS]
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def _where(path: tuple[Any, ...]) -> str:
    """The entry an error about ``path`` must name (a regex)."""
    if len(path) <= 1:
        return ""
    if len(path) <= 3:
        return r"data\[0\]"
    if len(path) <= 5:
        return r"data\[0\]\.paragraphs\[0\]"
    return rf"data\[0\]\.paragraphs\[0\]\.qas\[{path[5]}\]"


def jsonl_damages(data: bytes, rng: random.Random) -> list[tuple[str, Any, str]]:
    out = []
    for name, how in text_damages(data, rng):
        cut = _inside_an_entry(data, len(how)) if isinstance(how, bytes) and name.startswith("truncated") else how
        out.append((name, cut, r"line \d+" if name.startswith(("truncated", "binary")) else ""))
    rows = [json.loads(line) for line in data.decode().splitlines()]
    for field in JSONL_FIELDS:
        bad = [dict(r) for r in rows]
        key, *index = field.split(".")
        original = bad[1][key] if not index else bad[1][key][int(index[0])]
        value = wrong_type(rng, original)
        if index:
            bad[1][key] = [value]
        else:
            bad[1][key] = value
        out.append((f"wrong-type:line2.{field}", "".join(json.dumps(r) + "\n" for r in bad).encode(), r"line 2"))
    for label, line in [("list", "[]"), ("string", '"q"'), ("number", "1"), ("null", "null"), ("not-json", "{'q': 1")]:
        lines = data.decode().splitlines()
        lines[1] = line
        out.append((f"line2-{label}", ("\n".join(lines) + "\n").encode(), r"line 2"))
    return out


def _inside_an_entry(data: bytes, cut: int) -> bytes:
    """Cut inside an entry: a cut at a line boundary leaves a shorter, valid file."""
    cut = max(cut, 2)
    while cut > 1 and data[cut - 2 : cut].strip(b"\n") != data[cut - 2 : cut]:
        cut -= 1
    return data[: cut - 1]


def squad_damages(data: bytes, fields: list[tuple[Any, ...]], rng: random.Random) -> list[tuple[str, Any, str]]:
    out = []
    for name, how in json_damages(data, fields, rng):
        where = ""
        if name.startswith("wrong-type:"):
            where = _where(tuple(int(k) if k.isdigit() else k for k in name.split(":", 1)[1].split(".")))
        out.append((name, how, where))
    return out


FORMATS = {
    "squad-v1.1.json": lambda rng: squad_damages(squad("1.1"), SQUAD_FIELDS, rng),
    "squad-v2.0.json": lambda rng: squad_damages(squad("v2.0"), SQUAD2_FIELDS, rng),
    "examples.jsonl": lambda rng: jsonl_damages(jsonl(), rng),
}


def test_every_damaged_examples_file_is_one_error_line_naming_it(artifacts: Path, tmp_path: Path) -> None:
    root = copy_artifacts(artifacts, tmp_path / "art")
    before = tree(root)
    outside = tmp_path / "outside.json"
    outside.write_text('{"note": "a file outside, of no examples kind"}')
    every = []
    for name, make in FORMATS.items():
        every += [(name, *case) for case in make(random.Random(f"{SEED}:examples:{name}"))]
    picked = sample(every, "validate --examples", default=12)
    tried: Counter[str] = Counter()
    failures = []
    start = time.perf_counter()
    for fmt, damage, how, where in picked:
        path = tmp_path / "in" / fmt
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"")
        apply_damage(path, how, outside)
        proc = run_cli("validate", str(root), "--examples", str(path), "--only", "onnx@onnxruntime", timeout=300)
        lines = error_lines(proc.stderr)
        tried[fmt] += 1
        case = f"validate --examples {fmt} {damage}"
        if proc.returncode != 2 or len(lines) != 1 or "Traceback" in proc.stderr or str(path) not in lines[0]:
            failures.append(f"{case}: exit {proc.returncode}, {lines or proc.stderr.strip().splitlines()[-2:]}")
        elif where and not re.search(where, lines[0]):
            failures.append(f"{case}: does not name the entry ({where}): {lines[0]}")
        if tree(root) != before:
            failures.append(f"{case}: the artifact directory changed")
            shutil.rmtree(root)
            copy_artifacts(artifacts, root)
        path.unlink(missing_ok=True)
    announce("validate --examples", len(picked), len(every), f"({dict(tried)}; {time.perf_counter() - start:.0f} s)")
    assert not failures, f"{len(failures)} of {len(picked)} cases failed:\n" + "\n".join(failures)

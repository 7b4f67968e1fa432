"""The corruption matrix's shared kit (issue 26): damages, seeded sampling and the per-command count.

A damage is a name and what to put in place of the file: bytes, ``None`` (delete it), ``"symlink"`` (a
symlink to a file outside the directory) or ``"huge"`` (a 40 MB sparse file). ``QAPORT_MATRIX_SEED`` draws
the garbage bytes, the wrong-typed values and, unless ``QAPORT_MATRIX_FULL=1``, the sample of cases CI runs
(``QAPORT_MATRIX_CASES`` per command, or each test's own default). Every test prints ``cases tried of all``.
"""

from __future__ import annotations

import copy
import json
import os
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

SEED = int(os.environ.get("QAPORT_MATRIX_SEED", "20261205"))
FULL = os.environ.get("QAPORT_MATRIX_FULL", "0") not in ("", "0", "false")
ONLY = os.environ.get("QAPORT_MATRIX_ONLY", "")  # replay: the cases whose names contain this text
HUGE = 40 * 1024 * 1024  # sparse: costs no disk
WRONG: list[Any] = [None, 7, -1, 1.5, "x", "", [], {}, True, [1, 2], {"a": 1}]

T = TypeVar("T")


def wrong_type(rng: random.Random, original: Any) -> Any:
    """A JSON value of another type than ``original`` (and not an equally empty one)."""
    return rng.choice([v for v in WRONG if type(v) is not type(original) and not (v in ("", 0) and not original)])


def set_path(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def get_path(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def byte_damages(data: bytes, rng: random.Random) -> Iterator[tuple[str, Any]]:
    """What happens to any file: gone, empty, cut short, replaced by noise, a symlink out, very large."""
    yield "missing", None
    yield "empty", b""
    for frac in (0.1, 0.5, 0.9):
        yield f"truncated-{int(frac * 100)}%", data[: int(len(data) * frac)]
    yield "garbage", rng.randbytes(max(len(data), 64))
    yield "symlink-outside", "symlink"
    yield "huge", "huge"


def json_damages(data: bytes, fields: Sequence[tuple[Any, ...]], rng: random.Random) -> Iterator[tuple[str, Any]]:
    """Every byte damage, plus invalid JSON, JSON of the wrong shape, wrong-typed fields and UTF-16."""
    yield from byte_damages(data, rng)
    yield "not-json", b"{'schema_version': 1,"
    yield "json-list", b"[]"
    yield "json-string", b'"manifest"'
    yield "json-number", b"1"
    yield "json-null", b"null"
    doc = json.loads(data)
    for path in fields:
        bad = copy.deepcopy(doc)
        set_path(bad, path, wrong_type(rng, get_path(doc, path)))
        yield f"wrong-type:{'.'.join(map(str, path))}", json.dumps(bad).encode()
    yield "utf16", json.dumps(doc).encode("utf-16")


def text_damages(data: bytes, rng: random.Random) -> Iterator[tuple[str, Any]]:
    """Every byte damage, plus the text ones: UTF-16 and one line of binary in the middle."""
    yield from byte_damages(data, rng)
    yield "utf16", data.decode("utf-8").encode("utf-16")
    lines = data.split(b"\n")
    mid = len(lines) // 2
    yield "binary-line", b"\n".join([*lines[:mid], b"\xff\xfe\x00\x9c", *lines[mid + 1 :]])


def apply_damage(target: Path, how: Any, outside: Path) -> None:
    """Put the damage in place of ``target`` (which may already be gone)."""
    target.unlink(missing_ok=True)
    if how is None:
        return
    if how == "symlink":
        target.symlink_to(outside)
    elif how == "huge":
        with target.open("wb") as fh:
            fh.truncate(HUGE)
    else:
        target.write_bytes(how)


def sample(cases: list[T], command: str, default: int) -> list[T]:
    """All cases with QAPORT_MATRIX_FULL=1, else a seeded sample of QAPORT_MATRIX_CASES (or ``default``).
    ``QAPORT_MATRIX_ONLY=TEXT`` replays the cases whose file or damage names contain TEXT (e.g. ``vocab.txt``)."""
    if ONLY:
        return [c for c in cases if ONLY in " ".join(str(x) for x in _names(c))]
    if FULL:
        return cases
    n = int(os.environ.get("QAPORT_MATRIX_CASES", default))
    if n >= len(cases):
        return cases
    picked = set(random.Random(f"{SEED}:sample:{command}").sample(range(len(cases)), n))
    return [c for i, c in enumerate(cases) if i in picked]


def _names(case: Any) -> list[Any]:
    """The printable names of a case (its strings; a round's cases, for a dict of them)."""
    if isinstance(case, dict):
        return [x for c in case.values() for x in _names(c)]
    return [x for x in case if isinstance(x, str) and len(x) < 200]


def announce(command: str, tried: int, total: int, detail: Any = "") -> str:
    mode = "full" if FULL or tried == total else "sample (QAPORT_MATRIX_FULL=1 for all)"
    line = f"corruption matrix, seed {SEED}: {command}: {tried} of {total} cases, {mode} {detail}".rstrip()
    print(f"\n{line}")
    return line

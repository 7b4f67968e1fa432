"""The corruption matrix (issue 26): the files a command reads, each damaged every way, through the real CLI.

Every case must end in one ``ERROR`` line naming the damaged file, exit 2, no traceback, and the directory
exactly as it was (nothing written, nothing half-written). Seeded: ``QAPORT_MATRIX_SEED`` replays a run (the
garbage bytes and the wrong-typed values are drawn from it); the number of cases is printed per command.
This file covers an artifact directory's manifest.json (``validate``, ``publish``) and report.json
(``publish``), every case every run (12 s). The other files each command reads have their matrices, sharing
tests/corruption.py (damages, seeded sampling: ``QAPORT_MATRIX_FULL=1`` runs all, CI a sample):
tests/convert/test_checkpoint_matrix.py (checkpoint files through ``convert``),
tests/validate/test_examples_matrix.py (examples files), tests/validate/test_model_files_matrix.py (model
files, re-signed) and tests/publish/test_package_matrix.py (the npm package's model directory).
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import copy_artifacts, error_lines, passed_report, run_cli, tree
from tests.corruption import SEED, announce, apply_damage, json_damages

# the fields each file's readers rely on: replaced by a value of another type (valid JSON, wrong shape)
MANIFEST_FIELDS = [
    ("source",),
    ("formats",),
    ("files",),
    ("client_formats",),
    ("files", 0),
    ("files", 0, "path"),
    ("files", 0, "size"),
    ("files", 0, "sha256"),
    ("formats", "onnx"),
    ("formats", "onnx", "files"),
    ("formats", "onnx", "main_file"),
    ("formats", "onnx", "files", 0, "size"),
    ("client_formats", "onnx"),
]
REPORT_FIELDS = [("targets",), ("passed",), ("model",), ("targets", 0), ("targets", 0, "answers"), ("targets", 0, "id")]


COMMANDS = {
    # command: (argv after the directory, files it reads and their fields)
    "publish": ((), {"manifest.json": MANIFEST_FIELDS, "report.json": REPORT_FIELDS}),
    "validate": (("--only", "onnx@onnxruntime", "--limit", "1", "--warmup", "0"), {"manifest.json": MANIFEST_FIELDS}),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_damage_is_one_error_line_exit_2_and_nothing_written(
    command: str, artifacts: Path, tmp_path: Path
) -> None:
    rng = random.Random(f"{SEED}:{command}")
    extra, files = COMMANDS[command]
    root = copy_artifacts(artifacts, tmp_path / "art")
    passed_report(root)  # publish reads a passed report; validate ignores and replaces it
    outside = tmp_path / "outside.json"
    outside.write_text('{"schema_version": 1, "note": "a file outside the directory"}')
    tried: Counter[str] = Counter()
    failures = []
    for rel, fields in files.items():
        original = (root / rel).read_bytes()
        for name, how in json_damages(original, fields, rng):
            apply_damage(root / rel, how, outside)
            before = tree(root)
            proc = run_cli(command, str(root), *extra, timeout=300)
            lines = error_lines(proc.stderr)
            case = f"{command} {rel} {name}"
            tried[rel] += 1
            if proc.returncode != 2 or len(lines) != 1 or "Traceback" in proc.stderr or rel not in lines[0]:
                failures.append(f"{case}: exit {proc.returncode}, {lines or proc.stderr.strip().splitlines()[-2:]}")
            elif tree(root) != before:
                failures.append(f"{case}: the directory changed")
            (root / rel).unlink(missing_ok=True)
            (root / rel).write_bytes(original)
    announce(command, sum(tried.values()), sum(tried.values()), f"({dict(tried)})")
    assert not failures, "\n".join(failures)
